// Job options as the operator writes them (`--concurrency 10%`, `--timeout 5m`) and their checked,
// filled-in form. Defaults and checks live here and nowhere else.
import { InvalidInputError } from '@drover/shared';

/** A count given as a number or a percentage of the targets. */
export type CountOrPercent = { count: number } | { percent: number };

export function parseCountOrPercent(field: string, text: string): CountOrPercent {
  const trimmed = text.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(trimmed);
  if (percent) {
    const value = Number(percent[1]);
    if (value < 0 || value > 100) throw new InvalidInputError(field, text, 'a percentage from 0% to 100%');
    return { percent: value };
  }
  if (/^\d+$/.test(trimmed)) return { count: Number(trimmed) };
  throw new InvalidInputError(field, text, 'a whole number (e.g. 10) or a percentage of the targets (e.g. 25%)');
}

/** Resolves against the number of targets; a percentage rounds up so 10% of 5 targets is 1, not 0. */
export function resolveCount(value: CountOrPercent, total: number): number {
  return 'count' in value ? value.count : Math.ceil((value.percent / 100) * total);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Durations like `500ms`, `30s`, `5m`, `2h`, `1d`, or a plain number of seconds. */
export function parseDurationMs(field: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new InvalidInputError(field, text, 'a duration like 500ms, 30s, 5m, 2h or 1d');
  const ms = Math.round(Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000));
  if (ms <= 0) throw new InvalidInputError(field, text, 'a duration above zero');
  return ms;
}

export interface JobOptions {
  /** How many targets may have an order in flight at once. @default 100% */
  concurrency: CountOrPercent;
  /** Errors (failed, rejected, timed-out, no-response) tolerated before dispatching stops. @default 0 */
  maxErrors: CountOrPercent;
  /** Label whose values form groups run one after another (e.g. `rack`). @default none */
  serialBy?: string;
  /** How long a step may run once started. @default the step's own default */
  timeoutMs: number;
  /** How long an order waits for its agent before it ends as no-response. @default 5 minutes */
  deliveryTimeoutMs: number;
}

export const DEFAULT_DELIVERY_TIMEOUT_MS = 5 * 60_000;
/** Extra time after a step's timeout for its result to arrive before the target is timed-out. */
export const RESULT_GRACE_MS = 15_000;
/** Extra time after an order's delivery deadline for an in-flight `accepted` event to arrive. */
export const DELIVERY_GRACE_MS = 2_000;
/** How long the coordinator that drives a job holds it without renewing. */
export const LEASE_MS = 15_000;
