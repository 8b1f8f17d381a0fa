// The token ring: every node's Murmur3 tokens sorted once, with per-node DC and rack ids in typed
// arrays so that placement and planning never touch strings or bigints in their inner loops.
//
// Range i is (tokens[i-1], tokens[i]] and belongs to token i; range 0 wraps: (tokens[n-1], tokens[0]].
// Example, tokens {-9223372036854775808 (A), 0 (B), 100 (C)}:
//   range 0 = (100, -9223372036854775808]   (wraps past the maximum token)
//   range 1 = (-9223372036854775808, 0]
//   range 2 = (0, 100]

import { InvalidInputError } from '@drover/shared';
import { readToken, sortedTokenOrder } from './tokens.ts';
import type { TokenRange, Topology } from './types.ts';

export interface RingNode {
  readonly address: string;
  readonly hostId: string | undefined;
  readonly dc: string;
  readonly rack: string;
}

export interface Ring {
  /** Nodes sorted by address (numeric parts compared as numbers); node ids index this array. */
  readonly nodes: readonly RingNode[];
  /** DC names sorted; DC ids index this array. */
  readonly dcs: readonly string[];
  /** Number of tokens, which is also the number of ranges. */
  readonly size: number;
  /** Canonical decimal tokens, ascending as signed 64-bit. */
  readonly tokens: readonly string[];
  /** Node id owning each token position. */
  readonly owner: Int32Array;
  /** DC id of each node. */
  readonly nodeDc: Int32Array;
  /** Rack id of each node, unique across DCs (two DCs' "rack1" are different racks). */
  readonly nodeRack: Int32Array;
  readonly rackCount: number;
  /** Per DC id: distinct racks, nodes, and the ascending token positions its nodes own. */
  readonly racksPerDc: Int32Array;
  readonly nodesPerDc: Int32Array;
  readonly dcPositions: readonly Int32Array[];
  readonly nodeId: ReadonlyMap<string, number>;
  readonly dcId: ReadonlyMap<string, number>;
}

/** Compares addresses or names with digit runs as numbers, so 10.0.0.2 sorts before 10.0.0.10. */
export function compareNatural(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  const len = Math.min(pa.length, pb.length);
  for (let i = 0; i < len; i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    if (i % 2 === 1) {
      const diff = Number(x) - Number(y);
      if (diff !== 0) return diff;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Builds the ring from a topology whose shape is valid (see `parseTopology`). Throws
 * InvalidInputError for a token that is not a signed 64-bit integer or is owned twice.
 */
export function buildRing(topology: Topology): Ring {
  const nodes = [...topology.nodes].sort((a, b) => compareNatural(a.address, b.address));
  const dcs = [...new Set(nodes.map((n) => n.dc))].sort(compareNatural);
  const dcId = new Map(dcs.map((dc, i) => [dc, i]));
  const nodeId = new Map<string, number>();
  const nodeDc = new Int32Array(nodes.length);
  const nodeRack = new Int32Array(nodes.length);
  const rackIds = new Map<string, number>();
  const racksPerDc = new Int32Array(dcs.length);
  const nodesPerDc = new Int32Array(dcs.length);
  let size = 0;
  nodes.forEach((node, id) => {
    if (nodeId.has(node.address)) throw new InvalidInputError('nodes[].address', node.address, 'unique addresses');
    nodeId.set(node.address, id);
    const dc = dcId.get(node.dc) ?? 0;
    nodeDc[id] = dc;
    nodesPerDc[dc] = (nodesPerDc[dc] ?? 0) + 1;
    // JSON of the pair cannot collide the way "dc" + ":" + "rack" could.
    const rackKey = JSON.stringify([node.dc, node.rack]);
    let rack = rackIds.get(rackKey);
    if (rack === undefined) {
      rack = rackIds.size;
      rackIds.set(rackKey, rack);
      racksPerDc[dc] = (racksPerDc[dc] ?? 0) + 1;
    }
    nodeRack[id] = rack;
    size += node.tokens.length;
  });

  // Sort positions by the exact (high, low) split of tokens.ts: no BigInt, no string compare.
  const high = new Float64Array(size);
  const low = new Float64Array(size);
  const key = new Float64Array(2);
  const text: string[] = [];
  const tokenOwner = new Int32Array(size);
  let k = 0;
  nodes.forEach((node, id) => {
    for (const token of node.tokens) {
      const canonical = readToken(token, key);
      if (canonical === undefined) {
        throw new InvalidInputError(`nodes[${node.address}].tokens`, token, 'a signed 64-bit decimal integer');
      }
      high[k] = key[0]!;
      low[k] = key[1]!;
      text.push(canonical);
      tokenOwner[k] = id;
      k++;
    }
  });
  const order = sortedTokenOrder(high, low);

  const tokens: string[] = [];
  const owner = new Int32Array(size);
  const dcCounts = new Int32Array(dcs.length);
  for (let i = 0; i < size; i++) {
    const from = order[i]!;
    tokens.push(text[from]!);
    owner[i] = tokenOwner[from]!;
    const dc = nodeDc[owner[i]!]!;
    dcCounts[dc] = dcCounts[dc]! + 1;
    if (i > 0 && high[from] === high[order[i - 1]!] && low[from] === low[order[i - 1]!]) {
      const first = nodes[owner[i - 1]!]!.address;
      const second = nodes[owner[i]!]!.address;
      throw new InvalidInputError(
        `nodes[${second}].tokens`,
        tokens[i],
        `a token no other node owns (${first === second ? 'listed twice' : `also owned by ${first}`})`,
      );
    }
  }
  const dcPositions = Array.from(dcCounts, (count) => new Int32Array(count));
  const fill = new Int32Array(dcs.length);
  for (let i = 0; i < size; i++) {
    const dc = nodeDc[owner[i]!]!;
    dcPositions[dc]![fill[dc]!] = i;
    fill[dc] = fill[dc]! + 1;
  }
  return {
    nodes: nodes.map((n) => ({ address: n.address, hostId: n.hostId, dc: n.dc, rack: n.rack })),
    dcs,
    size,
    tokens,
    owner,
    nodeDc,
    nodeRack,
    rackCount: rackIds.size,
    racksPerDc,
    nodesPerDc,
    dcPositions,
    nodeId,
    dcId,
  };
}

/** The range ending at token position `i`: (tokens[i-1], tokens[i]], wrapping for i = 0. */
export function rangeAt(ring: Ring, i: number): TokenRange {
  return [ring.tokens[i === 0 ? ring.size - 1 : i - 1]!, ring.tokens[i]!];
}

/** Token position of each canonical token text (for reading ranges back from a plan). */
export function positionsByToken(ring: Ring): Map<string, number> {
  const positions = new Map<string, number>();
  ring.tokens.forEach((token, i) => {
    positions.set(token, i);
  });
  return positions;
}
