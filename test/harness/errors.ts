// Errors of the engine test harness: one class per failure, each naming what failed and where the
// logs are, so a red test run can be diagnosed from its output alone.

import { DroverError, type DroverErrorOptions } from '@drover/shared';

/** A managed process could not be started (binary missing, spawn error). */
export class ProcessStartError extends DroverError {
  readonly processName: string;
  readonly command: string;
  readonly logFile: string;
  constructor(processName: string, command: string, logFile: string, options: DroverErrorOptions = {}) {
    super(`could not start ${processName} (${command}); log: ${logFile}`, options);
    this.name = 'ProcessStartError';
    this.processName = processName;
    this.command = command;
    this.logFile = logFile;
  }
}

/** A managed process exited while the harness still needed it (e.g. during a readiness wait). */
export class ProcessExitedError extends DroverError {
  readonly processName: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly logFile: string;
  constructor(
    processName: string,
    code: number | null,
    signal: NodeJS.Signals | null,
    logFile: string,
    logTail: string,
    options: DroverErrorOptions = {},
  ) {
    super(
      `${processName} exited (code ${code}, signal ${signal}); log: ${logFile}` +
        (logTail ? `\n--- last lines of ${logFile} ---\n${logTail}` : ''),
      options,
    );
    this.name = 'ProcessExitedError';
    this.processName = processName;
    this.code = code;
    this.signal = signal;
    this.logFile = logFile;
  }
}

/** A readiness condition did not hold within its time budget. `cause` is the last check's error. */
export class WaitTimeoutError extends DroverError {
  readonly what: string;
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number, detail: string, options: DroverErrorOptions = {}) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail}` : ''}`, {
      retryable: true,
      ...options,
    });
    this.name = 'WaitTimeoutError';
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}

/** Something the harness needs is not installed; the message says which setup step brings it. */
export class MissingDependencyError extends DroverError {
  readonly dependency: string;
  constructor(dependency: string, remedy: string, options: DroverErrorOptions = {}) {
    super(`${dependency} is missing: ${remedy}`, options);
    this.name = 'MissingDependencyError';
    this.dependency = dependency;
  }
}

/** A command the harness ran to completion (a CLI, a tool class) failed. */
export class CommandFailedError extends DroverError {
  readonly command: string;
  readonly code: number | null;
  readonly output: string;
  constructor(command: string, code: number | null, output: string, options: DroverErrorOptions = {}) {
    const tail = output.length > 4000 ? `...${output.slice(-4000)}` : output;
    super(`command failed (exit ${code}): ${command}\n${tail}`, options);
    this.name = 'CommandFailedError';
    this.command = command;
    this.code = code;
    this.output = output;
  }
}
