// Public entry of agent/src/exec: running local programs (argv only, never a shell) and the local
// allow-list policy. Steps and clients spawn through here, never by themselves.
export {
  checkCommandAllowList,
  checkCommandArgs,
  checkCommandEntry,
  findCommandEntry,
  type ResolvedCommand,
  resolveCommand,
  substituteArgv,
} from './allow-list.ts';
export { type DetachedExit, type DetachedProcess, type StartDetachedOptions, startDetached } from './detached.ts';
export { SpawnError } from './errors.ts';
export { isProcessRunning, liveGroupMembers, type ProcStat, readProcStat, signalGroup } from './process-group.ts';
export {
  CAPTURE_BYTES,
  KILL_GRACE_MS,
  type OutputStream,
  type RunProcessOptions,
  type RunProcessResult,
  runProcess,
} from './spawn.ts';
