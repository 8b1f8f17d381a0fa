// Short commands run to completion (CLI tools such as NodeTool, ZooKeeperMain, Kafka's StorageTool),
// with a time limit that kills the command's whole process group.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { CommandFailedError } from './errors.ts';

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

/** Sends `signal` to the process group led by `pid` (falls back to the process alone). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
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
