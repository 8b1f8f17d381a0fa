// Drives one job to its end: dispatches orders in waves, each signed once (concurrency, serial-by groups),
// stops dispatching past --max-errors, applies agents' events, gives every target a named final
// state (deadlines for no-response and timed-out), honours cancel, and holds the job's lease so no
// second coordinator drives it. All state is in KV: a coordinator that dies mid-job is replaced by
// `drover job resume`, which republishes the identical orders it had sent (deduplicated by the
// stream's msgID window and by each agent's journal) and never re-runs a finished one. An order not
// yet taken is re-sent over core NATS now and then, and a running one whose result is long in coming
// is asked about the same way (dispatch.ts OrderResender).
// This file is the loop only; its parts, each reusable by a plan runner: lease.ts (the lease),
// job-state.ts (targets and counts), persist.ts (run records, job events), events.ts (the follower),
// results.ts (what events mean), deadlines.ts (overdue targets), dispatch.ts (orders on the wire).
import {
  ERROR_TARGET_STATES,
  isFinalTargetState,
  type JobEvent,
  jobEventsFilter,
  type Order,
  type OrderSigner,
} from '@drover/shared';
import { checkReport, enrolledKeys } from './agent-keys.ts';
import { AuditBatch, audit } from './audit.ts';
import { endOverdue } from './deadlines.ts';
import { cancelAll, OrderResender, publishOrder, sendOrder, signWave } from './dispatch.ts';
import { followEvents } from './events.ts';
import { JobRuns, type SetState } from './job-state.ts';
import { readRuns, updateJob } from './jobs.ts';
import { JobLease, takeLease } from './lease.ts';
import type { Drover } from './nats.ts';
import { resolveCount } from './options.ts';
import { publishJobEvent, RunWriter } from './persist.ts';
import { countStates, type JobRecord, type JobState, type RunRecord } from './records.ts';
import { redactParams } from './redact.ts';
import { applyEvent, type RefusedReport } from './results.ts';
import { retryAfterSetup } from './retry.ts';

export interface DriveOptions {
  coordinatorId: string;
  signer: OrderSigner;
  /** Called on every target state change (for live output). */
  onRun?: (run: RunRecord) => void;
  onJobEvent?: (event: JobEvent) => void;
  /** How long to wait for agents to confirm a cancel before marking their targets cancelled. @default 10000 */
  cancelGraceMs?: number;
  /** A job another coordinator holds: watch its lease and take it if it lapses (default), or refuse at once. */
  leaseWait?: boolean;
  /** Loop period. @default 200 */
  tickMs?: number;
  /** How long a target may run with no result before its agent is asked for it (then doubling). @default 30000 */
  askAfterMs?: number;
  signal?: AbortSignal;
}

export interface JobSummary {
  job: JobRecord;
  runs: RunRecord[];
  counts: Record<string, number>;
}

export async function driveJob(d: Drover, jobId: string, options: DriveOptions): Promise<JobSummary> {
  const me = options.coordinatorId;
  const tickMs = options.tickMs ?? 200;
  const cancelGraceMs = options.cancelGraceMs ?? 10_000;

  // Take the lease (or find the job already finished).
  // Each read or write here is tried again while a NATS server goes away or a leader is elected.
  const taken = await retryAfterSetup(() => takeLease(d.jobs, jobId, me, { wait: options.leaseWait ?? true }));
  const runs = await retryAfterSetup(() => readRuns(d.runs, taken.job));
  if (taken.job.state !== 'running') return summarize(taken.job, runs);

  const job = taken.job;
  const state = new JobRuns(job, runs);
  const { counts, total } = state;
  const concurrency = Math.max(1, resolveCount(job.options.concurrency, total));
  const maxErrors = resolveCount(job.options.maxErrors, total);

  const writer = new RunWriter(d, jobId);
  // Set once the lease is held; a coordinator that lost it (frozen, partitioned: the lease is read
  // every second) writes no run record more. The job's final write checks the owner in its CAS.
  let leaseLost = () => false;
  const persist = (run: RunRecord) => {
    if (!leaseLost()) void writer.persist(run);
  };
  const auditBatch = new AuditBatch(d, jobId);
  const jobEvent = (event: Omit<JobEvent, 'jobId' | 'at'>) => {
    const full: JobEvent = { jobId, at: Date.now(), ...event };
    options.onJobEvent?.(full);
    publishJobEvent(d, full);
  };
  /** Writes the run a second from now if it is still in `state` (a final state is written at once). */
  const persistIfStill = (run: RunRecord, state: RunRecord['state']) =>
    setTimeout(() => run.state === state && persist(run), DEFER_WRITE_MS).unref();
  const setState: SetState = (run, next, extra = {}) => {
    Object.assign(run, extra);
    state.move(run, next);
    if (isFinalTargetState(next)) {
      run.finishedAt ??= Date.now();
      auditBatch.add('verdict', {
        orderId: run.order?.orderId,
        agentId: run.agentId,
        state: next,
        reason: run.reason,
        error: run.result?.error,
        at: Date.now(),
      });
      if (!run.result)
        jobEvent({
          type: 'verdict',
          message: `${run.agentId}: ${next}${run.reason ? ` (${run.reason})` : ''}`,
          agentId: run.agentId,
          state: next,
        });
    }
    // A running target is written only if it is still running a second later: the result usually
    // lands first, and a resumed coordinator learns `running` from the events stream anyway.
    if (next === 'running') persistIfStill(run, 'running');
    else persist(run);
    options.onRun?.(run);
  };

  // Agents' events for this job, from the start of the stream (a resumed coordinator catches up).
  let wake: () => void = () => {};
  // Events come in bursts (a socket read holds hundreds of results at fleet scale): one loop pass
  // after the burst, not one per event.
  let wakeQueued = false;
  const wakeSoon = () => {
    if (wakeQueued) return;
    wakeQueued = true;
    setImmediate(() => {
      wakeQueued = false;
      wake();
    });
  };
  // Only reports signed by each target's enrolled key count; the others are audited and ignored.
  const { keys } = await retryAfterSetup(() =>
    enrolledKeys(
      d.agentKeys,
      job.groups.flatMap((g) => g.agents),
    ),
  );
  const refused = new RefusedReports(jobEvent, auditBatch);
  const verification = {
    check: (agentId: string, body: unknown) => checkReport(keys, agentId, body),
    onRefused: (report: RefusedReport) => refused.add(report),
  };
  // Deadlines are judged only once the events already on the stream are read: a coordinator that
  // resumes a job long after its targets reported (chaos: 19 resumers killed while they waited for a
  // lease) would otherwise end them `timed-out` before reading the results that say `succeeded`. If
  // the backlog cannot be read for CATCH_UP_LIMIT_MS, deadlines are judged anyway.
  let caughtUp = false;
  const followingSince = Date.now();
  const follower = followEvents(d, {
    filter: jobEventsFilter(jobId),
    fromStart: true,
    onMessage: (m) => {
      if (applyEvent(runs, m, setState, Date.now(), verification)) wakeSoon();
    },
    onCaughtUp: () => {
      caughtUp = true;
      wake();
    },
  });

  jobEvent({
    type: taken.resumed ? 'resumed' : 'started',
    message: `${taken.resumed ? 'resumed' : 'started'} ${job.step} on ${total} target(s), concurrency ${concurrency}, max errors ${maxErrors}${job.options.serialBy ? `, one ${job.options.serialBy} at a time` : ''}`,
  });

  // Orders a previous coordinator published (or was about to) are sent again, byte for byte.
  const republish = [...runs.values()].filter((r) => (r.state === 'dispatched' || r.state === 'running') && r.order);
  await Promise.all(
    republish.map((r) => publishOrder(d, r).then((seq) => seq !== undefined && Object.assign(r, { seq }))),
  );

  const lease = new JobLease(d.jobs, me, job);
  leaseLost = () => lease.lost;
  let stopDispatch = false;
  let stoppedForErrors = false;
  let cancelSeenAt: number | undefined;
  let lastDeadlineScan = 0;
  let currentGroup = -1;
  const resender = new OrderResender({ askAfterMs: options.askAfterMs });

  /** Targets not online when the job was made (JobRecord.away). */
  const awayAtCreation = new Set(job.away ?? []);
  /**
   * Dispatches a wave: its orders signed once (each carrying its proof), handed to their agents over
   * core NATS, and audited. Order ids are deterministic (job id + target index), so nothing need be
   * on disk before they go: a resumed coordinator that finds a target still `pending` sends an order
   * with the same id again, which the agent's journal answers without running it twice (a copy of a
   * running order is ignored, a finished one's result is sent again). A quick step's result usually
   * lands within the second and its final record is the one write it needs; a target still
   * `dispatched` STORE_AFTER_MS later (more for a big wave) has its order stored on the orders
   * stream (where its agent's catch-up finds it after a disconnect or a restart) and its record
   * written; a target away when the job was made has it stored at once.
   */
  const dispatchWave = (wave: RunRecord[]) => {
    const now = Date.now();
    const targets = wave.map((run) => ({ agentId: run.agentId, position: state.positionOf(run.agentId) }));
    const orders = signWave(options.signer, lease.job, targets, now);
    wave.forEach((run, i) => {
      const order = orders[i] as Order;
      Object.assign(run, { order, dispatchedAt: now });
      state.move(run, 'dispatched');
      options.onRun?.(run);
      sendOrder(d, run.agentId, order);
    });
    // Audited as signed: what the wave's orders share once, then every order's id and agent.
    const first = orders[0] as Order;
    const params = redactParams(job.params);
    for (let i = 0; i < orders.length; i += AUDIT_ORDERS_PER_RECORD)
      auditBatch.add('order', {
        wave: first.wave?.root,
        count: orders.length,
        step: job.step,
        params,
        issuedAt: first.issuedAt,
        expiresAt: first.expiresAt,
        keyId: first.keyId,
        orders: orders.slice(i, i + AUDIT_ORDERS_PER_RECORD).map((o) => ({ orderId: o.orderId, agentId: o.agentId })),
      });
    // A target away when the job was made is stored at once: nothing would reach it live, and a
    // coordinator killed in the next seconds would otherwise leave its order unstored until a resume.
    const storeAt = now + STORE_AFTER_MS + wave.length * STORE_PER_TARGET_MS;
    const storeNow: RunRecord[] = [];
    for (const run of wave) {
      if (awayAtCreation.has(run.agentId)) storeNow.push(run);
      else storeDueAt.set(run, storeAt);
    }
    if (storeNow.length > 0) void storeUnheard(storeNow);
  };

  /** When each dispatched target not heard from is to have its order stored (dropped once stored or heard). */
  const storeDueAt = new Map<RunRecord, number>();
  /** Stores the orders whose time has come (the scan calls it only while the coordinator is not behind its events). */
  const storeDue = (now: number) => {
    const due: RunRecord[] = [];
    for (const [run, at] of storeDueAt) {
      if (run.state !== 'dispatched') storeDueAt.delete(run);
      else if (now >= at) {
        storeDueAt.delete(run);
        due.push(run);
      }
    }
    if (due.length > 0) void storeUnheard(due);
  };
  /**
   * Stores the orders of targets still `dispatched` (not heard from) and not stored yet, then writes
   * their records. Also run when the driver stops (aborted, lease lost): an order an agent has not
   * taken is on the stream before the coordinator goes, so the agent reads it back when it returns.
   */
  const storeUnheard = (wave: Iterable<RunRecord>) =>
    Promise.all(
      [...wave].map(async (run) => {
        // After a cancel, an order not stored yet never is: its agent, away now, would read it back later.
        if (run.state !== 'dispatched' || run.seq !== undefined || !run.order || cancelSeenAt !== undefined) return;
        const seq = await publishOrder(d, run, { storedCopy: true });
        if (seq !== undefined) run.seq = seq; // kept in memory; after a resume the stream is searched instead
        if (run.state === 'dispatched') persist(run);
      }),
    );

  try {
    while (!lease.lost) {
      if (options.signal?.aborted) break;
      const now = Date.now();

      // Lease renewal, and the cancel flag written by `drover job cancel`.
      const current = await lease.poll(now);
      if (lease.lost) break;
      if (current?.cancelRequested && cancelSeenAt === undefined) {
        cancelSeenAt = now;
        jobEvent({
          type: 'cancel-requested',
          message: 'cancel requested: no more dispatch; running orders asked to stop',
        });
        cancelAll(d, runs.values(), setState);
      }

      // Deadlines: an order nobody took, a step whose result never came (scanned 4 times a second).
      if (now - lastDeadlineScan >= 250 && (caughtUp || now - followingSince > CATCH_UP_LIMIT_MS)) {
        // Only targets with an order out can be overdue, unless a cancel ends the pending ones too.
        const scanned = cancelSeenAt === undefined ? state.outstanding() : runs.values();
        await endOverdue(
          d,
          scanned,
          now,
          { seenAt: cancelSeenAt, graceMs: cancelGraceMs },
          setState,
          job.options.timeoutMs,
        );
        // Re-sending and storing wait while answers are still unread on the events stream: a
        // coordinator behind its events (a big wave on a busy machine) would otherwise send and store
        // again what its agents have already answered.
        if (cancelSeenAt === undefined && follower.backlog() === 0) {
          resender.resendDue(d, state.outstanding(), now);
          storeDue(now);
        }
        lastDeadlineScan = now;
      }

      // Error threshold: stop dispatching, let in-flight orders finish, skip the rest.
      const errors = state.countOf(ERROR_TARGET_STATES);
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
      const groupIndex = !stopDispatch && cancelSeenAt === undefined ? state.firstOpenGroup() : -1;
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
        const free = concurrency - state.inFlight();
        const wave = free > 0 ? state.takePending(groupIndex, free) : [];
        if (wave.length > 0) dispatchWave(wave);
      }

      auditBatch.flushSoon();
      if (state.allFinal()) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, tickMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    await storeUnheard(runs.values());
    await follower.stop();
    await auditBatch.settled();
    await writer.settled();
  }

  if (lease.lost || options.signal?.aborted) return summarize(lease.job, runs);
  const final: JobState =
    cancelSeenAt !== undefined
      ? 'cancelled'
      : stoppedForErrors
        ? 'stopped'
        : counts.succeeded === total
          ? 'succeeded'
          : 'failed';
  // Only while this coordinator still owns the job: one that lost it in the last second writes nothing.
  // Tried again through a NATS restart: a write that landed with its answer lost reads back as done.
  const finished = await retryAfterSetup(() =>
    updateJob(d.jobs, jobId, (j) =>
      j.owner !== me || j.state !== 'running'
        ? undefined
        : { ...j, state: final, counts, finishedAt: Date.now(), owner: me, leaseUntil: 0 },
    ),
  );
  if (finished.job.owner !== me || finished.job.state !== final) return summarize(finished.job, runs);
  jobEvent({ type: 'finished', message: `job ${final}: ${formatCounts(counts)}`, counts });
  await audit(d, 'job', jobId, { type: 'job-finished', jobId, state: final, counts, at: Date.now() });
  return summarize(finished.job, runs);
}

/** How long a `running` target waits before its record is written (final ones: within BATCH_MS). */
const DEFER_WRITE_MS = 1000;
/**
 * How long a dispatched target may stay unheard of (no `accepted`, no result) before its order is
 * stored on the orders stream and its record written. Two seconds: at 2,129 targets on two shared
 * cores the agents' answers wait up to about a second and a half for the coordinator's one thread,
 * and an answer it has not read yet would cost a stored copy for nothing.
 */
const STORE_AFTER_MS = 2000;
/** And this much more per target of the wave: a big wave's last answers come later (10,000 targets: 7 s). */
const STORE_PER_TARGET_MS = 0.5;
/** Orders listed per audit record of a wave (about 60 bytes each: well within an audit message). */
const AUDIT_ORDERS_PER_RECORD = 400;

/** How long deadlines wait for the events backlog to be read before they are judged anyway. */
const CATCH_UP_LIMIT_MS = 60_000;

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

/**
 * Reports that did not count (unsigned, another key, another agent's name): each is audited, and the
 * job says so once per agent, so a flood of forgeries cannot flood the job's events.
 */
class RefusedReports {
  private readonly told = new Set<string>();
  private readonly jobEvent: (event: Omit<JobEvent, 'jobId' | 'at'>) => void;
  private readonly auditBatch: AuditBatch;
  constructor(jobEvent: (event: Omit<JobEvent, 'jobId' | 'at'>) => void, auditBatch: AuditBatch) {
    this.jobEvent = jobEvent;
    this.auditBatch = auditBatch;
  }
  add(report: RefusedReport): void {
    this.auditBatch.add('refused-report', { ...report, at: Date.now() });
    if (this.told.has(report.agentId)) return;
    this.told.add(report.agentId);
    this.jobEvent({
      type: 'refused-report',
      message: `ignored a ${report.kind}${report.status ? ` (${report.status})` : ''} on ${report.agentId}'s subject: ${report.reason}`,
      agentId: report.agentId,
    });
  }
}
