// The fleet description a rehearsal starts from: what the clusters are (Kafka or Cassandra, where
// they run, how many nodes of which size, what data they hold and how fast it grows), the network
// between regions, and the migration settings (throttles, per-broker caps, streams per source, how
// many clusters migrate at once). Defined once here (zod): the coordinator reads fleet files with it
// (every problem with file, line and column), simulated agents will read the same shapes.
//
// A small example:
//   apiVersion: drover/v1
//   kind: Fleet
//   metadata: { name: two-clusters }
//   regions:
//     - { name: aws-us-east-1, cloud: aws }
//   network:
//     defaultBandwidth: 1.25GB/s
//     links: [{ from: aws-us-east-1, to: aws-us-east-1, bandwidth: 5GB/s }]
//   migration:
//     clustersAtOnce: 2
//     kafka: { throttle: 50MB/s, perBrokerMoves: 5 }
//     cassandra: { streamThroughput: 24MiB/s, maxStreamsPerSource: 2 }
//   clusters:
//     - name: orders
//       kind: kafka
//       cloud: aws
//       region: aws-us-east-1
//       nodes: 3
//       size: r6g.large
//       zookeeper: { voters: 3, dataBytes: 20MB }
//       topics:
//         - { name: orders, partitions: 12, replication: 3, bytesPerPartition: 1GB, inboundRate: 100kB/s }
//     - name: users
//       kind: cassandra
//       cloud: aws
//       region: aws-us-east-1
//       nodes: 6
//       size: r6g.xlarge
//       keyspaces:
//         - { name: users, replication: 3, bytesPerNode: 200GB }
import { z } from 'zod';
import { parseBytes, parseBytesPerSec } from './units.ts';

/** Cluster, region and topic-group names: safe in agent ids, labels and subjects. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
const Name = z.string().regex(NAME_PATTERN, 'a name of lowercase letters, digits and "-" (1-40 chars)');

/** A byte size: `2GB`, `500GiB` or a bare number of bytes. */
export const SizeSchema = z
  .preprocess(
    (value) => (typeof value === 'number' ? String(value) : value),
    z.string().regex(/^\s*\d+(\.\d+)?\s*([kKMGT]i?B|B)?\s*$/, 'a size like 2GB, 500GiB or a number of bytes'),
  )
  .transform((text) => parseBytes(text) ?? 0);

/** A rate: `50MB/s`, `24MiB/s` (a bare number is bytes/s). */
export const RateSchema = z
  .preprocess(
    (value) => (typeof value === 'number' ? `${value}/s` : value),
    z.string().regex(/^\s*\d+(\.\d+)?\s*([kKMGT]i?B|B)?\/s\s*$/, 'a rate like 50MB/s, 24MiB/s or a number of bytes/s'),
  )
  .transform((text) => parseBytesPerSec(text) ?? 0);

const Count = (what: string, max: number) =>
  z.number().int(`a whole number of ${what}`).min(1, `at least 1 ${what}`).max(max, `at most ${max} ${what}`);

export const RegionSchema = z.object({ name: Name, cloud: Name }).strict();

export const LinkSchema = z
  .object({
    from: Name,
    to: Name,
    /** Bytes/s every migration stream crossing this link shares (both directions count). */
    bandwidth: RateSchema,
  })
  .strict();

export const NetworkSchema = z
  .object({
    /** Bandwidth of a region pair no link names. @default 1.25GB/s (10 Gbit/s) */
    defaultBandwidth: RateSchema.default(1_250_000_000),
    links: z.array(LinkSchema).default([]),
  })
  .strict();

export const KafkaMigrationSettingsSchema = z
  .object({
    /** Replication throttle set on every broker of an expand batch. @default 50MB/s */
    throttle: RateSchema.default(50_000_000),
    /** Concurrent expand moves a broker takes part in (Cruise Control's default). @default 5 */
    perBrokerMoves: Count('moves', 1000).default(5),
  })
  .strict();

export const CassandraMigrationSettingsSchema = z
  .object({
    /** Outbound stream throughput of a source node (`stream_throughput_outbound`). @default 24MiB/s */
    streamThroughput: RateSchema.default(24 * 1024 * 1024),
    /** Rebuilds streaming from one source node at once. @default 2 */
    maxStreamsPerSource: Count('streams', 64).default(2),
  })
  .strict();

export const MigrationSettingsSchema = z
  .object({
    /** Clusters migrating at the same time across the fleet. @default 4 */
    clustersAtOnce: Count('clusters', 10_000).default(4),
    kafka: KafkaMigrationSettingsSchema.default({ throttle: 50_000_000, perBrokerMoves: 5 }),
    cassandra: CassandraMigrationSettingsSchema.default({ streamThroughput: 24 * 1024 * 1024, maxStreamsPerSource: 2 }),
  })
  .strict();

/** A group of `count` alike topics (`name`, or `name-1` … `name-N` when count > 1). */
export const TopicGroupSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,200}$/, 'a Kafka topic name (letters, digits, ".", "_", "-"; 1-200 chars)'),
    count: Count('topics', 100_000).default(1),
    partitions: Count('partitions', 100_000),
    replication: Count('replicas', 16),
    /** Log size of one replica of one partition. */
    bytesPerPartition: SizeSchema,
    /** Bytes/s produced into one partition: a copy must outrun it. @default 0 */
    inboundRate: RateSchema.default(0),
  })
  .strict();

export const ZooKeeperSchema = z
  .object({
    /** Voters of the source ensemble (each destination ZooKeeper node joins as an observer). @default 3 */
    voters: Count('voters', 15).default(3),
    /** Observers the destination brings (one per destination ZooKeeper node). @default 3 */
    observers: Count('observers', 15).default(3),
    /** Data an observer syncs from the leader (the snapshot). @default 10MB */
    dataBytes: SizeSchema.default(10_000_000),
  })
  .strict();

const ClusterBase = {
  name: Name,
  cloud: Name,
  /** Where the source nodes run. */
  region: Name,
  /** Where the destination nodes run. @default the same region */
  destinationRegion: Name.optional(),
  /** Source nodes; the destination gets as many. */
  nodes: Count('nodes', 2000),
  /** Instance type (informational in this slice: it does not change the model's rates). */
  size: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'an instance type such as r6g.large'),
  /** Racks (availability zones) the nodes spread over, in both DCs. @default 3 */
  racks: Count('racks', 16).default(3),
};

export const KafkaClusterSchema = z
  .object({
    ...ClusterBase,
    kind: z.literal('kafka'),
    /** The source ensemble the destination joins as observers; absent: KRaft, no observers phase. */
    zookeeper: ZooKeeperSchema.optional(),
    topics: z.array(TopicGroupSchema).min(1, 'at least one topic'),
  })
  .strict();

export const CassandraKeyspaceSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'a keyspace name (lowercase letters, digits, "_"; 1-48 chars)'),
    /** Replicas per range in each DC. @default 3 */
    replication: Count('replicas', 16).default(3),
    /** Data one source node holds for this keyspace (replicas included). */
    bytesPerNode: SizeSchema,
  })
  .strict();

export const CassandraClusterSchema = z
  .object({
    ...ClusterBase,
    kind: z.literal('cassandra'),
    /** Tokens per node (`num_tokens`). @default 16 */
    vnodes: Count('tokens', 256).default(16),
    keyspaces: z.array(CassandraKeyspaceSchema).min(1, 'at least one keyspace'),
  })
  .strict();

export const ClusterSchema = z.discriminatedUnion('kind', [KafkaClusterSchema, CassandraClusterSchema], {
  error: 'a cluster with kind "kafka" or "cassandra"',
});

export const FleetSchema = z
  .object({
    apiVersion: z.literal('drover/v1', { error: '"drover/v1"' }),
    kind: z.literal('Fleet', { error: '"Fleet"' }),
    metadata: z.object({ name: Name, description: z.string().max(2000).optional() }).strict(),
    regions: z.array(RegionSchema).min(1, 'at least one region'),
    network: NetworkSchema.default({ defaultBandwidth: 1_250_000_000, links: [] }),
    migration: MigrationSettingsSchema.default({
      clustersAtOnce: 4,
      kafka: { throttle: 50_000_000, perBrokerMoves: 5 },
      cassandra: { streamThroughput: 24 * 1024 * 1024, maxStreamsPerSource: 2 },
    }),
    clusters: z.array(ClusterSchema).min(1, 'at least one cluster'),
  })
  .strict()
  .superRefine((fleet, ctx) => {
    // What one field cannot know: names refer to regions that exist, clouds agree, names are unique,
    // and replication fits the cluster.
    const regions = new Map<string, string>();
    fleet.regions.forEach((region, i) => {
      if (regions.has(region.name))
        ctx.addIssue({
          code: 'custom',
          path: ['regions', i, 'name'],
          message: 'a region name used once',
          input: region.name,
        });
      regions.set(region.name, region.cloud);
    });
    const known = `one of the regions listed under regions (${[...regions.keys()].join(', ')})`;
    fleet.network.links.forEach((link, i) => {
      for (const end of ['from', 'to'] as const)
        if (!regions.has(link[end]))
          ctx.addIssue({ code: 'custom', path: ['network', 'links', i, end], message: known, input: link[end] });
    });
    const names = new Set<string>();
    fleet.clusters.forEach((cluster, i) => {
      const at = ['clusters', i];
      if (names.has(cluster.name))
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'name'],
          message: 'a cluster name used once',
          input: cluster.name,
        });
      names.add(cluster.name);
      for (const field of ['region', 'destinationRegion'] as const) {
        const region = cluster[field];
        if (region === undefined) continue;
        const cloud = regions.get(region);
        if (cloud === undefined) ctx.addIssue({ code: 'custom', path: [...at, field], message: known, input: region });
        else if (field === 'region' && cloud !== cluster.cloud)
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'cloud'],
            message: `the cloud of region ${region} (${cloud})`,
            input: cluster.cloud,
          });
      }
      if (cluster.kind === 'kafka') {
        const topics = new Set<string>();
        cluster.topics.forEach((group, t) => {
          if (group.replication > cluster.nodes)
            ctx.addIssue({
              code: 'custom',
              path: [...at, 'topics', t, 'replication'],
              message: `at most the cluster's ${cluster.nodes} nodes`,
              input: group.replication,
            });
          for (const name of topicNames(group))
            if (topics.has(name))
              ctx.addIssue({
                code: 'custom',
                path: [...at, 'topics', t, 'name'],
                message: 'topic names used once',
                input: name,
              });
            else topics.add(name);
        });
      } else {
        const keyspaces = new Set<string>();
        cluster.keyspaces.forEach((keyspace, k) => {
          if (keyspace.replication > cluster.nodes)
            ctx.addIssue({
              code: 'custom',
              path: [...at, 'keyspaces', k, 'replication'],
              message: `at most the cluster's ${cluster.nodes} nodes`,
              input: keyspace.replication,
            });
          if (keyspaces.has(keyspace.name) || keyspace.name.startsWith('system'))
            ctx.addIssue({
              code: 'custom',
              path: [...at, 'keyspaces', k, 'name'],
              message: 'a keyspace name used once, not starting with "system"',
              input: keyspace.name,
            });
          keyspaces.add(keyspace.name);
        });
      }
    });
  });

export type Fleet = z.infer<typeof FleetSchema>;
export type FleetInput = z.input<typeof FleetSchema>;
export type FleetCluster = Fleet['clusters'][number];
export type KafkaFleetCluster = z.infer<typeof KafkaClusterSchema>;
export type CassandraFleetCluster = z.infer<typeof CassandraClusterSchema>;
export type TopicGroup = z.infer<typeof TopicGroupSchema>;
export type FleetMigrationSettings = Fleet['migration'];

/** The topic names a group stands for: `name`, or `name-1` … `name-N`. */
export function topicNames(group: Pick<TopicGroup, 'name' | 'count'>): string[] {
  if (group.count === 1) return [group.name];
  return Array.from({ length: group.count }, (_, i) => `${group.name}-${i + 1}`);
}

/** Bandwidth between two regions (a link listed either way round), else the fleet's default. */
export function linkBandwidth(fleet: Fleet, from: string, to: string): number {
  const link = fleet.network.links.find((l) => (l.from === from && l.to === to) || (l.from === to && l.to === from));
  return link?.bandwidth ?? fleet.network.defaultBandwidth;
}
