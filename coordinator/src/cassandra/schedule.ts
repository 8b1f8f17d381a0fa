// Execution order of the rebuilds, as waves: within a wave every destination node runs at most one
// rebuild (Cassandra refuses a second: "Node is still rebuilding") and every source node feeds at
// most `maxStreamsPerSource` rebuilds; all nodes of a wave run in parallel.
//
// No wave count can beat max(rebuilds of one node, ceil(rebuilds from one source / cap)). Greedy
// per wave: the nodes with the most rebuilds left choose first, each taking the first rebuild of
// its queue whose source still has room. Queues are rotated per node (node k of D starts at source
// k·S/D of S) so that nodes of one wave want different sources, which keeps the waves near that
// bound and each choice near O(1): total work is about linear in the number of rebuilds.
//
// Example, cap 1: node A needs sources X, Y; node B needs X, Y. Rotation gives A [X, Y], B [Y, X]:
//   wave 1: A←X, B←Y; wave 2: A←Y, B←X.   (Without rotation B would idle in wave 1.)

/**
 * Rebuilds to order, as parallel arrays indexed by rebuild: its destination node id and source node
 * id. Rebuilds of one node keep their relative order for equal rotated source (plan order).
 */
export interface ScheduleInput {
  readonly node: Int32Array;
  readonly source: Int32Array;
}

/** Waves of rebuild indexes; each rebuild appears exactly once. */
export function scheduleWaves(input: ScheduleInput, maxStreamsPerSource: number): number[][] {
  const count = input.node.length;
  if (count === 0) return [];
  let maxId = 0;
  for (let i = 0; i < count; i++) maxId = Math.max(maxId, input.node[i]!, input.source[i]!);
  const idCount = maxId + 1;

  // Dense ranks of the destination nodes and sources that appear.
  const nodeRank = new Int32Array(idCount).fill(-1);
  const sourceRank = new Int32Array(idCount).fill(-1);
  for (let i = 0; i < count; i++) {
    nodeRank[input.node[i]!] = 0;
    sourceRank[input.source[i]!] = 0;
  }
  const nodes: number[] = [];
  let sources = 0;
  for (let id = 0; id < idCount; id++) {
    if (nodeRank[id] === 0) nodeRank[id] = nodes.push(id) - 1;
    if (sourceRank[id] === 0) sourceRank[id] = sources++;
  }

  // Per node queue (rebuild indexes), ordered by source rank rotated by the node's rank.
  const queues: number[][] = nodes.map(() => []);
  for (let i = 0; i < count; i++) queues[nodeRank[input.node[i]!]!]!.push(i);
  const key = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const offset = Math.floor((nodeRank[input.node[i]!]! * sources) / nodes.length);
    key[i] = (sourceRank[input.source[i]!]! - offset + sources) % sources;
  }
  for (const queue of queues) queue.sort((a, b) => key[a]! - key[b]! || a - b);

  const done = new Uint8Array(count);
  const head = new Int32Array(nodes.length);
  const left = Int32Array.from(queues, (queue) => queue.length);
  const streams = new Int32Array(idCount);
  const streamStamp = new Int32Array(idCount).fill(-1);
  const waves: number[][] = [];
  const ready = nodes.map((_, k) => k);
  for (let remaining = count, w = 0; remaining > 0; w++) {
    const wave: number[] = [];
    ready.sort((a, b) => left[b]! - left[a]! || a - b);
    for (const k of ready) {
      if (left[k] === 0) break; // sorted: the rest have nothing left either
      const queue = queues[k]!;
      let q = head[k]!;
      while (q < queue.length && done[queue[q]!]) q++;
      head[k] = q;
      for (; q < queue.length; q++) {
        const i = queue[q]!;
        if (done[i]) continue;
        const from = input.source[i]!;
        if (streamStamp[from] !== w) {
          streamStamp[from] = w;
          streams[from] = 0;
        }
        if (streams[from]! >= maxStreamsPerSource) continue;
        streams[from] = streams[from]! + 1;
        done[i] = 1;
        left[k] = left[k]! - 1;
        remaining--;
        wave.push(i);
        break;
      }
    }
    waves.push(wave.sort((a, b) => input.node[a]! - input.node[b]!));
  }
  return waves;
}
