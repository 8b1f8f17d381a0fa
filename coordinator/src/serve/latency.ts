// Dispatch and result latency as `drover serve` sees them: from an order's issuedAt (in the
// target's KV record) to the agent's signed `accepted` event (or, for a step that ended before its
// agent sent one, the result's startedAt), and to its result. The two halves
// arrive from different feeds (a KV watch and the events stream) in either order, so each side
// waits here for the other a while; pure (times are parameters) and bounded.
export interface LatencyObservation {
  kind: 'dispatch' | 'result';
  ms: number;
}

/** How long one half waits for the other before it is dropped. */
const WAIT_MS = 10 * 60_000;
/** At most this many halves waiting (a burst of 100k orders must not grow the server without bound). */
const MAX_WAITING = 50_000;

interface Waiting {
  issuedAt?: number;
  acceptedAt?: number;
  resultAt?: number;
  /** When this entry was first seen (for pruning). */
  seen: number;
}

export class LatencyMatcher {
  private readonly waiting = new Map<string, Waiting>();
  private readonly done = new Set<string>();

  /** The order's issue time, from its target record. */
  issued(orderId: string, issuedAt: number, now: number): LatencyObservation[] {
    return this.note(orderId, { issuedAt }, now);
  }

  accepted(orderId: string, at: number, now: number): LatencyObservation[] {
    return this.note(orderId, { acceptedAt: at }, now);
  }

  result(orderId: string, at: number, now: number): LatencyObservation[] {
    return this.note(orderId, { resultAt: at }, now);
  }

  get size(): number {
    return this.waiting.size;
  }

  private note(orderId: string, part: Omit<Waiting, 'seen'>, now: number): LatencyObservation[] {
    const entry = this.waiting.get(orderId) ?? { seen: now };
    const out: LatencyObservation[] = [];
    if (part.issuedAt !== undefined) entry.issuedAt ??= part.issuedAt;
    if (part.acceptedAt !== undefined && entry.acceptedAt === undefined) entry.acceptedAt = part.acceptedAt;
    if (part.resultAt !== undefined && entry.resultAt === undefined) entry.resultAt = part.resultAt;
    const issuedAt = entry.issuedAt;
    if (issuedAt !== undefined) {
      // Each observation once: a redelivered accepted event or a replayed result is not counted again.
      if (entry.acceptedAt !== undefined && !this.done.has(`d:${orderId}`)) {
        out.push({ kind: 'dispatch', ms: Math.max(0, entry.acceptedAt - issuedAt) });
        this.done.add(`d:${orderId}`);
      }
      if (entry.resultAt !== undefined && !this.done.has(`r:${orderId}`)) {
        out.push({ kind: 'result', ms: Math.max(0, entry.resultAt - issuedAt) });
        this.done.add(`r:${orderId}`);
      }
    }
    if (this.done.has(`r:${orderId}`)) this.waiting.delete(orderId);
    else this.waiting.set(orderId, entry);
    this.prune(now);
    return out;
  }

  private prune(now: number): void {
    if (this.waiting.size <= MAX_WAITING && this.done.size <= 2 * MAX_WAITING) {
      const oldest = this.waiting.values().next().value;
      if (!oldest || now - oldest.seen < WAIT_MS) return;
    }
    for (const [id, entry] of this.waiting) {
      if (this.waiting.size > MAX_WAITING || now - entry.seen >= WAIT_MS) this.waiting.delete(id);
      else break;
    }
    // Done marks only stop double counting of redeliveries, which come soon: keep the newest half.
    if (this.done.size > 2 * MAX_WAITING) {
      let drop = this.done.size - MAX_WAITING;
      for (const id of this.done) {
        if (drop-- <= 0) break;
        this.done.delete(id);
      }
    }
  }
}
