// The plan file: a migration as phases of steps over targets, with gates, approvals and rollback.
// Defined once here (zod): the coordinator validates files with it, types come from it, and
// `drover plan schema` prints its JSON Schema for editors. Plans are static: everything that will
// run is in the file, so it can be reviewed before it runs.
//
// A small example (the README has a complete one):
//   apiVersion: drover/v1
//   kind: Plan
//   metadata: { name: kafka-a-migration, cluster: kafka-a }
//   vars: { seconds: 2 }
//   phases:
//     - name: prepare
//       steps:
//         - { name: wait, step: sleep, target: "cluster=kafka-a", params: { seconds: "${vars.seconds}" } }
//       gate:
//         - { name: alive, step: ping, target: "cluster=kafka-a", expect: { field: labels.cluster, equals: kafka-a } }
//       rollback:
//         - { name: undo, step: sleep, target: [kafka-a-1], params: { seconds: 1 } }
//     - name: switch
//       approval: true
//       steps: [...]
import { z } from 'zod';

/** Phase, step and var names: short, readable in a terminal, safe in `--phase` and `--until`. */
export const PLAN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const Name = z
  .string()
  .regex(PLAN_NAME_PATTERN, 'a name of letters, digits, ".", "_" or "-" (1-63 chars, starting with a letter or digit)');

/** Agent ids as the registry knows them (the same token rule as subjects). */
const AgentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'an agent id (letters, digits, "-" or "_", 1-64 chars)');

/** `10`, `25%`: how many targets at once, or how many errors are tolerated. */
export const PlanCountSchema = z.union([
  z.number().int().min(0),
  z.string().regex(/^\s*(\d+|\d+(\.\d+)?%)\s*$/, 'a whole number (e.g. 10) or a percentage of the targets (e.g. 25%)'),
]);

/** `500ms`, `30s`, `5m`, `2h`, `1d`, or a number of seconds. */
export const PlanDurationSchema = z.union([
  z.number().positive(),
  z.string().regex(/^\s*\d+(\.\d+)?(ms|s|m|h|d)?\s*$/, 'a duration like 500ms, 30s, 5m, 2h or 1d'),
]);

/** A label selector (`cluster=kafka-a,role=broker`) or an explicit list of agent ids. */
export const PlanTargetSchema = z.union([
  z.string().trim().min(1, 'a non-empty label selector (e.g. "cluster=kafka-a") or a list of agent ids'),
  z.array(AgentId).min(1, 'at least one agent id'),
]);

/** One step of a phase: one executor job (the step on every target, with rate control). */
export const PlanStepSchema = z
  .object({
    name: Name,
    step: z.string().min(1).max(64).describe('a step of the catalog (drover run --help lists them)'),
    target: PlanTargetSchema,
    params: z.record(z.string(), z.unknown()).default({}),
    concurrency: PlanCountSchema.default('100%').describe('targets with an order in flight at once'),
    maxErrors: PlanCountSchema.default(0).describe('errors tolerated before the step stops the run'),
    serialBy: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, 'a label key such as rack, dc or cluster')
      .optional(),
    timeout: PlanDurationSchema.optional().describe("how long the step may run once started (default: the step's)"),
    deliveryTimeout: PlanDurationSchema.optional().describe('how long an order waits for an offline agent'),
  })
  .strict();

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * A condition on every target's result: `field` is a dotted path into the step's result
 * (`inSync`, `labels.cluster`, `partitions.0.leader`) and exactly one operator is given.
 */
export const PlanConditionSchema = z
  .object({
    field: z.string().min(1).max(256),
    equals: Scalar.optional(),
    notEquals: Scalar.optional(),
    atLeast: z.number().optional(),
    atMost: z.number().optional(),
    exists: z.boolean().optional(),
  })
  .strict()
  .refine(
    (c) => ['equals', 'notEquals', 'atLeast', 'atMost', 'exists'].filter((k) => k in c).length === 1,
    'exactly one of equals, notEquals, atLeast, atMost, exists',
  );

/** A gate check: a step run after the phase's steps, whose result must satisfy `expect` on every target. */
export const PlanGateCheckSchema = PlanStepSchema.extend({
  expect: z.union([PlanConditionSchema, z.array(PlanConditionSchema).min(1)]),
}).strict();

export const PlanPhaseSchema = z
  .object({
    name: Name,
    description: z.string().max(2000).optional(),
    /** The run waits for `drover run approve` before this phase starts. */
    approval: z.boolean().default(false),
    steps: z.array(PlanStepSchema).default([]),
    gate: z.array(PlanGateCheckSchema).default([]),
    /** Steps that undo this phase, run by `drover run rollback` (in this order). */
    rollback: z.array(PlanStepSchema).default([]),
  })
  .strict()
  .refine(
    (p) => p.steps.length > 0 || p.gate.length > 0 || p.approval,
    'a phase with at least one step, gate check or approval point',
  );

export const PlanSchema = z
  .object({
    apiVersion: z.literal('drover/v1'),
    kind: z.literal('Plan'),
    metadata: z
      .object({
        name: Name,
        cluster: z.string().min(1).max(128).optional(),
        description: z.string().max(4000).optional(),
      })
      .strict(),
    /** Values substituted where a string is `${vars.NAME}` (keeps its type) or contains it (as text). */
    vars: z.record(z.string().regex(PLAN_NAME_PATTERN), Scalar).default({}),
    phases: z.array(PlanPhaseSchema).min(1, 'at least one phase'),
  })
  .strict();

export type Plan = z.infer<typeof PlanSchema>;
export type PlanInput = z.input<typeof PlanSchema>;
export type PlanPhase = z.infer<typeof PlanPhaseSchema>;
export type PlanStep = z.infer<typeof PlanStepSchema>;
export type PlanGateCheck = z.infer<typeof PlanGateCheckSchema>;
export type PlanCondition = z.infer<typeof PlanConditionSchema>;
export type PlanTarget = z.infer<typeof PlanTargetSchema>;

/** The JSON Schema of plan files (for editors: `# yaml-language-server: $schema=...`). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://drover.dev/schemas/plan-v1.json',
    title: 'Drover plan (drover/v1)',
    ...(z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
  };
}

/** Reads a dotted path (`a.b.0.c`) in a step's result; undefined when any part is missing. */
export function readField(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Whether a result satisfies a condition; the reason when it does not. */
export function checkCondition(result: unknown, condition: PlanCondition): { ok: boolean; reason?: string } {
  const actual = readField(result, condition.field);
  const shown = JSON.stringify(actual) ?? 'undefined';
  const fail = (expected: string) => ({ ok: false, reason: `${condition.field} is ${shown}, expected ${expected}` });
  if (condition.exists !== undefined)
    return (actual !== undefined) === condition.exists ? { ok: true } : fail(condition.exists ? 'present' : 'absent');
  if ('equals' in condition)
    return Object.is(actual, condition.equals) ? { ok: true } : fail(JSON.stringify(condition.equals));
  if ('notEquals' in condition)
    return !Object.is(actual, condition.notEquals) ? { ok: true } : fail(`not ${JSON.stringify(condition.notEquals)}`);
  if (condition.atLeast !== undefined)
    return typeof actual === 'number' && actual >= condition.atLeast ? { ok: true } : fail(`>= ${condition.atLeast}`);
  if (condition.atMost !== undefined)
    return typeof actual === 'number' && actual <= condition.atMost ? { ok: true } : fail(`<= ${condition.atMost}`);
  return fail('a condition with one operator');
}
