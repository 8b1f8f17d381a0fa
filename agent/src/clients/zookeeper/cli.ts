// `reconfig -add` through ZooKeeper's own Java CLI (org.apache.zookeeper.ZooKeeperMain): the pure-JS
// client has no reconfig, and a reconfig is rare (once per joining server). The argv prefix comes
// from the agent's LOCAL config (`zookeeper.cliArgv`); what is appended is built here from checked
// values only, and run through exec/ (argv, never a shell).
import { InvalidInputError } from '@drover/shared';
import { type OutputStream, runProcess } from '../../exec/index.ts';
import { ZooKeeperCliNotConfiguredError, ZooKeeperReconfigError } from './errors.ts';
import { formatAddress } from './four-letter.ts';
import { formatServerLine, parseEnsembleConfig, parseServerLine, sameServer, ZOOKEEPER_HOST } from './server-line.ts';
import type { EnsembleConfig, ZooKeeperAddress } from './types.ts';

/** A JVM start plus the reconfig round trip; a cold JVM takes 1–2 s. @default 60000 */
export const DEFAULT_RECONFIG_TIMEOUT_MS = 60_000;
/** ZooKeeperMain's session timeout (`-timeout`), so an unreachable server fails instead of hanging. */
const CLI_SESSION_TIMEOUT_MS = 15_000;

export interface ReconfigAddOptions {
  /** The argv prefix that runs ZooKeeperMain (local config). */
  cliArgv: readonly string[] | undefined;
  /** The voter to send the reconfig to. */
  server: ZooKeeperAddress;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Each chunk the CLI prints, as it comes. */
  onOutput?: ((stream: OutputStream, text: string) => void) | undefined;
}

export interface ReconfigAddResult {
  /** host:port of the voter asked. */
  server: string;
  line: string;
  /** The configuration ZooKeeper committed (printed after "Committed new configuration:"). */
  committed: EnsembleConfig;
  durationMs: number;
}

/** `<cli> -timeout T -server HOST:PORT reconfig <args>`, the server checked (args are checked by the callers). */
function reconfigArgv(
  cliArgv: readonly string[] | undefined,
  server: ZooKeeperAddress,
  args: readonly string[],
): [string, ...string[]] {
  const [program, ...prefix] = cliArgv ?? [];
  if (program === undefined) throw new ZooKeeperCliNotConfiguredError();
  if (!ZOOKEEPER_HOST.test(server.host)) throw new InvalidInputError('server.host', server.host, 'a host name or IPv4');
  if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65_535)
    throw new InvalidInputError('server.port', server.port, 'an integer 1..65535');
  return [
    program,
    ...prefix,
    '-timeout',
    String(CLI_SESSION_TIMEOUT_MS),
    '-server',
    formatAddress(server),
    'reconfig',
    ...args,
  ];
}

/** The full argv of `reconfig -add <line>`, refusing a line that is not exactly a well-formed server line. */
export function reconfigAddArgv(cliArgv: readonly string[] | undefined, server: ZooKeeperAddress, line: string) {
  const entry = parseServerLine(line);
  // Re-formatting must give the same text: nothing but checked fields can reach the command line.
  if (
    !entry ||
    entry.clientHost !== null ||
    entry.clientPort === null ||
    formatServerLine({ ...entry, clientPort: entry.clientPort }) !== line
  )
    throw new InvalidInputError('line', line, 'a server line as formatServerLine writes it');
  return reconfigArgv(cliArgv, server, ['-add', line]);
}

/** The full argv of `reconfig -remove <id>` (a server id 1..255, checked). */
export function reconfigRemoveArgv(cliArgv: readonly string[] | undefined, server: ZooKeeperAddress, id: number) {
  if (!Number.isInteger(id) || id < 1 || id > 255) throw new InvalidInputError('id', id, 'a server id 1..255');
  return reconfigArgv(cliArgv, server, ['-remove', String(id)]);
}

/**
 * Runs one reconfig command and returns the configuration ZooKeeper committed, checked by `holds`.
 * Throws ZooKeeperReconfigError when the CLI fails, commits nothing, or commits what `holds` refuses.
 */
async function runReconfig(
  argv: [string, ...string[]],
  what: string,
  options: ReconfigAddOptions,
  holds: (committed: EnsembleConfig) => string | undefined,
): Promise<{ server: string; committed: EnsembleConfig; durationMs: number }> {
  const where = formatAddress(options.server);
  const run = await runProcess({
    argv,
    timeoutMs: options.timeoutMs ?? DEFAULT_RECONFIG_TIMEOUT_MS,
    signal: options.signal,
    onOutput: options.onOutput,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  const outcome = { exitCode: run.exitCode, timedOut: run.timedOut, output };
  const marker = run.stdout.indexOf('Committed new configuration:');
  if (run.exitCode !== 0 || run.timedOut || marker < 0) throw new ZooKeeperReconfigError(where, what, outcome);
  const committed = parseEnsembleConfig(run.stdout.slice(marker), `${where} reconfig`);
  const wrong = holds(committed);
  if (wrong) throw new ZooKeeperReconfigError(where, what, { ...outcome, output: `${wrong}\n${output}` });
  return { server: where, committed, durationMs: run.durationMs };
}

/**
 * Runs `reconfig -add <line>` against `server` and checks that the committed configuration holds the
 * line. Throws ZooKeeperReconfigError when the CLI fails or commits something else.
 */
export async function reconfigAdd(line: string, options: ReconfigAddOptions): Promise<ReconfigAddResult> {
  const argv = reconfigAddArgv(options.cliArgv, options.server, line);
  const expected = parseServerLine(line);
  const done = await runReconfig(argv, line, options, (committed) =>
    expected && committed.members.some((m) => sameServer(m, { ...expected, clientPort: expected.clientPort ?? 0 }))
      ? undefined
      : 'committed configuration lacks the line',
  );
  return { ...done, line };
}

/**
 * Runs `reconfig -remove <id>` against `server` and checks that the committed configuration no longer
 * lists the id. Throws ZooKeeperReconfigError when the CLI fails or the id is still there.
 */
export async function reconfigRemove(
  id: number,
  options: ReconfigAddOptions,
): Promise<{ server: string; committed: EnsembleConfig; durationMs: number }> {
  const argv = reconfigRemoveArgv(options.cliArgv, options.server, id);
  return runReconfig(argv, `-remove ${id}`, options, (committed) =>
    committed.members.some((m) => m.id === id) ? `committed configuration still lists server.${id}` : undefined,
  );
}
