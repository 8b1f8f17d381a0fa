// Test helpers for the Kafka planner: fixtures, a small cluster builder, a reference model of
// IncrementalAlterConfigs, and the naive definitions the planner's output is checked against.

import { readFileSync } from 'node:fs';
import type { Broker, BrokerRole, Cluster, ConfigOp, Partition } from '../../src/kafka/index.ts';
import { parseClusterFile } from '../../src/kafka/index.ts';

export function fixturePath(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

export function loadFixture(name: string): Cluster {
  return parseClusterFile(readFileSync(fixturePath(name), 'utf8'));
}

export interface BrokerSpec {
  id: number;
  rack?: string | null;
  role: BrokerRole;
}

/** A cluster from broker specs and `{ topic: [replicas of p0, replicas of p1, …] }`; leader = first replica. */
export function makeCluster(
  brokers: BrokerSpec[],
  topics: Record<string, number[][]>,
  sizes?: (topic: string, p: number) => number,
): Cluster {
  const toBroker = (b: BrokerSpec): Broker => ({
    id: b.id,
    host: `kafka-${b.id}.example`,
    rack: b.rack ?? null,
    role: b.role,
    listeners: null,
    bytesInPerSec: null,
    throttles: [],
  });
  return {
    brokers: brokers.map(toBroker),
    topics: Object.entries(topics).map(([name, parts]) => ({
      name,
      internal: name.startsWith('__'),
      throttles: [],
      partitions: parts.map(
        (replicas, partition): Partition => ({
          topic: name,
          partition,
          replicas,
          leader: replicas[0]!,
          isr: [...replicas],
          offlineReplicas: [],
          addingReplicas: [],
          removingReplicas: [],
          sizeBytes: sizes ? sizes(name, partition) : null,
          bytesInPerSec: null,
        }),
      ),
    })),
    clientListeners: null,
  };
}

/** The naive definition of dedupe: a Set keeps insertion order, so the first occurrence wins. */
export function naiveDedupe(list: readonly number[]): number[] {
  return [...new Set(list)];
}

/**
 * Reference semantics of IncrementalAlterConfigs on the throttle keys: list keys hold a set of
 * entries (APPEND adds those missing, SUBTRACT removes), other keys a value (SET, DELETE).
 */
export class ConfigState {
  readonly lists = new Map<string, Set<string>>();
  readonly values = new Map<string, string>();
  /** Anomalies seen: an APPEND of an entry already there, a SUBTRACT of one not there. */
  readonly anomalies: string[] = [];

  apply(op: ConfigOp): void {
    const at = `${op.resource}|${op.key}`;
    if (op.op === 'APPEND' || op.op === 'SUBTRACT') {
      const set = this.lists.get(at) ?? new Set<string>();
      for (const entry of (op.value ?? '').split(',')) {
        if (op.op === 'APPEND') {
          if (set.has(entry)) this.anomalies.push(`APPEND ${at} ${entry}`);
          set.add(entry);
        } else {
          if (!set.delete(entry)) this.anomalies.push(`SUBTRACT ${at} ${entry}`);
        }
      }
      if (set.size === 0) this.lists.delete(at);
      else this.lists.set(at, set);
    } else if (op.op === 'SET') {
      this.values.set(at, op.value ?? '');
    } else {
      this.lists.delete(at);
      this.values.delete(at);
    }
  }

  /** Every list entry as `resource|key|entry`, sorted. */
  listEntries(): string[] {
    return [...this.lists].flatMap(([at, set]) => [...set].map((e) => `${at}|${e}`)).sort();
  }

  /** Every value key as `resource|key=value`, sorted. */
  valueEntries(): string[] {
    return [...this.values].map(([at, v]) => `${at}=${v}`).sort();
  }

  isEmpty(): boolean {
    return this.lists.size === 0 && this.values.size === 0;
  }
}

export function sortedNumbers(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** max − min of the counts per id (ids with no count count 0). */
export function spread(ids: readonly number[], counts: ReadonlyMap<number, number>): number {
  const values = ids.map((id) => counts.get(id) ?? 0);
  return Math.max(...values) - Math.min(...values);
}
