// Orders on the wire: signing a target's order, publishing it to the work-queue stream (with the
// order id as msgID, so a retried or resumed publish is dropped as a duplicate), taking back an
// order no agent has taken yet, and cancelling every order of a job. Shared by the job driver and
// anything else that sends orders (a plan runner).
import { cancelSubject, type Order, type OrderSigner, orderSubject, retry, STREAM_ORDERS } from '@drover/shared';
import type { SetState } from './job-state.ts';
import type { Drover } from './nats.ts';
import type { JobRecord, RunRecord } from './records.ts';

/** Publishing an order: 30 attempts in all, 0.5 s doubling to 3 s between them (about 80 s). */
export const ORDER_PUBLISH_RETRY = { attempts: 30, initialMs: 500, maxMs: 3000 } as const;

/**
 * The signed order for the target at `position` in the job's dispatch order. The order id is
 * deterministic (job id + position), so a resumed coordinator signs an order with the same id and
 * the stream's msgID window or the agent's journal keeps it from running twice.
 */
export function signOrder(signer: OrderSigner, job: JobRecord, agentId: string, position: number, now: number): Order {
  return signer.sign({
    v: 1,
    jobId: job.id,
    orderId: `${job.id}-${position}`,
    agentId,
    step: job.step,
    params: job.params,
    issuedAt: now,
    expiresAt: now + job.options.deliveryTimeoutMs,
    timeoutMs: job.options.timeoutMs,
  });
}

/**
 * Publishes the run's order, retrying through NATS failures. Returns the stream sequence (the one
 * already known for a duplicate), or undefined when there is no order or every attempt failed: that
 * is reported as a process warning, and the target ends at its delivery deadline.
 */
export async function publishOrder(d: Drover, run: RunRecord): Promise<number | undefined> {
  const order = run.order;
  if (!order) return undefined;
  return retry(
    async () => {
      const ack = await d.js.publish(orderSubject(run.agentId), JSON.stringify(order), {
        msgID: order.orderId,
        timeout: 5000,
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

/** Removes a not-yet-taken order from the work queue; false when it is gone (taken or never stored). */
export async function deleteQueuedOrder(d: Drover, run: RunRecord): Promise<boolean> {
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
    // The server refused (the message is no longer in the queue) or could not be asked (NATS away):
    // either way the order cannot be taken back now, and both callers cope with that. An expired
    // order is refused by the agent anyway; a cancel falls back to asking the agent to stop.
    return false;
  }
}

/**
 * Cancels every target of a job: pending ones at once, queued orders by taking them back, and
 * orders an agent already holds by asking that agent to stop (it confirms with a `cancelled` result).
 */
export function cancelAll(d: Drover, runs: Iterable<RunRecord>, setState: SetState): void {
  for (const run of runs) {
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
      })().catch((error: unknown) =>
        process.emitWarning(`cancel of ${order.orderId} not sent: ${(error as Error)?.message ?? error}`),
      );
    }
  }
}
