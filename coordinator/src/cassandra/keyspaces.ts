// Which keyspaces a rebuild covers, and what the operator must hear about the others. Default: every
// keyspace not using LocalStrategy. system_auth, system_distributed and system_traces are called out:
// the migration needs them on NetworkTopologyStrategy with the new DC (cassandra.md, step 1).

import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import { NoSourceReplicasError } from './errors.ts';
import { configuredFactor, parseReplication, type ReplicationStrategy, shortClassName } from './replication.ts';
import type { Finding, Topology } from './types.ts';

export const REPLICATED_SYSTEM_KEYSPACES = ['system_auth', 'system_distributed', 'system_traces'] as const;

const SYSTEM_WHY: Record<string, string> = {
  system_auth: 'roles and permissions: logins fail in the new DC without it',
  system_distributed: 'repair history and view build status',
  system_traces: 'query traces',
};

export interface SelectedKeyspace {
  readonly name: string;
  readonly strategy: ReplicationStrategy;
}

/**
 * Chooses the keyspaces to rebuild. Throws InvalidInputErrors for an unknown or unreplicated
 * requested keyspace, and NoSourceReplicasError (naming every such keyspace) when a keyspace has
 * replicas in the destination DC but none in the source DC.
 */
export function selectKeyspaces(
  topology: Topology,
  sourceDc: string,
  destDc: string,
  requested: readonly string[] | undefined,
): { selected: SelectedKeyspace[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const byName = new Map(topology.keyspaces.map((k) => [k.name, k]));
  const candidates: SelectedKeyspace[] = [];
  const problems: InvalidInputError[] = [];
  const names = requested ?? topology.keyspaces.map((k) => k.name);
  for (const name of new Set(names)) {
    const keyspace = byName.get(name);
    if (keyspace === undefined) {
      problems.push(
        new InvalidInputError(
          'keyspaces',
          name,
          `a keyspace of the topology (${[...byName.keys()].slice(0, 12).join(', ')})`,
        ),
      );
      continue;
    }
    const strategy = parseReplication(`keyspaces[${name}].replication`, keyspace.replication);
    if (strategy.kind === 'local' || strategy.kind === 'unsupported') {
      const className = shortClassName(keyspace.replication.class ?? '');
      if (requested !== undefined) {
        problems.push(new InvalidInputError('keyspaces', name, `a replicated keyspace (it uses ${className})`));
      } else if (strategy.kind === 'unsupported') {
        findings.push({
          severity: 'warning',
          code: 'unsupported-strategy',
          keyspace: name,
          message: `${name} uses ${className}, which Drover cannot place: not planned, rebuild it by hand`,
        });
      }
      continue;
    }
    candidates.push({ name, strategy });
  }
  if (problems.length > 0) throw new InvalidInputErrors(problems);

  const selected: SelectedKeyspace[] = [];
  const noSource: string[] = [];
  for (const keyspace of candidates) {
    const { name, strategy } = keyspace;
    const source = configuredFactor(strategy, sourceDc);
    const dest = configuredFactor(strategy, destDc);
    if (source.all === 0 && dest.all === 0) {
      findings.push({
        severity: 'info',
        code: 'not-in-either-dc',
        keyspace: name,
        message: `${name} has no replica in ${sourceDc} or ${destDc}: nothing to rebuild`,
      });
    } else if (source.all === 0) {
      noSource.push(name);
    } else if (dest.all === 0) {
      findings.push({
        severity: 'error',
        code: 'not-replicated-to-dest',
        keyspace: name,
        message:
          `${name} has RF ${source.all} in ${sourceDc} but none in ${destDc}: ALTER KEYSPACE to add ` +
          `'${destDc}' before rebuilding, or its data is lost when ${sourceDc} retires`,
      });
    } else {
      selected.push(keyspace);
      if (source.transient > 0 || dest.transient > 0) {
        findings.push({
          severity: 'warning',
          code: 'transient-replication',
          keyspace: name,
          message: `${name} uses transient replicas: they hold only unrepaired data, so copies counted here may be partial`,
        });
      }
    }
  }
  if (noSource.length > 0) throw new NoSourceReplicasError(noSource, sourceDc, destDc);
  findings.push(...systemKeyspaceFindings(topology, destDc, requested, findings));
  return { selected, findings };
}

function systemKeyspaceFindings(
  topology: Topology,
  destDc: string,
  requested: readonly string[] | undefined,
  already: readonly Finding[],
): Finding[] {
  const findings: Finding[] = [];
  for (const name of REPLICATED_SYSTEM_KEYSPACES) {
    const keyspace = topology.keyspaces.find((k) => k.name === name);
    if (keyspace === undefined) continue;
    const why = SYSTEM_WHY[name] ?? '';
    const strategy = parseReplication(`keyspaces[${name}].replication`, keyspace.replication);
    if (strategy.kind !== 'network-topology') {
      findings.push({
        severity: 'warning',
        code: 'system-keyspace-not-nts',
        keyspace: name,
        message:
          `${name} (${why}) uses ${shortClassName(keyspace.replication.class ?? '')}: switch it to ` +
          `NetworkTopologyStrategy with '${destDc}' before rebuilding, or its replicas ignore DCs`,
      });
    } else if (
      configuredFactor(strategy, destDc).all === 0 &&
      !already.some((f) => f.keyspace === name && f.code === 'not-replicated-to-dest')
    ) {
      findings.push({
        severity: 'warning',
        code: 'system-keyspace-missing-dest',
        keyspace: name,
        message: `${name} (${why}) has no replicas in ${destDc}: ALTER KEYSPACE to add it before rebuilding`,
      });
    }
    if (requested !== undefined && !requested.includes(name)) {
      findings.push({
        severity: 'info',
        code: 'system-keyspace-not-selected',
        keyspace: name,
        message: `${name} (${why}) is not in --keyspaces: it needs a rebuild of ${destDc} too`,
      });
    }
  }
  return findings;
}
