// Batching under caps: items (partition moves, elections) go, in the order given, into the earliest
// open batch where every broker the item counts against still has room (first fit over a window of
// the newest batches). Linear: at most OPEN_BATCHES batches are looked at per item, so no batch is
// rescanned as the plan grows.

import { PlanInvariantError } from './errors.ts';

/**
 * How many of the newest batches stay open to later items. Pure first fit would let an item scan
 * every batch ever made (quadratic: old batches keep holes no later item fits); a window bounds the
 * work per item and hardly changes how full batches are.
 */
export const OPEN_BATCHES = 16;

/**
 * Returns, for each item, the index of its batch: the earliest open batch where every broker the
 * item counts against (`brokersOf[i]`, each listed once) has fewer than `perBrokerCap` items and
 * the batch has fewer than `totalCap`; otherwise a new batch. Only the newest `OPEN_BATCHES`
 * batches are open, so a batch is final once that many newer ones exist.
 *
 * Worked example, cap 1 per broker: items {1,2}, {2,3}, {3,4} → batches 0, 1, 0: the second
 * shares broker 2 with the first, the third fits beside the first.
 */
export function firstFitBatches(
  brokersOf: readonly (readonly number[])[],
  perBrokerCap: number,
  totalCap = Number.POSITIVE_INFINITY,
  openBatches = OPEN_BATCHES,
): number[] {
  const brokers = new BrokerSlots();
  const offsets = [0];
  const slots: number[] = [];
  for (const ids of brokersOf) {
    for (const id of ids) slots.push(brokers.slotOf(id));
    offsets.push(slots.length);
  }
  return firstFitSlots(offsets, slots, brokers.ids.length, perBrokerCap, totalCap, openBatches);
}

/**
 * firstFitBatches on flat input: item i counts against slots `slots[offsets[i] .. offsets[i+1])`,
 * each a dense broker slot below `slotCount` (see BrokerSlots).
 */
export function firstFitSlots(
  offsets: ArrayLike<number>,
  slots: ArrayLike<number>,
  slotCount: number,
  perBrokerCap: number,
  totalCap = Number.POSITIVE_INFINITY,
  openBatches = OPEN_BATCHES,
): number[] {
  const n = offsets.length - 1;
  // load[r * w + b % w]: slot r's items in open batch b (a ring: batch b reuses b - w's place).
  const w = openBatches;
  const load = new Int32Array(slotCount * w);
  const sizes: number[] = [];
  let lo = 0;
  const batchOf = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    let batch = lo;
    for (; batch < sizes.length; batch++) {
      if (sizes[batch]! >= totalCap) continue;
      const ring = batch % w;
      let fits = true;
      for (let j = from; j < to && fits; j++) fits = load[slots[j]! * w + ring]! < perBrokerCap;
      if (fits) break;
    }
    if (batch === sizes.length) {
      sizes.push(0);
      for (let r = 0; r < slotCount; r++) load[r * w + (batch % w)] = 0;
      lo = Math.max(lo, sizes.length - w);
    }
    batchOf[i] = batch;
    sizes[batch]!++;
    for (let j = from; j < to; j++) {
      // The search only picks batches with room; a cap broken here is a planner bug.
      if (++load[slots[j]! * w + (batch % w)]! > perBrokerCap) {
        throw new PlanInvariantError(`at most ${perBrokerCap} per broker`, `batch ${batch}`);
      }
    }
  }
  return batchOf;
}

/** Groups items by their batch index (from firstFitBatches), keeping the items' order inside a batch. */
export function groupByBatch<T>(items: readonly T[], batchOf: readonly number[]): T[][] {
  const groups: T[][] = [];
  items.forEach((item, i) => {
    const b = batchOf[i]!;
    while (groups.length <= b) groups.push([]);
    groups[b]!.push(item);
  });
  return groups;
}

/** Ids below this are slotted through an array; larger ones (rare: Kafka ids are small) through a Map. */
const DIRECT_IDS = 1 << 20;

/**
 * Dense slots 0, 1, 2, … for broker ids in the order they are first seen (`ids[slot]` gives the
 * id back). Hot loops look brokers up hundreds of thousands of times; an array beats a Map there.
 */
export class BrokerSlots {
  readonly ids: number[] = [];
  #direct = new Int32Array(256);
  readonly #others = new Map<number, number>();

  slotOf(id: number): number {
    // Fast path: an id seen before, below the array's length (stored as slot + 1; 0 = unseen).
    const stored = this.#direct[id];
    if (stored) return stored - 1;
    return this.#add(id);
  }

  #add(id: number): number {
    if (Number.isInteger(id) && id >= 0 && id < DIRECT_IDS) {
      if (id >= this.#direct.length) {
        const grown = new Int32Array(Math.min(DIRECT_IDS, Math.max(id + 1, this.#direct.length * 2)));
        grown.set(this.#direct);
        this.#direct = grown;
      }
      this.#direct[id] = this.ids.length + 1;
    } else {
      const slot = this.#others.get(id);
      if (slot !== undefined) return slot;
      this.#others.set(id, this.ids.length);
    }
    this.ids.push(id);
    return this.ids.length - 1;
  }
}
