// Whether another coordinator's lease is alive, judged by watching it, never by comparing clocks of
// different hosts: a holder renews its lease every third of LEASE_MS, writing a new `leaseUntil`
// each time, so a lease whose record shows no renewal for a whole LEASE_MS (timed with THIS host's
// monotonic clock) belongs to a coordinator that is gone, whatever its clock said. One that renews
// while watched is alive, and the caller is told so at once instead of waiting forever.
import { sleep } from '@drover/shared';
import { LEASE_MS } from './options.ts';

export interface Leased {
  owner?: string | undefined;
  leaseUntil?: number | undefined;
}

/**
 * Watches `first` (a record leased by someone else) through `read`. Resolves with the record last
 * seen when the lease lapsed (no renewal for `observeMs`), changed hands or was released (the caller
 * looks again); throws `alive(seen)` once the holder has renewed TWICE while watched. One renewal is
 * not enough: a coordinator killed with a renewal already on the wire still lands that one write.
 */
export async function waitForLapse<T extends Leased>(
  read: () => Promise<T>,
  first: T,
  alive: (seen: T) => Error,
  options: { observeMs?: number; pollMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const observeMs = options.observeMs ?? LEASE_MS;
  const pollMs = options.pollMs ?? 500;
  let last = first;
  let renewals = 0;
  let quietSince = performance.now();
  while (performance.now() - quietSince < observeMs) {
    await sleep(pollMs, options.signal);
    let seen: T;
    try {
      seen = await read();
    } catch {
      continue; // NATS briefly away: the watch goes on (a lapse needs a whole quiet LEASE_MS anyway)
    }
    if (seen.owner !== first.owner) return seen;
    if (seen.leaseUntil !== last.leaseUntil) {
      renewals++;
      if (renewals >= 2) throw alive(seen);
      last = seen;
      quietSince = performance.now();
    }
  }
  return last;
}

/** Thrown inside a compare-and-set when the lease moved after it was watched: look again. */
export class LeaseMovedError extends Error {
  constructor() {
    super('the lease changed while it was being taken');
    this.name = 'LeaseMovedError';
  }
}

/**
 * The change that takes a lease inside a compare-and-set: refuses (LeaseMovedError) when the record
 * is no longer the one watched (another owner, or a renewal since), else writes `owner`.
 */
export function claim<T extends Leased>(current: T, watched: T, owner: string): T {
  if (current.owner && current.owner !== owner) {
    if (current.owner !== watched.owner || current.leaseUntil !== watched.leaseUntil) throw new LeaseMovedError();
  }
  return { ...current, owner, leaseUntil: Date.now() + LEASE_MS };
}
