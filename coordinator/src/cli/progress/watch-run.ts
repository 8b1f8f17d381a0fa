// Following a run someone else drives (`run describe --watch`): its record, read again every second
// (the truth about phases and steps), its own events as they come, and the agents' events of each
// step job it starts. Ends when the run stops running: done, failed, paused or awaiting approval.
import { sleep } from '@drover/shared';
import { type Drover, followTail, type TailEvent } from '../../engine/index.ts';
import { type PlanRun, type RunStore, readRun } from '../../plan/index.ts';
import { jobFollowers } from './follow.ts';

export interface RunWatchSink {
  /** The run record, each time it is read (first right away). */
  onRun(run: PlanRun): void;
  /** A run event (kind `run`) or an agent's or job's event of one of its step jobs (no log lines). */
  onEvent(event: TailEvent): void;
}

export interface RunWatchOptions {
  /** @default 1000 */
  pollMs?: number;
  /** Stops watching (Ctrl-C); the last record read is returned. */
  signal?: AbortSignal;
}

const ACTIVE = new Set<PlanRun['state']>(['running', 'rolling-back']);

/** Watches until the run is no longer running or rolling back (or the signal aborts); returns its last record. */
export async function watchRun(
  d: Drover,
  store: RunStore,
  runId: string,
  sink: RunWatchSink,
  options: RunWatchOptions = {},
): Promise<PlanRun> {
  let { run } = await readRun(store, runId);
  sink.onRun(run);
  if (!ACTIVE.has(run.state)) return run;
  const abort = new AbortController();
  const stop = () => abort.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  const jobs = jobFollowers(d, (action) => {
    if (action.type === 'event') sink.onEvent(action.event);
  });
  const runEvents = (async () => {
    for await (const event of followTail(d, { jobId: runId, fromStart: false, signal: abort.signal }))
      if (event.kind === 'run') sink.onEvent(event);
  })();
  try {
    for (;;) {
      for (const phase of run.phases)
        for (const step of [...phase.steps, ...phase.rollback])
          if (step.jobId && step.state === 'running') jobs.follow(step.jobId);
      if (!ACTIVE.has(run.state) || abort.signal.aborted) return run;
      await sleep(options.pollMs ?? 1000, abort.signal).catch(() => {});
      if (abort.signal.aborted) return run;
      run = (await readRun(store, runId)).run;
      sink.onRun(run);
    }
  } finally {
    abort.abort();
    options.signal?.removeEventListener('abort', stop);
    await Promise.all([jobs.stop(), runEvents]);
  }
}
