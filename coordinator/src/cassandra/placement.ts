// Replica placement: an exact port of Cassandra's NetworkTopologyStrategy (3.0+ one-pass rules) and
// SimpleStrategy. Not cassandra-driver's getReplicas, which is wrong when DCs have different rack
// layouts and quadratic on big rings (see shared/knowledge/cassandra.md).
//
// NetworkTopologyStrategy.calculateNaturalEndpoints, for the range ending at token t: walk the ring
// clockwise from t; per DC with RF > 0, rfLeft = min(RF, nodes in DC) and repeats = RF - racks in DC.
// A token's owner is skipped if its DC is full or it is already chosen; it is taken if its (DC, rack)
// is new, or else only while repeats > 0 (which it then decrements). One pass, no look-back.
//
// Worked example, one DC, RF 3, three racks (so repeats = 0):
//   tokens  0: A (r1)   10: B (r1)   20: C (r2)   30: D (r3)
//   range (30, 0]  walks A B C D: A new rack, B rack r1 seen and no repeats left, C, D  → [A, C, D]
//   range (0, 10]  walks B C D        → [B, C, D]
//   range (10, 20] walks C D A        → [C, D, A]
//   range (20, 30] walks D A B C      → [D, A, C]   (B skipped: r1 already has A)
// With a single rack, repeats = 2 and the same ring gives the next three distinct nodes: [A, B, C] …
//
// Each DC's choice depends only on its own nodes' tokens (racks are per DC, nodes belong to one DC),
// so each DC is walked over its own token positions, once per DC token rather than once per ring
// token: cost is Σ over DCs of (DC tokens × walk length), and a sparse DC cannot make the walk of
// the others long. Ranges that share the same next DC token share the DC's replica list (a "slot").

import { PlannerInvariantError } from './errors.ts';
import type { ReplicationStrategy } from './replication.ts';
import type { Ring } from './ring.ts';

/** The replicas one DC holds for every range. */
export interface DcReplicas {
  /** Most replicas a range has in this DC; with NTS every range has exactly this many. */
  readonly width: number;
  /** Range (token position) → slot holding its replica list. */
  readonly slotOf: Int32Array;
  /** Slot → replica count, when it varies (SimpleStrategy); undefined means always `width`. */
  readonly counts: Int32Array | undefined;
  /** slot * width + j → node id of the DC's j-th replica in ring-walk order. */
  readonly replicas: Int32Array;
  /** slot * width + j → token position at which the walk picked that replica. */
  readonly pickedAt: Int32Array;
}

export interface Placement {
  readonly ring: Ring;
  readonly strategy: ReplicationStrategy;
  /** By DC id; undefined when the DC holds no replica of this keyspace. */
  readonly byDc: readonly (DcReplicas | undefined)[];
}

/**
 * Places every range's replicas. LocalStrategy and unsupported classes place nothing (every entry
 * of `byDc` undefined): they are not rebuilt.
 */
export function placeReplicas(ring: Ring, strategy: ReplicationStrategy): Placement {
  if (strategy.kind === 'network-topology') {
    const byDc = ring.dcs.map((dc, id) => {
      const rf = strategy.factors.get(dc)?.all ?? 0;
      return rf > 0 ? placeInDc(ring, id, rf) : undefined;
    });
    return { ring, strategy, byDc };
  }
  if (strategy.kind === 'simple' && strategy.factor.all > 0) {
    return { ring, strategy, byDc: splitByDc(ring, placeSimple(ring, strategy.factor.all)) };
  }
  return { ring, strategy, byDc: ring.dcs.map(() => undefined) };
}

/** NetworkTopologyStrategy's DatacenterEndpoints, walked over one DC's token positions. */
function placeInDc(ring: Ring, dc: number, rf: number): DcReplicas {
  const positions = ring.dcPositions[dc]!;
  const m = positions.length;
  const width = Math.min(rf, ring.nodesPerDc[dc]!);
  const firstRepeats = rf - ring.racksPerDc[dc]!;
  const replicas = new Int32Array(m * width);
  const pickedAt = new Int32Array(m * width);
  // Stamps instead of sets: chosen[node] === slot means "chosen for this slot".
  const chosen = new Int32Array(ring.nodes.length).fill(-1);
  const rackSeen = new Int32Array(ring.rackCount).fill(-1);
  const { owner, nodeRack } = ring;
  for (let slot = 0; slot < m; slot++) {
    let out = slot * width;
    let rfLeft = width;
    let repeats = firstRepeats;
    for (let step = 0, q = slot; step < m && rfLeft > 0; step++, q = q + 1 === m ? 0 : q + 1) {
      const position = positions[q]!;
      const node = owner[position]!;
      if (chosen[node] === slot) continue;
      const rack = nodeRack[node]!;
      if (rackSeen[rack] !== slot) {
        rackSeen[rack] = slot;
      } else if (repeats > 0) {
        repeats--;
      } else {
        continue;
      }
      chosen[node] = slot;
      replicas[out] = node;
      pickedAt[out] = position;
      out++;
      rfLeft--;
    }
    if (rfLeft > 0) {
      throw new PlannerInvariantError(`${rfLeft} replica(s) left unplaced`, `DC ${ring.dcs[dc]} slot ${slot}`);
    }
  }
  return { width, slotOf: nextPositionSlots(ring.size, positions), counts: undefined, replicas, pickedAt };
}

/** For every ring position, the index of the first of `positions` at or after it (cyclically). */
function nextPositionSlots(size: number, positions: Int32Array): Int32Array {
  const slotOf = new Int32Array(size);
  let q = 0;
  for (let i = 0; i < size; i++) {
    while (q < positions.length && positions[q]! < i) q++;
    slotOf[i] = q < positions.length ? q : 0;
  }
  return slotOf;
}

/** SimpleStrategy: the first `rf` distinct owners walking clockwise, whatever their DC or rack. */
function placeSimple(ring: Ring, rf: number): DcReplicas {
  const n = ring.size;
  const width = Math.min(rf, ring.nodes.length);
  const replicas = new Int32Array(n * width);
  const pickedAt = new Int32Array(n * width);
  const chosen = new Int32Array(ring.nodes.length).fill(-1);
  for (let i = 0; i < n; i++) {
    let out = i * width;
    for (let step = 0, q = i; step < n && out < (i + 1) * width; step++, q = q + 1 === n ? 0 : q + 1) {
      const node = ring.owner[q]!;
      if (chosen[node] === i) continue;
      chosen[node] = i;
      replicas[out] = node;
      pickedAt[out] = q;
      out++;
    }
  }
  const slotOf = new Int32Array(n);
  for (let i = 0; i < n; i++) slotOf[i] = i;
  return { width, slotOf, counts: undefined, replicas, pickedAt };
}

/** Splits an all-DC placement (SimpleStrategy) into per-DC lists, keeping ring-walk order. */
function splitByDc(ring: Ring, all: DcReplicas): (DcReplicas | undefined)[] {
  const n = ring.size;
  return ring.dcs.map((_, dc) => {
    const width = Math.min(all.width, ring.nodesPerDc[dc]!);
    const replicas = new Int32Array(n * width);
    const pickedAt = new Int32Array(n * width);
    const counts = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let count = 0;
      for (let j = i * all.width; j < (i + 1) * all.width; j++) {
        const node = all.replicas[j]!;
        if (ring.nodeDc[node] !== dc) continue;
        replicas[i * width + count] = node;
        pickedAt[i * width + count] = all.pickedAt[j]!;
        count++;
      }
      counts[i] = count;
    }
    return { width, slotOf: all.slotOf, counts, replicas, pickedAt };
  });
}

/** Node ids of `dc`'s replicas of the range ending at `position`, in ring-walk order. */
export function replicasInDc(placement: Placement, position: number, dc: number): number[] {
  const d = placement.byDc[dc];
  if (d === undefined) return [];
  const slot = d.slotOf[position]!;
  const count = d.counts === undefined ? d.width : d.counts[slot]!;
  return Array.from(d.replicas.subarray(slot * d.width, slot * d.width + count));
}

/** Node ids of every replica of the range ending at `position`, in ring-walk order across DCs. */
export function replicasOf(placement: Placement, position: number): number[] {
  const n = placement.ring.size;
  const picks: [distance: number, node: number][] = [];
  for (const d of placement.byDc) {
    if (d === undefined) continue;
    const slot = d.slotOf[position]!;
    const count = d.counts === undefined ? d.width : d.counts[slot]!;
    for (let j = slot * d.width; j < slot * d.width + count; j++) {
      picks.push([(d.pickedAt[j]! - position + n) % n, d.replicas[j]!]);
    }
  }
  return picks.sort((a, b) => a[0] - b[0]).map(([, node]) => node);
}
