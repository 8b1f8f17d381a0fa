// Small builders for hand-made golden topologies.

import type { Topology, TopologyKeyspace, TopologyNode } from '../../src/cassandra/types.ts';

/** A node from `address dc rack token…` written as one string: 'A dc1 r1 0 100'. */
export function node(spec: string): TopologyNode {
  const [address, dc, rack, ...tokens] = spec.split(/\s+/);
  return { address: address!, dc: dc!, rack: rack!, tokens };
}

export function nts(name: string, factors: Record<string, number>): TopologyKeyspace {
  const replication: Record<string, string> = { class: 'NetworkTopologyStrategy' };
  for (const [dc, rf] of Object.entries(factors)) replication[dc] = String(rf);
  return { name, replication };
}

export function simple(name: string, rf: number): TopologyKeyspace {
  return { name, replication: { class: 'SimpleStrategy', replication_factor: String(rf) } };
}

export function topology(nodes: TopologyNode[], keyspaces: TopologyKeyspace[] = []): Topology {
  return { partitioner: 'Murmur3Partitioner', nodes, keyspaces };
}

/**
 * `count` nodes owning `vnodes` evenly spaced tokens each, dealt round-robin: token j belongs to node
 * j mod count. Node k is `${prefix}${k}` in rack `rackOf(k)`.
 */
export function roundRobin(
  count: number,
  vnodes: number,
  dc: string,
  rackOf: (k: number) => string,
  prefix = 'n',
): TopologyNode[] {
  const total = BigInt(count * vnodes);
  const step = 2n ** 64n / total;
  const nodes: TopologyNode[] = Array.from({ length: count }, (_, k) => ({
    address: `${prefix}${k}`,
    dc,
    rack: rackOf(k),
    tokens: [],
  }));
  for (let j = 0n; j < total; j++) nodes[Number(j % BigInt(count))]!.tokens.push(String(-(2n ** 63n) + j * step));
  return nodes;
}
