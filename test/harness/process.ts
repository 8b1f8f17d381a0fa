// Managed processes for tests against real servers: every engine (and the agent fault tests) starts
// its processes here, so there is one place that logs them, stops them, and kills whatever is left
// when the test process ends, even on failure.
//
// Cleanup contract:
// - Every started process is SIGKILLed (its whole process group) when the test process exits:
//   normal exit, SIGINT/SIGTERM/SIGHUP, or an uncaught exception (which ends in 'exit').
// - If the test process itself is SIGKILLed, its children survive it; the next test process that
//   starts a managed process reaps them (pid records under os.tmpdir()/drover-test-pids, matched by
//   pid AND kernel start time, so a recycled pid is never killed).
// - Temp dirs from makeTempDir() are removed at exit when the run passed, and KEPT (paths printed on
//   stderr) when it failed. "Failed" means: the exit code is non-zero (node:test sets exitCode 1 in a
//   test file's process when any test in it fails), or an uncaught exception was seen, or
//   keepTempDirs() was called. DROVER_KEEP_TEST_DIRS=1 keeps them always.
// - Children are unref'd: a test that forgets to stop one does not hang its file; the exit hook
//   kills it. Awaiting `exited`, stop() or kill() keeps the event loop alive until the exit.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailedError, ProcessExitedError, ProcessStartError, WaitTimeoutError } from './errors.ts';

export interface StartProcessOptions {
  /** Unique within the run; names the log file `<logDir>/<name>.log`. */
  name: string;
  command: string;
  args: string[];
  /** Merged over process.env. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Folder of the log file (created if missing). A restart with the same name appends to it. */
  logDir: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr of the process, appended after a header line per start. */
  readonly logFile: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Undefined while running. */
  readonly exitInfo: ExitInfo | undefined;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs the process group. Resolves on exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL (the whole process group), for fault tests. Resolves on exit. */
  kill(): Promise<ExitInfo>;
  /** Peak resident set size (VmHWM) in bytes: live while running, last sample after stop/kill. */
  peakRssBytes(): number | undefined;
  /** The last `lines` lines of the log file. */
  logTail(lines?: number): string;
}

const PID_RECORD_DIR = path.join(os.tmpdir(), 'drover-test-pids');
const live = new Set<ManagedProcess>();
const tempDirs: string[] = [];
let failureSeen = false;
let keepReason: string | undefined;
let hooksInstalled = false;
let reaped = false;

class ManagedProcess implements ProcessHandle {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<ExitInfo>;
  readonly #recordFile: string;
  #exitInfo: ExitInfo | undefined;
  #peakRss: number | undefined;

  constructor(name: string, child: ChildProcess, logFile: string, recordFile: string, exited: Promise<ExitInfo>) {
    this.name = name;
    this.#child = child;
    this.pid = child.pid!;
    this.logFile = logFile;
    this.#recordFile = recordFile;
    this.#exited = exited.then((info) => {
      this.#exitInfo = info;
      live.delete(this);
      fs.rmSync(this.#recordFile, { force: true });
      return info;
    });
  }

  get exited(): Promise<ExitInfo> {
    this.#child.ref();
    return this.#exited;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  peakRssBytes(): number | undefined {
    if (this.#exitInfo === undefined) this.#peakRss = readPeakRss(this.pid) ?? this.#peakRss;
    return this.#peakRss;
  }

  logTail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<ExitInfo> {
    if (this.#exitInfo) return this.#exitInfo;
    this.peakRssBytes();
    this.#child.ref();
    signalGroup(this.pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const first = await Promise.race([this.#exited, timeout]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    return this.kill();
  }

  async kill(): Promise<ExitInfo> {
    if (this.#exitInfo) return this.#exitInfo;
    this.peakRssBytes();
    this.#child.ref();
    signalGroup(this.pid, 'SIGKILL');
    return this.#exited;
  }

  /** Synchronous last resort, used by the exit hook. */
  killNow(): void {
    signalGroup(this.pid, 'SIGKILL');
    fs.rmSync(this.#recordFile, { force: true });
  }
}

/**
 * Starts `command` as its own process group with stdout+stderr appended to `<logDir>/<name>.log`.
 * Resolves once the OS has spawned it; rejects with ProcessStartError (e.g. ENOENT) otherwise.
 */
export async function startProcess(options: StartProcessOptions): Promise<ProcessHandle> {
  installExitHooks();
  reapOrphans();
  fs.mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const commandLine = [options.command, ...options.args].join(' ');
  fs.appendFileSync(logFile, `=== ${new Date().toISOString()} start ${options.name}: ${commandLine}\n`);
  const fd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } catch (cause) {
    fs.closeSync(fd);
    throw new ProcessStartError(options.name, commandLine, logFile, { cause });
  }
  fs.closeSync(fd);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (cause) => reject(new ProcessStartError(options.name, commandLine, logFile, { cause })));
  });
  child.unref();
  const recordFile = writePidRecord(child.pid!, options.name, logFile);
  const handle = new ManagedProcess(options.name, child, logFile, recordFile, exited);
  live.add(handle);
  return handle;
}

/**
 * Runs a multi-process start; if it throws, SIGKILLs the processes `started()` returns (their logs stay)
 * before rethrowing, so a failed start does not leave a half cluster running for the rest of the file.
 */
export async function killOnFailure<T>(start: () => Promise<T>, started: () => ProcessHandle[]): Promise<T> {
  try {
    return await start();
  } catch (error) {
    await Promise.all(started().map((p) => p.kill()));
    throw error;
  }
}

/** Every managed process still running in this test process. */
export function liveProcesses(): ProcessHandle[] {
  return [...live];
}

/**
 * A fresh folder `os.tmpdir()/drover-test-<prefix>-XXXXXX`, removed at exit if the run passed and kept
 * (path printed) if it failed. See the cleanup contract at the top of this file.
 */
export function makeTempDir(prefix: string): string {
  installExitHooks();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `drover-test-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Forces the temp dirs of this run to be kept (e.g. from a test's own failure handling). */
export function keepTempDirs(reason: string): void {
  keepReason ??= reason;
}

export interface WaitForOptions {
  /** Names the condition in the timeout error ("nats-2 to accept connections"). */
  what: string;
  timeoutMs: number;
  /** @default 250 */
  intervalMs?: number;
  /** Fail at once (with the log tail) if any of these exits while waiting. */
  processes?: ProcessHandle[];
}

/**
 * Calls `fn` until it returns a truthy value (which is returned) or `timeoutMs` passes; a throw counts
 * as "not yet". The timeout error names `what` and carries the last error as its cause.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, options: WaitForOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 250;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    for (const p of options.processes ?? []) {
      if (p.exitInfo) {
        throw new ProcessExitedError(p.name, p.exitInfo.code, p.exitInfo.signal, p.logFile, p.logTail(30), {
          cause: new Error(`while waiting for ${options.what}`),
        });
      }
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const value = await withTimeout(Promise.resolve().then(fn), remaining);
      if (value) return value as NonNullable<T>;
      lastValue = value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  const detail =
    lastError instanceof Error
      ? `last error: ${lastError.message}`
      : lastError !== undefined
        ? `last error: ${String(lastError)}`
        : `last value: ${String(lastValue)}`;
  throw new WaitTimeoutError(options.what, options.timeoutMs, detail, { cause: lastError });
}

const handedOutPorts = new Set<number>();

/** A TCP port free on `host` right now (never the same one twice in this process). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (!handedOutPorts.has(port)) {
      handedOutPorts.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no new free port found on ${host} after 50 attempts`);
}

/** Whether a TCP connection to host:port is accepted within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** @default 120000 */
  timeoutMs?: number;
  /** Text written to stdin, which is then closed. */
  input?: string;
  /** Also append the command line and its output to this file. */
  logFile?: string;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as received. */
  output: string;
  stdout: string;
  durationMs: number;
}

/** Runs a short command to completion (CLI tools: NodeTool, ZooKeeperMain, StorageTool). Never throws on exit code. */
export function runCommand(command: string, args: string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      output += `\n[harness: killed after ${timeoutMs} ms]\n`;
      signalGroup(child.pid ?? 0, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (cause) => {
      clearTimeout(timer);
      reject(new CommandFailedError([command, ...args].join(' '), null, String(cause), { cause }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (options.logFile) {
        fs.appendFileSync(options.logFile, `=== ${[command, ...args].join(' ')} -> ${code ?? signal}\n${output}\n`);
      }
      resolve({ code, signal, output, stdout, durationMs: Date.now() - started });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like runCommand, but throws CommandFailedError unless the exit code is 0. */
export async function runCommandOk(
  command: string,
  args: string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) throw new CommandFailedError([command, ...args].join(' '), result.code, result.output);
  return result;
}

/** The last `lines` lines of a text file ('' if it does not exist). */
export function tailFile(file: string, lines = 40): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`attempt still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function readPeakRss(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Kernel start time of a pid (clock ticks since boot), to tell a process from a later one with its pid. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

interface PidRecord {
  pid: number;
  start: string | undefined;
  owner: number;
  ownerStart: string | undefined;
  name: string;
  logFile: string;
}

function writePidRecord(pid: number, name: string, logFile: string): string {
  fs.mkdirSync(PID_RECORD_DIR, { recursive: true });
  const record: PidRecord = {
    pid,
    start: startTimeOf(pid),
    owner: process.pid,
    ownerStart: startTimeOf(process.pid),
    name,
    logFile,
  };
  const file = path.join(PID_RECORD_DIR, `${process.pid}-${pid}.json`);
  fs.writeFileSync(file, JSON.stringify(record));
  return file;
}

/** Kills processes left behind by a test process that died without running its exit hook. */
function reapOrphans(): void {
  if (reaped) return;
  reaped = true;
  let files: string[];
  try {
    files = fs.readdirSync(PID_RECORD_DIR);
  } catch {
    return;
  }
  for (const file of files) {
    const full = path.join(PID_RECORD_DIR, file);
    try {
      const record = JSON.parse(fs.readFileSync(full, 'utf8')) as PidRecord;
      const ownerAlive = record.ownerStart !== undefined && startTimeOf(record.owner) === record.ownerStart;
      if (ownerAlive) continue;
      if (record.start !== undefined && startTimeOf(record.pid) === record.start) {
        process.stderr.write(`harness: killing orphan ${record.name} (pid ${record.pid}, log ${record.logFile})\n`);
        signalGroup(record.pid, 'SIGKILL');
      }
      fs.rmSync(full, { force: true });
    } catch {
      fs.rmSync(full, { force: true });
    }
  }
}

let cleanedUp = false;

function cleanupAtExit(exitCode: number): void {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const p of live) p.killNow();
  live.clear();
  const failed = exitCode !== 0 || failureSeen || keepReason !== undefined;
  const keepAlways = process.env.DROVER_KEEP_TEST_DIRS === '1';
  if (tempDirs.length === 0) return;
  if (failed || keepAlways) {
    const why =
      keepReason ?? (failureSeen ? 'uncaught exception' : failed ? `exit code ${exitCode}` : 'DROVER_KEEP_TEST_DIRS=1');
    process.stderr.write(`harness: kept test folders (${why}):\n${tempDirs.map((d) => `  ${d}\n`).join('')}`);
    return;
  }
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
    } catch (error) {
      process.stderr.write(`harness: could not remove ${dir}: ${String(error)}\n`);
    }
  }
  tempDirs.length = 0;
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', (code) => cleanupAtExit(code ?? Number(process.exitCode ?? 0)));
  process.on('uncaughtExceptionMonitor', () => {
    failureSeen = true;
  });
  const signals: [NodeJS.Signals, number][] = [
    ['SIGINT', 2],
    ['SIGTERM', 15],
    ['SIGHUP', 1],
  ];
  for (const [signal, number] of signals) {
    process.once(signal, () => {
      cleanupAtExit(128 + number);
      // Someone else (node:test's own handler) will exit; otherwise die of the signal as usual.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
