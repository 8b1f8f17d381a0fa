// Failures of the service managers: one class per failure, each with the service's name and the data
// an operator needs (the configured names, the log's last lines, the exit code, the systemctl output).
import { DroverError, type DroverErrorOptions } from '@drover/shared';

/** A step named a service that this agent's config does not declare. */
export class UnknownServiceError extends DroverError {
  readonly service: string;
  readonly configured: readonly string[];
  constructor(service: string, configured: readonly string[]) {
    super(
      `service ${JSON.stringify(service)} is not configured on this agent; configured: ${configured.length ? configured.join(', ') : '(none)'}`,
    );
    this.name = 'UnknownServiceError';
    this.service = service;
    this.configured = configured;
  }
}

export type ServiceStartFailure =
  /** The program could not be started (missing, not executable, bad cwd). */
  | 'spawn'
  /** The process exited during start (at once, or before its port accepted connections). */
  | 'exited'
  /** readyPort did not accept connections within readyTimeoutMs (the process was stopped). */
  | 'not-ready'
  /** `systemctl start|restart` failed. */
  | 'systemctl';

/** A service did not start; `logTail` holds the last lines of its log file when there is one. */
export class ServiceStartError extends DroverError {
  readonly service: string;
  readonly reason: ServiceStartFailure;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly logFile: string | undefined;
  readonly logTail: string[];
  constructor(
    service: string,
    reason: ServiceStartFailure,
    detail: string,
    data: { exitCode?: number | null; signal?: string | null; logFile?: string | undefined; logTail?: string[] } = {},
    options: DroverErrorOptions = {},
  ) {
    const tail = data.logTail?.length ? `; last lines of ${data.logFile}:\n${data.logTail.join('\n')}` : '';
    super(`service ${JSON.stringify(service)} did not start: ${detail}${tail}`, {
      retryable: reason === 'not-ready',
      ...options,
    });
    this.name = 'ServiceStartError';
    this.service = service;
    this.reason = reason;
    this.exitCode = data.exitCode;
    this.signal = data.signal;
    this.logFile = data.logFile;
    this.logTail = data.logTail ?? [];
  }
}

/** A service is still running after stop (even SIGKILL did not end it, or `systemctl stop` failed). */
export class ServiceStopError extends DroverError {
  readonly service: string;
  readonly pid: number | undefined;
  constructor(service: string, detail: string, pid?: number, options: DroverErrorOptions = {}) {
    super(`service ${JSON.stringify(service)} did not stop: ${detail}`, options);
    this.name = 'ServiceStopError';
    this.service = service;
    this.pid = pid;
  }
}

/** systemctl could not answer a query (is-active, show): it timed out, or printed nothing usable. */
export class SystemctlError extends DroverError {
  readonly service: string;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(
    service: string,
    argv: readonly string[],
    exitCode: number | null,
    stderr: string,
    detail: string,
    options: DroverErrorOptions = {},
  ) {
    super(
      `service ${JSON.stringify(service)}: ${argv.join(' ')} ${detail}${stderr ? `: ${stderr.trim()}` : ''}`,
      options,
    );
    this.name = 'SystemctlError';
    this.service = service;
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** The agent's record of a process-managed service (its pid file) cannot be read or written. */
export class ServiceStateFileError extends DroverError {
  readonly service: string;
  readonly path: string;
  constructor(service: string, path: string, detail: string, options: DroverErrorOptions = {}) {
    super(`service ${JSON.stringify(service)}: pid file ${path} ${detail}`, options);
    this.name = 'ServiceStateFileError';
    this.service = service;
    this.path = path;
  }
}
