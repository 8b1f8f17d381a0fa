// nodetool for the local node: the argv prefix comes from the agent's LOCAL config
// (`cassandra.nodetoolArgv`, e.g. ["/usr/bin/nodetool", "-h", "127.0.0.1", "-p", "7199"]); what is
// appended is built here from checked values only and run through exec/ (argv, never a shell).
// Cassandra's own error text is kept: nodetool prints it as "error: …" (and a stack trace after).
import { CassandraAddressSchema, CassandraDcSchema, CassandraNameSchema, InvalidInputError } from '@drover/shared';
import { type OutputStream, runProcess } from '../../exec/index.ts';
import { NodetoolError } from './errors.ts';
import { tokenRangesArgument } from './ranges.ts';

/**
 * Output kept for parsing: `describering` of a big cluster is megabytes (a line per range, every
 * replica's details), and parsing a cut-off output would silently drop ranges.
 */
export const NODETOOL_CAPTURE_BYTES = 64 * 1024 * 1024;

export interface NodetoolCall {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  onOutput?: ((stream: OutputStream, text: string) => void) | undefined;
}

function check(field: string, schema: { safeParse(v: unknown): { success: boolean } }, value: string, what: string) {
  if (!schema.safeParse(value).success) throw new InvalidInputError(field, value, what);
}

/** The line of nodetool's output that says what went wrong (Cassandra's own words). */
export function nodetoolErrorText(stdout: string, stderr: string): string {
  const text = `${stderr}\n${stdout}`;
  const line = /^error: (.+)$/m.exec(text)?.[1] ?? /^(?:Exception|Caused by)[^\n]*?: (.+)$/m.exec(text)?.[1];
  if (line) return line.trim();
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.at(-1) ?? '(no output)';
}

export class Nodetool {
  readonly #prefix: readonly string[];

  constructor(argv: readonly string[]) {
    this.#prefix = argv;
  }

  /** Runs one subcommand; NodetoolError (with Cassandra's error text) on a non-zero exit. */
  async run(args: string[], call: NodetoolCall = {}): Promise<string> {
    const [program, ...prefix] = this.#prefix;
    if (!program) throw new InvalidInputError('cassandra.nodetoolArgv', this.#prefix, 'a program and its arguments');
    const result = await runProcess({
      argv: [program, ...prefix, ...args],
      timeoutMs: call.timeoutMs ?? 120_000,
      signal: call.signal,
      onOutput: call.onOutput,
      captureBytes: NODETOOL_CAPTURE_BYTES,
    });
    if (result.timedOut)
      throw new NodetoolError(args[0] ?? '', null, `timed out after ${call.timeoutMs ?? 120_000} ms`);
    if (result.exitCode !== 0)
      throw new NodetoolError(args[0] ?? '', result.exitCode, nodetoolErrorText(result.stdout, result.stderr));
    if (result.truncated)
      throw new NodetoolError(
        args[0] ?? '',
        result.exitCode,
        `output over ${NODETOOL_CAPTURE_BYTES} bytes, not parsed`,
      );
    return result.stdout;
  }

  /** `nodetool rebuild -ks KS -ts RANGES -s SOURCE -- SOURCE_DC`: synchronous, returns when done. */
  rebuildArgv(keyspace: string, ranges: ReadonlyArray<readonly [string, string]>, source: string, sourceDc: string) {
    check('keyspace', CassandraNameSchema, keyspace, 'a keyspace name');
    check('source', CassandraAddressSchema, source, 'a node address');
    check('sourceDc', CassandraDcSchema, sourceDc, 'a datacenter name');
    return ['rebuild', '-ks', keyspace, '-ts', tokenRangesArgument(ranges), '-s', source, '--', sourceDc];
  }

  /** Replica addresses of one key, as this node computes them. */
  async getEndpoints(keyspace: string, table: string, key: string, call: NodetoolCall = {}): Promise<string[]> {
    check('keyspace', CassandraNameSchema, keyspace, 'a keyspace name');
    check('table', CassandraNameSchema, table, 'a table name');
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(key)) throw new InvalidInputError('key', key, 'a simple text partition key');
    const out = await this.run(['getendpoints', keyspace, table, key], call);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^[\w.:-]+$/.test(l));
  }

  /** `nodetool status`: each node's address, datacenter and up/down state as this node sees them. */
  async status(call: NodetoolCall = {}): Promise<NodeLiveness[]> {
    return parseStatus(await this.run(['status'], call));
  }

  /** `nodetool netstats`' Mode line: NORMAL, JOINING, LEAVING, DECOMMISSIONED, DRAINING, DRAINED, MOVING. */
  async mode(call: NodetoolCall = {}): Promise<string> {
    const out = await this.run(['netstats'], call);
    return /^Mode: (\w+)/m.exec(out)?.[1] ?? 'UNKNOWN';
  }
}

export interface NodeLiveness {
  address: string;
  datacenter: string;
  up: boolean;
  /** N(ormal), L(eaving), J(oining), M(oving). */
  state: string;
  rack: string;
}

/** Parses `nodetool status`: "Datacenter: X" headers, then lines like `UN  127.0.0.2  …`. */
export function parseStatus(out: string): NodeLiveness[] {
  const nodes: NodeLiveness[] = [];
  let datacenter = '';
  for (const line of out.split('\n')) {
    const dc = /^Datacenter: (.+)$/.exec(line.trim());
    if (dc) {
      datacenter = dc[1]!.trim();
      continue;
    }
    const m = /^([UD])([NLJM])\s+([0-9A-Za-z.:-]+)\s/.exec(line.trim());
    if (m)
      nodes.push({
        address: m[3]!.replace(/:\d+$/, ''),
        datacenter,
        up: m[1] === 'U',
        state: m[2]!,
        rack: line.trim().split(/\s+/).at(-1) ?? '',
      });
  }
  return nodes;
}
