// `kafka.describe`: the live cluster as the planner reads it, through the local broker.
import { kafkaDescribeStep } from '@drover/shared';
import { implementStep } from '../context.ts';
import { partitionKey, withLocalAdmin } from './admin.ts';

export const kafkaDescribeImplementation = implementStep(kafkaDescribeStep, (ctx) =>
  withLocalAdmin(ctx, async (admin) => {
    ctx.progress('reading brokers, partitions, reassignments, throttles and sizes');
    const cluster = await admin.describeCluster();
    const [partitions, inFlight, throttles, sizes] = await Promise.all([
      admin.readAssignment(),
      admin.listReassignments(),
      admin.describeThrottles(),
      admin.describeLogDirs().catch(() => []),
    ]);
    const moving = new Map(inFlight.map((r) => [partitionKey(r.topic, r.partition), r]));
    const size = new Map<string, number>();
    for (const s of sizes) {
      if (s.future) continue;
      const key = partitionKey(s.topic, s.partition);
      size.set(key, Math.max(size.get(key) ?? 0, s.sizeBytes));
    }
    const configs = (resource: string) =>
      throttles.filter((t) => t.resource === resource).map((t) => ({ name: t.key, value: t.value, source: t.source }));
    const topics = new Map<string, { internal: boolean; partitions: typeof partitions }>();
    for (const p of partitions) {
      const topic = topics.get(p.topic) ?? { internal: p.internal, partitions: [] };
      topic.partitions.push(p);
      topics.set(p.topic, topic);
    }
    ctx.progress(`${cluster.brokers.length} brokers, ${partitions.length} partitions`, 100);
    return {
      clusterId: cluster.clusterId ?? '',
      controller: cluster.controllerId,
      brokers: cluster.brokers.map((b) => ({ ...b, configs: configs(`broker:${b.id}`) })),
      topics: [...topics]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, t]) => ({
          name,
          internal: t.internal,
          configs: configs(`topic:${name}`),
          partitions: t.partitions
            .sort((a, b) => a.partition - b.partition)
            .map((p) => {
              const m = moving.get(partitionKey(p.topic, p.partition));
              return {
                partition: p.partition,
                replicas: p.replicas,
                leader: p.leader,
                isr: p.isr,
                offlineReplicas: p.offlineReplicas,
                addingReplicas: m?.adding ?? [],
                removingReplicas: m?.removing ?? [],
                sizeBytes: size.get(partitionKey(p.topic, p.partition)) ?? null,
              };
            }),
        })),
    };
  }),
);
