// Export of a plan's phase (or rollback) as kafka-reassign-partitions JSON: reads a plan file back,
// checks the parts export needs, and selects the reassignments.

import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import { type ReassignmentJson, toReassignmentJson } from './reassign-json.ts';
import { type MigrationPlan, PHASE_NAMES, type PhaseName, type Reassignment } from './types.ts';

/** What `--phase` accepts: a phase with reassignments, one phase's rollback, or the whole plan's. */
export const EXPORTABLE = [
  'expand',
  'leaders',
  'shrink',
  'rollback-expand',
  'rollback-leaders',
  'rollback-shrink',
  'rollback-all',
] as const;
export type ExportSelector = (typeof EXPORTABLE)[number];

/**
 * The reassignments of `selector`:
 * - `expand` | `leaders` | `shrink`: every batch's reassignments in order, or only batch `batch` (1-based);
 * - `rollback-<phase>`: back to the assignment before that phase;
 * - `rollback-all`: back to the input assignment, for every partition the plan changes.
 */
export function selectReassignments(plan: MigrationPlan, selector: string, batch?: number): Reassignment[] {
  if (!(EXPORTABLE as readonly string[]).includes(selector)) {
    throw new InvalidInputError('--phase', selector, `one of ${EXPORTABLE.join(', ')} (cleanup has no reassignments)`);
  }
  if (selector === 'rollback-all') {
    rejectBatch(batch, selector);
    return Object.entries(plan.mapping)
      .filter(([, m]) => !sameList(m.source, m.destination))
      .map(([key, m]) => {
        const slash = key.lastIndexOf('/');
        return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), replicas: [...m.source] };
      });
  }
  const name = selector.replace(/^rollback-/, '') as PhaseName;
  const phase = plan.phases.find((p) => p.name === name);
  if (!phase)
    throw new InvalidInputError('--plan', `phases without "${name}"`, `a plan with phases ${PHASE_NAMES.join(', ')}`);
  if (selector.startsWith('rollback-')) {
    rejectBatch(batch, selector);
    return phase.rollback.reassignments;
  }
  if (batch === undefined) return phase.batches.flatMap((b) => b.reassignments);
  const chosen = phase.batches[batch - 1];
  if (!Number.isSafeInteger(batch) || chosen === undefined) {
    throw new InvalidInputError(
      '--batch',
      batch,
      `a batch number from 1 to ${phase.batches.length} (batches of ${name})`,
    );
  }
  return chosen.reassignments;
}

/** `selectReassignments` as a kafka-reassign-partitions document. */
export function exportPhase(plan: MigrationPlan, selector: string, batch?: number): ReassignmentJson {
  return toReassignmentJson(selectReassignments(plan, selector, batch));
}

function rejectBatch(batch: number | undefined, selector: string): void {
  if (batch !== undefined)
    throw new InvalidInputError('--batch', batch, `no --batch with ${selector} (a rollback is one reassignment)`);
}

/**
 * Reads a plan file (`plan-migration --json` output) and checks what export relies on: mapping
 * entries and every reassignment list. Throws InvalidInputErrors naming each bad field.
 */
export function parsePlanFile(text: string, field = '--plan'): MigrationPlan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(field, text.slice(0, 40), 'a plan JSON document (plan-migration --json)', { cause });
  }
  const problems: InvalidInputError[] = [];
  const fail = (at: string, value: unknown, expected: string) => {
    if (problems.length < 50) problems.push(new InvalidInputError(at, value, expected));
  };
  const plan = json as Partial<MigrationPlan> | null;
  if (typeof plan !== 'object' || plan === null)
    throw new InvalidInputErrors([new InvalidInputError(field, json, 'an object { mapping, phases, findings }')]);
  if (typeof plan.mapping !== 'object' || plan.mapping === null)
    fail(`${field}.mapping`, plan.mapping, 'an object { "topic/partition": { source, destination } }');
  else {
    for (const [key, m] of Object.entries(plan.mapping)) {
      if (!/^.+\/\d+$/.test(key)) fail(`${field}.mapping`, key, 'keys like "orders/0"');
      if (!isIdList(m?.source) || !isIdList(m?.destination))
        fail(`${field}.mapping["${key}"]`, m, '{ source: [ids], destination: [ids] }');
    }
  }
  if (!Array.isArray(plan.phases)) fail(`${field}.phases`, plan.phases, 'an array');
  (Array.isArray(plan.phases) ? plan.phases : []).forEach((phase, i) => {
    const at = `${field}.phases[${i}]`;
    if (!PHASE_NAMES.includes(phase?.name)) fail(`${at}.name`, phase?.name, `one of ${PHASE_NAMES.join(', ')}`);
    if (!Array.isArray(phase?.batches)) fail(`${at}.batches`, phase?.batches, 'an array');
    const batches = Array.isArray(phase?.batches) ? phase.batches : [];
    for (const [j, b] of batches.entries())
      checkReassignments(b?.reassignments, `${at}.batches[${j}].reassignments`, fail);
    checkReassignments(phase?.rollback?.reassignments, `${at}.rollback.reassignments`, fail);
  });
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  return plan as MigrationPlan;
}

function checkReassignments(
  list: unknown,
  at: string,
  fail: (at: string, value: unknown, expected: string) => void,
): void {
  if (!Array.isArray(list)) {
    fail(at, list, 'an array of { topic, partition, replicas }');
    return;
  }
  list.forEach((r: Partial<Reassignment> | null, i) => {
    const ok =
      typeof r?.topic === 'string' &&
      Number.isSafeInteger(r.partition) &&
      isIdList(r.replicas) &&
      r.replicas.length > 0;
    if (!ok) fail(`${at}[${i}]`, r, '{ topic, partition, replicas: [broker ids] }');
  });
}

function isIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((id) => Number.isSafeInteger(id) && id >= 0);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
