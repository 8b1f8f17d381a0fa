// `kafka.reassign`: one planner phase (or part of one) through the local broker. Per batch: the
// throttle config ops, then the reassignments (skipping partitions already on their target replicas;
// done when a partition has left ListPartitionReassignments with every target replica in its ISR),
// then the elections. Resumable: a new attempt after an agent restart re-reads what the brokers say
// and only submits what is not done. A target broker that is down is waited for and reported, never
// given up on before the step's timeout; one that is not in the cluster at the start is refused
// before anything changes.
import {
  DroverError,
  InvalidInputError,
  type KafkaReassignParamsType,
  kafkaReassignStep,
  type Reassignment,
} from '@drover/shared';
import type { KafkaAdmin, ReassignmentInFlight } from '../../clients/kafka/index.ts';
import type { StepContext } from '../context.ts';
import { implementStep } from '../context.ts';
import { pause } from '../pause.ts';
import { partitionKey, sameList, withLocalAdmin } from './admin.ts';
import { electInBatches, waitForPreferredLeaders } from './elect-leaders.ts';
import { ThrottleRelease } from './throttle-release.ts';

/** How long the step waits at its start for target brokers it does not see before refusing. */
const UNKNOWN_BROKER_WAIT_MS = 20_000;

export class ReassignmentRefusedError extends DroverError {
  constructor(failures: string[]) {
    super(`Kafka refused ${failures.length} reassignment(s): ${failures.slice(0, 5).join('; ')}`);
    this.name = 'ReassignmentRefusedError';
  }
}

export const kafkaReassignImplementation = implementStep(kafkaReassignStep, (ctx, params) =>
  withLocalAdmin(ctx, (admin) => reassign(ctx, admin, params)),
);

async function reassign(ctx: StepContext, admin: KafkaAdmin, params: KafkaReassignParamsType) {
  const started = Date.now();
  const totals = {
    reassigned: 0,
    alreadyInPlace: 0,
    cancelled: 0,
    elected: 0,
    electionsNotNeeded: 0,
    configOps: 0,
    throttlesReleasedPartitions: 0,
    throttlesReleasedBrokers: 0,
  };
  const totalMoves = params.batches.reduce((n, b) => n + b.reassignments.length, 0);
  let movesDone = 0;
  await checkTargets(ctx, admin, params);
  if (params.cancelInFlight) totals.cancelled = await cancelInFlight(ctx, admin, params.pollMs);
  const moved: Reassignment[] = [];
  for (const [bi, batch] of params.batches.entries()) {
    ctx.signal.throwIfAborted();
    const label = `${params.phase} batch ${bi + 1}/${params.batches.length}`;
    if (batch.configOps.length > 0) {
      await admin.incrementalAlterConfigs(batch.configOps);
      totals.configOps += batch.configOps.length;
    }
    if (batch.reassignments.length > 0) {
      const state = new Map((await admin.readAssignment()).map((p) => [partitionKey(p.topic, p.partition), p]));
      const inFlight = new Set((await admin.listReassignments()).map((r) => partitionKey(r.topic, r.partition)));
      const todo = batch.reassignments.filter((r) => {
        const key = partitionKey(r.topic, r.partition);
        const current = state.get(key);
        if (!current) throw new InvalidInputError('params.batches', key, 'partitions that exist in the cluster');
        return !(
          sameList(current.replicas, r.replicas) &&
          !inFlight.has(key) &&
          r.replicas.every((b) => current.isr.includes(b))
        );
      });
      totals.alreadyInPlace += batch.reassignments.length - todo.length;
      // The batch's throttles go as its moves finish: a done partition's entries, an idle broker's rates.
      const throttles = new ThrottleRelease(batch.configOps);
      const batchKeys = batch.reassignments.map((r) => partitionKey(r.topic, r.partition));
      const release = async (pending: readonly Reassignment[], inFlight: readonly ReassignmentInFlight[]) => {
        if (throttles.empty) return;
        const still = new Set(pending.map((r) => partitionKey(r.topic, r.partition)));
        const busy = new Set([
          ...pending.flatMap((r) => [
            ...r.replicas,
            ...(state.get(partitionKey(r.topic, r.partition))?.replicas ?? []),
          ]),
          ...inFlight.flatMap((m) => [...m.replicas, ...m.adding, ...m.removing]),
        ]);
        const released = throttles.release(
          batchKeys.filter((k) => !still.has(k)),
          busy,
        );
        if (released.ops.length === 0) return;
        await admin.incrementalAlterConfigs(released.ops);
        totals.throttlesReleasedPartitions += released.partitions.length;
        totals.throttlesReleasedBrokers += released.brokers.length;
        ctx.logger.info('throttles released', { partitions: released.partitions, brokers: released.brokers });
      };
      if (todo.length > 0) {
        const refused = (await admin.alterReassignments(todo)).filter((o) => o.error !== null);
        if (refused.length > 0)
          throw new ReassignmentRefusedError(refused.map((o) => `${o.topic}/${o.partition}: ${o.error?.message}`));
        await waitUntilDone(ctx, admin, todo, params.pollMs, async (done, waiting, pending, moving) => {
          await release(pending, moving);
          const percent = totalMoves ? ((movesDone + done) / totalMoves) * 100 : 100;
          ctx.progress(`${label}: ${done}/${todo.length} partitions in place${waiting}`, Math.min(99.9, percent));
        });
      } else await release([], await admin.listReassignments());
      totals.reassigned += todo.length;
      moved.push(...todo);
      movesDone += batch.reassignments.length;
      ctx.progress(`${label}: done`, totalMoves ? (movesDone / totalMoves) * 100 : 100);
    }
    if (batch.elections.length > 0) {
      const done = await electInBatches(ctx, admin, batch.elections, 1000);
      await waitForPreferredLeaders(ctx, admin, batch.elections);
      totals.elected += done.elected;
      totals.electionsNotNeeded += done.notNeeded;
    }
  }
  return {
    phase: params.phase,
    batches: params.batches.length,
    ...totals,
    bytesOnTargets: await bytesOn(admin, moved),
    durationMs: Date.now() - started,
  };
}

/** Every target broker must be in the cluster; a few seconds' grace for one that is restarting. */
async function checkTargets(ctx: StepContext, admin: KafkaAdmin, params: KafkaReassignParamsType): Promise<void> {
  const wanted = new Set(params.batches.flatMap((b) => b.reassignments.flatMap((r) => r.replicas)));
  const deadline = Date.now() + UNKNOWN_BROKER_WAIT_MS;
  for (;;) {
    const live = new Set((await admin.describeCluster()).brokers.map((b) => b.id));
    const missing = [...wanted].filter((id) => !live.has(id));
    if (missing.length === 0) return;
    if (Date.now() > deadline)
      throw new InvalidInputError(
        'params.batches',
        missing,
        `replicas on brokers of the cluster (live brokers: ${[...live].sort((a, b) => a - b).join(', ')}); nothing was changed`,
      );
    ctx.progress(`waiting for broker(s) ${missing.join(', ')} to join the cluster`);
    await pause(1000, ctx.signal);
    ctx.signal.throwIfAborted();
  }
}

async function cancelInFlight(ctx: StepContext, admin: KafkaAdmin, pollMs: number): Promise<number> {
  const inFlight = await admin.listReassignments();
  if (inFlight.length === 0) return 0;
  ctx.progress(`cancelling ${inFlight.length} reassignment(s) in flight`);
  const outcomes = await admin.cancelReassignments(inFlight.map((r) => ({ topic: r.topic, partition: r.partition })));
  const refused = outcomes.filter((o) => o.error !== null && o.error.name !== 'NoReassignmentInProgressError');
  if (refused.length > 0)
    throw new ReassignmentRefusedError(refused.map((o) => `${o.topic}/${o.partition}: ${o.error?.message}`));
  while ((await admin.listReassignments()).length > 0) {
    ctx.signal.throwIfAborted();
    await pause(pollMs, ctx.signal);
  }
  return outcomes.length - refused.length;
}

/** Polls until every reassignment left the in-flight list with all its target replicas in the ISR. */
async function waitUntilDone(
  ctx: StepContext,
  admin: KafkaAdmin,
  todo: readonly Reassignment[],
  pollMs: number,
  report: (
    done: number,
    waiting: string,
    pending: readonly Reassignment[],
    inFlight: readonly ReassignmentInFlight[],
  ) => Promise<void>,
): Promise<void> {
  for (;;) {
    ctx.signal.throwIfAborted();
    const [assignment, inFlight, cluster] = await Promise.all([
      admin.readAssignment(),
      admin.listReassignments(),
      admin.describeCluster(),
    ]);
    const state = new Map(assignment.map((p) => [partitionKey(p.topic, p.partition), p]));
    const moving = new Set(inFlight.map((r) => partitionKey(r.topic, r.partition)));
    const live = new Set(cluster.brokers.map((b) => b.id));
    const pending = todo.filter((r) => {
      const key = partitionKey(r.topic, r.partition);
      const current = state.get(key);
      return (
        moving.has(key) ||
        !current ||
        !sameList(current.replicas, r.replicas) ||
        !r.replicas.every((b) => current.isr.includes(b))
      );
    });
    const down = [...new Set(pending.flatMap((r) => r.replicas).filter((b) => !live.has(b)))];
    await report(
      todo.length - pending.length,
      down.length ? `; waiting for broker(s) ${down.join(', ')} (down)` : '',
      pending,
      inFlight,
    );
    if (pending.length === 0) return;
    await pause(pollMs, ctx.signal);
  }
}

/** Bytes the moved partitions hold on their target replicas (0 when the brokers do not say). */
async function bytesOn(admin: KafkaAdmin, moved: readonly Reassignment[]): Promise<number> {
  if (moved.length === 0) return 0;
  const wanted = new Set(moved.flatMap((r) => r.replicas.map((b) => `${b}:${partitionKey(r.topic, r.partition)}`)));
  try {
    const sizes = await admin.describeLogDirs({ topics: [...new Set(moved.map((r) => r.topic))] });
    return sizes
      .filter((s) => !s.future && wanted.has(`${s.broker}:${partitionKey(s.topic, s.partition)}`))
      .reduce((n, s) => n + s.sizeBytes, 0);
  } catch {
    return 0; // sizes are a report, never a reason to fail a move that succeeded
  }
}
