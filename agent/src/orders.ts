// How the agent treats each order it receives, live or read back from the stream: verify (schema,
// signature, target, journal, cancel, expiry, step, parameters), then run once, journal, publish the
// result. Every refusal is published as a `rejected` result (when the order can be identified) and
// audited. The journal, not a stream ack, is what keeps an order from running twice (issue 12).
import {
  type AcceptedEvent,
  type AgentConfig,
  isValidToken,
  type Order,
  type OrderResult,
  OrderSchema,
  orderDigest,
  type TrustedKeys,
  verifyOrderSignature,
} from '@drover/shared';
import type { ServiceControl } from './clients/services/index.ts';
import { InterruptedByRestartError, type OrderRejectedError } from './errors.ts';
import type { Journal } from './journal.ts';
import type { Logger } from './log.ts';
import { type RunSinks, runStep } from './runner.ts';
import type { StepBucket, StepImplementation, StepNode, StepProfiles } from './steps/context.ts';

export interface OrderIo {
  /** Publishes an event durably (awaits the stream's ack). */
  /**
   * Publishes a result durably (awaits the stream's ack). `unverified`: a rejection of a message that
   * failed its checks (schema, signature, target), which must never share the real result's msgID.
   */
  publishResult(result: OrderResult, options?: { unverified?: boolean }): Promise<void>;
  publishAccepted(event: AcceptedEvent): void;
  sinks(order: Order): RunSinks;
  audit(record: Record<string, unknown>): Promise<void>;
}

export interface OrderHandlerDeps {
  agentId: string;
  agentVersion: string;
  labels: Record<string, string>;
  commands: AgentConfig['commands'];
  trustedKeys: TrustedKeys;
  journal: Journal;
  steps: ReadonlyMap<string, StepImplementation>;
  clockSkewMs: number;
  logger: Logger;
  io: OrderIo;
  now?: () => number;
  /** The node's services and declarations, handed to every step's context. */
  services?: ServiceControl;
  node?: StepNode;
  profiles?: StepProfiles;
  /** The customer's bucket as it is now (log shipping), for `ctx.bucket`. */
  bucket?: () => StepBucket | undefined;
  /** The agent's state directory, handed to steps that keep files on the node. */
  stateDir?: string;
  /** Told each order's outcome, with its step and duration when the step ran (the agent's metrics). */
  onFinished?: (outcome: string, step?: string, durationMs?: number) => void;
  /** How many steps may run at once; further orders wait (not yet journaled) for a slot. @default 4 */
  maxConcurrentOrders?: number;
}

export interface OrderMessage {
  data: Uint8Array;
  /**
   * Called once, when this message needs no further delivery: its step is journaled as started, or
   * it was refused, or it was recognised as a duplicate. The catch-up moves its cursor past a message
   * only then; an error before it leaves the cursor where it was, so the message is read again.
   */
  recorded(): void;
  /**
   * A copy the coordinator sent again on the resend subject: an order it has not seen taken, or one
   * whose result it has not seen (it asks). A copy of an order running here is then only its question,
   * answered by the result when the step ends: not audited as a replay.
   */
  asked?: boolean;
}

/** Orders being handled (checked, waiting for a slot, running, reporting), so a cancel can reach them. */
export type RunningOrders = Map<string, AbortController>;

export function createOrderHandler(deps: OrderHandlerDeps, running: RunningOrders) {
  const now = deps.now ?? Date.now;
  const log = deps.logger;
  const slots = new Slots(deps.maxConcurrentOrders ?? 4);

  async function reject(
    raw: unknown,
    reason: OrderRejectedError['reason'],
    message: string,
    options: { unverified?: boolean } = {},
  ): Promise<void> {
    const ids = identify(raw);
    log.warn('order rejected', { reason, orderId: ids.orderId, jobId: ids.jobId });
    deps.onFinished?.('rejected');
    await deps.io.audit({ type: 'rejected', agentId: deps.agentId, reason, message, ...ids, at: now() });
    if (ids.orderId && ids.jobId) {
      await deps.io.publishResult(
        {
          orderId: ids.orderId,
          jobId: ids.jobId,
          agentId: deps.agentId,
          step: ids.step ?? '',
          status: 'rejected',
          finishedAt: now(),
          error: { name: 'OrderRejectedError', message: `${reason}: ${message}`, retryable: false },
          ...(raw === undefined ? {} : { rejectedDigest: orderDigest(raw) }),
        },
        options,
      );
    }
  }

  const auditReplay = (order: Order) =>
    deps.io.audit({
      type: 'rejected',
      reason: 'replay',
      agentId: deps.agentId,
      orderId: order.orderId,
      jobId: order.jobId,
      at: now(),
    });

  return async function handle(message: OrderMessage): Promise<void> {
    let told = false;
    const msg = {
      ack: () => {
        if (told) return;
        told = true;
        message.recorded();
      },
    };
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(message.data));
    } catch {
      await reject(undefined, 'schema', 'order is not JSON', UNVERIFIED);
      return msg.ack();
    }
    const parsed = OrderSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      await reject(
        raw,
        'schema',
        `order field ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
        UNVERIFIED,
      );
      return msg.ack();
    }
    const order = parsed.data;
    const signature = verifyOrderSignature(order, deps.trustedKeys);
    if (!signature.ok) {
      await reject(raw, 'signature', signature.reason, UNVERIFIED);
      return msg.ack();
    }
    if (order.agentId !== deps.agentId) {
      await reject(raw, 'target', `order is for agent ${order.agentId}, this is ${deps.agentId}`, UNVERIFIED);
      return msg.ack();
    }

    // Being handled here (checked, running or reporting): this copy is a duplicate; the first reports.
    if (running.has(order.orderId)) {
      if (message.asked) {
        log.debug('asked about a running order: its result follows when it ends', { orderId: order.orderId });
        return msg.ack();
      }
      log.warn('duplicate of a running order ignored', { orderId: order.orderId });
      await auditReplay(order);
      return msg.ack();
    }
    // Seen before: a redelivery (crash before ack) or a replay. Never run twice.
    const seen = deps.journal.get(order.orderId);
    const cancelled = deps.journal.cancelOf(order.orderId);
    if (!seen && cancelled) {
      log.warn('order cancelled before it started: not run', { orderId: order.orderId });
      await reportCancelledBeforeStart(order, cancelled.reason);
      return msg.ack();
    }
    if (seen) {
      let result = seen.result;
      if (!result) {
        const interrupted = new InterruptedByRestartError(order.orderId);
        result = {
          orderId: order.orderId,
          jobId: order.jobId,
          agentId: deps.agentId,
          step: order.step,
          status: 'failed',
          startedAt: seen.startedAt,
          finishedAt: now(),
          error: { name: interrupted.name, message: interrupted.message, retryable: false },
        };
        await deps.journal.finish(result);
      }
      log.warn('order seen before: re-reporting its journaled result', {
        orderId: order.orderId,
        status: result.status,
      });
      await auditReplay(order);
      await deps.io.publishResult({ ...result, replayed: true });
      await deps.journal.markReported(order.orderId);
      return msg.ack();
    }

    // Marked in progress before the first await: a second copy delivered meanwhile (redelivery,
    // duplicate publish) is ignored above instead of being taken for an order a restart interrupted.
    const cancel = new AbortController();
    running.set(order.orderId, cancel);
    try {
      return await start(msg, order, cancel);
    } finally {
      running.delete(order.orderId);
    }
  };

  /** A signed `cancelled` result for an order this agent was told to cancel before it started it. */
  async function reportCancelledBeforeStart(order: Pick<Order, 'orderId' | 'jobId' | 'step'>, reason: string) {
    await deps.io.publishResult({
      orderId: order.orderId,
      jobId: order.jobId,
      agentId: deps.agentId,
      step: order.step,
      status: 'cancelled',
      finishedAt: now(),
      error: { name: 'CancelledError', message: `cancelled before it started: ${reason}`, retryable: false },
    });
  }

  /** Waits for a slot, then checks what only a first delivery needs, runs the step, journals and reports. */
  async function start(msg: { ack(): void }, order: Order, cancel: AbortController): Promise<void> {
    const release = await slots.take();
    try {
      return await startInSlot(msg, order, cancel);
    } finally {
      release();
    }
  }

  async function startInSlot(msg: { ack(): void }, order: Order, cancel: AbortController): Promise<void> {
    // Cancelled while it waited for a slot: recorded as a cancel so no later copy starts it either.
    if (cancel.signal.aborted) {
      const reason = String((cancel.signal.reason as Error | undefined)?.message ?? 'cancelled');
      await deps.journal.cancel({ orderId: order.orderId, jobId: order.jobId, at: now(), reason });
      await reportCancelledBeforeStart(order, reason);
      return msg.ack();
    }
    const t = now();
    // Expiry is strict (the coordinator gives up on the order at that instant); skew only excuses issue times.
    if (t > order.expiresAt) {
      await reject(order, 'expired', `order expired at ${new Date(order.expiresAt).toISOString()}`);
      return msg.ack();
    }
    if (order.issuedAt > t + deps.clockSkewMs) {
      await reject(order, 'not-yet-valid', `order issued in the future (${new Date(order.issuedAt).toISOString()})`);
      return msg.ack();
    }
    const implementation = deps.steps.get(order.step);
    if (!implementation) {
      await reject(
        order,
        'unknown-step',
        `step ${JSON.stringify(order.step)} is not one of ${[...deps.steps.keys()].join(', ')}`,
      );
      return msg.ack();
    }
    const params = implementation.definition.params.safeParse(order.params);
    if (!params.success) {
      const issue = params.error.issues[0];
      await reject(order, 'params', `params.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
      return msg.ack();
    }

    await deps.journal.begin({
      orderId: order.orderId,
      jobId: order.jobId,
      step: order.step,
      startedAt: t,
      expiresAt: order.expiresAt,
    });
    // On disk: from here a restart reports it interrupted and never runs it again.
    msg.ack();
    deps.io.publishAccepted({
      orderId: order.orderId,
      jobId: order.jobId,
      agentId: deps.agentId,
      step: order.step,
      at: t,
    });
    log.info('order started', { orderId: order.orderId, jobId: order.jobId, step: order.step });
    const result: OrderResult = await runStep({
      info: {
        jobId: order.jobId,
        orderId: order.orderId,
        agentId: deps.agentId,
        step: order.step,
        deadline: t + order.timeoutMs,
      },
      params: params.data,
      timeoutMs: order.timeoutMs,
      implementation,
      agent: { id: deps.agentId, version: deps.agentVersion, labels: deps.labels, commands: deps.commands },
      logger: log.child({ orderId: order.orderId }),
      sinks: deps.io.sinks(order),
      ...(deps.services ? { services: deps.services } : {}),
      ...(deps.node ? { node: deps.node } : {}),
      ...(deps.profiles ? { profiles: deps.profiles } : {}),
      ...(deps.bucket ? { bucket: deps.bucket } : {}),
      ...(deps.stateDir ? { stateDir: deps.stateDir } : {}),
      cancel: cancel.signal,
    });
    await deps.journal.finish(result);
    log.info('order finished', { orderId: order.orderId, status: result.status });
    deps.onFinished?.(result.status, order.step, result.finishedAt - (result.startedAt ?? t));
    await deps.io.publishResult(result);
    await deps.journal.markReported(order.orderId);
  }
}

/**
 * What the journal says is owed after a restart or a NATS outage, sent now: a step that was running
 * when the agent stopped is finished as interrupted (never run again), and a result the stream never
 * acknowledged is published again. `running` orders are skipped (their own handler reports them).
 */
export async function reportOwedResults(
  deps: Pick<OrderHandlerDeps, 'agentId' | 'journal' | 'io' | 'logger'> & { now?: () => number },
  running: RunningOrders,
): Promise<void> {
  const now = deps.now ?? Date.now;
  for (const entry of deps.journal.unfinished()) {
    if (running.has(entry.orderId)) continue;
    const interrupted = new InterruptedByRestartError(entry.orderId);
    await deps.journal.finish({
      orderId: entry.orderId,
      jobId: entry.jobId,
      agentId: deps.agentId,
      step: entry.step,
      status: 'failed',
      startedAt: entry.startedAt,
      finishedAt: now(),
      error: { name: interrupted.name, message: interrupted.message, retryable: false },
    });
    deps.logger.warn('order interrupted by a restart: reported failed, not run again', { orderId: entry.orderId });
  }
  // Only recent ones: a coordinator waits for a result about as long as a step may run, and a
  // journal from before `reported` lines existed must not publish its whole history again.
  const since = now() - OWED_RESULT_WINDOW_MS;
  for (const entry of deps.journal.unreported()) {
    if (running.has(entry.orderId) || !entry.result || entry.result.finishedAt < since) continue;
    await deps.io.publishResult({ ...entry.result, replayed: true });
    await deps.journal.markReported(entry.orderId);
  }
}

/** How far back an unacknowledged result is published again (reportOwedResults). */
const OWED_RESULT_WINDOW_MS = 24 * 3600 * 1000;

/** A counting semaphore: at most `size` steps at once, the rest served in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

const UNVERIFIED = { unverified: true } as const;

function identify(raw: unknown): { orderId?: string; jobId?: string; step?: string } {
  if (!raw || typeof raw !== 'object') return {};
  const r = raw as Record<string, unknown>;
  const token = (v: unknown) => (typeof v === 'string' && isValidToken(v) ? v : undefined);
  const out: { orderId?: string; jobId?: string; step?: string } = {};
  const orderId = token(r.orderId);
  const jobId = token(r.jobId);
  if (orderId) out.orderId = orderId;
  if (jobId) out.jobId = jobId;
  if (typeof r.step === 'string') out.step = r.step.slice(0, 64);
  return out;
}
