// Interop with Kafka's own tool: the kafka-reassign-partitions JSON
//   {"version":1,"partitions":[{"topic":"orders","partition":0,"replicas":[1,2,3],"log_dirs":["any","any","any"]}]}
// read (validated, every problem reported) and written (one partition per line, as Kafka accepts).

import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import { partitionKey, type Reassignment } from './types.ts';

export interface ReassignmentEntry extends Reassignment {
  /** Per replica: an absolute log directory or "any"; absent = any. */
  log_dirs?: string[];
}

export interface ReassignmentJson {
  version: 1;
  partitions: ReassignmentEntry[];
}

/** Builds the document for these reassignments (log_dirs omitted: Kafka then picks any directory). */
export function toReassignmentJson(reassignments: readonly Reassignment[]): ReassignmentJson {
  return {
    version: 1,
    partitions: reassignments.map((r) => ({ topic: r.topic, partition: r.partition, replicas: [...r.replicas] })),
  };
}

/** The text kafka-reassign-partitions --execute reads: valid JSON, one partition per line. */
export function formatReassignmentJson(doc: ReassignmentJson): string {
  const lines = doc.partitions.map((p) => JSON.stringify(p));
  return `{"version":${doc.version},"partitions":[${lines.length > 0 ? `\n${lines.join(',\n')}\n` : ''}]}\n`;
}

/** Parses and validates a kafka-reassign-partitions JSON text; throws InvalidInputErrors. */
export function parseReassignmentJson(text: string, field = 'reassignment'): ReassignmentJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(field, text.slice(0, 40), 'a JSON document', { cause });
  }
  const problems: InvalidInputError[] = [];
  const fail = (at: string, value: unknown, expected: string) => {
    if (problems.length < 100) problems.push(new InvalidInputError(at, value, expected));
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInputErrors([new InvalidInputError(field, json, 'an object {"version":1,"partitions":[…]}')]);
  }
  const doc = json as Record<string, unknown>;
  if (doc.version !== 1) fail(`${field}.version`, doc.version, '1');
  if (!Array.isArray(doc.partitions)) fail(`${field}.partitions`, doc.partitions, 'an array');
  const seen = new Set<string>();
  const partitions: ReassignmentEntry[] = [];
  (Array.isArray(doc.partitions) ? doc.partitions : []).forEach((p: unknown, i: number) => {
    const at = `${field}.partitions[${i}]`;
    if (typeof p !== 'object' || p === null) {
      fail(at, p, 'an object { topic, partition, replicas }');
      return;
    }
    const { topic, partition, replicas, log_dirs } = p as Record<string, unknown>;
    if (typeof topic !== 'string' || topic.length === 0) fail(`${at}.topic`, topic, 'a topic name');
    if (!isId(partition)) fail(`${at}.partition`, partition, 'an integer >= 0');
    const ids = Array.isArray(replicas) ? replicas : [];
    if (!Array.isArray(replicas) || ids.length === 0 || !ids.every(isId))
      fail(`${at}.replicas`, replicas, 'a non-empty array of broker ids');
    else if (new Set(ids).size !== ids.length) fail(`${at}.replicas`, replicas, 'distinct broker ids');
    const key = partitionKey(String(topic), Number(partition));
    if (seen.has(key)) fail(at, key, 'each partition listed once');
    seen.add(key);
    const entry: ReassignmentEntry = { topic: String(topic), partition: Number(partition), replicas: ids as number[] };
    if (log_dirs !== undefined) {
      const ok =
        Array.isArray(log_dirs) &&
        log_dirs.length === ids.length &&
        log_dirs.every((d) => typeof d === 'string' && (d === 'any' || d.startsWith('/')));
      if (!ok) fail(`${at}.log_dirs`, log_dirs, `${ids.length} entries, each "any" or an absolute path`);
      else entry.log_dirs = log_dirs as string[];
    }
    partitions.push(entry);
  });
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  return { version: 1, partitions };
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
