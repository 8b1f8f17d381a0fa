// Plan runs in KV drover-plan-runs: created once (the resolved plan, then the state), read, listed,
// and changed only by compare-and-set on the revision, so two coordinators (or a coordinator and
// `drover run approve|cancel`) never overwrite each other's writes.
import { randomBytes } from 'node:crypto';
import { KV_PLAN_RUNS, PLAN_RUN_STATES_FILTER, planRunPlanKey, planRunStateKey } from '@drover/shared';
import { type KV, Kvm } from '@nats-io/kv';
import { type Drover, updateWithCas } from '../engine/index.ts';
import { readAll } from '../engine/kv-read.ts';
import { RunConflictError, RunNotFoundError } from './errors.ts';
import type { LoadedPlan } from './load.ts';
import { type PlanRun, PlanRunSchema, type ResolvedPlan, ResolvedPlanSchema } from './types.ts';

export interface RunStore {
  kv: KV;
}

export async function openRunStore(d: Drover): Promise<RunStore> {
  const replicas = Number(process.env.DROVER_STREAM_REPLICAS ?? 1);
  const kvm = new Kvm(d.nc);
  const kv = d.readOnly
    ? await kvm.open(KV_PLAN_RUNS)
    : await kvm.create(KV_PLAN_RUNS, { history: 5, storage: 'file', replicas });
  return { kv };
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The job id of one attempt of one step: deterministic, so a resumed run finds the job it had started. */
export function stepJobId(
  runId: string,
  phase: number,
  kind: 'step' | 'gate' | 'rollback',
  index: number,
  attempt: number,
) {
  return `${runId}-p${phase}-${kind === 'rollback' ? 'r' : 's'}${index}-a${attempt}`;
}

/** The initial state of a run of `loaded`: every phase pending, every step at attempt 1. */
export function newRun(loaded: LoadedPlan, by: string, until?: string, now = Date.now()): PlanRun {
  const { plan } = loaded;
  return {
    id: newRunId(new Date(now)),
    name: plan.metadata.name,
    ...(plan.metadata.cluster ? { cluster: plan.metadata.cluster } : {}),
    file: loaded.file,
    digest: loaded.digest,
    createdAt: now,
    createdBy: by,
    state: 'running',
    phase: 0,
    ...(until ? { until } : {}),
    phases: plan.phases.map((phase) => ({
      name: phase.name,
      state: 'pending',
      steps: [
        ...phase.steps.map((s) => ({ name: s.name, kind: 'step' as const, attempt: 1, state: 'pending' as const })),
        ...phase.gate.map((s) => ({ name: s.name, kind: 'gate' as const, attempt: 1, state: 'pending' as const })),
      ],
      rollback: phase.rollback.map((s) => ({
        name: s.name,
        kind: 'rollback' as const,
        attempt: 1,
        state: 'pending' as const,
      })),
    })),
    cancelRequested: false,
    updatedAt: now,
  };
}

/** Writes the plan, then the state (the state's existence is what makes a run). */
export async function createRun(store: RunStore, run: PlanRun, plan: ResolvedPlan): Promise<void> {
  await store.kv.create(planRunPlanKey(run.id), JSON.stringify(plan));
  await store.kv.create(planRunStateKey(run.id), JSON.stringify(run));
}

export interface RunEntry {
  run: PlanRun;
  revision: number;
}

export async function readRun(store: RunStore, runId: string): Promise<RunEntry> {
  const entry = await store.kv.get(planRunStateKey(runId));
  if (entry?.operation !== 'PUT') throw new RunNotFoundError(runId);
  const parsed = PlanRunSchema.safeParse(entry.json());
  if (!parsed.success) throw new RunNotFoundError(runId, `its record does not parse: ${parsed.error.message}`);
  return { run: parsed.data, revision: entry.revision };
}

export async function readRunPlan(store: RunStore, runId: string): Promise<ResolvedPlan> {
  const entry = await store.kv.get(planRunPlanKey(runId));
  if (entry?.operation !== 'PUT') throw new RunNotFoundError(runId, 'its plan record is missing');
  return ResolvedPlanSchema.parse(entry.json());
}

export async function listRuns(store: RunStore): Promise<PlanRun[]> {
  const all = await readAll(store.kv, PLAN_RUN_STATES_FILTER, (v) => {
    const parsed = PlanRunSchema.safeParse(v);
    return parsed.success ? parsed.data : undefined;
  });
  return [...all.values()].sort((a, b) => b.createdAt - a.createdAt);
}

/**
 * Applies `change` with compare-and-set, re-reading and retrying when someone else wrote in between.
 * `change` returns undefined to leave the run as it is, and may throw to refuse.
 */
export async function updateRun(
  store: RunStore,
  runId: string,
  change: (run: PlanRun) => PlanRun | undefined,
): Promise<RunEntry> {
  const read = async () => {
    const { run, revision } = await readRun(store, runId);
    return { value: run, revision };
  };
  const stamped = (run: PlanRun) => {
    const next = change(run);
    return next ? { ...next, updatedAt: Date.now() } : undefined;
  };
  const { value, revision } = await updateWithCas(
    store.kv,
    planRunStateKey(runId),
    read,
    stamped,
    () => new RunConflictError(runId),
  );
  return { run: value, revision };
}
