// Structured agent logging: one JSON object per line on stderr (journald keeps it). Callers pass
// fields, never whole configs or orders, so credentials and parameter values stay out of logs.
import type { StepLogger } from './steps/context.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger extends StepLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  base: Record<string, unknown> = {},
  minLevel: LogLevel = (process.env.DROVER_LOG_LEVEL as LogLevel) || 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < (ORDER[minLevel] ?? 20)) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...base, ...fields }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, minLevel, write),
  };
}

/** A logger that drops everything (for many in-process agents in benchmarks). */
export function silentLogger(): Logger {
  return createLogger({}, 'error', () => {});
}
