// A deliberately naive reference for replica placement, used only by the property tests: it reads
// the topology directly, sorts bigint tokens, walks the WHOLE ring for every range with string sets,
// exactly as NetworkTopologyStrategy.calculateNaturalEndpoints reads, and shares no code with
// coordinator/src/cassandra/placement.ts (no per-DC walks, no slots, no typed arrays).

import type { Topology, TopologyNode } from '../../src/cassandra/types.ts';

const shortName = (className: string) => className.replace('org.apache.cassandra.locator.', '');

/** End token (canonical decimal) of every range → replica addresses in ring-walk order. */
export function naiveReplicas(topology: Topology, replication: Record<string, string>): Map<string, string[]> {
  const entries: { token: bigint; node: TopologyNode }[] = [];
  for (const node of topology.nodes) for (const t of node.tokens) entries.push({ token: BigInt(t), node });
  entries.sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
  const result = new Map<string, string[]>();
  const className = shortName(replication.class ?? '');
  for (let i = 0; i < entries.length; i++) {
    const walk = [...entries.slice(i), ...entries.slice(0, i)].map((e) => e.node);
    const key = entries[i]!.token.toString();
    if (className === 'SimpleStrategy') {
      const rf = Number(replication.replication_factor);
      const replicas: string[] = [];
      for (const node of walk) {
        if (replicas.length < rf && !replicas.includes(node.address)) replicas.push(node.address);
      }
      result.set(key, replicas);
    } else if (className === 'NetworkTopologyStrategy') {
      result.set(key, naiveNts(topology, replication, walk));
    } else {
      result.set(key, []);
    }
  }
  return result;
}

function naiveNts(topology: Topology, replication: Record<string, string>, walk: TopologyNode[]): string[] {
  const state = new Map<string, { rfLeft: number; repeats: number }>();
  for (const [dc, value] of Object.entries(replication)) {
    if (dc === 'class') continue;
    const rf = Number(value.split('/')[0]);
    const inDc = topology.nodes.filter((n) => n.dc === dc);
    if (rf <= 0 || inDc.length === 0) continue;
    const racks = new Set(inDc.map((n) => n.rack)).size;
    state.set(dc, { rfLeft: Math.min(rf, inDc.length), repeats: rf - racks });
  }
  const replicas: string[] = [];
  const seenRacks = new Set<string>();
  for (const node of walk) {
    if ([...state.values()].every((s) => s.rfLeft === 0)) break;
    const dc = state.get(node.dc);
    if (dc === undefined || dc.rfLeft === 0 || replicas.includes(node.address)) continue;
    const rackKey = `${node.dc}\u0000${node.rack}`;
    if (!seenRacks.has(rackKey)) {
      seenRacks.add(rackKey);
    } else if (dc.repeats > 0) {
      dc.repeats--;
    } else {
      continue;
    }
    replicas.push(node.address);
    dc.rfLeft--;
  }
  return replicas;
}
