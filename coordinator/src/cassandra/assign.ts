// The consistent-rebuild assignment for one keyspace: for every range, which source-DC replica each
// destination-DC replica copies. Destination replica i copies source replica i, both lists in
// ring-walk order (the Minotaur idea), so distinct new replicas copy distinct old replicas and,
// when the new DC keeps at least as many replicas, it holds every write on at least as many replicas
// as the old one did. Extensions:
//   - a source that is down is replaced only by a source replica no destination copies anyway
//     (ring-walk position >= destination count, so only when the destination RF is smaller); else
//     the range is at risk for that destination, with the reason;
//   - destination replicas beyond the source count ("extras", position p >= s) copy the least-used
//     up source, looking from position p mod s, so they too get distinct sources while there are any;
//   - when the destination keeps fewer replicas than the source, the source replicas nobody copies
//     are reported as uncopied.
//
// Worked example, source [S0, S1, S2], destination [D0, D1] (RF 3 → RF 2), S0 down:
//   D0 → S2 (fallback: S2 was uncopied, so one-to-one still holds), D1 → S1; uncopied: S0.
// Same with destination [D0, D1, D2]: no source is spare, so D0's range is at risk, D1 → S1, D2 → S2.

import type { Placement } from './placement.ts';
import type { Ring } from './ring.ts';
import type { AtRiskKind } from './types.ts';

/** The ranges one node streams from one source: `positions[start..end)` of its assignment. */
export interface AssignmentGroup {
  readonly node: number;
  readonly source: number;
  readonly start: number;
  readonly end: number;
  /** How many of them use this source in place of one that is down. */
  readonly fallbacks: number;
}

export interface AtRiskAssignment {
  readonly node: number;
  readonly position: number;
  readonly kind: AtRiskKind;
  readonly reason: string;
}

export interface KeyspaceAssignment {
  /** Ordered by (node id, source id). */
  readonly groups: AssignmentGroup[];
  /** Token positions of every assignment, grouped as `groups` says, ascending inside a group. */
  readonly positions: Int32Array;
  /**
   * Assignments were made in ascending position order; the k-th made is `positions[sortedIndexOf[k]]`
   * (lets a caller visit every assignment in ring order, e.g. to read per-range data sequentially).
   */
  readonly sortedIndexOf: Int32Array;
  readonly atRisk: AtRiskAssignment[];
  /** Source node id → ascending positions it holds that nobody copies. */
  readonly uncopied: Map<number, number[]>;
  readonly sourceWidth: number;
  readonly destWidth: number;
}

export interface AssignContext {
  readonly sourceDc: number;
  readonly destDc: number;
  /** By node id: 1 when down. */
  readonly isDown: Uint8Array;
}

/** Assigns a source to every (range, destination replica) of one keyspace's placement. */
export function assignSources(placement: Placement, context: AssignContext): KeyspaceAssignment {
  const { ring } = placement;
  const { isDown } = context;
  const source = placement.byDc[context.sourceDc];
  const dest = placement.byDc[context.destDc];
  const nodeCount = ring.nodes.length;
  const atRisk: AtRiskAssignment[] = [];
  const uncopied = new Map<number, number[]>();
  // Assignments as parallel typed arrays (no per-assignment objects), grouped at the end.
  const capacity = ring.size * (dest?.width ?? 0);
  const toNode = new Int32Array(capacity);
  const fromNode = new Int32Array(capacity);
  const atPosition = new Int32Array(capacity);
  const isFallback = new Uint8Array(capacity);
  let count = 0;
  // Per-range use counts of source nodes, reset by stamping with the position.
  const stamp = new Int32Array(nodeCount).fill(-1);
  const uses = new Int32Array(nodeCount);
  const srcNodes = source?.replicas ?? new Int32Array(0);
  const dstNodes = dest?.replicas ?? new Int32Array(0);

  const assign = (node: number, from: number, position: number, fallback: boolean) => {
    if (stamp[from] !== position) {
      stamp[from] = position;
      uses[from] = 0;
    }
    uses[from] = uses[from]! + 1;
    toNode[count] = node;
    fromNode[count] = from;
    atPosition[count] = position;
    isFallback[count] = fallback ? 1 : 0;
    count++;
  };
  const usesOf = (node: number, position: number) => (stamp[node] === position ? uses[node]! : 0);

  for (let position = 0; position < ring.size; position++) {
    if (dest === undefined) break;
    const dSlot = dest.slotOf[position]!;
    const d = dest.counts === undefined ? dest.width : dest.counts[dSlot]!;
    if (d === 0) continue;
    const dBase = dSlot * dest.width;
    const sSlot = source === undefined ? 0 : source.slotOf[position]!;
    const s = source === undefined ? 0 : source.counts === undefined ? source.width : source.counts[sSlot]!;
    const sBase = source === undefined ? 0 : sSlot * source.width;
    let spare = d; // next source position nobody copies, for fallbacks
    for (let p = 0; p < d; p++) {
      const node = dstNodes[dBase + p]!;
      if (isDown[node]) {
        atRisk.push({ node, position, kind: 'destination-down', reason: 'destination node is down' });
      } else if (s === 0) {
        atRisk.push({ node, position, kind: 'no-source-replica', reason: noSourceReason(ring, context) });
      } else if (p < s) {
        const primary = srcNodes[sBase + p]!;
        if (!isDown[primary]) {
          assign(node, primary, position, false);
          continue;
        }
        while (spare < s && isDown[srcNodes[sBase + spare]!]) spare++;
        if (spare < s) {
          assign(node, srcNodes[sBase + spare]!, position, true);
          spare++;
        } else {
          atRisk.push({ node, position, kind: 'source-down', reason: sourceDownReason(ring, primary, p, s, d) });
        }
      } else {
        let best = -1;
        for (let k = 0; k < s; k++) {
          const candidate = srcNodes[sBase + ((p + k) % s)]!;
          if (isDown[candidate]) continue;
          if (best === -1 || usesOf(candidate, position) < usesOf(best, position)) best = candidate;
        }
        if (best === -1) {
          const reason = `all ${s} source replicas of this range are down`;
          atRisk.push({ node, position, kind: 'source-down', reason });
        } else {
          assign(node, best, position, false);
        }
      }
    }
    // Only when the destination keeps fewer replicas: otherwise an uncopied source is at risk above.
    for (let q = 0; d < s && q < s; q++) {
      const node = srcNodes[sBase + q]!;
      if (usesOf(node, position) > 0) continue;
      let list = uncopied.get(node);
      if (list === undefined) {
        list = [];
        uncopied.set(node, list);
      }
      list.push(position);
    }
  }
  const { groups, positions, sortedIndexOf } = groupAssignments(
    count,
    toNode,
    fromNode,
    atPosition,
    isFallback,
    nodeCount,
  );
  return {
    groups,
    positions,
    sortedIndexOf,
    atRisk,
    uncopied: new Map([...uncopied].sort(([a], [b]) => a - b)),
    sourceWidth: source?.width ?? 0,
    destWidth: dest?.width ?? 0,
  };
}

/**
 * Groups assignments by (node, source) with two stable counting sorts (by source, then by node):
 * linear in assignments + nodes, and positions stay ascending inside each group.
 */
function groupAssignments(
  count: number,
  toNode: Int32Array,
  fromNode: Int32Array,
  atPosition: Int32Array,
  isFallback: Uint8Array,
  nodeCount: number,
): { groups: AssignmentGroup[]; positions: Int32Array; sortedIndexOf: Int32Array } {
  const bySource = countingOrder(fromNode, count, nodeCount, undefined);
  const order = countingOrder(toNode, count, nodeCount, bySource);
  const positions = new Int32Array(count);
  const sortedIndexOf = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    positions[i] = atPosition[order[i]!]!;
    sortedIndexOf[order[i]!] = i;
  }
  const groups: AssignmentGroup[] = [];
  for (let start = 0; start < count; ) {
    const first = order[start]!;
    const node = toNode[first]!;
    const from = fromNode[first]!;
    let end = start;
    let fallbacks = 0;
    while (end < count && toNode[order[end]!] === node && fromNode[order[end]!] === from) {
      fallbacks += isFallback[order[end]!]!;
      end++;
    }
    groups.push({ node, source: from, start, end, fallbacks });
    start = end;
  }
  return { groups, positions, sortedIndexOf };
}

/** Indexes 0..count-1 (or `input`'s order) stably sorted by `keys[index]` in [0, range). */
function countingOrder(keys: Int32Array, count: number, range: number, input: Int32Array | undefined): Int32Array {
  const next = new Int32Array(range + 1);
  for (let i = 0; i < count; i++) next[keys[i]! + 1]!++;
  for (let k = 1; k <= range; k++) next[k]! += next[k - 1]!;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const index = input === undefined ? i : input[i]!;
    out[next[keys[index]!]!++] = index;
  }
  return out;
}

function sourceDownReason(ring: Ring, primary: number, p: number, s: number, d: number): string {
  const address = ring.nodes[primary]!.address;
  const spares = d < s ? 'the uncopied source replicas are down too' : `all ${s} source replicas are needed`;
  return (
    `source ${address} (source replica ${p + 1} of ${s} in ring-walk order) is down and ${spares}: ` +
    `any other source would be copied twice and writes held only by ${address} would be lost ` +
    `(rebuild this range once ${address} is back, or repair it)`
  );
}

function noSourceReason(ring: Ring, context: AssignContext): string {
  return `no replica of this range in ${ring.dcs[context.sourceDc]} (SimpleStrategy placed them all elsewhere)`;
}
