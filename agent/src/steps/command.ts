// `command` step: runs one entry of the agent's LOCAL allow-list (config `commands`). The order names
// the entry and gives values for the parameters that entry declares; every value must match the
// entry's pattern in full, and is substituted into the configured argv — one value, one argv element,
// no shell anywhere, so `a; rm -rf /` or `$(id)` can at worst reach the program as literal text.
// The program (argv[0]) is never taken from the order.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { type AllowedCommand, type CommandParamsType, commandStep, describeValue } from '@drover/shared';
import { ConfigError, NotAllowedError, StepFailedError } from '../errors.ts';
import { implementStep, type StepContext } from './context.ts';

/** Bytes of stdout and of stderr kept in the result (the LAST bytes: that is where errors and summaries are). */
export const CAPTURE_BYTES = 64 * 1024;
/** Time between SIGTERM and SIGKILL when a command is cancelled or times out. */
export const KILL_GRACE_MS = 3_000;
/** How much of stderr (or stdout) an error message quotes; the full output went out as log events. */
const MESSAGE_TAIL_CHARS = 512;

const PLACEHOLDER = /\{([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\}/g;

export interface ResolvedCommand {
  name: string;
  argv: [string, ...string[]];
  timeoutMs: number | undefined;
  cwd: string | undefined;
}

/** Compiles an entry's pattern so that it must match the WHOLE value. */
function compilePattern(entryName: string, param: string, pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (cause) {
    throw new ConfigError(
      `commands.${entryName}.params.${param}.pattern: got ${describeValue(pattern)}, expected a valid JavaScript regular expression`,
      { cause },
    );
  }
}

/**
 * Checks one allow-list entry as configured: patterns compile, every `{placeholder}` names a declared
 * parameter, and argv[0] (the program) has no placeholder. Throws ConfigError. Meant for config loading
 * and `--check-config` as well as for each run.
 */
export function checkCommandEntry(name: string, entry: AllowedCommand): void {
  for (const [param, spec] of Object.entries(entry.params)) compilePattern(name, param, spec.pattern);
  entry.argv.forEach((element, index) => {
    for (const match of element.matchAll(PLACEHOLDER)) {
      const param = match[1] as string;
      if (index === 0) {
        throw new ConfigError(
          `commands.${name}.argv[0]: got ${describeValue(element)}, expected a fixed program path (no {placeholder}: an order must not choose the program)`,
        );
      }
      if (!Object.hasOwn(entry.params, param)) {
        throw new ConfigError(
          `commands.${name}.argv[${index}]: placeholder {${param}} names no declared parameter; declared: ${listOrNone(Object.keys(entry.params))}`,
        );
      }
    }
  });
}

/** Checks every entry of an allow-list; see checkCommandEntry. */
export function checkCommandAllowList(commands: Readonly<Record<string, AllowedCommand>>): void {
  for (const [name, entry] of Object.entries(commands)) checkCommandEntry(name, entry);
}

function listOrNone(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}

/**
 * Turns an order's params into the argv to run, refusing anything the local allow-list does not
 * allow (NotAllowedError) and reporting a broken entry as ConfigError. Pure: no I/O.
 */
export function resolveCommand(
  commands: Readonly<Record<string, AllowedCommand>>,
  params: CommandParamsType,
): ResolvedCommand {
  const { name } = params;
  const args = params.args ?? {};
  // hasOwn, not `in`: "constructor" or "__proto__" must not resolve to Object.prototype members.
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    throw new NotAllowedError(
      'params.name',
      `got ${describeValue(name)}, expected a command from this agent's allow-list: ${listOrNone(Object.keys(commands))}`,
    );
  }
  checkCommandEntry(name, entry);
  const declared = Object.keys(entry.params);
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(entry.params, key)) {
      throw new NotAllowedError(
        `params.args.${key}`,
        `command ${describeValue(name)} declares no parameter ${describeValue(key)}; declared: ${listOrNone(declared)}`,
      );
    }
  }
  const values = new Map<string, string>();
  for (const [param, spec] of Object.entries(entry.params)) {
    const value = Object.hasOwn(args, param) ? args[param] : undefined;
    if (value === undefined) {
      throw new NotAllowedError(
        `params.args.${param}`,
        `missing; command ${describeValue(name)} requires it (a value matching /${spec.pattern}/ in full)`,
      );
    }
    if (!compilePattern(name, param, spec.pattern).test(value)) {
      throw new NotAllowedError(
        `params.args.${param}`,
        `got ${describeValue(value)}, expected a value matching /${spec.pattern}/ in full`,
      );
    }
    values.set(param, value);
  }
  // One pass with a callback: a substituted value is never scanned for placeholders again.
  const argv = entry.argv.map((element) => element.replace(PLACEHOLDER, (_, param: string) => values.get(param) ?? ''));
  return { name, argv: argv as [string, ...string[]], timeoutMs: entry.timeoutMs, cwd: entry.cwd };
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  private readonly limit: number;
  total = 0;
  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept - (this.chunks[0]?.length ?? 0) >= this.limit) this.kept -= this.chunks.shift()?.length ?? 0;
  }

  get truncated(): boolean {
    return this.total > this.limit;
  }

  toString(): string {
    let bytes = Buffer.concat(this.chunks);
    if (bytes.length > this.limit) bytes = bytes.subarray(bytes.length - this.limit);
    // Do not start inside a multi-byte UTF-8 character.
    let start = 0;
    while (start < bytes.length && start < 4 && ((bytes[start] as number) & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}

function tail(text: string, chars: number): string {
  const trimmed = text.trimEnd();
  return trimmed.length > chars ? `...${trimmed.slice(trimmed.length - chars)}` : trimmed;
}

/** Runs a resolved command without a shell, streaming its output; resolves with its outcome. */
async function run(ctx: StepContext, command: ResolvedCommand) {
  ctx.signal.throwIfAborted();
  const started = performance.now();
  ctx.logger.info('command starting', { name: command.name });
  const [program, ...rest] = command.argv;
  // detached: the child leads its own process group, so cancellation reaches whatever it started too.
  const child = spawn(program, rest, {
    shell: false,
    cwd: command.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const captured = { stdout: new TailBuffer(CAPTURE_BYTES), stderr: new TailBuffer(CAPTURE_BYTES) };
  for (const stream of ['stdout', 'stderr'] as const) {
    const decoder = new StringDecoder('utf8');
    child[stream].on('data', (chunk: Buffer) => {
      captured[stream].push(chunk);
      const text = decoder.write(chunk);
      if (text) ctx.output(stream, text);
    });
    child[stream].on('end', () => {
      const text = decoder.end();
      if (text) ctx.output(stream, text);
    });
  }

  let stopReason: 'aborted' | 'timeout' | undefined;
  const timers: NodeJS.Timeout[] = [];
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    // The whole group, even when its leader has exited: what it started may still hold the pipes.
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal); // the group is gone (or never formed); fall back to the child itself
    }
  };
  const stop = (reason: 'aborted' | 'timeout') => {
    if (stopReason) return;
    stopReason = reason;
    ctx.logger.warn('command stopping', { name: command.name, reason });
    signalGroup('SIGTERM');
    timers.push(setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS));
  };
  const onAbort = () => stop('aborted');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (command.timeoutMs !== undefined) timers.push(setTimeout(() => stop('timeout'), command.timeoutMs));

  let outcome: { exitCode: number | null; signal: NodeJS.Signals | null };
  try {
    outcome = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', () => {
        // A grandchild that left the process group may hold the pipes open: do not wait for it forever.
        timers.push(
          setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
          }, KILL_GRACE_MS),
        );
      });
      child.once('close', (exitCode, signal) => resolve({ exitCode, signal }));
    });
  } catch (cause) {
    throw new StepFailedError(
      `command ${describeValue(command.name)}: cannot run ${describeValue(program)}: ${(cause as Error).message}`,
      { exitCode: null, signal: null },
      { cause },
    );
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    for (const timer of timers) clearTimeout(timer);
  }

  const durationMs = Math.round(performance.now() - started);
  const result = {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    stdout: captured.stdout.toString(),
    stderr: captured.stderr.toString(),
    truncated: captured.stdout.truncated || captured.stderr.truncated,
    durationMs,
  };
  ctx.logger.info('command finished', {
    name: command.name,
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs,
  });
  if (stopReason === 'aborted') ctx.signal.throwIfAborted();
  const details = {
    exitCode: result.exitCode,
    signal: result.signal,
    stdoutTail: tail(result.stdout, 4096),
    stderrTail: tail(result.stderr, 4096),
    durationMs,
  };
  if (stopReason === 'timeout') {
    throw new StepFailedError(
      `command ${describeValue(command.name)}: did not finish within its timeoutMs ${command.timeoutMs} (stopped by ${result.signal ?? 'exit'})`,
      { ...details, timedOut: true },
    );
  }
  if (result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    const quoted = tail(result.stderr || result.stdout, MESSAGE_TAIL_CHARS);
    throw new StepFailedError(
      `command ${describeValue(command.name)} ${how}, expected exit code 0${quoted ? `: ${quoted}` : ''}`,
      details,
    );
  }
  return result;
}

export const commandImplementation = implementStep(commandStep, async (ctx, params) =>
  run(ctx, resolveCommand(ctx.agent.commands, params)),
);
