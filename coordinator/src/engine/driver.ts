// Drives one job to its end: dispatches signed orders in waves (concurrency, serial-by groups),
// stops dispatching past --max-errors, applies agents' events, gives every target a named final
// state (deadlines for no-response and timed-out), honours cancel, and holds the job's lease so no
// second coordinator drives it. All state is in KV: a coordinator that dies mid-job is replaced by
// `drover job resume`, which republishes the identical orders it had sent (deduplicated by the
// stream's msgID window and by each agent's journal) and never re-runs a finished one.
import {
  COORDINATOR_TOKEN,
  cancelSubject,
  ERROR_TARGET_STATES,
  eventSubject,
  FINAL_TARGET_STATES,
  isFinalTargetState,
  type JobEvent,
  jobEventsFilter,
  jobKey,
  type OrderResult,
  OrderResultSchema,
  type OrderSigner,
  orderSubject,
  parseEventSubject,
  runKey,
  STREAM_ORDERS,
  type TargetState,
} from '@drover/shared';
import { AuditBatch, audit } from './audit.ts';
import { JobLeasedError } from './errors.ts';
import { followEvents } from './events.ts';
import { readJob, readRuns, updateJob } from './jobs.ts';
import type { Drover } from './nats.ts';
import { DELIVERY_GRACE_MS, LEASE_MS, RESULT_GRACE_MS, resolveCount } from './options.ts';
import { countStates, type JobRecord, type JobState, type RunRecord } from './records.ts';
import { redactParams } from './redact.ts';
import { retrying } from './retry.ts';

export interface DriveOptions {
  coordinatorId: string;
  signer: OrderSigner;
  /** Called on every target state change (for live output). */
  onRun?: (run: RunRecord) => void;
  onJobEvent?: (event: JobEvent) => void;
  /** How long to wait for agents to confirm a cancel before marking their targets cancelled. @default 10000 */
  cancelGraceMs?: number;
  /** Loop period. @default 200 */
  tickMs?: number;
  signal?: AbortSignal;
}

export interface JobSummary {
  job: JobRecord;
  runs: RunRecord[];
  counts: Record<string, number>;
}

const warn = (what: string) => (error: unknown) =>
  process.emitWarning(`${what} not written: ${(error as Error).message}`);

export async function driveJob(d: Drover, jobId: string, options: DriveOptions): Promise<JobSummary> {
  const me = options.coordinatorId;
  const tickMs = options.tickMs ?? 200;
  const cancelGraceMs = options.cancelGraceMs ?? 10_000;

  // Take the lease (or find the job already finished).
  let resumed = false;
  const taken = await updateJob(d.jobs, jobId, (job) => {
    if (job.state !== 'running') return undefined;
    if (job.owner && job.owner !== me && (job.leaseUntil ?? 0) > Date.now())
      throw new JobLeasedError(jobId, job.owner, job.leaseUntil ?? 0);
    resumed = job.owner !== undefined && job.owner !== me;
    return { ...job, owner: me, leaseUntil: Date.now() + LEASE_MS };
  });
  let job = taken.job;
  const runs = await readRuns(d.runs, job);
  if (job.state !== 'running') return summarize(job, runs);

  const agentIndex = new Map<string, number>();
  for (const [i, id] of job.groups.flatMap((g) => g.agents).entries()) agentIndex.set(id, i);
  const total = agentIndex.size;
  for (const group of job.groups) {
    for (const agentId of group.agents) {
      if (!runs.has(agentId)) runs.set(agentId, { jobId, agentId, group: group.key, state: 'pending' });
    }
  }
  const concurrency = Math.max(1, resolveCount(job.options.concurrency, total));
  const maxErrors = resolveCount(job.options.maxErrors, total);

  // Kept up to date on every transition, so one loop pass costs the same at 10 or 10,000 targets.
  const counts = countStates(runs.values());
  const groupOf = new Map<string, number>();
  const groupOpen = job.groups.map((g, gi) => {
    for (const id of g.agents) groupOf.set(id, gi);
    return g.agents.filter((id) => !isFinalTargetState(runs.get(id)?.state ?? 'pending')).length;
  });
  const groupCursor = job.groups.map(() => 0);
  const move = (run: RunRecord, state: TargetState) => {
    const before = run.state;
    if (before === state) return;
    counts[before] = (counts[before] ?? 0) - 1;
    counts[state] = (counts[state] ?? 0) + 1;
    const gi = groupOf.get(run.agentId) ?? 0;
    if (!isFinalTargetState(before) && isFinalTargetState(state)) groupOpen[gi] = (groupOpen[gi] ?? 0) - 1;
    if (isFinalTargetState(before) && !isFinalTargetState(state)) groupOpen[gi] = (groupOpen[gi] ?? 0) + 1;
    run.state = state;
  };
  const finalCount = () => FINAL_TARGET_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);

  // Writes of one run are chained so an older snapshot never lands after a newer one.
  const chains = new Map<string, Promise<unknown>>();
  const auditBatch = new AuditBatch(d, jobId);
  const persist = (run: RunRecord): Promise<unknown> => {
    const snapshot = JSON.stringify(run);
    const key = runKey(jobId, run.agentId);
    const next = (chains.get(key) ?? Promise.resolve()).then(() =>
      retrying(() => d.runs.put(key, snapshot), { onGiveUp: warn(`run record ${key}`) }),
    );
    chains.set(key, next);
    return next;
  };
  const jobEvent = (event: Omit<JobEvent, 'jobId' | 'at'>) => {
    const full: JobEvent = { jobId, at: Date.now(), ...event };
    options.onJobEvent?.(full);
    void retrying(() => d.js.publish(eventSubject(jobId, COORDINATOR_TOKEN, 'job'), JSON.stringify(full)), {
      onGiveUp: warn('job event'),
    });
  };
  const setState = (run: RunRecord, state: TargetState, extra: Partial<RunRecord> = {}) => {
    Object.assign(run, extra);
    move(run, state);
    if (isFinalTargetState(state)) {
      run.finishedAt ??= Date.now();
      auditBatch.add('verdict', {
        orderId: run.order?.orderId,
        agentId: run.agentId,
        state,
        reason: run.reason,
        error: run.result?.error,
        at: Date.now(),
      });
      if (!run.result)
        jobEvent({
          type: 'verdict',
          message: `${run.agentId}: ${state}${run.reason ? ` (${run.reason})` : ''}`,
          agentId: run.agentId,
          state,
        });
    }
    // A running target is written only if it is still running a second later: the result usually
    // lands first, and a resumed coordinator learns `running` from the events stream anyway.
    if (state === 'running') setTimeout(() => run.state === 'running' && persist(run), 1000).unref();
    else void persist(run);
    options.onRun?.(run);
  };

  // Agents' events for this job, from the start of the stream (a resumed coordinator catches up).
  let wake: () => void = () => {};
  const applyResult = (run: RunRecord, result: OrderResult) => {
    if (result.orderId !== run.order?.orderId) return;
    const final = isFinalTargetState(run.state);
    // A rejection can be superseded by a real run (e.g. a forged copy refused before the real order).
    if (final && run.result && !(run.result.status === 'rejected' && result.status !== 'rejected')) return;
    setState(run, result.status, { result, ...(final && !run.result ? { late: true } : {}) });
  };
  const follower = followEvents(d, {
    filter: jobEventsFilter(jobId),
    fromStart: true,
    onMessage: (m) => {
      const parsed = parseEventSubject(m.subject);
      const run = parsed ? runs.get(parsed.agentId) : undefined;
      if (!parsed || !run) return;
      if (parsed.kind === 'accepted' && (run.state === 'dispatched' || run.state === 'pending')) {
        const accepted = safeJson(m.data) as { at?: number } | undefined;
        setState(run, 'running', { acceptedAt: typeof accepted?.at === 'number' ? accepted.at : Date.now() });
      } else if (parsed.kind === 'result') {
        const result = OrderResultSchema.safeParse(safeJson(m.data));
        if (result.success) applyResult(run, result.data);
      }
      wake();
    },
  });

  jobEvent({
    type: resumed ? 'resumed' : 'started',
    message: `${resumed ? 'resumed' : 'started'} ${job.step} on ${total} target(s), concurrency ${concurrency}, max errors ${maxErrors}${job.options.serialBy ? `, one ${job.options.serialBy} at a time` : ''}`,
  });

  // Orders a previous coordinator published (or was about to) are sent again, byte for byte.
  const republish = [...runs.values()].filter((r) => (r.state === 'dispatched' || r.state === 'running') && r.order);
  await Promise.all(
    republish.map((r) => publishOrder(d, r).then((seq) => seq !== undefined && Object.assign(r, { seq }))),
  );

  let stopDispatch = false;
  let stoppedForErrors = false;
  let cancelSeenAt: number | undefined;
  let lastRenew = Date.now();
  let lastJobRead = 0;
  let lastDeadlineScan = 0;
  let currentGroup = -1;
  let lost = false;

  const dispatch = async (run: RunRecord) => {
    const now = Date.now();
    const order = options.signer.sign({
      v: 1,
      jobId,
      orderId: `${jobId}-${agentIndex.get(run.agentId) ?? 0}`,
      agentId: run.agentId,
      step: job.step,
      params: job.params,
      issuedAt: now,
      expiresAt: now + job.options.deliveryTimeoutMs,
      timeoutMs: job.options.timeoutMs,
    });
    Object.assign(run, { order, dispatchedAt: now });
    move(run, 'dispatched');
    // The order id is deterministic (job id + target index), so the run record need not be on disk
    // before the order is sent: a resumed coordinator that finds the target still `pending` sends an
    // order with the same id again, which the stream drops (msgID window) or the agent's journal
    // answers without running it twice. Writing it first would cost every order a round trip.
    options.onRun?.(run);
    const seq = await publishOrder(d, run);
    if (seq !== undefined) run.seq = seq; // kept in memory; after a resume the queue is searched instead
    void persist(run);
    auditBatch.add('order', {
      orderId: order.orderId,
      agentId: run.agentId,
      step: job.step,
      params: redactParams(job.params),
      issuedAt: order.issuedAt,
      expiresAt: order.expiresAt,
      keyId: order.keyId,
    });
  };

  try {
    while (!lost) {
      if (options.signal?.aborted) break;
      const now = Date.now();

      // Lease renewal, and the cancel flag written by `drover job cancel`.
      if (now - lastJobRead >= 1000) {
        lastJobRead = now;
        const current = await readJob(d.jobs, jobId).catch(() => undefined);
        if (current) {
          if (current.job.owner !== me) {
            lost = true;
            break;
          }
          if (current.job.cancelRequested && cancelSeenAt === undefined) {
            cancelSeenAt = now;
            jobEvent({
              type: 'cancel-requested',
              message: 'cancel requested: no more dispatch; running orders asked to stop',
            });
            cancelAll(d, runs, setState);
          }
          if (now - lastRenew >= LEASE_MS / 3) {
            try {
              await d.jobs.update(
                jobKey(jobId),
                JSON.stringify({ ...current.job, leaseUntil: now + LEASE_MS }),
                current.revision,
              );
              job = { ...current.job, leaseUntil: now + LEASE_MS };
              lastRenew = now;
            } catch {
              // someone wrote in between (e.g. cancel); read again on the next tick
            }
          }
        }
      }

      // Deadlines: an order nobody took, a step whose result never came (scanned 4 times a second).
      for (const run of now - lastDeadlineScan >= 250 ? runs.values() : []) {
        if (run.state === 'dispatched' && run.order && now > run.order.expiresAt + DELIVERY_GRACE_MS) {
          await deleteQueuedOrder(d, run);
          run.reason = `agent did not take the order before it expired at ${new Date(run.order.expiresAt).toISOString()}`;
          setState(run, 'no-response');
        } else if (
          run.state === 'running' &&
          run.order &&
          now > (run.acceptedAt ?? now) + run.order.timeoutMs + RESULT_GRACE_MS
        ) {
          run.reason = `no result within the ${run.order.timeoutMs} ms timeout plus ${RESULT_GRACE_MS} ms`;
          setState(run, 'timed-out');
        } else if (cancelSeenAt !== undefined && !isFinalTargetState(run.state) && now > cancelSeenAt + cancelGraceMs) {
          run.reason = 'cancel requested; the agent did not confirm in time';
          setState(run, 'cancelled');
        }
      }
      if (now - lastDeadlineScan >= 250) lastDeadlineScan = now;

      // Error threshold: stop dispatching, let in-flight orders finish, skip the rest.
      const errors = ERROR_TARGET_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
      if (!stopDispatch && errors > maxErrors) {
        stopDispatch = true;
        stoppedForErrors = true;
        jobEvent({
          type: 'stopped',
          message: `${errors} error(s) exceed --max-errors ${maxErrors}: no more dispatch`,
          counts: { ...counts },
        });
        for (const run of runs.values())
          if (run.state === 'pending') setState(run, 'skipped', { reason: `max errors (${maxErrors}) exceeded` });
      }

      // Dispatch within the current serial group, up to the concurrency window.
      if (!stopDispatch && cancelSeenAt === undefined) {
        const groupIndex = groupOpen.findIndex((open) => open > 0);
        if (groupIndex !== -1) {
          if (groupIndex !== currentGroup) {
            currentGroup = groupIndex;
            const group = job.groups[groupIndex];
            if (job.groups.length > 1 && group)
              jobEvent({
                type: 'wave',
                message: `group ${groupIndex + 1}/${job.groups.length}: ${group.key} (${group.agents.length} target(s))`,
              });
          }
          const inFlight = (counts.dispatched ?? 0) + (counts.running ?? 0);
          const free = concurrency - inFlight;
          if (free > 0) {
            const agents = job.groups[groupIndex]?.agents ?? [];
            const next: RunRecord[] = [];
            // The cursor only moves forward: pending targets are taken in group order, once.
            for (let i = groupCursor[groupIndex] ?? 0; i < agents.length && next.length < free; i++) {
              const run = runs.get(agents[i] as string);
              if (run?.state === 'pending') next.push(run);
              groupCursor[groupIndex] = i + 1;
            }
            await Promise.all(next.map((run) => dispatch(run)));
          }
        }
      }

      await auditBatch.flush();
      if (finalCount() === total) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, tickMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    await follower.stop();
    await auditBatch.flush();
    await Promise.all(chains.values());
  }

  if (lost || options.signal?.aborted) return summarize(job, runs);
  const state: JobState =
    cancelSeenAt !== undefined
      ? 'cancelled'
      : stoppedForErrors
        ? 'stopped'
        : counts.succeeded === total
          ? 'succeeded'
          : 'failed';
  const final = await updateJob(d.jobs, jobId, (j) => ({
    ...j,
    state,
    counts,
    finishedAt: Date.now(),
    owner: me,
    leaseUntil: 0,
  }));
  jobEvent({ type: 'finished', message: `job ${state}: ${formatCounts(counts)}`, counts });
  await audit(d, 'job', jobId, { type: 'job-finished', jobId, state, counts, at: Date.now() });
  return summarize(final.job, runs);
}

function cancelAll(
  d: Drover,
  runs: Map<string, RunRecord>,
  setState: (run: RunRecord, state: TargetState, extra?: Partial<RunRecord>) => void,
) {
  for (const run of runs.values()) {
    if (run.state === 'pending') setState(run, 'cancelled', { reason: 'job cancelled before dispatch' });
    if ((run.state === 'dispatched' || run.state === 'running') && run.order) {
      const order = run.order;
      void (async () => {
        if (run.state === 'dispatched' && (await deleteQueuedOrder(d, run))) {
          setState(run, 'cancelled', { reason: 'removed from the queue before the agent took it' });
          return;
        }
        d.nc.publish(
          cancelSubject(run.agentId),
          JSON.stringify({ orderId: order.orderId, jobId: order.jobId, reason: 'job cancelled by operator' }),
        );
      })();
    }
  }
}

async function publishOrder(d: Drover, run: RunRecord): Promise<number | undefined> {
  if (!run.order) return undefined;
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      const ack = await d.js.publish(orderSubject(run.agentId), JSON.stringify(run.order), {
        msgID: run.order.orderId,
        timeout: 5000,
      });
      return ack.duplicate ? run.seq : ack.seq;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500 * Math.min(attempt + 1, 6)));
    }
  }
  return undefined;
}

/** Removes a not-yet-taken order from the work queue; false when it is gone (taken or never stored). */
async function deleteQueuedOrder(d: Drover, run: RunRecord): Promise<boolean> {
  try {
    let seq = run.seq;
    if (seq === undefined) {
      // Resumed coordinator: find the order among the agent's queued ones (a handful at most).
      const last = await d.jsm.streams.getMessage(STREAM_ORDERS, { last_by_subj: orderSubject(run.agentId) });
      if (!last || (last.json() as { orderId?: string }).orderId !== run.order?.orderId) return false;
      seq = last.seq;
    }
    return await d.jsm.streams.deleteMessage(STREAM_ORDERS, seq, false);
  } catch {
    return false;
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

export function summarize(job: JobRecord, runs: Map<string, RunRecord>): JobSummary {
  const list = job.groups
    .flatMap((g) => g.agents)
    .map((id) => runs.get(id))
    .filter((r): r is RunRecord => r !== undefined);
  return { job, runs: list, counts: countStates(list) };
}

export function formatCounts(counts: Record<string, number>): string {
  return (
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ') || 'no targets'
  );
}
