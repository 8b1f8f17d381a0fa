// The node's own view of a keyspace's ring (`nodetool describering`): which ranges each node
// replicates and in which datacenter. A planned rebuild is checked against it before anything
// streams: its ranges must lie in ranges this node replicates, with the source replicating them in
// the source datacenter.
import type { CassandraRange } from '@drover/shared';
import type { Nodetool, NodetoolCall } from '../../clients/cassandra/index.ts';

export interface RingRange {
  range: CassandraRange;
  endpoints: Array<{ host: string; datacenter: string }>;
}

/** Parses `nodetool describering KS`: one TokenRange(...) line per range. */
export function parseDescribeRing(output: string): RingRange[] {
  const ranges: RingRange[] = [];
  for (const line of output.split('\n')) {
    const match = /TokenRange\(start_token:(-?\d+), end_token:(-?\d+),.*endpoint_details:\[(.*)\]\)/.exec(line);
    if (!match) continue;
    const endpoints = [...match[3]!.matchAll(/host:([\w.:-]+), datacenter:([^,)]+)/g)].map((m) => ({
      host: m[1]!,
      datacenter: m[2]!.trim(),
    }));
    ranges.push({ range: [match[1]!, match[2]!], endpoints });
  }
  return ranges;
}

export async function describeRing(nodetool: Nodetool, keyspace: string, call: NodetoolCall): Promise<RingRange[]> {
  return parseDescribeRing(await nodetool.run(['describering', keyspace], call));
}

/** Ranges `host` replicates (optionally only where it counts in `datacenter`). */
export function rangesOf(ring: RingRange[], host: string, datacenter?: string): CassandraRange[] {
  return ring
    .filter((r) =>
      r.endpoints.some((e) => e.host === host && (datacenter === undefined || e.datacenter === datacenter)),
    )
    .map((r) => r.range);
}
