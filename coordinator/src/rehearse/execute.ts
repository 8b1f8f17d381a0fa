// Carries out one cluster's resolved plan on the simulated data plane, phase by phase, the way the
// plan runner does it (phases in order; in a phase its steps, then its gate checks, one after
// another; each step one job over its targets with the step's concurrency), with each step's
// effect modelled by its simulated counterpart. Gates are evaluated on the simulated state, so a
// plan that would leave a partition off its targets or a range unstreamed fails here as it would
// for real. Approvals are granted at once (the forecast is machine time; people come on top).

import type { Resource } from '@drover/shared';
import {
  BrokerNotAliveError,
  formatDuration,
  matchesSelector,
  parseSelector,
  SimCassandraCluster,
  type SimCosts,
  SimKafkaCluster,
  type Simulation,
  SimZooKeeper,
  STEP_CATALOG,
} from '@drover/shared';
import { OwnedMasks } from '../cassandra/migration-file.ts';
import type { ResolvedStep } from '../plan/types.ts';
import type { ClusterPlan, SimAgent } from './synthesize.ts';

export interface PhaseTiming {
  name: string;
  startMs: number;
  endMs: number;
}

/**
 * A fault `atMs` simulated ms after its cluster's migration starts (`--fail AGENT@TIME[:KIND]`):
 * the agent's node goes `down`; the stream `session` in flight on that Cassandra node (or its next
 * one) fails; or the node turns `slow`, replicating or streaming `factor` times slower.
 */
export interface NodeFault {
  agent: string;
  atMs: number;
  kind?: 'down' | 'session' | 'slow';
  factor?: number;
}

export type ClusterOutcome = 'succeeded' | 'rolled-back' | 'rollback-failed';

export interface ClusterRun {
  cluster: string;
  kind: 'kafka' | 'cassandra';
  nodes: number;
  agents: number;
  startMs: number;
  endMs: number;
  phases: PhaseTiming[];
  /** Bytes copied (Kafka new replicas) or streamed (Cassandra rebuilds). */
  bytes: number;
  outcome: ClusterOutcome;
  /** Where and why the plan stopped (then its rollback ran, as `drover run rollback` would). */
  failure?: { phase: string; step: string; reason: string };
  /** The phases rolled back, in the order their rollback steps ran. */
  rollback: PhaseTiming[];
}

/** A gate that does not hold, or a step the rehearsal cannot model. */
export class RehearsalPlanError extends Error {
  readonly cluster: string;
  readonly phase: string;
  readonly step: string;
  constructor(cluster: string, phase: string, step: string, reason: string) {
    super(`${cluster}: phase ${phase}, ${step}: ${reason}`);
    this.name = 'RehearsalPlanError';
    this.cluster = cluster;
    this.phase = phase;
    this.step = step;
  }
}

export interface ExecuteContext {
  sim: Simulation;
  costs: SimCosts;
  link: (from: string, to: string) => Resource;
  streamThroughput: number;
  faults?: readonly NodeFault[];
}

/** A step whose failed targets exceed its maxErrors: the run stops in this phase. */
class StepFailedError extends Error {
  readonly step: string;
  constructor(step: string, reason: string) {
    super(reason);
    this.name = 'StepFailedError';
    this.step = step;
  }
}

type Params = Record<string, unknown>;

/** What a step is, as far as its effect goes (`timeoutMs`: its own, else the step's default). */
export type StepAction = Pick<ResolvedStep, 'name' | 'step' | 'params'> & { timeoutMs?: number | undefined };

/** One cluster's simulated data plane, and what each step does to it on one target. */
export interface ClusterModel {
  kafka: SimKafkaCluster | undefined;
  cassandra: SimCassandraCluster | undefined;
  zookeeper: SimZooKeeper | undefined;
  /** What the step does on one target; returns the fields a gate reads (`ok`, `resumable`, `available`). */
  onTarget(step: StepAction, target: SimAgent, phase: string): Promise<Params>;
  /** Takes the faulted nodes down at their times; the returned function ends that (the cluster is over). */
  scheduleFaults(faults: readonly NodeFault[]): () => void;
  /** Bytes copied (Kafka) or streamed (Cassandra) so far. */
  bytes(): number;
}

/** The cluster's simulated Kafka, Cassandra and ZooKeeper, and the steps' effects on them. */
export function clusterModel(prepared: ClusterPlan, context: ExecuteContext): ClusterModel {
  const { sim, costs } = context;
  const { cluster, agents } = prepared;
  const kafka = prepared.kafka
    ? new SimKafkaCluster(sim, {
        name: cluster.name,
        brokers: agents.filter((a) => a.role !== 'zookeeper').map((a) => ({ id: Number(a.node), region: a.region })),
        partitions: prepared.kafka.topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partition,
            replicas: p.replicas,
            sizeBytes: p.sizeBytes ?? 0,
            inboundBytesPerSec: p.bytesInPerSec ?? 0,
          })),
        ),
        link: context.link,
        costs,
      })
    : undefined;
  const cassandra = prepared.cassandra
    ? new SimCassandraCluster(sim, {
        name: cluster.name,
        nodes: agents.map((a) => ({
          address: a.node,
          dc: a.role === 'source' ? 'old' : 'new',
          region: a.region,
          running: a.role === 'source',
        })),
        keyspaceBytes: prepared.cassandra.keyspaceBytes,
        streamThroughputBytesPerSec: context.streamThroughput,
        link: context.link,
        costs,
      })
    : undefined;
  // Waves too big to list their ranges carry masks over each node's replicated ranges (decoded here).
  const masks = prepared.cassandra ? new OwnedMasks(prepared.cassandra.topology, 'new') : undefined;
  const zookeeper =
    cluster.kind === 'kafka' && cluster.zookeeper
      ? new SimZooKeeper(sim, {
          name: cluster.name,
          region: cluster.region,
          dataBytes: cluster.zookeeper.dataBytes,
          link: context.link,
          costs,
        })
      : undefined;
  // An item's ranges: listed, or a mask over those its node replicates (a rebuild's, a verify's).
  const rangesOf = (item: {
    node: string;
    keyspace: string;
    ranges?: [string, string][];
    owned?: { count: number; digest: string; mask: string };
  }): [string, string][] =>
    item.ranges ?? (item.owned && masks ? masks.ranges(item.node, item.keyspace, item.owned) : []);
  const byId = new Map(agents.map((a) => [a.id, a]));
  // A step that outlives its timeout fails as the engine has it (what it started carries on, as on
  // a real cluster: a stalled reassignment stays in flight until a rollback cancels it).
  const onTarget = async (step: StepAction, target: SimAgent, phase: string): Promise<Params> => {
    const timeoutMs = step.timeoutMs ?? STEP_CATALOG.get(step.step)?.defaultTimeoutMs ?? 3600_000;
    const timer = sim.timer(timeoutMs);
    try {
      return await Promise.race([
        effect(step, target, phase),
        timer.elapsed.then((): never => {
          throw new StepFailedError(step.name, `timed out after ${formatDuration(timeoutMs)}`);
        }),
      ]);
    } finally {
      timer.cancel();
    }
  };
  const effect = async (step: StepAction, target: SimAgent, phase: string): Promise<Params> => {
    const params = step.params;
    // A Kafka broker that is down took its node, and so its agent, with it.
    if (kafka && target.role !== 'zookeeper' && kafka.brokers.get(Number(target.node))?.up === false)
      throw new StepFailedError(step.name, `broker ${target.node} is down: its agent does not answer`);
    switch (step.step) {
      case 'kafka.reassign': {
        const sim_ = need(kafka, step);
        if (params.cancelInFlight === true) sim_.cancelInFlight();
        for (const batch of params.batches as { configOps: never[]; reassignments: never[]; elections: never[] }[]) {
          const started = sim.now;
          await sim_.alterConfigs(batch.configOps);
          try {
            await sim_.reassign(batch.reassignments);
          } catch (error) {
            if (error instanceof BrokerNotAliveError) throw new StepFailedError(step.name, error.message);
            throw error;
          }
          // The agent sees a batch done at its next poll of the brokers.
          const poll = Number(params.pollMs ?? 1000);
          const elapsed = sim.now - started;
          if (batch.reassignments.length > 0) await sim.sleep(Math.ceil(elapsed / poll) * poll - elapsed);
          await sim_.elect(batch.elections);
        }
        return { ok: true };
      }
      case 'kafka.verify': {
        await sim.sleep(costs.checkMs);
        const result = need(kafka, step).verify(params as never);
        return { ok: result.ok, problems: result.problems.slice(0, 5) };
      }
      case 'kafka.broker-configure':
        await sim.sleep(costs.brokerConfigureMs);
        return { ok: true };
      case 'service': {
        const action = String(params.action);
        if (action === 'stop') await sim.sleep(costs.serviceStopMs);
        else if (action === 'start' || action === 'restart')
          await sim.sleep(params.name === 'zookeeper' ? costs.zookeeperStartMs : costs.kafkaStartMs);
        return { ok: true };
      }
      case 'zookeeper.observer-join':
        await need(zookeeper, step).observerJoin(target.id, target.region);
        return { ok: true };
      case 'zookeeper.observer-leave':
        // A reconfig -remove (a CLI round trip, about a check's time) and the observer's stop.
        await sim.sleep(costs.checkMs + costs.serviceStopMs);
        return { ok: true };
      case 'zookeeper.observer-verify':
        await sim.sleep(costs.checkMs);
        return { ok: need(zookeeper, step).notSynced([target.id]).length === 0 };
      case 'cassandra.node-prepare':
        if (params.start !== false) await need(cassandra, step).start(target.node);
        else await sim.sleep(costs.checkMs);
        return { resumable: need(cassandra, step).node(target.node).running };
      case 'cassandra.keyspaces-extend':
        await sim.sleep(costs.keyspaceAlterMs * (prepared.cassandra?.keyspaceBytes.size ?? 1));
        return { ok: true };
      case 'cassandra.rebuild': {
        const items = (
          params.rebuilds as {
            agent: string;
            node: string;
            keyspace: string;
            source: string;
            ranges?: [string, string][];
            owned?: { count: number; digest: string; mask: string };
          }[]
        )
          .filter((item) => item.agent === target.id)
          .map((item) => ({
            ...item,
            ranges: rangesOf(item),
          }));
        // As the agent's step: each rebuild retried with doubling delays, then the step fails.
        const attempts = Number(params.attempts ?? 4);
        for (const item of items)
          for (let failures = 0; ; ) {
            try {
              await need(cassandra, step).rebuild(item.node, item.keyspace, item.source, item.ranges);
              break;
            } catch (error) {
              failures++;
              if (failures >= attempts)
                throw new StepFailedError(
                  step.name,
                  `${item.node} ${item.keyspace} <- ${item.source}: ${(error as Error).message} (${failures} attempts)`,
                );
              await sim.sleep(Number(params.retryDelayMs ?? 2000) * 2 ** (failures - 1));
            }
          }
        return { ok: true };
      }
      case 'cassandra.rebuild-verify': {
        await sim.sleep(costs.checkMs);
        const expected = (
          params.expected as {
            agent: string;
            node: string;
            keyspace: string;
            ranges?: [string, string][];
            owned?: { count: number; digest: string; mask: string };
          }[]
        ).filter((e) => e.agent === target.id);
        const missing = expected.reduce(
          (n, e) => n + need(cassandra, step).missing(e.node, e.keyspace, rangesOf(e)),
          0,
        );
        return { ok: missing === 0, missing };
      }
      case 'cassandra.node-wipe':
        try {
          await need(cassandra, step).wipe(target.node);
        } catch (error) {
          throw new StepFailedError(step.name, (error as Error).message);
        }
        return { ok: true };
      case 'cassandra.status':
        await sim.sleep(costs.checkMs);
        return { available: need(cassandra, step).node(target.node).running };
      default:
        throw new RehearsalPlanError(
          cluster.name,
          phase,
          step.name,
          `the rehearsal has no model of step ${step.step} yet`,
        );
    }
  };

  const scheduleFaults = (faults: readonly NodeFault[]) => {
    const timers: { cancel: () => void }[] = [];
    for (const fault of faults) {
      const target = byId.get(fault.agent);
      if (target === undefined) continue;
      const timer = sim.timer(fault.atMs);
      timers.push(timer);
      void timer.elapsed.then(() => {
        const kind = fault.kind ?? 'down';
        if (cassandra) {
          if (kind === 'down') cassandra.down(target.node);
          else if (kind === 'session') cassandra.failSession(target.node);
          else cassandra.slowDown(target.node, fault.factor ?? 1);
        } else if (kafka && target.role !== 'zookeeper') {
          if (kind === 'down') kafka.down(Number(target.node));
          else if (kind === 'slow') kafka.slowDown(Number(target.node), fault.factor ?? 1);
        }
      });
    }
    // The cluster is over: faults not yet due never happen (nor hold the clock).
    return () => {
      for (const timer of timers) timer.cancel();
    };
  };
  return {
    kafka,
    cassandra,
    zookeeper,
    onTarget,
    scheduleFaults,
    bytes: () => kafka?.bytesCopied ?? cassandra?.bytesStreamed ?? 0,
  };
}

export async function executeClusterPlan(prepared: ClusterPlan, context: ExecuteContext): Promise<ClusterRun> {
  const { sim, costs } = context;
  const { cluster, agents, plan } = prepared;
  const model = clusterModel(prepared, context);
  const onTarget = model.onTarget;
  const byId = new Map(agents.map((a) => [a.id, a]));
  const targetsOf = (step: ResolvedStep): SimAgent[] => {
    if ('agents' in step.target) return step.target.agents.map((id) => byId.get(id) as SimAgent);
    const selector = parseSelector(step.target.selector);
    return agents.filter((a) => matchesSelector(selector, a.labels));
  };

  const runStep = async (step: ResolvedStep, phase: string, expect?: { field: string; equals?: unknown }[]) => {
    const targets = targetsOf(step);
    if (targets.length === 0)
      throw new RehearsalPlanError(cluster.name, phase, step.name, `no simulated agent matches its target`);
    const limit =
      'count' in step.options.concurrency
        ? Math.max(1, step.options.concurrency.count)
        : Math.max(1, Math.ceil((targets.length * step.options.concurrency.percent) / 100));
    await sim.sleep(costs.jobMs);
    const maxErrors =
      'count' in step.options.maxErrors
        ? step.options.maxErrors.count
        : Math.floor((targets.length * step.options.maxErrors.percent) / 100);
    // As the engine does past the error threshold: stop dispatching, let in-flight targets finish,
    // skip the rest, then the step has failed.
    let errors = 0;
    let firstFailure: StepFailedError | undefined;
    let next = 0;
    const worker = async () => {
      while (next < targets.length && errors <= maxErrors) {
        const target = targets[next++] as SimAgent;
        let result: Params;
        try {
          result = await onTarget({ ...step, timeoutMs: step.options.timeoutMs }, target, phase);
        } catch (error) {
          if (!(error instanceof StepFailedError)) throw error;
          errors++;
          firstFailure ??= new StepFailedError(step.name, `on ${target.id}: ${error.message}`);
          continue;
        }
        for (const condition of expect ?? [])
          if ('equals' in condition && result[condition.field] !== condition.equals)
            throw new StepFailedError(
              step.name,
              `on ${target.id}: ${condition.field} is ${JSON.stringify(result[condition.field])}, expected ${JSON.stringify(condition.equals)}${result.problems ? ` (${(result.problems as string[]).join('; ')})` : ''}`,
            );
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, targets.length) }, worker));
    if (errors > maxErrors && firstFailure) throw firstFailure;
  };

  const startMs = sim.now;
  const endFaults = model.scheduleFaults(context.faults ?? []);
  const phases: PhaseTiming[] = [];
  const rollback: PhaseTiming[] = [];
  let outcome: ClusterOutcome = 'succeeded';
  let failure: ClusterRun['failure'];
  for (const [index, phase] of plan.phases.entries()) {
    const started = sim.now;
    try {
      for (const step of phase.steps) await runStep(step, phase.name);
      for (const check of phase.gate) await runStep(check, phase.name, check.expect as never);
      phases.push({ name: phase.name, startMs: started, endMs: sim.now });
    } catch (error) {
      if (!(error instanceof StepFailedError)) throw error;
      phases.push({ name: phase.name, startMs: started, endMs: sim.now });
      failure = { phase: phase.name, step: error.step, reason: error.message };
      // What `drover run rollback` does: the phase it stopped in, then every completed phase, newest first.
      outcome = 'rolled-back';
      for (const undo of plan.phases.slice(0, index + 1).reverse()) {
        if (undo.rollback.length === 0) continue;
        const rollbackStarted = sim.now;
        try {
          for (const step of undo.rollback) await runStep(step, `rollback of ${undo.name}`);
        } catch (rollbackError) {
          if (!(rollbackError instanceof StepFailedError)) throw rollbackError;
          outcome = 'rollback-failed';
        }
        rollback.push({ name: undo.name, startMs: rollbackStarted, endMs: sim.now });
        if (outcome === 'rollback-failed') break;
      }
      break;
    }
  }
  endFaults();
  return clusterRun(prepared, model, sim, { outcome, failure, rollback, startMs, phases });
}

/** What one cluster's rehearsal gives, whichever runner carried its plan out. */
export function clusterRun(
  prepared: ClusterPlan,
  model: ClusterModel,
  sim: Simulation,
  run: Pick<ClusterRun, 'outcome' | 'failure' | 'rollback' | 'startMs' | 'phases'>,
): ClusterRun {
  const { cluster, agents } = prepared;
  return {
    outcome: run.outcome,
    ...(run.failure ? { failure: run.failure } : {}),
    rollback: run.rollback,
    cluster: cluster.name,
    kind: cluster.kind,
    nodes: cluster.nodes,
    agents: agents.length,
    startMs: run.startMs,
    endMs: sim.now,
    phases: run.phases,
    bytes: model.bytes(),
  };
}

function need<T>(model: T | undefined, step: Pick<ResolvedStep, 'name' | 'step'>): T {
  if (model === undefined) throw new Error(`step ${step.name} (${step.step}) has no simulated cluster to act on`);
  return model;
}
