// How the agent treats each order it receives: verify (schema, signature, target, journal, expiry,
// step, parameters), then run once, journal, publish the result, and only then acknowledge.
// Every refusal is published as a `rejected` result (when the order can be identified) and audited.
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
import type { StepImplementation, StepNode, StepProfiles } from './steps/context.ts';

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
}

export interface OrderMessage {
  data: Uint8Array;
  /** Keeps the delivery alive while the step runs (JetStream `working()`). */
  working(): void;
  ack(): Promise<void>;
}

/** Orders currently running, by order id, so a cancel request can reach them. */
export type RunningOrders = Map<string, AbortController>;

export function createOrderHandler(deps: OrderHandlerDeps, running: RunningOrders, workingEveryMs: number) {
  const now = deps.now ?? Date.now;
  const log = deps.logger;

  async function reject(
    raw: unknown,
    reason: OrderRejectedError['reason'],
    message: string,
    options: { unverified?: boolean } = {},
  ): Promise<void> {
    const ids = identify(raw);
    log.warn('order rejected', { reason, orderId: ids.orderId, jobId: ids.jobId });
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

  return async function handle(msg: OrderMessage): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(msg.data));
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
      log.warn('duplicate of a running order ignored', { orderId: order.orderId });
      await auditReplay(order);
      return msg.ack();
    }
    // Seen before: a redelivery (crash before ack) or a replay. Never run twice.
    const seen = deps.journal.get(order.orderId);
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

  /** Checks what only a first delivery needs, runs the step, journals and reports its result. */
  async function start(msg: OrderMessage, order: Order, cancel: AbortController): Promise<void> {
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
    deps.io.publishAccepted({
      orderId: order.orderId,
      jobId: order.jobId,
      agentId: deps.agentId,
      step: order.step,
      at: t,
    });
    const keepAlive = setInterval(() => msg.working(), workingEveryMs);
    log.info('order started', { orderId: order.orderId, jobId: order.jobId, step: order.step });
    let result: OrderResult;
    try {
      result = await runStep({
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
        cancel: cancel.signal,
      });
    } finally {
      clearInterval(keepAlive);
    }
    await deps.journal.finish(result);
    log.info('order finished', { orderId: order.orderId, status: result.status });
    await deps.io.publishResult(result);
    return msg.ack();
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
