// Starts a long-lived program the agent supervises but does not wait for (a local engine): argv only,
// never a shell; its own session and process group, so it survives the agent and can be stopped as a
// group; stdout and stderr appended to a log file rather than piped (a pipe would die with the agent).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SpawnError } from './errors.ts';
import { readProcStat } from './process-group.ts';

export interface StartDetachedOptions {
  argv: readonly [string, ...string[]];
  cwd?: string | undefined;
  /** Added to (and overriding) the agent's own environment. */
  env?: Readonly<Record<string, string>> | undefined;
  /** stdout and stderr are appended here; its folder is created if missing. */
  logFile: string;
  /** A line written to the log before the program starts (who started it, when). */
  banner?: string | undefined;
}

export interface DetachedExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface DetachedProcess {
  pid: number;
  /** From /proc/<pid>/stat: with the pid, identifies this process after an agent restart. */
  startTicks: number;
  /** Settles when the process exits, as long as this agent process lives (it is the parent). */
  exited: Promise<DetachedExit>;
}

/** Starts `argv` detached; rejects with SpawnError when it cannot be started. */
export async function startDetached(options: StartDetachedOptions): Promise<DetachedProcess> {
  const [program, ...args] = options.argv;
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a', 0o640);
  let child: ReturnType<typeof spawn>;
  try {
    if (options.banner) writeSync(fd, `${options.banner}\n`);
    child = spawn(program, args, {
      shell: false,
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  const exited = new Promise<DetachedExit>((resolve) => {
    child.once('exit', (exitCode, signal) => resolve({ exitCode, signal, at: Date.now() }));
  });
  const { pid } = child;
  if (pid === undefined) {
    // Not started (ENOENT, EACCES, bad cwd): the reason comes as an 'error' event.
    const cause = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new SpawnError(program, { cause });
  }
  // Read at once, synchronously: until this process reaps it, even a child that already exited is in /proc.
  const stat = readProcStat(pid);
  // The agent must be able to exit (or restart) while the program goes on running.
  child.unref();
  if (stat === undefined) throw new SpawnError(program, { cause: new Error(`pid ${pid} vanished from /proc at once`) });
  return { pid, startTicks: stat.startTicks, exited };
}
