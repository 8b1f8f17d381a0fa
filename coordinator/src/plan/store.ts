// Plan runs in KV drover-plan-runs: created once (the resolved plan, then the state), read, listed,
// and changed only by compare-and-set on the revision, so two coordinators (or a coordinator and
// `drover run approve|cancel`) never overwrite each other's writes.
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { KV_PLAN_RUNS, PLAN_RUN_STATES_FILTER, planRunPlanKey, planRunStateKey } from '@drover/shared';
import { type KV, Kvm } from '@nats-io/kv';
import { z } from 'zod';
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

/**
 * A resolved plan bigger than this is stored gzipped in chunks of this size (`<run>.plan.<i>`),
 * with a manifest in `<run>.plan`: a Cassandra plan of a big high-vnode cluster lists millions of
 * token ranges (megabytes), and NATS refuses a message over its max_payload (1 MiB by default).
 */
export const PLAN_CHUNK_BYTES = 256 * 1024;

const PlanManifestSchema = z.object({
  chunked: z.object({
    encoding: z.literal('gzip'),
    chunks: z.number().int().min(1),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});

/** Writes the plan (its chunks first, then its record), then the state (the state's existence is what makes a run). */
export async function createRun(store: RunStore, run: PlanRun, plan: ResolvedPlan): Promise<void> {
  const json = JSON.stringify(plan);
  if (Buffer.byteLength(json) <= PLAN_CHUNK_BYTES) await store.kv.create(planRunPlanKey(run.id), json);
  else {
    const packed = gzipSync(json);
    const chunks = Math.ceil(packed.length / PLAN_CHUNK_BYTES);
    for (let i = 0; i < chunks; i++)
      await store.kv.put(
        `${planRunPlanKey(run.id)}.${i}`,
        packed.subarray(i * PLAN_CHUNK_BYTES, (i + 1) * PLAN_CHUNK_BYTES),
      );
    const manifest = {
      chunked: {
        encoding: 'gzip',
        chunks,
        bytes: packed.length,
        sha256: createHash('sha256').update(packed).digest('hex'),
      },
    };
    await store.kv.create(planRunPlanKey(run.id), JSON.stringify(manifest));
  }
  await store.kv.create(planRunStateKey(run.id), JSON.stringify(run));
}

/** The plan a `<run>.plan` record holds: itself, or the chunks its manifest names (read, checked, unzipped). */
export async function planFromRecord(kv: KV, runId: string, value: unknown): Promise<ResolvedPlan> {
  const manifest = PlanManifestSchema.safeParse(value);
  if (!manifest.success) return ResolvedPlanSchema.parse(value);
  const { chunks, bytes, sha256 } = manifest.data.chunked;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < chunks; i++) {
    const entry = await kv.get(`${planRunPlanKey(runId)}.${i}`);
    if (entry?.operation !== 'PUT') throw new RunNotFoundError(runId, `its plan's chunk ${i} of ${chunks} is missing`);
    parts.push(entry.value);
  }
  const packed = Buffer.concat(parts);
  if (packed.length !== bytes || createHash('sha256').update(packed).digest('hex') !== sha256)
    throw new RunNotFoundError(runId, `its plan's chunks do not match their manifest (${packed.length} bytes)`);
  return ResolvedPlanSchema.parse(JSON.parse(gunzipSync(packed).toString('utf8')));
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
  return planFromRecord(store.kv, runId, entry.json());
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
