// Reads a rebuild plan back from JSON (for `drover cassandra verify-plan`): checks its shape only and
// reports every malformed field at once; whether the plan is *right* is verify.ts's job.

import { InvalidInputError, InvalidInputErrors, textOf } from '@drover/shared';
import { DEFAULT_MAX_STREAMS_PER_SOURCE } from './options.ts';
import type { AtRiskKind, AtRiskRange, KeyspacePlan, OrderItem, RebuildInvocation, RebuildPlan } from './types.ts';

const MAX_PROBLEMS = 25;
const AT_RISK_KINDS = new Set<string>(['source-down', 'destination-down', 'no-source-replica']);

type Check = (field: string, value: unknown, expected: string) => void;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(check: Check, field: string, value: unknown, expected: string): Record<string, unknown> {
  if (isRecord(value)) return value;
  check(field, value, expected);
  return {};
}

function str(check: Check, field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') check(field, value, 'a non-empty string');
  return textOf(value);
}

function list(check: Check, field: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) {
    check(field, value, 'an array');
    return [];
  }
  return value;
}

function range(check: Check, field: string, value: unknown): [string, string] {
  if (!Array.isArray(value) || value.length !== 2 || value.some((t) => typeof t !== 'string')) {
    check(field, value, 'a range ["start", "end"] of decimal token strings');
    return ['', ''];
  }
  return [value[0] as string, value[1] as string];
}

function part(check: Check, field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1) check(field, value, 'a part number >= 1 (or absent)');
  return value as number;
}

function rebuild(check: Check, at: string, raw: unknown): RebuildInvocation {
  const r = record(check, at, raw, 'an object { node, source, ranges, argv }');
  const result: RebuildInvocation = {
    node: str(check, `${at}.node`, r.node),
    source: str(check, `${at}.source`, r.source),
    ranges: list(check, `${at}.ranges`, r.ranges).map((x, i) => range(check, `${at}.ranges[${i}]`, x)),
    argv: list(check, `${at}.argv`, r.argv).map((x, i) => str(check, `${at}.argv[${i}]`, x)),
  };
  const p = part(check, `${at}.part`, r.part);
  if (p !== undefined) result.part = p;
  return result;
}

function atRisk(check: Check, at: string, raw: unknown): AtRiskRange {
  const r = record(check, at, raw, 'an object { node, range, reason }');
  const kind = r.kind === undefined ? 'source-down' : r.kind;
  if (typeof kind !== 'string' || !AT_RISK_KINDS.has(kind)) check(`${at}.kind`, r.kind, [...AT_RISK_KINDS].join(' | '));
  return {
    node: str(check, `${at}.node`, r.node),
    range: range(check, `${at}.range`, r.range),
    reason: str(check, `${at}.reason`, r.reason),
    kind: kind as AtRiskKind,
  };
}

function keyspace(check: Check, at: string, raw: unknown): KeyspacePlan {
  const k = record(check, at, raw, 'an object { name, rebuilds, atRisk }');
  return {
    name: str(check, `${at}.name`, k.name),
    strategy: typeof k.strategy === 'string' ? k.strategy : '',
    sourceReplicas: typeof k.sourceReplicas === 'number' ? k.sourceReplicas : 0,
    destReplicas: typeof k.destReplicas === 'number' ? k.destReplicas : 0,
    rebuilds: list(check, `${at}.rebuilds`, k.rebuilds).map((x, i) => rebuild(check, `${at}.rebuilds[${i}]`, x)),
    atRisk: list(check, `${at}.atRisk`, k.atRisk ?? []).map((x, i) => atRisk(check, `${at}.atRisk[${i}]`, x)),
    uncopied: [],
  };
}

function orderItem(check: Check, at: string, raw: unknown): OrderItem {
  const o = record(check, at, raw, 'an object { node, keyspace, source }');
  const item: OrderItem = {
    node: str(check, `${at}.node`, o.node),
    keyspace: str(check, `${at}.keyspace`, o.keyspace),
    source: str(check, `${at}.source`, o.source),
  };
  const p = part(check, `${at}.part`, o.part);
  if (p !== undefined) item.part = p;
  return item;
}

/** Checks the shape of a parsed plan file; fields it does not verify (findings, uncopied) are dropped. */
export function parsePlan(input: unknown): RebuildPlan {
  const problems: InvalidInputError[] = [];
  const check: Check = (field, value, expected) => {
    if (problems.length < MAX_PROBLEMS) problems.push(new InvalidInputError(`plan.${field}`, value, expected));
  };
  if (!isRecord(input)) throw new InvalidInputErrors([new InvalidInputError('plan', input, 'a JSON object')]);
  const maxStreams = input.maxStreamsPerSource ?? DEFAULT_MAX_STREAMS_PER_SOURCE;
  if (!Number.isInteger(maxStreams) || (maxStreams as number) < 1) {
    check('maxStreamsPerSource', maxStreams, 'an integer >= 1 (or absent: 2)');
  }
  const plan: RebuildPlan = {
    sourceDc: str(check, 'sourceDc', input.sourceDc),
    destDc: str(check, 'destDc', input.destDc),
    keyspaces: list(check, 'keyspaces', input.keyspaces).map((k, i) => keyspace(check, `keyspaces[${i}]`, k)),
    order: list(check, 'order', input.order).map((wave, w) =>
      list(check, `order[${w}]`, wave).map((x, i) => orderItem(check, `order[${w}][${i}]`, x)),
    ),
    down: list(check, 'down', input.down ?? []).map((x, i) => str(check, `down[${i}]`, x)),
    maxStreamsPerSource: maxStreams as number,
    findings: [],
  };
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  return plan;
}

/** Parses a plan file's JSON text (InvalidInputErrors when it is not JSON or not a plan). */
export function loadPlan(text: string, source = 'plan'): RebuildPlan {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputErrors([
      new InvalidInputError(source, text.slice(0, 60), `JSON (${(error as Error).message})`, { cause: error }),
    ]);
  }
  return parsePlan(input);
}
