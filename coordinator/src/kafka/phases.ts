// The four phases of the shared-cluster migration, each a list of batches plus its rollback.
// For a partition with current replicas S and destination D (lists; first = preferred leader):
//   expand  → dedupe(S ++ D)   sources first, so the leader does not move
//   leaders → dedupe(D ++ S)   a reorder only, then a preferred election makes D[0] the leader
//   shrink  → D
//   cleanup → no replica change; every throttle key deleted
// dedupe keeps the first occurrence, so a broker in both S and D (a kept broker, or a replica that
// already sits on a destination) appears once, at its place in S for expand and in D for leaders.
// A phase lists only the partitions whose replica list (or, for leaders, whose leader) it changes.
// Each rollback reassigns those partitions back to the lists they had before the phase.

import { BrokerSlots, firstFitSlots, groupByBatch } from './batching.ts';
import type { Partition } from './model.ts';
import type { ResolvedPlanOptions } from './options.ts';
import { cleanupConfigOps, expandConfigOps, moveTable } from './throttles.ts';
import type { Batch, Election, Phase, PhaseSummary, Reassignment } from './types.ts';

/** The list without repeats, keeping each id's first occurrence: [1,2,101,2] → [1,2,101]. */
export function dedupe(list: readonly number[]): number[] {
  return isDistinct(list) ? list.slice() : list.filter((id, j) => list.indexOf(id) === j);
}

function isDistinct(list: readonly number[]): boolean {
  for (let i = 1; i < list.length; i++) if (list.lastIndexOf(list[i]!, i - 1) !== -1) return false;
  return true;
}

/** dedupe(source ++ destination): what expand reassigns to. */
export function expandReplicas(source: readonly number[], destination: readonly number[]): number[] {
  return concatMissing(source, destination);
}

/** dedupe(destination ++ source): what leaders reorders to. */
export function leadersReplicas(source: readonly number[], destination: readonly number[]): number[] {
  return concatMissing(destination, source);
}

/** dedupe(first ++ more) as an exact-size array (plans hold hundreds of thousands of these). */
function concatMissing(first: readonly number[], more: readonly number[]): number[] {
  // The usual case (distinct lists, nothing shared) needs one array and no search beyond `includes`.
  if (isDistinct(first) && isDistinct(more) && !more.some((id) => first.includes(id))) return first.concat(more);
  const out = dedupe(first);
  const extra: number[] = [];
  for (const id of more) if (!out.includes(id) && !extra.includes(id)) extra.push(id);
  return extra.length === 0 ? out : out.concat(extra);
}

/**
 * One partition's lists through the phases, and the reassignments between them, made once and
 * shared by every phase and rollback that needs them.
 */
export interface PartitionTargets {
  topic: string;
  partition: number;
  /** The current replicas: the cluster model's own array (the plan shares it; neither is mutated). */
  source: number[];
  destination: number[];
  expand: number[];
  leaders: number[];
  /** The current leader (-1: none). */
  leader: number;
  sizeBytes: number;
  /** The reassignments to each of the four lists. */
  toSource: Reassignment;
  toExpand: Reassignment;
  toLeaders: Reassignment;
  toDestination: Reassignment;
  election: Election;
}

/** Targets per partition; takes ownership of the `destinations` arrays (as placement returns them). */
export function partitionTargets(
  partitions: readonly Partition[],
  destinations: readonly number[][],
): PartitionTargets[] {
  return partitions.map((p, i) => {
    const { topic, partition } = p;
    const source = p.replicas;
    const destination = destinations[i]!;
    const expand = expandReplicas(source, destination);
    const leaders = leadersReplicas(source, destination);
    return {
      topic,
      partition,
      source,
      destination,
      expand,
      leaders,
      leader: p.leader,
      sizeBytes: p.sizeBytes ?? 0,
      toSource: { topic, partition, replicas: source },
      toExpand: { topic, partition, replicas: expand },
      toLeaders: { topic, partition, replicas: leaders },
      toDestination: { topic, partition, replicas: destination },
      election: { topic, partition },
    };
  });
}

export interface PhaseInput {
  /** In plan order (topic name, then partition). */
  targets: readonly PartitionTargets[];
  options: ResolvedPlanOptions;
  /** Topics and brokers with throttles set before the plan: clean-up deletes theirs too. */
  preexisting: { topics: readonly string[]; brokers: readonly number[] };
}

/**
 * Builds expand, leaders, shrink and cleanup, in that order. Reassignments share their replica
 * arrays with `targets` and with each other: treat the plan as immutable.
 */
export function buildPhases(input: PhaseInput): Phase[] {
  const { targets, options } = input;
  const expand = expandPhase(targets, options);
  const cleanupTopics = new Set(input.preexisting.topics);
  for (const t of targets) if (t.expand.length > t.source.length) cleanupTopics.add(t.topic);
  const cleanupBrokers = new Set([...expand.summary.brokersTouched, ...input.preexisting.brokers]);
  const cleanupOps = cleanupConfigOps(cleanupTopics, cleanupBrokers);
  return [
    expand,
    leadersPhase(targets, options),
    shrinkPhase(targets, options),
    {
      name: 'cleanup',
      batches: cleanupOps.length > 0 ? [{ reassignments: [], elections: [], configOps: cleanupOps }] : [],
      rollback: { reassignments: [], elections: [] },
      summary: summary(0, 0, 0, cleanupOps.length > 0 ? 1 : 0, cleanupBrokers),
    },
  ];
}

/** (a) Expand, ordered by size (then plan order), capped per broker as source or destination. */
function expandPhase(targets: readonly PartitionTargets[], options: ResolvedPlanOptions): Phase {
  const moving = targets.filter((t) => t.expand.length > t.source.length);
  // Sort positions by size in typed arrays (ties: plan order); far cheaper than sorting objects.
  const sizes = Float64Array.from(moving, (t) => t.sizeBytes);
  const sign = options.order === 'large-first' ? -1 : 1;
  const positions = new Uint32Array(moving.length);
  for (let i = 0; i < positions.length; i++) positions[i] = i;
  positions.sort((a, b) => sign * (sizes[a]! - sizes[b]!) || a - b);
  const table = moveTable(moving, positions);
  const toExpand = moving.map((t) => t.toExpand);
  const reassignments = Array.from(positions, (i) => toExpand[i]!);
  const batchOf = firstFitSlots(table.offsets, table.slots, table.slotIds.length, options.perBrokerMoves);
  const groups = groupByBatch(
    batchOf.map((_, i) => i),
    batchOf,
  );
  const batches: Batch[] = expandConfigOps(table, groups, options.throttleBytesPerSec).map((configOps, b) => ({
    reassignments: (groups[b] ?? []).map((i) => reassignments[i]!),
    elections: [],
    configOps,
  }));
  let bytes = 0;
  for (const t of moving) bytes += t.sizeBytes * (t.expand.length - t.source.length);
  const touched = new Set(table.slotIds);
  return {
    name: 'expand',
    batches,
    rollback: { reassignments: moving.map((t) => t.toSource), elections: [] },
    summary: summary(moving.length, 0, bytes, batches.length, touched),
  };
}

/** (b) Reorder where needed, elect where the leader is not D[0]; capped per new leader. */
function leadersPhase(targets: readonly PartitionTargets[], options: ResolvedPlanOptions): Phase {
  const REORDER = 1;
  const ELECT = 2;
  const leading: PartitionTargets[] = [];
  const needs: number[] = [];
  const touched = new Set<number>();
  for (const t of targets) {
    const need = (sameList(t.leaders, t.expand) ? 0 : REORDER) | (t.leader === t.destination[0] ? 0 : ELECT);
    if (need === 0) continue;
    leading.push(t);
    needs.push(need);
    touched.add(t.destination[0]!);
    if (t.leader >= 0) touched.add(t.leader);
  }
  const { electionPerBrokerMax: perBroker, electionBatchMax: total } = options;
  const batchOf = batchBySlots(leading, (t, add) => add(t.destination[0]!), perBroker, total);
  const step = (indices: readonly number[]): Batch => {
    const batch: Batch = { reassignments: [], elections: [], configOps: [] };
    for (const i of indices) {
      const t = leading[i]!;
      if (needs[i]! & REORDER) batch.reassignments.push(t.toLeaders);
      if (needs[i]! & ELECT) batch.elections.push(t.election);
    }
    return batch;
  };
  const batches = groupByBatch(
    batchOf.map((_, i) => i),
    batchOf,
  ).map(step);
  const reordered = leading.filter((_, i) => needs[i]! & REORDER);
  const elected = leading.filter((_, i) => needs[i]! & ELECT);
  return {
    name: 'leaders',
    batches,
    rollback: { reassignments: reordered.map((t) => t.toExpand), elections: elected.map((t) => t.election) },
    summary: summary(reordered.length, elected.length, 0, batches.length, touched),
  };
}

/** (c) Shrink to the destination, capped per broker that drops a replica. */
function shrinkPhase(targets: readonly PartitionTargets[], options: ResolvedPlanOptions): Phase {
  const shrinking = targets.filter((t) => t.leaders.length > t.destination.length);
  const dropped = new Set<number>();
  const { electionPerBrokerMax: perBroker, electionBatchMax: total } = options;
  const eachDrop = (t: PartitionTargets, add: (id: number) => void) => {
    for (const r of t.source) {
      if (t.destination.includes(r)) continue;
      add(r);
      dropped.add(r);
    }
  };
  const groups = groupByBatch(shrinking, batchBySlots(shrinking, eachDrop, perBroker, total));
  let bytes = 0;
  for (const t of shrinking) bytes += t.sizeBytes * (t.leaders.length - t.destination.length);
  return {
    name: 'shrink',
    batches: groups.map((g) => ({
      reassignments: g.map((t) => t.toDestination),
      elections: [],
      configOps: [],
    })),
    rollback: { reassignments: shrinking.map((t) => t.toLeaders), elections: [] },
    summary: summary(shrinking.length, 0, bytes, groups.length, dropped),
  };
}

/** firstFitSlots over items whose brokers `each` lists (without an array per item). */
function batchBySlots<T>(
  items: readonly T[],
  each: (item: T, add: (id: number) => void) => void,
  perBroker: number,
  total: number,
): number[] {
  const brokers = new BrokerSlots();
  const offsets = [0];
  const slots: number[] = [];
  const add = (id: number) => {
    slots.push(brokers.slotOf(id));
  };
  for (const item of items) {
    each(item, add);
    offsets.push(slots.length);
  }
  return firstFitSlots(offsets, slots, brokers.ids.length, perBroker, total);
}

function summary(moves: number, elections: number, bytes: number, batches: number, brokers: Set<number>): PhaseSummary {
  return { moves, elections, bytes, batches, brokersTouched: [...brokers].sort((a, b) => a - b) };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
