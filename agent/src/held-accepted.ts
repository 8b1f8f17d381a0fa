// The agent's `accepted` events, held back a moment: a step that ends within the hold is reported by
// its result alone. Pure timing logic (the publish is given), unit-tested with mocked timers.
import type { AcceptedEvent } from '@drover/shared';

/**
 * How long an `accepted` event waits before it is sent. A step that ends sooner is reported by its
 * result alone, which says when it started: at fleet scale that is one message, one signature and
 * one check on the coordinator's single thread, and one events-stream write less per target (a fan-out
 * of 2,129 pings spent about 0.2 s of coordinator CPU verifying `accepted` events). The coordinator
 * re-sends an order not taken after 3 s, so a hold this short never makes it send again.
 */
export const ACCEPTED_HOLD_MS = 250;

/** `accepted` events held back (ACCEPTED_HOLD_MS), sent when the hold ends or the step reports first. */
export class HeldAccepted {
  private readonly held = new Map<string, { timer: NodeJS.Timeout; event: AcceptedEvent }>();
  private readonly holdMs: number;
  private readonly publish: (event: AcceptedEvent) => void;
  constructor(holdMs: number, publish: (event: AcceptedEvent) => void) {
    this.holdMs = holdMs;
    this.publish = publish;
  }
  hold(event: AcceptedEvent): void {
    this.drop(event.orderId);
    const timer = setTimeout(() => this.send(event.orderId), this.holdMs);
    this.held.set(event.orderId, { timer, event });
  }
  /** Sends the order's held event now (none held: nothing to do). */
  send(orderId: string): void {
    const entry = this.held.get(orderId);
    if (!entry) return;
    this.drop(orderId);
    this.publish(entry.event);
  }
  /** Forgets the order's held event without sending it. */
  drop(orderId: string): void {
    const entry = this.held.get(orderId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.held.delete(orderId);
  }
}
