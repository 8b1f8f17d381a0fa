// The live cluster as `kafka.describe` reads it, turned into the planner's cluster document: roles
// come from the operator's choice of destination brokers (a broker map's right side, or an explicit
// list), every other broker is a source. Throttle configs keep their source so the planner's
// pre-flight can tell static from dynamic ones. Pure.
import type { KafkaDescription } from '@drover/shared';

export function clusterDocument(
  described: KafkaDescription,
  destinations: ReadonlySet<number>,
  /** Destination brokers the plan itself will start (not in the cluster yet). */
  toStart: readonly number[] = [],
): Record<string, unknown> {
  const live = new Set(described.brokers.map((b) => b.id));
  return {
    brokers: [
      ...described.brokers.map((b) => ({
        id: b.id,
        host: b.host,
        rack: b.rack,
        role: destinations.has(b.id) ? 'destination' : 'source',
        configs: b.configs,
      })),
      ...toStart
        .filter((id) => !live.has(id))
        .map((id) => ({ id, host: `broker-${id}.to-start`, rack: null, role: 'destination', configs: [] })),
    ],
    topics: described.topics.map((t) => ({
      name: t.name,
      internal: t.internal,
      configs: t.configs,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        replicas: p.replicas,
        leader: p.leader,
        isr: p.isr,
        offlineReplicas: p.offlineReplicas,
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
        ...(p.sizeBytes === null ? {} : { sizeBytes: p.sizeBytes }),
      })),
    })),
  };
}
