// Parsers of the four-letter words' answers (ZooKeeper 3.5–3.9 print them the same way), pure so they
// are tested on recorded answers (agent/test/clients/zookeeper/fixtures). Formats:
//   srvr  "Key: value" lines:  `Zxid: 0x100000004`, `Mode: observer`, `Node count: 7`
//   mntr  "key<TAB>value" lines: `zk_server_state	observer`, `zk_peer_state	observing - broadcast`
//   conf  "key=value" lines, then `membership: ` and the dynamic config (`server.N=…`, `version=…`)
import { ZooKeeperResponseError } from './errors.ts';
import { parseEnsembleConfig } from './server-line.ts';
import type { ConfStats, MntrStats, ServerMode, SrvrStats } from './types.ts';

const MODES: readonly ServerMode[] = ['leader', 'follower', 'observer', 'standalone', 'read-only'];

/** `0x100000004` → `0x100000004`; `0X00A` → `0xa`; undefined when not a zxid (at most 64 bits). */
export function normalizeZxid(text: string): string | undefined {
  if (!/^0[xX][0-9a-fA-F]{1,16}$/.test(text)) return undefined;
  return `0x${BigInt(text).toString(16)}`;
}

/** Negative, 0 or positive as zxid `a` is before, equal to or after `b` (normalized or not). */
export function compareZxid(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/** The election epoch (high 32 bits) and the counter within it (low 32 bits). */
export function splitZxid(zxid: string): { epoch: number; counter: number } {
  const value = BigInt(zxid);
  return { epoch: Number(value >> 32n), counter: Number(value & 0xffffffffn) };
}

/** Splits lines on the first `separator`; keys and values trimmed; lines without it are skipped. */
function fieldsOf(raw: string, separator: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of raw.split('\n')) {
    const at = line.indexOf(separator);
    if (at <= 0) continue;
    fields[line.slice(0, at).trim()] = line.slice(at + separator.length).trim();
  }
  return fields;
}

class FieldReader {
  readonly fields: Record<string, string>;
  private readonly raw: string;
  private readonly address: string;
  private readonly word: string;
  constructor(fields: Record<string, string>, raw: string, address: string, word: string) {
    this.fields = fields;
    this.raw = raw;
    this.address = address;
    this.word = word;
  }
  private fail(problem: string): never {
    throw new ZooKeeperResponseError(this.address, this.word, problem, this.raw);
  }
  text(key: string): string {
    const value = this.fields[key];
    if (value === undefined) this.fail(`no "${key}" in the answer`);
    return value;
  }
  int(key: string): number {
    const value = this.text(key);
    if (!/^-?\d+$/.test(value)) this.fail(`"${key}" is not an integer: ${JSON.stringify(value)}`);
    return Number(value);
  }
  optionalInt(key: string): number | null {
    return this.fields[key] === undefined ? null : this.int(key);
  }
  zxid(key: string): string {
    const value = this.text(key);
    const zxid = normalizeZxid(value);
    if (zxid === undefined) this.fail(`"${key}" is not a zxid: ${JSON.stringify(value)}`);
    return zxid;
  }
  mode(key: string): ServerMode {
    const value = this.text(key);
    if (!(MODES as readonly string[]).includes(value)) this.fail(`"${key}" is not a known mode: ${value}`);
    return value as ServerMode;
  }
  latency(key: string): { min: number; avg: number; max: number } {
    const parts = this.text(key).split('/').map(Number);
    if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n))) this.fail(`"${key}" is not min/avg/max`);
    const [min, avg, max] = parts as [number, number, number];
    return { min, avg, max };
  }
}

export function parseSrvr(raw: string, address = ''): SrvrStats {
  const r = new FieldReader(fieldsOf(raw, ': '), raw, address, 'srvr');
  return {
    version: r.text('Zookeeper version'),
    mode: r.mode('Mode'),
    zxid: r.zxid('Zxid'),
    nodeCount: r.int('Node count'),
    connections: r.int('Connections'),
    outstanding: r.int('Outstanding'),
    received: r.int('Received'),
    sent: r.int('Sent'),
    latencyMs: r.latency('Latency min/avg/max'),
  };
}

export function parseMntr(raw: string, address = ''): MntrStats {
  const r = new FieldReader(fieldsOf(raw, '\t'), raw, address, 'mntr');
  return {
    version: r.text('zk_version'),
    serverState: r.text('zk_server_state'),
    peerState: r.fields.zk_peer_state ?? null,
    znodeCount: r.int('zk_znode_count'),
    ephemeralsCount: r.optionalInt('zk_ephemerals_count'),
    watchCount: r.optionalInt('zk_watch_count'),
    outstandingRequests: r.optionalInt('zk_outstanding_requests'),
    aliveConnections: r.optionalInt('zk_num_alive_connections'),
    learners: r.optionalInt('zk_learners'),
    syncedFollowers: r.optionalInt('zk_synced_followers'),
    syncedObservers: r.optionalInt('zk_synced_observers'),
    fields: r.fields,
  };
}

export function parseConf(raw: string, address = ''): ConfStats {
  const marker = raw.search(/^membership:/m);
  const settings = marker < 0 ? raw : raw.slice(0, marker);
  const membership = marker < 0 ? '' : raw.slice(marker).replace(/^membership:[^\n]*\n?/, '');
  const r = new FieldReader(fieldsOf(settings, '='), raw, address, 'conf');
  const peerType = r.fields.peerType;
  return {
    serverId: r.optionalInt('serverId'),
    clientPort: r.optionalInt('clientPort'),
    dataDir: r.fields.dataDir ?? null,
    peerType: peerType === '1' ? 'observer' : peerType === '0' ? 'participant' : null,
    membership: parseEnsembleConfig(membership, `${address} conf`),
    fields: r.fields,
  };
}
