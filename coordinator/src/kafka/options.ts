// Planner options: small documented fields, defaults and checks in one place (resolvePlanOptions),
// and the parsers for the operator's text forms (`--throttle 50MB/s`, `--map 1=101,2=102`).

import { InvalidInputError, InvalidInputErrors } from '@drover/shared';

export type MoveOrder = 'small-first' | 'large-first';

/** Destinations chosen automatically (balanced, rack-aware), optionally with a new replication factor. */
export interface AutoPlacement {
  mode: 'auto';
  /** Replication factor of every partition on the destination. @default each partition's current RF */
  rf?: number;
}

/** Destinations given by an explicit source→destination broker map; a partition keeps its RF. */
export interface MapPlacement {
  mode: 'map';
  map: ReadonlyMap<number, number>;
}

export interface PlanOptions {
  placement: AutoPlacement | MapPlacement;
  /** Concurrent expand moves a broker takes part in, as source or destination (Cruise Control's default). @default 5 */
  perBrokerMoves?: number;
  /** Replication throttle set on every broker of an expand batch, bytes/s. @default 50_000_000 (50MB/s) */
  throttleBytesPerSec?: number;
  /** Expand order by partition size. @default 'small-first' (early progress; problems show up quickly) */
  order?: MoveOrder;
  /** Partitions per leaders/shrink batch (Cruise Control's election batch). @default 1000 */
  electionBatchMax?: number;
  /** Partitions per broker per leaders/shrink batch (Cruise Control's per-broker election cap). @default 250 */
  electionPerBrokerMax?: number;
}

export interface ResolvedPlanOptions {
  placement: AutoPlacement | MapPlacement;
  perBrokerMoves: number;
  throttleBytesPerSec: number;
  order: MoveOrder;
  electionBatchMax: number;
  electionPerBrokerMax: number;
}

export const DEFAULT_PER_BROKER_MOVES = 5;
export const DEFAULT_THROTTLE_BYTES_PER_SEC = 50_000_000;
export const DEFAULT_ORDER: MoveOrder = 'small-first';
export const DEFAULT_ELECTION_BATCH_MAX = 1000;
export const DEFAULT_ELECTION_PER_BROKER_MAX = 250;

/** Fills defaults and checks every field; throws InvalidInputErrors naming each bad one. */
export function resolvePlanOptions(options: PlanOptions): ResolvedPlanOptions {
  const problems: InvalidInputError[] = [];
  const positiveInt = (field: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 1)
      problems.push(new InvalidInputError(field, value, 'an integer >= 1'));
    return value;
  };
  const { placement } = options;
  if (placement.mode === 'auto' && placement.rf !== undefined) positiveInt('--rf', placement.rf, 1);
  const order = options.order ?? DEFAULT_ORDER;
  if (order !== 'small-first' && order !== 'large-first') {
    problems.push(new InvalidInputError('--order', order, '"small-first" or "large-first"'));
  }
  const resolved: ResolvedPlanOptions = {
    placement,
    perBrokerMoves: positiveInt('--per-broker', options.perBrokerMoves, DEFAULT_PER_BROKER_MOVES),
    throttleBytesPerSec: positiveInt('--throttle', options.throttleBytesPerSec, DEFAULT_THROTTLE_BYTES_PER_SEC),
    order,
    electionBatchMax: positiveInt('electionBatchMax', options.electionBatchMax, DEFAULT_ELECTION_BATCH_MAX),
    electionPerBrokerMax: positiveInt(
      'electionPerBrokerMax',
      options.electionPerBrokerMax,
      DEFAULT_ELECTION_PER_BROKER_MAX,
    ),
  };
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  return resolved;
}

const RATE_UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};
const RATE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kKMG]i?B|B)?(?:\/s)?$/;

/**
 * Parses a rate into whole bytes/s: `50MB/s` (MB = 10^6), `10MiB/s` (MiB = 2^20), `1048576`
 * (bare number: bytes/s), `1.5GB/s`; `/s` is optional. Units are case-sensitive because `Mb` means
 * megabits elsewhere.
 */
export function parseThrottle(text: string, field = '--throttle'): number {
  const match = RATE_PATTERN.exec(text.trim());
  const unit = match?.[2] ?? 'B';
  const scale = RATE_UNITS[unit];
  const bytes = match && scale !== undefined ? Math.floor(Number(match[1]) * scale) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidInputError(field, text, 'a rate of at least 1 byte/s like 50MB/s, 10MiB/s or 1048576 (bytes/s)');
  }
  return bytes;
}

/** Parses `1=101,2=102` (spaces allowed) into a source→destination map; syntax only, see placement for meaning. */
export function parseBrokerMap(text: string, field = '--map'): Map<number, number> {
  const problems: InvalidInputError[] = [];
  const map = new Map<number, number>();
  const entries = text.split(',').map((e) => e.trim());
  for (const entry of entries) {
    const match = /^(\d+)\s*=\s*(\d+)$/.exec(entry);
    if (!match) {
      problems.push(
        new InvalidInputError(field, entry, 'entries like 1=101 (source broker id = destination broker id)'),
      );
      continue;
    }
    const from = Number(match[1]);
    const to = Number(match[2]);
    if (map.has(from))
      problems.push(new InvalidInputError(field, entry, `one entry per source broker (${from} is mapped twice)`));
    map.set(from, to);
  }
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  return map;
}
