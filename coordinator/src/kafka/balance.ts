// Balance repair for automatic placement. The greedy placer is level for uniform replication
// factors, but mixed RFs (RF 1 next to RF 3, say) can leave a broker 2+ above another when a level
// placement exists. Repair removes every "cost-reducing path" — a chain of moves from a broker with
// load L to one with load <= L - 2, each step one partition handing its replica (or leadership)
// from one broker to the next — which is the optimality condition of balanced assignments
// (semi-matchings, Harvey et al. 2006): when none is left, max − min <= 1 whenever any valid
// placement achieves it. Brokers are dense indices here; placement maps them to ids.

/** The rack limits of one partition: with rf replicas over `racks` racks each rack holds floor..ceil of rf/racks. */
function rackBounds(rf: number, racks: number): { floor: number; ceil: number } {
  return { floor: Math.floor(rf / racks), ceil: Math.ceil(rf / racks) };
}

export interface BalanceResult {
  /** Paths applied. */
  moves: number;
  /** False when the work budget ran out before no path was left (the placement is then merely valid). */
  complete: boolean;
}

/** Edge checks allowed per repair (bounds the worst case on huge, badly skewed clusters). */
const WORK_BUDGET = 50_000_000;

/**
 * Moves replicas until no cost-reducing path remains. `sets[p]` are partition p's brokers (index
 * 0 = leader; a moved replica keeps its position), `rackOf[b]` the rack of broker b. Mutates `sets`.
 */
export function balanceReplicas(sets: number[][], rackOf: Int32Array, rackCount: number): BalanceResult {
  const n = rackOf.length;
  const loads = new Int32Array(n);
  for (const set of sets) for (const b of set) loads[b]!++;
  // A replica of p may go from x to y when y is not in p and the rack counts stay within bounds.
  const canMove = (p: number, x: number, y: number): boolean => {
    const set = sets[p]!;
    if (set.includes(y)) return false;
    const rx = rackOf[x]!;
    const ry = rackOf[y]!;
    if (rx === ry) return true;
    const { floor, ceil } = rackBounds(set.length, rackCount);
    let inX = 0;
    let inY = 0;
    for (const b of set) {
      if (rackOf[b] === rx) inX++;
      else if (rackOf[b] === ry) inY++;
    }
    return inX - 1 >= floor && inY + 1 <= ceil;
  };
  const apply = (p: number, x: number, y: number) => {
    const set = sets[p]!;
    set[set.indexOf(x)] = y;
  };
  return repair(loads, canMove, apply, () => candidatesByBroker(sets, n, false));
}

/** Hands leadership (position 0) to another replica until no cost-reducing path remains. Mutates `sets`. */
export function balanceLeaders(sets: number[][], brokerCount: number): BalanceResult {
  const loads = new Int32Array(brokerCount);
  for (const set of sets) loads[set[0]!]!++;
  const apply = (p: number, x: number, y: number) => {
    const set = sets[p]!;
    set[set.indexOf(y)] = x;
    set[0] = y;
  };
  return repair(
    loads,
    (p, _x, y) => sets[p]!.includes(y),
    apply,
    () => candidatesByBroker(sets, brokerCount, true),
  );
}

/** For each broker, the partitions it holds (or leads), in partition order. */
function candidatesByBroker(sets: number[][], n: number, leadersOnly: boolean): Set<number>[] {
  const by = Array.from({ length: n }, () => new Set<number>());
  sets.forEach((set, p) => {
    if (leadersOnly) by[set[0]!]!.add(p);
    else for (const b of set) by[b]!.add(p);
  });
  return by;
}

/**
 * The shared search: from each broker with the most load, a breadth-first search over "partition
 * p moves load from x to y" for a broker with load <= L - 2; the first path found (brokers and
 * partitions in index order, so the result is deterministic) is applied, then search again.
 */
function repair(
  loads: Int32Array,
  canMove: (p: number, x: number, y: number) => boolean,
  apply: (p: number, x: number, y: number) => void,
  index: () => Set<number>[],
): BalanceResult {
  const n = loads.length;
  let held: Set<number>[] | null = null;
  let moves = 0;
  let work = 0;
  for (;;) {
    const min = Math.min(...loads);
    if (Math.max(...loads) - min <= 1) return { moves, complete: true };
    held ??= index();
    const order = Array.from(loads.keys()).sort((a, b) => loads[b]! - loads[a]! || a - b);
    let found = false;
    for (const h of order) {
      if (loads[h]! - min <= 1) break;
      const search = searchPath(h, loads, held, canMove, n);
      work += search.work;
      if (work > WORK_BUDGET) return { moves, complete: false };
      if (search.path === null) continue;
      for (const [p, x, y] of search.path) {
        apply(p, x, y);
        held[x]!.delete(p);
        held[y]!.add(p);
      }
      loads[h]!--;
      loads[search.path.at(-1)![2]]!++;
      moves++;
      found = true;
      break;
    }
    if (!found) return { moves, complete: true };
  }
}

type Step = [partition: number, from: number, to: number];

function searchPath(
  h: number,
  loads: Int32Array,
  held: Set<number>[],
  canMove: (p: number, x: number, y: number) => boolean,
  n: number,
): { path: Step[] | null; work: number } {
  const via = new Array<Step | null>(n).fill(null);
  const seen = new Uint8Array(n);
  seen[h] = 1;
  let unseen = n - 1;
  const queue = [h];
  let work = 0;
  const pathTo = (b: number): Step[] => {
    const path: Step[] = [];
    for (let step = via[b]; step; step = via[step[1]]) path.unshift(step);
    return path;
  };
  for (let q = 0; q < queue.length && unseen > 0; q++) {
    const x = queue[q]!;
    // A partition may appear only once on a path: two moves of one partition were each checked alone.
    const onPath = new Set(pathTo(x).map(([p]) => p));
    for (const p of held[x]!) {
      if (onPath.has(p)) continue;
      for (let y = 0; y < n; y++) {
        if (seen[y]) continue;
        work++;
        if (!canMove(p, x, y)) continue;
        seen[y] = 1;
        unseen--;
        via[y] = [p, x, y];
        if (loads[y]! <= loads[h]! - 2) return { path: pathTo(y), work };
        queue.push(y);
      }
      if (unseen === 0) break;
    }
  }
  return { path: null, work };
}
