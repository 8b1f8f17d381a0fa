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
import os from 'node:os';
import path from 'node:path';
import { InvalidInputError } from '@drover/shared';
import { signalGroup } from './commands.ts';
import { ProcessStartError } from './errors.ts';

// The readiness and command helpers live in their own files; re-exported so tests import one module.
export { type CommandResult, type RunCommandOptions, runCommand, runCommandOk } from './commands.ts';
export { canConnect, freePort, type WaitForOptions, waitFor } from './wait.ts';

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

/**
 * What every engine member (a NATS server, a ZooKeeper member, a Kafka broker, a Cassandra node)
 * has: its current process, replaced on restart.
 */
export abstract class ProcessMember {
  abstract readonly name: string;
  #process: ProcessHandle | undefined;
  get process(): ProcessHandle {
    if (!this.#process) throw new Error(`${this.name} was never started`);
    return this.#process;
  }
  set process(p: ProcessHandle) {
    this.#process = p;
  }
  get pid(): number {
    return this.process.pid;
  }
  get logFile(): string {
    return this.process.logFile;
  }
  get running(): boolean {
    return this.#process !== undefined && this.#process.exitInfo === undefined;
  }
}

/** Member i of a cluster, or all of them when i is undefined (for stop(i?), kill(i?)…). */
export function selectMembers<T>(members: readonly T[], i: number | undefined, what: string): T[] {
  if (i === undefined) return [...members];
  const member = members[i];
  if (member === undefined) throw new InvalidInputError(what, i, `0..${members.length - 1}`);
  return [member];
}

/**
 * stop(i?), kill(i?) and restart(i) for a cluster whose members start with `launch` and are ready
 * when `waitReady` resolves (the same three verbs on every engine handle).
 */
export function memberLifecycle<M extends ProcessMember>(
  select: (i: number | undefined) => M[],
  launch: (member: M) => Promise<unknown>,
  waitReady: (member: M) => Promise<unknown>,
) {
  return {
    async stop(i?: number): Promise<void> {
      await Promise.all(select(i).map((m) => m.process.stop('SIGTERM', 15_000)));
    },
    async kill(i?: number): Promise<void> {
      await Promise.all(select(i).map((m) => m.process.kill()));
    },
    async restart(i: number): Promise<void> {
      const [member] = select(i);
      if (!member) return;
      if (member.running) await member.process.stop('SIGTERM', 15_000);
      await launch(member);
      await waitReady(member);
    },
  };
}

/**
 * Starts members one after another, then waits until every one is ready; if any step fails, the
 * ones already running are killed (see killOnFailure).
 */
export async function startMembers<M extends ProcessMember>(
  members: readonly M[],
  launch: (member: M) => Promise<unknown>,
  waitReady: (member: M) => Promise<unknown>,
): Promise<void> {
  await killOnFailure(
    async () => {
      for (const member of members) await launch(member);
      await Promise.all(members.map(waitReady));
    },
    () => members.filter((m) => m.running).map((m) => m.process),
  );
}
