// Orders on the wire: signing a wave of orders once, handing each to its agent over core NATS,
// storing on the orders stream the ones not heard from (with the order id as msgID, so a retried or
// resumed publish is stored once; the same publish reaches a connected agent live), sending them
// again over core NATS while their agent has not said it took them, removing an order from the
// stream, and cancelling every order of a job. Shared by the job driver and anything else that sends
// orders (a plan runner).
import {
  cancelSubject,
  type Order,
  type OrderSigner,
  orderResendSubject,
  orderSubject,
  retry,
  STORED_COPY_HEADER,
  STREAM_ORDERS,
} from '@drover/shared';
import { headers } from '@nats-io/transport-node';
import type { SetState } from './job-state.ts';
import type { Drover } from './nats.ts';
import { type JobRecord, orderIdAt, type RunRecord } from './records.ts';

/** Publishing an order: 30 attempts in all, 0.5 s doubling to 3 s between them (about 80 s). */
export const ORDER_PUBLISH_RETRY = { attempts: 30, initialMs: 500, maxMs: 3000 } as const;

/**
 * The signed order for the target at `position` in the job's dispatch order. The order id is
 * deterministic (job id + position), so a resumed coordinator signs an order with the same id and
 * the stream's msgID window or the agent's journal keeps it from running twice.
 */
export function signOrder(signer: OrderSigner, job: JobRecord, agentId: string, position: number, now: number): Order {
  return signWave(signer, job, [{ agentId, position }], now)[0] as Order;
}

/**
 * The signed orders of one wave of targets (agent, position in the job's dispatch order): one
 * signature for the wave, each order carrying its proof (shared signing.ts signWave). Order ids are
 * deterministic (job id + position), so a resumed coordinator sends orders with the same ids and
 * each agent's journal keeps them from running twice.
 */
export function signWave(
  signer: OrderSigner,
  job: JobRecord,
  targets: readonly { agentId: string; position: number }[],
  now: number,
): Order[] {
  return signer.signWave(
    {
      v: 1,
      jobId: job.id,
      step: job.step,
      params: job.params,
      issuedAt: now,
      expiresAt: now + job.options.deliveryTimeoutMs,
      timeoutMs: job.options.timeoutMs,
    },
    targets.map((t) => ({ agentId: t.agentId, orderId: orderIdAt(job.id, t.position) })),
  );
}

/**
 * Hands a signed order to its agent over core NATS, on the subject no stream stores: a connected
 * agent takes it at once, and the server keeps nothing per target. What this cannot reach (the agent
 * is away, or was reconnecting) is stored by publishOrder once the target is still not heard from.
 */
export function sendOrder(d: Drover, agentId: string, order: Order): void {
  try {
    d.nc.publish(orderResendSubject(agentId), JSON.stringify(order));
  } catch (error) {
    // Closed or draining: the stored copy (publishOrder, a second later) is what reaches the agent.
    process.emitWarning(`order ${order.orderId} not sent: ${(error as Error).message}`);
  }
}

/**
 * Publishes the run's order, retrying through NATS failures. `storedCopy`: only for its agent to read
 * back (it was not heard from): connected agents pass over its live delivery (STORED_COPY_HEADER). Returns the stream sequence (the one
 * already known for a duplicate), or undefined when there is no order or every attempt failed: that
 * is reported as a process warning, and the target ends at its delivery deadline.
 */
export async function publishOrder(
  d: Drover,
  run: RunRecord,
  options: { storedCopy?: boolean } = {},
): Promise<number | undefined> {
  const order = run.order;
  if (!order) return undefined;
  const h = options.storedCopy ? headers() : undefined;
  h?.set(STORED_COPY_HEADER, '1');
  return retry(
    async () => {
      const ack = await d.js.publish(orderSubject(run.agentId), JSON.stringify(order), {
        msgID: order.orderId,
        timeout: 5000,
        ...(h ? { headers: h } : {}),
      });
      return ack.duplicate ? run.seq : ack.seq;
    },
    {
      ...ORDER_PUBLISH_RETRY,
      onGiveUp: (error) => {
        process.emitWarning(
          `order ${order.orderId} to ${run.agentId} not published after ${ORDER_PUBLISH_RETRY.attempts} attempts: ${(error as Error)?.message ?? error}`,
        );
        return undefined;
      },
    },
  );
}

/**
 * Removes an order from the orders stream, so an agent that has not read it yet never will (one that
 * got it live still may have it: a cancel must also be sent). False when it is not there (never
 * stored, removed before, or NATS could not be asked).
 */
export async function deleteStoredOrder(d: Drover, run: RunRecord): Promise<boolean> {
  try {
    let seq = run.seq;
    if (seq === undefined) {
      // Resumed coordinator: the agent's last order on the stream is the one only if its id matches.
      const last = await d.jsm.streams.getMessage(STREAM_ORDERS, { last_by_subj: orderSubject(run.agentId) });
      if (!last || (last.json() as { orderId?: string }).orderId !== run.order?.orderId) return false;
      seq = last.seq;
    }
    return await d.jsm.streams.deleteMessage(STREAM_ORDERS, seq, false);
  } catch {
    // The server refused (the message is no longer stored) or could not be asked (NATS away): either
    // way the order cannot be taken back now, and both callers cope with that. An expired order is
    // refused by the agent anyway; a cancel is also sent to the agent, which records it.
    return false;
  }
}

/** Sending again an order its agent has not taken: first after 3 s, then doubling to every 30 s. */
const RESEND_FIRST_MS = 3000;
const RESEND_MAX_MS = 30_000;
/** Asking about a running order whose result has not come: first after 30 s, then doubling to every 5 min. */
export const ASK_FIRST_MS = 30_000;
const ASK_MAX_MS = 300_000;

export interface ResendOptions {
  /** How long a target may run with no result before its agent is asked (then doubling). @default 30000 */
  askAfterMs?: number;
}

/**
 * Re-sends, over core NATS and on a subject no stream stores, the identical signed order of every
 * target dispatched but not yet `accepted`, until its agent takes it or it expires: a live agent whose
 * copy was lost (it was reconnecting) gets it without waiting for its next catch-up; a copy it already
 * has is answered from its journal. The same copy is how the coordinator asks about a target that
 * runs with no result for a while: an agent still running it ignores the question quietly, one that
 * finished it publishes its journaled result again (the events stream lost it, or it never reached
 * the stream and the agent's own re-send has not come yet). Costs nothing on the server when the agent
 * is away (no subscriber).
 */
export class OrderResender {
  private readonly next = new Map<string, { at: number; waitMs: number; state: string }>();
  private readonly askFirstMs: number;

  constructor(options: ResendOptions = {}) {
    this.askFirstMs = Math.max(1, options.askAfterMs ?? ASK_FIRST_MS);
  }

  resendDue(d: Drover, runs: Iterable<RunRecord>, now: number): void {
    for (const run of runs) {
      const order = run.order;
      const asking = run.state === 'running';
      if ((run.state !== 'dispatched' && !asking) || !order || (!asking && now > order.expiresAt)) {
        this.next.delete(run.agentId);
        continue;
      }
      const known = this.next.get(run.agentId);
      const due =
        known?.state === run.state
          ? known
          : asking
            ? { at: (run.acceptedAt ?? now) + this.askFirstMs, waitMs: this.askFirstMs, state: run.state }
            : { at: (run.dispatchedAt ?? now) + RESEND_FIRST_MS, waitMs: RESEND_FIRST_MS, state: run.state };
      if (now >= due.at) {
        sendOrder(d, run.agentId, order);
        const waitMs = Math.min(due.waitMs * 2, asking ? Math.max(ASK_MAX_MS, this.askFirstMs) : RESEND_MAX_MS);
        this.next.set(run.agentId, { at: now + waitMs, waitMs, state: run.state });
      } else this.next.set(run.agentId, due);
    }
  }
}

/**
 * Cancels every target of a job: pending ones at once; a dispatched order is removed from the stream
 * and its agent told (an agent that has not started it records the cancel and never starts it; one
 * that has, stops it); a running one's agent is asked to stop. Agents confirm with a `cancelled` result.
 */
export function cancelAll(d: Drover, runs: Iterable<RunRecord>, setState: SetState): void {
  for (const run of runs) {
    if (run.state === 'pending') setState(run, 'cancelled', { reason: 'job cancelled before dispatch' });
    if ((run.state === 'dispatched' || run.state === 'running') && run.order) {
      const order = run.order;
      void (async () => {
        // Sent first: the agent may hold a live copy whatever the stream says.
        d.nc.publish(
          cancelSubject(run.agentId),
          JSON.stringify({
            orderId: order.orderId,
            jobId: order.jobId,
            step: order.step,
            reason: 'job cancelled by operator',
          }),
        );
        if (run.state === 'dispatched' && (await deleteStoredOrder(d, run)) && run.state === 'dispatched')
          setState(run, 'cancelled', { reason: 'removed from the stream before the agent said it took it' });
      })().catch((error: unknown) =>
        process.emitWarning(`cancel of ${order.orderId} not sent: ${(error as Error)?.message ?? error}`),
      );
    }
  }
}
