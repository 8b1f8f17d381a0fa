// The node's own view of a keyspace's ring (`nodetool describering`): which ranges each node
// replicates and in which datacenter. A planned rebuild is checked against it before anything
// streams: its ranges must lie in ranges this node replicates, with the source replicating them in
// the source datacenter.

import { createHash } from 'node:crypto';
import { type CassandraOwnedMask, type CassandraRange, InvalidInputError, resolveOwnedMask } from '@drover/shared';
import {
  type CqlSession,
  type Nodetool,
  type NodetoolCall,
  readKeyspaces,
  readLocal,
  readPeers,
} from '../../clients/cassandra/index.ts';

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

/**
 * What a keyspace's ring depends on, read cheaply over CQL: every node's address, DC, rack and tokens
 * and the keyspace's replication. Two equal keys mean `describering` would print the same ring.
 */
export async function ringKey(cql: CqlSession, keyspace: string): Promise<string> {
  const local = await readLocal(cql);
  const peers = await readPeers(cql);
  const replication = (await readKeyspaces(cql)).find((k) => k.name === keyspace)?.replication ?? {};
  const nodes = [local, ...peers]
    .map((n) => `${n.address}|${n.dc}|${n.rack}|${n.tokens.join(',')}`)
    .sort()
    .join(';');
  return createHash('sha256')
    .update(`${keyspace}\n${JSON.stringify(Object.entries(replication).sort())}\n${nodes}`)
    .digest('hex');
}

/**
 * A node's rings by keyspace, kept while the topology and replication stay the same: a wave's
 * orders then cost a few CQL reads instead of a nodetool JVM per keyspace.
 */
const cache = new Map<string, { key: string; ring: RingRange[] }>();

export async function cachedRing(
  cql: CqlSession,
  nodetool: Nodetool,
  keyspace: string,
  call: NodetoolCall,
): Promise<RingRange[]> {
  const key = await ringKey(cql, keyspace);
  const slot = `${cql.address}|${keyspace}`;
  const hit = cache.get(slot);
  if (hit?.key === key) return hit.ring;
  const ring = await describeRing(nodetool, keyspace, call);
  cache.set(slot, { key, ring });
  return ring;
}

/** Ranges `host` replicates (optionally only where it counts in `datacenter`). */
export function rangesOf(ring: RingRange[], host: string, datacenter?: string): CassandraRange[] {
  return ring
    .filter((r) =>
      r.endpoints.some((e) => e.host === host && (datacenter === undefined || e.datacenter === datacenter)),
    )
    .map((r) => r.range);
}

/**
 * The ranges an `owned` mask (at `at` in the params) selects among those `address` replicates for
 * `keyspace`, or the problem: the ring changed since the plan was written, or the mask is malformed.
 */
export function ownedRanges(
  owned: CassandraOwnedMask,
  replicated: readonly CassandraRange[],
  address: string,
  keyspace: string,
  at: string,
): CassandraRange[] | InvalidInputError {
  const picked = resolveOwnedMask(owned, replicated);
  if (Array.isArray(picked)) return picked;
  return picked.field === 'ring'
    ? new InvalidInputError(
        `${at}.owned`,
        `count ${owned.count}, digest ${owned.digest}`,
        `the ranges ${address} replicates for ${keyspace} (${picked.expected}): the ring changed since the plan was written; generate it again`,
      )
    : new InvalidInputError(`${at}.owned.mask`, owned.mask, picked.expected);
}
