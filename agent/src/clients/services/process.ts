// Manager "process": the agent supervises the engine as its own child. The child runs detached (its own
// session and process group, output appended to the log file) and is recorded in a pid file in the
// agent's stateDir, so it outlives an agent crash and a restarted agent finds it again. Each call
// checks first, acts only when needed, then reads the state again and reports it (Salt's service
// states are the model): start of a running service and stop of a stopped one are no-ops.
//
// State, from the pid file and /proc:
//   no pid file                                   → stopped (never started, or stopped by the agent)
//   pid file, same pid AND same start time alive  → running
//   pid file, that process gone                   → failed (exit code and signal when the agent saw it)
import {
  type DetachedExit,
  isProcessRunning,
  liveGroupMembers,
  SpawnError,
  signalGroup,
  startDetached,
} from '../../exec/index.ts';
import { ServiceStartError, ServiceStateFileError, ServiceStopError } from './errors.ts';
import { type PidRecord, readPidRecord, removePidRecord, writePidRecord } from './pid-file.ts';
import { pause, readLogTail, waitForPort, within } from './readiness.ts';
import type { ProcessServiceSettings } from './settings.ts';
import type {
  ServiceActionResult,
  ServiceCallOptions,
  ServiceDriver,
  ServiceLogger,
  ServiceOutcome,
  ServiceState,
  ServiceStatus,
} from './types.ts';

/** Without readyPort, how long start() watches for a program that exits at once. */
export const START_SETTLE_MS = 500;
/** After SIGKILL, how long stop() waits for the group to be gone before it gives up. */
export const KILL_WAIT_MS = 5_000;
const POLL_MS = 50;
const LOG_TAIL_LINES = 20;

export class ProcessService implements ServiceDriver {
  private readonly settings: ProcessServiceSettings;
  private readonly logger: ServiceLogger | undefined;
  /** Processes (`pid:startTicks`) this instance stopped: their exit is no failure. */
  private readonly stopping = new Set<string>();

  constructor(settings: ProcessServiceSettings, logger?: ServiceLogger) {
    this.settings = settings;
    this.logger = logger;
  }

  async status(): Promise<ServiceStatus> {
    return this.read().status;
  }

  async start(options: ServiceCallOptions = {}): Promise<ServiceActionResult> {
    const started = performance.now();
    options.signal?.throwIfAborted();
    const before = this.read();
    if (before.status.state === 'running') return this.report('start', 'already-running', before.status, started);
    await this.launch(options.signal);
    return this.report('start', 'started', before.status, started);
  }

  /**
   * SIGTERM to the process group, SIGKILL after stopTimeoutMs. Once signalled, a stop is seen through
   * (bounded by stopTimeoutMs + KILL_WAIT_MS) even if `signal` aborts: half a stop helps nobody.
   */
  async stop(options: ServiceCallOptions = {}): Promise<ServiceActionResult> {
    const started = performance.now();
    options.signal?.throwIfAborted();
    const before = this.read();
    if (before.status.state !== 'running' || !before.record) {
      // A failed service's record is cleared: it is now stopped, as asked.
      if (before.record) removePidRecord(this.settings.name, this.settings.pidFile);
      return this.report('stop', 'already-stopped', before.status, started);
    }
    const stoppedBy = await this.terminate(before.record);
    removePidRecord(this.settings.name, this.settings.pidFile);
    return { ...this.report('stop', 'stopped', before.status, started), stoppedBy };
  }

  async restart(options: ServiceCallOptions = {}): Promise<ServiceActionResult> {
    const started = performance.now();
    options.signal?.throwIfAborted();
    const before = this.read();
    let stoppedBy: ServiceActionResult['stoppedBy'];
    if (before.status.state === 'running' && before.record) {
      stoppedBy = await this.terminate(before.record);
      removePidRecord(this.settings.name, this.settings.pidFile);
    }
    await this.launch(options.signal);
    const outcome = before.status.state === 'running' ? 'restarted' : 'started';
    return { ...this.report('restart', outcome, before.status, started), ...(stoppedBy ? { stoppedBy } : {}) };
  }

  private read(): { record: PidRecord | undefined; status: ServiceStatus } {
    const { name, pidFile } = this.settings;
    const record = readPidRecord(name, pidFile);
    const base = { service: name, manager: 'process' as const };
    if (!record) return { record, status: { ...base, state: 'stopped' } };
    if (isProcessRunning(record.pid, record.startTicks))
      return { record, status: { ...base, state: 'running', pid: record.pid, since: record.since } };
    const { exit } = record;
    const status: ServiceStatus = { ...base, state: 'failed', pid: record.pid };
    if (exit) {
      Object.assign(status, { since: exit.at, exitCode: exit.exitCode, signal: exit.signal });
      status.detail = exit.detail ?? describeExit(exit);
    } else {
      status.detail = 'exited while no agent was watching';
    }
    return { record, status };
  }

  private report(
    action: ServiceActionResult['action'],
    outcome: ServiceOutcome,
    before: ServiceStatus,
    startedAt: number,
  ): ServiceActionResult {
    const changed = outcome !== 'already-running' && outcome !== 'already-stopped';
    const beforeState: ServiceState = before.state;
    return {
      service: this.settings.name,
      action,
      outcome,
      changed,
      before: beforeState,
      status: this.read().status,
      durationMs: Math.round(performance.now() - startedAt),
    };
  }

  /** Starts the program, records it, and waits until it is ready (or shown not to be). */
  private async launch(signal: AbortSignal | undefined): Promise<void> {
    const { name, argv, cwd, env, logFile, pidFile, readyPort, readyTimeoutMs } = this.settings;
    let child: Awaited<ReturnType<typeof startDetached>>;
    try {
      child = await startDetached({
        argv,
        cwd,
        env,
        logFile,
        banner: `--- ${new Date().toISOString()} drover-agent starts service ${name} ---`,
      });
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      throw new ServiceStartError(name, 'spawn', error.message, { logFile }, { cause: error });
    }
    const record: PidRecord = { v: 1, pid: child.pid, startTicks: child.startTicks, since: Date.now() };
    try {
      writePidRecord(name, pidFile, record);
    } catch (error) {
      // Unrecorded, the child could be neither found nor stopped later: do not leave it behind.
      signalGroup(child.pid, 'SIGKILL');
      throw error;
    }
    this.logger?.info('service started', { service: name, pid: child.pid });
    child.exited.then((exit) => this.recordExit(record, exit));

    const alive = () => isProcessRunning(record.pid, record.startTicks);
    if (readyPort) {
      // An abort while waiting leaves the process running (and recorded): status() tells the truth.
      const outcome = await waitForPort(readyPort, readyTimeoutMs, alive, signal);
      if (outcome.ready) return;
      if (outcome.why === 'timeout') {
        const stoppedBy = await this.terminate(record);
        const detail = `${readyPort.host}:${readyPort.port} did not accept connections within readyTimeoutMs ${readyTimeoutMs} (last: ${outcome.lastError}); stopped it with ${stoppedBy}`;
        this.writeExit(record, { exitCode: null, signal: stoppedBy, at: Date.now(), detail });
        throw this.startError('not-ready', detail, undefined);
      }
    } else {
      const exited = await within(child.exited, START_SETTLE_MS, signal);
      if (exited === undefined) return;
    }
    // Gone during start: the exit comes from this process's own child handle.
    const exit = await within(child.exited, KILL_WAIT_MS);
    throw this.startError('exited', exit ? `${describeExit(exit)} during start` : 'exited during start', exit);
  }

  private startError(reason: 'exited' | 'not-ready', detail: string, exit: DetachedExit | undefined) {
    const { name, logFile } = this.settings;
    return new ServiceStartError(name, reason, detail, {
      exitCode: exit?.exitCode,
      signal: exit?.signal,
      logFile,
      logTail: readLogTail(logFile, LOG_TAIL_LINES),
    });
  }

  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves with the signal that ended the group. */
  private async terminate(record: PidRecord): Promise<'SIGTERM' | 'SIGKILL'> {
    const { name, stopTimeoutMs } = this.settings;
    this.stopping.add(`${record.pid}:${record.startTicks}`);
    signalGroup(record.pid, 'SIGTERM');
    if (await this.waitGone(record, stopTimeoutMs)) return 'SIGTERM';
    this.logger?.warn('service still running after SIGTERM; sending SIGKILL', { service: name, stopTimeoutMs });
    signalGroup(record.pid, 'SIGKILL');
    if (await this.waitGone(record, KILL_WAIT_MS)) return 'SIGKILL';
    throw new ServiceStopError(name, `pid ${record.pid} still running ${KILL_WAIT_MS} ms after SIGKILL`, record.pid);
  }

  /** Whether the leader AND everything left in its process group ended within `timeoutMs`. */
  private async waitGone(record: PidRecord, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!isProcessRunning(record.pid, record.startTicks) && liveGroupMembers(record.pid).length === 0) return true;
      if (Date.now() >= deadline) return false;
      await pause(POLL_MS);
    }
  }

  /** Notes an exit nobody asked for in the pid file, so status() says how the service failed. */
  private recordExit(record: PidRecord, exit: DetachedExit): void {
    if (this.stopping.delete(`${record.pid}:${record.startTicks}`)) return;
    this.logger?.warn('service exited', { service: this.settings.name, pid: record.pid, ...exit });
    this.writeExit(record, exit);
  }

  private writeExit(record: PidRecord, exit: DetachedExit & { detail?: string }): void {
    const { name, pidFile } = this.settings;
    try {
      const current = readPidRecord(name, pidFile);
      // Only this run's record: a stop or a newer start may have replaced it meanwhile.
      if (current?.pid !== record.pid || current.startTicks !== record.startTicks || current.exit) return;
      writePidRecord(name, pidFile, { ...current, exit });
    } catch (error) {
      // Runs from an exit handler, where a throw would crash the agent: the failure is logged instead.
      if (!(error instanceof ServiceStateFileError)) throw error;
      this.logger?.warn('cannot record service exit', { service: name, error: error.message });
    }
  }
}

function describeExit(exit: { exitCode: number | null; signal: string | null }): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
}
