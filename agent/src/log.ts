// Structured agent logging: one JSON object per line on stderr (journald keeps it), written by pino
// behind the agent's own small Logger interface. Callers pass fields, never whole configs or orders;
// and because one slip would put a password in a journal shipped to a bucket, pino's redaction also
// replaces the value of every key that names a secret (`pass`, `token`, `secretAccessKey`,
// `authorization`, …), at the top and up to four levels down, with "[redacted]".
// A line: {"level":"info","ts":"2026-…Z","agentId":"kafka-a-1","durable":"agent-kafka-a-1","msg":"agent ready"}
import pino from 'pino';
import type { StepLogger } from './steps/context.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

export interface Logger extends StepLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Keys whose values never reach a log line, wherever they sit. */
export const SECRET_KEYS = [
  'pass',
  'password',
  'passphrase',
  'token',
  'secret',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'authorization',
  'Authorization',
  'privateKey',
] as const;
const REDACT_DEPTH = 4;

/** pino redact paths: each key at the top and under up to REDACT_DEPTH levels of any key. */
export function redactPaths(keys: readonly string[] = SECRET_KEYS, depth = REDACT_DEPTH): string[] {
  return keys.flatMap((key) => Array.from({ length: depth + 1 }, (_, d) => [...Array(d).fill('*'), key].join('.')));
}

export function createLogger(
  base: Record<string, unknown> = {},
  minLevel: LogLevel = (process.env.DROVER_LOG_LEVEL as LogLevel) || 'info',
  write?: (line: string) => void,
): Logger {
  const destination = write
    ? { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) }
    : // Synchronous: the last lines before a crash (or kill -9) are on stderr, not in a buffer.
      pino.destination({ fd: 2, sync: true });
  const root = pino(
    {
      level: LEVELS.includes(minLevel) ? minLevel : 'info',
      base: null,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: '[redacted]' },
    },
    destination,
  );
  return wrap(Object.keys(base).length > 0 ? root.child(base) : root);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (message, fields) => p.debug(fields ?? {}, message),
    info: (message, fields) => p.info(fields ?? {}, message),
    warn: (message, fields) => p.warn(fields ?? {}, message),
    error: (message, fields) => p.error(fields ?? {}, message),
    child: (fields) => wrap(p.child(fields)),
  };
}

/** A logger that drops everything (for many in-process agents in benchmarks). */
export function silentLogger(): Logger {
  return wrap(pino({ level: 'silent' }));
}
