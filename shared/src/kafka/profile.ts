// A Kafka cluster's central profile (KV drover-profiles, `kafka.<cluster>`): what every broker of the
// cluster shares — listener names and security protocols with their ports, the inter-broker
// listener, the ZooKeeper connect string and chroot, broker overrides. `kafka.broker-configure`
// renders a broker's server.properties from it plus the node's own facts (broker id, rack, host, log
// dirs, from the agent's local config), so a replaced or added broker gets the same custom
// configuration without anyone repeating it.
//
// Example (YAML as `drover profile set` reads it):
//   cluster: kafka-a
//   listeners:
//     INTERNAL: { protocol: PLAINTEXT, port: 9091 }
//     CLIENTS: { protocol: PLAINTEXT, port: 9092 }
//   interBrokerListener: INTERNAL
//   zookeeper: { connect: [zk-1:2181, zk-2:2181, zk-3:2181], chroot: /kafka-a }
//   overrides: { num.partitions: 6, auto.leader.rebalance.enable: false }
import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';

const LISTENER_NAME = /^[A-Z][A-Z0-9_]{0,31}$/;
const HOST_PORT = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}:\d{1,5}$/;
/** Keys that come from the node itself (or the profile's own fields), never from overrides. */
export const NODE_OWNED_KEYS = [
  'broker.id',
  'node.id',
  'broker.rack',
  'log.dirs',
  'log.dir',
  'listeners',
  'advertised.listeners',
  'listener.security.protocol.map',
  'inter.broker.listener.name',
  'zookeeper.connect',
] as const;

export const KafkaProfileSchema = z
  .object({
    cluster: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a cluster name (letters, digits, "-", "_")'),
    listeners: z
      .record(
        z.string().regex(LISTENER_NAME, 'a listener name in capitals (e.g. INTERNAL, CLIENTS)'),
        z
          .object({
            protocol: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']),
            port: z.number().int().min(1).max(65_535),
            /** Bind address; default every interface of the node's host address. */
            bind: z
              .string()
              .regex(/^[A-Za-z0-9.:-]{1,253}$/)
              .optional(),
          })
          .strict(),
      )
      .refine((l) => Object.keys(l).length > 0, 'at least one listener'),
    interBrokerListener: z.string().regex(LISTENER_NAME),
    zookeeper: z
      .object({
        connect: z.array(z.string().regex(HOST_PORT, 'host:port')).min(1).max(15),
        chroot: z
          .string()
          .regex(/^(\/[A-Za-z0-9._-]+)+$/, 'a chroot path such as /kafka-a')
          .optional(),
      })
      .strict()
      .optional(),
    overrides: z
      .record(
        z.string().regex(/^[a-z][a-z0-9._-]{0,127}$/, 'a server.properties key'),
        z.union([z.string().max(4096), z.number(), z.boolean()]),
      )
      .default({}),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (!(p.interBrokerListener in p.listeners))
      ctx.addIssue({
        code: 'custom',
        path: ['interBrokerListener'],
        message: `one of the profile's listeners (${Object.keys(p.listeners).join(', ')})`,
      });
    const ports = Object.values(p.listeners).map((l) => l.port);
    if (new Set(ports).size !== ports.length)
      ctx.addIssue({ code: 'custom', path: ['listeners'], message: 'a distinct port per listener' });
    for (const key of Object.keys(p.overrides))
      if ((NODE_OWNED_KEYS as readonly string[]).includes(key))
        ctx.addIssue({
          code: 'custom',
          path: ['overrides', key],
          message: `not ${key}: it comes from the node or from the profile's own fields`,
        });
  });
export type KafkaProfile = z.infer<typeof KafkaProfileSchema>;

/** What one broker contributes: from the agent's local config, never from the wire. */
export interface KafkaNodeFacts {
  brokerId: number;
  rack?: string | undefined;
  /** The address other brokers and clients reach this node at. */
  host: string;
  logDirs: string[];
}

/** server.properties for one broker: the node's facts, the profile's listeners and ZooKeeper, overrides (sorted). */
export function renderBrokerProperties(profile: KafkaProfile, node: KafkaNodeFacts): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(node.host))
    throw new InvalidInputError('kafka.host', node.host, 'a host name or address');
  const names = Object.keys(profile.listeners).sort();
  const lines = [
    `# Rendered by drover kafka.broker-configure from profile kafka.${profile.cluster}; do not edit by hand.`,
    `broker.id=${node.brokerId}`,
    ...(node.rack ? [`broker.rack=${node.rack}`] : []),
    `log.dirs=${node.logDirs.join(',')}`,
    `listeners=${names.map((n) => `${n}://${profile.listeners[n]?.bind ?? node.host}:${profile.listeners[n]?.port}`).join(',')}`,
    `advertised.listeners=${names.map((n) => `${n}://${node.host}:${profile.listeners[n]?.port}`).join(',')}`,
    `listener.security.protocol.map=${names.map((n) => `${n}:${profile.listeners[n]?.protocol}`).join(',')}`,
    `inter.broker.listener.name=${profile.interBrokerListener}`,
    ...(profile.zookeeper
      ? [`zookeeper.connect=${profile.zookeeper.connect.join(',')}${profile.zookeeper.chroot ?? ''}`]
      : []),
    ...Object.keys(profile.overrides)
      .sort()
      .map((k) => `${k}=${String(profile.overrides[k])}`),
  ];
  return `${lines.join('\n')}\n`;
}
