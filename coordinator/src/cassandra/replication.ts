// Reads a keyspace's replication map, as `system_schema.keyspaces.replication` stores it, into a
// strategy the placement code understands. Class names may be short or fully qualified.

import { InvalidInputError } from '@drover/shared';

/** A replication factor; `transient` > 0 only with Cassandra 4.0's transient replication ("3/1"). */
export interface ReplicationFactor {
  readonly all: number;
  readonly transient: number;
}

export type ReplicationStrategy =
  | { readonly kind: 'network-topology'; readonly factors: ReadonlyMap<string, ReplicationFactor> }
  | { readonly kind: 'simple'; readonly factor: ReplicationFactor }
  | { readonly kind: 'local' }
  | { readonly kind: 'unsupported'; readonly className: string };

const PACKAGE = 'org.apache.cassandra.locator.';
const FACTOR_TEXT = /^(\d{1,4})(?:\/(\d{1,4}))?$/;

/** The class name without Cassandra's package prefix. */
export function shortClassName(className: string): string {
  return className.startsWith(PACKAGE) ? className.slice(PACKAGE.length) : className;
}

function parseFactor(field: string, value: unknown): ReplicationFactor {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
  const match = typeof text === 'string' ? FACTOR_TEXT.exec(text.trim()) : null;
  const all = Number(match?.[1]);
  const transient = match?.[2] === undefined ? 0 : Number(match[2]);
  if (!match || transient > all) {
    throw new InvalidInputError(field, value, 'a replication factor such as "3" (or "3/1" with transient replicas)');
  }
  return { all, transient };
}

/**
 * Parses one replication map. `field` names it in errors (e.g. `keyspaces[ks1].replication`).
 * Example: `{ class: 'NetworkTopologyStrategy', 'aws-use1': '3', 'gcp-use1': '0' }` gives
 * `{ kind: 'network-topology', factors: aws-use1 → 3, gcp-use1 → 0 }`.
 */
export function parseReplication(field: string, replication: Record<string, unknown>): ReplicationStrategy {
  const className = replication.class;
  if (typeof className !== 'string' || className === '') {
    throw new InvalidInputError(
      `${field}.class`,
      className,
      'a replication class name such as "NetworkTopologyStrategy"',
    );
  }
  switch (shortClassName(className)) {
    case 'NetworkTopologyStrategy': {
      const factors = new Map<string, ReplicationFactor>();
      for (const [key, value] of Object.entries(replication)) {
        if (key === 'class') continue;
        if (key.toLowerCase() === 'replication_factor') {
          throw new InvalidInputError(
            `${field}.${key}`,
            value,
            'per-DC factors (replication_factor is for SimpleStrategy)',
          );
        }
        factors.set(key, parseFactor(`${field}.${key}`, value));
      }
      return { kind: 'network-topology', factors };
    }
    case 'SimpleStrategy':
      return { kind: 'simple', factor: parseFactor(`${field}.replication_factor`, replication.replication_factor) };
    case 'LocalStrategy':
      return { kind: 'local' };
    default:
      return { kind: 'unsupported', className };
  }
}

/** Replication factor configured for `dc` (0 when absent); SimpleStrategy's applies to every DC. */
export function configuredFactor(strategy: ReplicationStrategy, dc: string): ReplicationFactor {
  if (strategy.kind === 'network-topology') return strategy.factors.get(dc) ?? { all: 0, transient: 0 };
  if (strategy.kind === 'simple') return strategy.factor;
  return { all: 0, transient: 0 };
}

/** A key equal for two strategies exactly when they place replicas identically on any ring. */
export function placementKey(strategy: ReplicationStrategy): string {
  switch (strategy.kind) {
    case 'network-topology':
      return JSON.stringify(
        [...strategy.factors]
          .filter(([, f]) => f.all > 0)
          .map(([dc, f]) => [dc, f.all])
          .sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)),
      );
    case 'simple':
      return `simple:${strategy.factor.all}`;
    default:
      return strategy.kind;
  }
}
