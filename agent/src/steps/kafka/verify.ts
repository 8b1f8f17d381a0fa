// `kafka.verify`: reads the cluster and says whether it is as expected; changes nothing. The check
// itself is the pure `evaluateCluster`, so it is tested without a broker.
import { type KafkaVerifyParams, kafkaVerifyStep } from '@drover/shared';
import type { z } from 'zod';
import type { PartitionState, ReassignmentInFlight, ThrottleSetting } from '../../clients/kafka/index.ts';
import { implementStep } from '../context.ts';
import { partitionKey, sameList, withLocalAdmin } from './admin.ts';

type Params = z.infer<typeof KafkaVerifyParams>;
const MAX_PROBLEMS = 50;

export function evaluateCluster(
  params: Params,
  partitions: readonly PartitionState[],
  inFlight: readonly ReassignmentInFlight[],
  throttles: readonly ThrottleSetting[],
  liveBrokers: readonly number[] = [],
) {
  const problems: string[] = [];
  const note = (text: string) => problems.length < MAX_PROBLEMS && problems.push(text);
  const byKey = new Map(partitions.map((p) => [partitionKey(p.topic, p.partition), p]));
  const allowed = params.onlyBrokers ? new Set(params.onlyBrokers) : undefined;
  let underReplicated = 0;
  let offline = 0;
  let leadersNotPreferred = 0;
  let replicasOutside = 0;
  let assignmentMismatches = 0;
  for (const p of partitions) {
    const name = partitionKey(p.topic, p.partition);
    if (p.leader < 0) {
      offline++;
      note(`${name} has no leader`);
    }
    if (p.isr.length < p.replicas.length) {
      underReplicated++;
      if (params.fullIsr) note(`${name} ISR [${p.isr}] lacks replicas of [${p.replicas}]`);
    }
    if (params.leadersPreferred && p.leader !== p.replicas[0]) {
      leadersNotPreferred++;
      note(`${name} is led by ${p.leader}, not its preferred replica ${p.replicas[0]}`);
    }
    if (allowed) {
      const outside = p.replicas.filter((r) => !allowed.has(r));
      if (outside.length > 0) {
        replicasOutside += outside.length;
        note(`${name} has replicas on [${outside}], outside [${params.onlyBrokers}]`);
      }
    }
  }
  for (const expected of params.assignment ?? []) {
    const name = partitionKey(expected.topic, expected.partition);
    const actual = byKey.get(name);
    if (!actual || !sameList(actual.replicas, expected.replicas)) {
      assignmentMismatches++;
      note(`${name} is on [${actual?.replicas ?? 'nothing'}], expected [${expected.replicas}]`);
    }
  }
  if (params.noReassignments)
    for (const r of inFlight.slice(0, 5))
      note(`${partitionKey(r.topic, r.partition)} is being reassigned (adding [${r.adding}])`);
  if (params.noThrottles) for (const t of throttles.slice(0, 5)) note(`${t.resource} still has ${t.key}=${t.value}`);
  const live = new Set(liveBrokers);
  const missing = (params.brokers ?? []).filter((b) => !live.has(b));
  if (missing.length > 0) note(`broker(s) ${missing.join(', ')} not live in the cluster`);
  const ok =
    missing.length === 0 &&
    offline === 0 &&
    (!params.fullIsr || underReplicated === 0) &&
    (!params.leadersPreferred || leadersNotPreferred === 0) &&
    replicasOutside === 0 &&
    assignmentMismatches === 0 &&
    (!params.noReassignments || inFlight.length === 0) &&
    (!params.noThrottles || throttles.length === 0);
  return {
    ok,
    partitions: partitions.length,
    underReplicated,
    offline,
    reassignmentsInFlight: inFlight.length,
    throttles: throttles.length,
    leadersNotPreferred,
    assignmentMismatches,
    replicasOutside,
    brokersMissing: missing.length,
    problems,
  };
}

export const kafkaVerifyImplementation = implementStep(kafkaVerifyStep, (ctx, params) =>
  withLocalAdmin(ctx, async (admin) => {
    const [partitions, inFlight, throttles, cluster] = await Promise.all([
      admin.readAssignment(),
      admin.listReassignments(),
      params.noThrottles ? admin.describeThrottles() : Promise.resolve([]),
      admin.describeCluster(),
    ]);
    const verdict = evaluateCluster(
      params,
      partitions,
      inFlight,
      throttles,
      cluster.brokers.map((b) => b.id),
    );
    ctx.progress(verdict.ok ? `ok: ${verdict.partitions} partitions` : `not ok: ${verdict.problems[0] ?? ''}`, 100);
    return verdict;
  }),
);
