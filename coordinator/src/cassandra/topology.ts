// Reads and checks a topology file: `{ partitioner, nodes: [{ address, hostId, dc, rack, tokens }],
// keyspaces: [{ name, replication }] }`. Every problem is reported at once (InvalidInputErrors), each
// naming the field, the value and what was expected.

import { InvalidInputError, InvalidInputErrors, textOf } from '@drover/shared';
import { parseReplication } from './replication.ts';
import { buildRing, type Ring } from './ring.ts';
import { readToken } from './tokens.ts';
import type { Topology, TopologyKeyspace, TopologyNode } from './types.ts';

const PARTITIONERS = new Set(['Murmur3Partitioner', 'org.apache.cassandra.dht.Murmur3Partitioner']);
/** Stop collecting after this many problems: a broken 100k-token file should not print 100k lines. */
const MAX_PROBLEMS = 25;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && value === value.trim();
}

/** Validates a parsed topology file and returns it with tokens in canonical decimal form. */
export function parseTopology(input: unknown): Topology {
  const problems: InvalidInputError[] = [];
  const problem = (field: string, value: unknown, expected: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(new InvalidInputError(field, value, expected));
  };
  if (!isRecord(input)) throw new InvalidInputErrors([new InvalidInputError('topology', input, 'a JSON object')]);

  if (typeof input.partitioner !== 'string' || !PARTITIONERS.has(input.partitioner)) {
    problem('partitioner', input.partitioner, '"Murmur3Partitioner" (the only partitioner Drover places)');
  }
  const nodes: TopologyNode[] = [];
  const addresses = new Set<string>();
  if (!Array.isArray(input.nodes) || input.nodes.length === 0) problem('nodes', input.nodes, 'a non-empty array');
  for (const [i, raw] of (Array.isArray(input.nodes) ? input.nodes : []).entries()) {
    const at = `nodes[${i}]`;
    if (!isRecord(raw)) {
      problem(at, raw, 'an object { address, hostId, dc, rack, tokens }');
      continue;
    }
    const { address, hostId, dc, rack, tokens } = raw;
    if (!isName(address)) problem(`${at}.address`, address, 'the node broadcast address as a non-empty string');
    else if (addresses.has(address)) problem(`${at}.address`, address, 'an address no other node has');
    else addresses.add(address);
    if (hostId !== undefined && typeof hostId !== 'string') problem(`${at}.hostId`, hostId, 'a string (or absent)');
    if (!isName(dc)) problem(`${at}.dc`, dc, 'the data_center name as a non-empty string');
    if (!isName(rack)) problem(`${at}.rack`, rack, 'the rack name as a non-empty string');
    const canonical: string[] = [];
    if (!Array.isArray(tokens) || tokens.length === 0) {
      problem(`${at}.tokens`, tokens, 'a non-empty array of decimal token strings');
    } else {
      const key = new Float64Array(2);
      for (const [j, token] of tokens.entries()) {
        const text = typeof token === 'string' ? readToken(token, key) : undefined;
        if (text === undefined) {
          problem(`${at}.tokens[${j}]`, token, 'a Murmur3 token: a decimal string in [-2^63, 2^63-1]');
        } else {
          canonical.push(text);
        }
      }
    }
    if (isName(address) && isName(dc) && isName(rack)) {
      nodes.push({ address, ...(typeof hostId === 'string' ? { hostId } : {}), dc, rack, tokens: canonical });
    }
  }

  const keyspaces: TopologyKeyspace[] = [];
  const names = new Set<string>();
  if (!Array.isArray(input.keyspaces)) problem('keyspaces', input.keyspaces, 'an array (may be empty)');
  for (const [i, raw] of (Array.isArray(input.keyspaces) ? input.keyspaces : []).entries()) {
    const at = `keyspaces[${i}]`;
    if (!isRecord(raw)) {
      problem(at, raw, 'an object { name, replication }');
      continue;
    }
    const { name, replication } = raw;
    if (!isName(name)) problem(`${at}.name`, name, 'a keyspace name');
    else if (names.has(name)) problem(`${at}.name`, name, 'a name no other keyspace has');
    else names.add(name);
    if (!isRecord(replication)) {
      problem(`${at}.replication`, replication, 'the replication map of system_schema.keyspaces');
      continue;
    }
    try {
      parseReplication(`keyspaces[${textOf(name)}].replication`, replication);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problem(error.field, error.value, error.expected);
      continue;
    }
    // Normalise factors given as JSON numbers to the text system_schema stores.
    const normalised = Object.fromEntries(Object.entries(replication).map(([k, v]) => [k, textOf(v)]));
    if (isName(name)) keyspaces.push({ name, replication: normalised });
  }

  if (problems.length > 0) throw new InvalidInputErrors(problems);
  return { partitioner: input.partitioner as string, nodes, keyspaces };
}

/** Parses a topology file's JSON text and builds its ring (duplicate tokens are reported here). */
export function loadTopology(text: string, source = 'topology'): { topology: Topology; ring: Ring } {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputErrors([
      new InvalidInputError(source, text.slice(0, 60), `JSON (${(error as Error).message})`, { cause: error }),
    ]);
  }
  const topology = parseTopology(input);
  try {
    return { topology, ring: buildRing(topology) };
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputErrors([error]);
    throw error;
  }
}
