// Processes by pid, read from /proc: signalling a whole process group, and telling whether a pid is
// still the process that was started (pids are reused, so a pid alone proves nothing after a restart:
// the start time in /proc/<pid>/stat does).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, X (dead)… */
  state: string;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** Start time in clock ticks after boot: with the pid, identifies one process for the life of the host. */
  startTicks: number;
}

/** The process's /proc stat, or undefined when there is no such process. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
  // Field 2 (comm) is in parentheses and may itself hold spaces or ")": fields start after the LAST ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); ppid is 4, pgrp 5, starttime 22 (proc(5)).
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    startTicks: Number(fields[19]),
  };
}

function isLive(stat: ProcStat | undefined): stat is ProcStat {
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Whether `pid` runs (a zombie does not), and, when `startTicks` is given, is the same process. */
export function isProcessRunning(pid: number, startTicks?: number): boolean {
  const stat = readProcStat(pid);
  return isLive(stat) && (startTicks === undefined || stat.startTicks === startTicks);
}

/** Live (non-zombie) members of process group `pgid`, its leader included. */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (isLive(stat) && stat.pgrp === pgid) members.push(stat.pid);
  }
  return members;
}

/**
 * Sends `signal` to every process of group `pgid`. Returns false when the group no longer exists;
 * any other failure (EPERM) is thrown.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
