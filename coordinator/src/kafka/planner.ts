// planMigration: the whole plan from a cluster model and options — placement, then phases, then
// pre-flight findings. Pure and deterministic: the same cluster and options give the same plan.

import { preflightFindings } from './findings.ts';
import type { Cluster, Partition } from './model.ts';
import { type PlanOptions, resolvePlanOptions } from './options.ts';
import { buildPhases, partitionTargets } from './phases.ts';
import { placeDestinations } from './placement.ts';
import { preexistingThrottles } from './throttles.ts';
import { type MigrationPlan, type PartitionMapping, partitionKey } from './types.ts';

/** Every partition of every topic (internal ones included), by topic name then partition number. */
export function partitionsInPlanOrder(cluster: Cluster): Partition[] {
  const topics = [...cluster.topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return topics.flatMap((t) => [...t.partitions].sort((a, b) => a.partition - b.partition));
}

/**
 * Plans moving every partition of `cluster` from where it is to its destination replicas.
 * Throws InvalidInputError(s) when the options do not fit the cluster (see placement).
 */
export function planMigration(cluster: Cluster, options: PlanOptions): MigrationPlan {
  const resolved = resolvePlanOptions(options);
  const partitions = partitionsInPlanOrder(cluster);
  const placed = placeDestinations(cluster, partitions, resolved);
  const { destinations } = placed;
  const targets = partitionTargets(partitions, destinations);
  const mapping: Record<string, PartitionMapping> = {};
  for (const t of targets)
    mapping[partitionKey(t.topic, t.partition)] = { source: t.source, destination: t.destination };
  const phases = buildPhases({ targets, options: resolved, preexisting: preexistingThrottles(cluster) });
  const findings = [
    ...preflightFindings({ cluster, partitions, destinations, throttleBytesPerSec: resolved.throttleBytesPerSec }),
    ...placed.findings,
  ];
  const { placement } = resolved;
  return {
    version: 1,
    options: {
      placement: placement.mode,
      rf: placement.mode === 'auto' ? (placement.rf ?? null) : null,
      perBrokerMoves: resolved.perBrokerMoves,
      throttleBytesPerSec: resolved.throttleBytesPerSec,
      order: resolved.order,
      electionBatchMax: resolved.electionBatchMax,
      electionPerBrokerMax: resolved.electionPerBrokerMax,
    },
    mapping,
    phases,
    findings,
  };
}
