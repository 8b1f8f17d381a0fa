// ZooKeeper's `server.N` lines (zoo.cfg, /zookeeper/config, `conf`, `reconfig -add`), 3.5+ form:
//   server.11=10.0.0.5:2888:3888:observer;2181
//   server.1=zk1.example:2888:3888:participant;0.0.0.0:2181
// The agent WRITES such a line only from validated numbers and a validated host (formatServerLine
// checks them again, since the line goes into a config file and onto a command line); it READS them
// from ZooKeeper to compare membership.
import { InvalidInputError } from '@drover/shared';
import { ZooKeeperResponseError } from './errors.ts';
import type { EnsembleConfig, ServerEntry, ServerRole } from './types.ts';

/** A host name or IPv4 address; the same rule as the params and config schemas. */
export const ZOOKEEPER_HOST = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

export interface ServerLineInput {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: ServerRole;
  clientPort: number;
}

function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidInputError(field, value, `an integer ${min}..${max}`);
  return value;
}

/**
 * `server.<id>=<host>:<quorumPort>:<electionPort>:<role>;<clientPort>`: the client port alone, so the
 * server listens on every address (as `clientPort=` does in the static part; the two must agree).
 * Throws InvalidInputError naming the field when a value is not what a server line may hold.
 */
export function formatServerLine(input: ServerLineInput): string {
  const id = checkInt('id', input.id, 1, 255);
  if (typeof input.host !== 'string' || !ZOOKEEPER_HOST.test(input.host))
    throw new InvalidInputError('host', input.host, 'a host name or IPv4 address');
  const quorum = checkInt('quorumPort', input.quorumPort, 1, 65_535);
  const election = checkInt('electionPort', input.electionPort, 1, 65_535);
  const client = checkInt('clientPort', input.clientPort, 1, 65_535);
  if (input.role !== 'participant' && input.role !== 'observer')
    throw new InvalidInputError('role', input.role, 'participant or observer');
  return `server.${id}=${input.host}:${quorum}:${election}:${input.role};${client}`;
}

const LINE = /^server\.(\d{1,3})=([^;]+?)(?:;(.*))?$/;
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5}):(\d{1,5})$/;
const CLIENT = /^(?:(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):)?(\d{1,5})$/;

/** Reads one `server.N=…` line; undefined when it is not one. Multi-address lines (`a|b`) give the first. */
export function parseServerLine(line: string): ServerEntry | undefined {
  const match = LINE.exec(line.trim());
  if (!match) return undefined;
  const [, id, servers, client] = match as unknown as [string, string, string, string | undefined];
  let role: ServerRole = 'participant';
  let addresses = servers;
  const roleMatch = /:(participant|observer)$/.exec(addresses);
  if (roleMatch) {
    role = roleMatch[1] as ServerRole;
    addresses = addresses.slice(0, roleMatch.index);
  }
  const address = ADDRESS.exec(addresses.split('|')[0] ?? '');
  if (!address) return undefined;
  let clientHost: string | null = null;
  let clientPort: number | null = null;
  if (client !== undefined && client.trim() !== '') {
    const c = CLIENT.exec(client.trim());
    if (!c) return undefined;
    clientHost = c[1] ?? null;
    clientPort = Number(c[2]);
  }
  return {
    id: Number(id),
    host: address[1] as string,
    quorumPort: Number(address[2]),
    electionPort: Number(address[3]),
    role,
    clientHost,
    clientPort,
  };
}

/**
 * Reads a dynamic config (`server.N=…` lines and `version=…`, as in /zookeeper/config). Other lines
 * (`group.`, `weight.`) are skipped; a `server.` line that cannot be read is an error, since a
 * membership check on half a list would be wrong. `source` names where the text came from.
 */
export function parseEnsembleConfig(text: string, source: string): EnsembleConfig {
  const members: ServerEntry[] = [];
  let version: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('server.')) {
      const entry = parseServerLine(line);
      if (!entry) throw new ZooKeeperResponseError(source, 'config', `unreadable server line ${line}`, text);
      members.push(entry);
    } else if (line.startsWith('version=')) {
      version = line.slice('version='.length);
    }
  }
  return { members, version };
}

/** Whether an entry read from ZooKeeper is the server a line was made for (client host not compared). */
export function sameServer(entry: ServerEntry, expected: ServerLineInput): boolean {
  return (
    entry.id === expected.id &&
    entry.host === expected.host &&
    entry.quorumPort === expected.quorumPort &&
    entry.electionPort === expected.electionPort &&
    entry.role === expected.role &&
    (entry.clientPort === null || entry.clientPort === expected.clientPort)
  );
}
