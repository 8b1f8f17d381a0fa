// Manager "systemd": drives a configured unit through systemctl (argv only, through exec/), checking
// first and reading the state again after acting, like the process manager. The exact calls:
//   systemctl is-active <unit>                      → the check before start, stop, restart
//   systemctl start|stop|restart <unit>             → the act (systemctl waits for the job)
//   systemctl show -p MainPID,ActiveState <unit>    → status, and the state reported after acting
// The unit name comes from the agent's config and cannot start with "-" (schema), so it is never an option.
import { runProcess, SpawnError } from '../../exec/index.ts';
import { ServiceStartError, ServiceStopError, SystemctlError } from './errors.ts';
import { readLogTail, waitForPort } from './readiness.ts';
import type { SystemdServiceSettings } from './settings.ts';
import type {
  ServiceActionResult,
  ServiceCallOptions,
  ServiceDriver,
  ServiceOutcome,
  ServiceState,
  ServiceStatus,
} from './types.ts';

/** How long a query (is-active, show) may take. */
export const SYSTEMCTL_QUERY_TIMEOUT_MS = 15_000;
/** Added to stopTimeoutMs for `systemctl stop` (the unit's own TimeoutStopSec decides the SIGKILL). */
const STOP_MARGIN_MS = 5_000;
const CAPTURE_BYTES = 16 * 1024;
const LOG_TAIL_LINES = 20;

/** systemd's ActiveState (and is-active's answer) as a Drover service state. */
export function serviceStateOf(activeState: string): ServiceState | undefined {
  switch (activeState) {
    case 'active':
    case 'reloading':
    case 'refreshing':
      return 'running';
    case 'activating':
      return 'starting';
    case 'deactivating':
      return 'stopping';
    case 'failed':
      return 'failed';
    case 'inactive':
    case 'maintenance':
      return 'stopped';
    default:
      return undefined;
  }
}

/** Parses `systemctl show -p …` output (`Key=Value` lines). */
export function parseShow(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return values;
}

export class SystemdService implements ServiceDriver {
  private readonly settings: SystemdServiceSettings;

  constructor(settings: SystemdServiceSettings) {
    this.settings = settings;
  }

  async status(options: ServiceCallOptions = {}): Promise<ServiceStatus> {
    const args = ['show', '-p', 'MainPID,ActiveState', this.settings.unit];
    const result = await this.query(args, options.signal);
    const values = parseShow(result.stdout);
    const activeState = values.ActiveState ?? '';
    const state = serviceStateOf(activeState);
    if (!state) throw this.queryError(args, result, `answered ActiveState=${JSON.stringify(activeState)}`);
    const pid = Number(values.MainPID);
    return {
      service: this.settings.name,
      manager: 'systemd',
      state,
      ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}),
      detail: activeState,
    };
  }

  async start(options: ServiceCallOptions = {}): Promise<ServiceActionResult> {
    const started = performance.now();
    const before = await this.isActive(options.signal);
    if (before === 'running') return this.report('start', 'already-running', before, started, options.signal);
    await this.act('start', options.signal);
    return this.report('start', 'started', before, started, options.signal);
  }

  async stop(options: ServiceCallOptions = {}): Promise<ServiceActionResult> {
    const started = performance.now();
    const before = await this.isActive(options.signal);
    if (before === 'stopped' || before === 'failed')
      return this.report('stop', 'already-stopped', before, started, options.signal);
    await this.act('stop', options.signal);
    return this.report('stop', 'stopped', before, started, options.signal);
  }

  async restart(options: ServiceCallOptions = {}): Promise<ServiceActionResult> {
    const started = performance.now();
    const before = await this.isActive(options.signal);
    await this.act('restart', options.signal);
    return this.report('restart', before === 'running' ? 'restarted' : 'started', before, started, options.signal);
  }

  private async isActive(signal: AbortSignal | undefined): Promise<ServiceState> {
    const args = ['is-active', this.settings.unit];
    // Exit status is 0 only when active; the word on stdout says what else it is.
    const result = await this.query(args, signal);
    const word = result.stdout.trim();
    const state = serviceStateOf(word);
    if (!state) throw this.queryError(args, result, `answered ${JSON.stringify(word)}`);
    return state;
  }

  private async report(
    action: ServiceActionResult['action'],
    outcome: ServiceOutcome,
    before: ServiceState,
    startedAt: number,
    signal: AbortSignal | undefined,
  ): Promise<ServiceActionResult> {
    return {
      service: this.settings.name,
      action,
      outcome,
      changed: outcome !== 'already-running' && outcome !== 'already-stopped',
      before,
      status: await this.status({ signal }),
      durationMs: Math.round(performance.now() - startedAt),
    };
  }

  /** `systemctl start|stop|restart <unit>`, then, for start and restart, readyPort. */
  private async act(verb: 'start' | 'stop' | 'restart', signal: AbortSignal | undefined): Promise<void> {
    const { name, unit, systemctlPath, readyPort, readyTimeoutMs, stopTimeoutMs, logFile } = this.settings;
    const argv = [systemctlPath, verb, unit] as const;
    const timeoutMs = verb === 'stop' ? stopTimeoutMs + STOP_MARGIN_MS : readyTimeoutMs;
    const fail = (detail: string, cause?: unknown) => {
      const options = cause === undefined ? {} : { cause };
      if (verb === 'stop') return new ServiceStopError(name, `${argv.join(' ')} ${detail}`, undefined, options);
      const logTail = logFile ? readLogTail(logFile, LOG_TAIL_LINES) : [];
      return new ServiceStartError(name, 'systemctl', `${argv.join(' ')} ${detail}`, { logFile, logTail }, options);
    };
    let result: Awaited<ReturnType<typeof runProcess>>;
    try {
      result = await runProcess({ argv, timeoutMs, signal, captureBytes: CAPTURE_BYTES });
    } catch (error) {
      if (error instanceof SpawnError) throw fail(`could not run: ${error.message}`, error);
      throw error;
    }
    if (result.timedOut) throw fail(`did not return within ${timeoutMs} ms (systemd may still be working on it)`);
    if (result.exitCode !== 0) {
      const said = (result.stderr || result.stdout).trim();
      throw fail(`exited with ${result.signal ?? `code ${result.exitCode}`}${said ? `: ${said}` : ''}`);
    }
    if (verb === 'stop' || !readyPort) return;
    const ready = await waitForPort(readyPort, readyTimeoutMs, () => true, signal);
    if (!ready.ready) {
      const why = ready.why === 'timeout' ? ` (last: ${ready.lastError})` : '';
      throw new ServiceStartError(
        name,
        'not-ready',
        `${readyPort.host}:${readyPort.port} did not accept connections within readyTimeoutMs ${readyTimeoutMs}${why}; the unit is left to systemd`,
        { logFile, logTail: logFile ? readLogTail(logFile, LOG_TAIL_LINES) : [] },
      );
    }
  }

  private async query(args: string[], signal: AbortSignal | undefined) {
    const argv = [this.settings.systemctlPath, ...args] as const;
    try {
      const result = await runProcess({
        argv,
        timeoutMs: SYSTEMCTL_QUERY_TIMEOUT_MS,
        signal,
        captureBytes: CAPTURE_BYTES,
      });
      if (result.timedOut)
        throw this.queryError(args, result, `did not answer within ${SYSTEMCTL_QUERY_TIMEOUT_MS} ms`, true);
      return result;
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      throw new SystemctlError(this.settings.name, argv, null, '', `could not run: ${error.message}`, { cause: error });
    }
  }

  private queryError(
    args: string[],
    result: { exitCode: number | null; stderr: string },
    detail: string,
    retryable = false,
  ): SystemctlError {
    const argv = [this.settings.systemctlPath, ...args];
    return new SystemctlError(this.settings.name, argv, result.exitCode, result.stderr, detail, { retryable });
  }
}
