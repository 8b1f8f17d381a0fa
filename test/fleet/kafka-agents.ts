// One Drover agent daemon per Kafka broker of a harness cluster, each declaring its broker in the
// agent config (local bootstrap address, broker id, rack, host, log dirs, server.properties path):
// what the demo, the end-to-end tests and the Kafka benchmark all start.

import type { KafkaCluster } from '../harness/kafka.ts';
import type { ProcessHandle } from '../harness/process.ts';
import type { Fleet } from './fleet.ts';

export interface BrokerAgentOptions {
  cluster: string;
  prefix?: string;
  isDestination?: (brokerId: number) => boolean;
}

/** The agent spec of one broker's agent (also to start it again after a kill). */
export function brokerAgentSpec(
  kafka: KafkaCluster,
  brokerId: number,
  options: BrokerAgentOptions,
): Parameters<Fleet['startAgent']>[0] {
  const b = kafka.brokers.find((x) => x.id === brokerId);
  if (!b) throw new Error(`no broker ${brokerId} in the cluster`);
  const isDestination = options.isDestination ?? ((id: number) => id > 100);
  return {
    id: `${options.prefix ?? options.cluster}-${b.id}`,
    labels: {
      cluster: options.cluster,
      role: isDestination(b.id) ? 'destination' : 'source',
      ...(b.rack ? { rack: b.rack } : {}),
    },
    node: {
      kafka: {
        bootstrap: b.address,
        brokerId: b.id,
        host: b.host,
        logDirs: [b.dataDir],
        configFile: b.configFile,
        ...(b.rack ? { rack: b.rack } : {}),
      },
    },
  };
}

/** Agents named `<prefix>-<broker id>`, labelled with the cluster, their role and rack. */
export function startBrokerAgents(
  fleet: Fleet,
  kafka: KafkaCluster,
  options: BrokerAgentOptions,
): Promise<ProcessHandle[]> {
  return Promise.all(
    kafka.brokers
      .filter((b) => b.roles !== 'controller')
      .map((b) => fleet.startAgent(brokerAgentSpec(kafka, b.id, options))),
  );
}
