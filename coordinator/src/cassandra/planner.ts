// The consistent-rebuild planner: topology + source DC + destination DC → which `nodetool rebuild`
// each new-DC node runs, from which old-DC node, for which ranges, and in which order. Pure: the same
// input always gives the same plan (node ids are address-sorted, every list is sorted).
//
// Per keyspace: place replicas (placement.ts, shared by keyspaces with the same replication), assign
// sources one-to-one (assign.ts), group by (node, source) into rebuild argv (nodetool.ts, one range
// per ring token: Cassandra rejects merged ranges), then order all rebuilds in waves (schedule.ts).

import { Buffer } from 'node:buffer';
import { type AssignContext, type AssignmentGroup, assignSources, type KeyspaceAssignment } from './assign.ts';
import { PlannerInvariantError } from './errors.ts';
import { type SelectedKeyspace, selectKeyspaces } from './keyspaces.ts';
import { rebuildArgvFor } from './nodetool.ts';
import { type PlanRebuildOptions, type ResolvedPlanOptions, resolvePlanOptions } from './options.ts';
import { type Placement, placeReplicas } from './placement.ts';
import { RangeTexts } from './range-texts.ts';
import { placementKey } from './replication.ts';
import type { Ring } from './ring.ts';
import { scheduleWaves } from './schedule.ts';
import type {
  AtRiskRange,
  Finding,
  KeyspacePlan,
  OrderItem,
  RebuildInvocation,
  RebuildPlan,
  TokenRange,
  Topology,
} from './types.ts';

/**
 * Plans the rebuild of `options.destDc` from `options.sourceDc`. Throws InvalidInputErrors for bad
 * options and NoSourceReplicasError for keyspaces with destination replicas but no source replica.
 */
export function planRebuild(topology: Topology, ring: Ring, options: PlanRebuildOptions): RebuildPlan {
  const resolved = resolvePlanOptions(ring, options);
  const { selected, findings } = selectKeyspaces(topology, resolved.sourceDc, resolved.destDc, resolved.keyspaces);
  const context: AssignContext = { sourceDc: resolved.sourceDcId, destDc: resolved.destDcId, isDown: resolved.isDown };
  const placements = new Map<string, Placement>();
  const ranges = new RangeTexts(ring);
  const keyspaces: KeyspacePlan[] = [];
  // One entry per rebuild of the plan, in plan order: its order item and node ids for the scheduler.
  const items: OrderItem[] = [];
  const itemNodes: number[] = [];
  const itemSources: number[] = [];

  for (const keyspace of selected) {
    const key = placementKey(keyspace.strategy);
    let placement = placements.get(key);
    if (placement === undefined) {
      placement = placeReplicas(ring, keyspace.strategy);
      placements.set(key, placement);
    }
    const assignment = assignSources(placement, context);
    const plan = keyspacePlan(ring, keyspace, assignment, resolved, ranges, itemNodes, itemSources);
    keyspaces.push(plan);
    findings.push(...assignmentFindings(keyspace.name, assignment, resolved));
    for (const rebuild of plan.rebuilds) {
      const item: OrderItem = { node: rebuild.node, keyspace: keyspace.name, source: rebuild.source };
      if (rebuild.part !== undefined) item.part = rebuild.part;
      items.push(item);
    }
  }

  const schedule = { node: Int32Array.from(itemNodes), source: Int32Array.from(itemSources) };
  const order = scheduleWaves(schedule, resolved.maxStreamsPerSource).map((wave) => wave.map((i) => items[i]!));
  return {
    sourceDc: resolved.sourceDc,
    destDc: resolved.destDc,
    keyspaces,
    order,
    down: [...resolved.down],
    maxStreamsPerSource: resolved.maxStreamsPerSource,
    findings,
  };
}

function keyspacePlan(
  ring: Ring,
  keyspace: SelectedKeyspace,
  assignment: KeyspaceAssignment,
  options: ResolvedPlanOptions,
  ranges: RangeTexts,
  nodeIds: number[],
  sourceIds: number[],
): KeyspacePlan {
  const { positions, sortedIndexOf } = assignment;
  // Lay out every rebuild's ",(s,e],(s,e]…" back to back, cutting a group into parts whose -ts
  // (without the leading comma) fits in maxTokenRangesChars: parts are [from, to) of positions.
  const byteAt = new Int32Array(positions.length + 1);
  const parts: { group: AssignmentGroup; from: number; to: number }[] = [];
  let cursor = 0;
  for (const group of assignment.groups) {
    if (ring.nodeDc[group.source] !== options.sourceDcId || group.node === group.source) {
      const node = ring.nodes[group.node]!.address;
      throw new PlannerInvariantError('a source must be another node of the source DC', `${keyspace.name} ${node}`);
    }
    let from = group.start;
    for (let j = group.start; j < group.end; j++) {
      const size = ranges.length(positions[j]!) + 1;
      if (j > from && cursor + size - byteAt[from]! - 1 > options.maxTokenRangesChars) {
        parts.push({ group, from, to: j });
        from = j;
      }
      byteAt[j] = cursor;
      cursor += size;
    }
    parts.push({ group, from, to: group.end });
  }
  byteAt[positions.length] = cursor;
  const out = Buffer.allocUnsafe(cursor);
  ranges.fill(positions, sortedIndexOf, byteAt, out);
  // One string for the keyspace; each -ts is a slice of it (V8 shares the characters).
  const texts = out.toString('latin1');

  const rebuilds: RebuildInvocation[] = [];
  parts.forEach(({ group, from, to }, i) => {
    const node = ring.nodes[group.node]!.address;
    const source = ring.nodes[group.source]!.address;
    const tuples: TokenRange[] = new Array(to - from);
    for (let j = from; j < to; j++) tuples[j - from] = ranges.tuple(positions[j]!);
    const tokenRanges = texts.slice(byteAt[from]! + 1, byteAt[to]!);
    const rebuild: RebuildInvocation = {
      node,
      source,
      ranges: tuples,
      argv: rebuildArgvFor(keyspace.name, tokenRanges, source, options.sourceDc),
    };
    const first = from === group.start;
    if (!first || to !== group.end) rebuild.part = partNumber(parts, i);
    // Fallback counts are per group; reported on the first part (they are informational).
    if (first && group.fallbacks > 0) rebuild.fallbackRanges = group.fallbacks;
    rebuilds.push(rebuild);
    nodeIds.push(group.node);
    sourceIds.push(group.source);
  });
  const atRisk: AtRiskRange[] = [...assignment.atRisk]
    .sort((a, b) => a.node - b.node)
    .map((r) => ({
      node: ring.nodes[r.node]!.address,
      range: ranges.tuple(r.position),
      reason: r.reason,
      kind: r.kind,
    }));
  return {
    name: keyspace.name,
    strategy: keyspace.strategy.kind === 'simple' ? 'SimpleStrategy' : 'NetworkTopologyStrategy',
    sourceReplicas: assignment.sourceWidth,
    destReplicas: assignment.destWidth,
    rebuilds,
    atRisk,
    uncopied: [...assignment.uncopied].map(([node, positions]) => ({
      source: ring.nodes[node]!.address,
      ranges: positions.map((p) => ranges.tuple(p)),
    })),
  };
}

/** 1-based number of parts[i] among the parts of its group (parts of a group are adjacent). */
function partNumber(parts: readonly { group: AssignmentGroup; from: number }[], i: number): number {
  let n = 1;
  while (i - n >= 0 && parts[i - n]!.group === parts[i]!.group) n++;
  return n;
}

function assignmentFindings(keyspace: string, assignment: KeyspaceAssignment, options: ResolvedPlanOptions): Finding[] {
  const findings: Finding[] = [];
  const { sourceDc, destDc } = options;
  const uncopiedRanges = [...assignment.uncopied.values()].reduce((sum, list) => sum + list.length, 0);
  if (uncopiedRanges > 0) {
    findings.push({
      severity: 'warning',
      code: 'dest-rf-below-source',
      keyspace,
      message:
        `${keyspace}: ${destDc} keeps ${assignment.destWidth} replica(s) per range, ${sourceDc} ` +
        `${assignment.sourceWidth}: ${uncopiedRanges} (range, source replica) pairs go uncopied (listed ` +
        `under "uncopied"); a write held only by those (e.g. written at ONE, never repaired) is not ` +
        `carried over: repair ${sourceDc} first`,
    });
  } else if (assignment.destWidth > assignment.sourceWidth) {
    findings.push({
      severity: 'info',
      code: 'dest-rf-above-source',
      keyspace,
      message:
        `${keyspace}: ${destDc} keeps ${assignment.destWidth} replicas per range, ${sourceDc} ` +
        `${assignment.sourceWidth}: the extra replicas copy the least-used source replicas`,
    });
  }
  const fallbacks = assignment.groups.reduce((sum, g) => sum + g.fallbacks, 0);
  if (fallbacks > 0) {
    findings.push({
      severity: 'info',
      code: 'fallback-sources',
      keyspace,
      message: `${keyspace}: ${fallbacks} range(s) copy an uncopied source replica in place of a down one`,
    });
  }
  if (assignment.atRisk.length > 0) {
    const kinds = new Map<string, number>();
    for (const r of assignment.atRisk) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    findings.push({
      severity: 'warning',
      code: 'ranges-at-risk',
      keyspace,
      message:
        `${keyspace}: ${assignment.atRisk.length} (range, destination replica) pairs are not rebuilt ` +
        `(${[...kinds].map(([k, n]) => `${k}: ${n}`).join(', ')}); see "atRisk"`,
    });
  }
  return findings;
}
