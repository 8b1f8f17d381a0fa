// Loading a plan file: YAML (the `yaml` package, so every problem has a line and column), the plan
// schema from `shared`, then what the schema cannot know: each step exists in the catalog, its
// params pass that step's own schema (after `${vars.NAME}` substitution), selectors parse, options
// are well-formed, names are unique. Every problem is reported at once, each with file, line,
// column, field, value and what was expected; nothing touches NATS here.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  canonicalJson,
  getStep,
  InvalidInputError,
  InvalidInputErrors,
  type Plan,
  PlanSchema,
  type PlanStep,
  PlanTargetSchema,
  parseSelector,
  validateStepParams,
} from '@drover/shared';
import { MAX_PARAMS_BYTES, parseCountOrPercent, parseDurationMs } from '../engine/index.ts';
import { type Locator, type PathPart, PlanFileError, parseYamlFile } from '../files/yaml.ts';

export { formatPath, PlanFileError } from '../files/yaml.ts';

import type { ResolvedPlan, ResolvedStep } from './types.ts';

export interface LoadedPlan {
  file: string;
  plan: ResolvedPlan;
  /** sha256 of the resolved plan's canonical JSON: what a run was created from. */
  digest: string;
}

export function loadPlanFile(file: string): LoadedPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError('plan file', file, `a readable YAML file (${(cause as Error).message})`);
  }
  return parsePlanText(text, file);
}

export function parsePlanText(text: string, file = 'plan.yaml'): LoadedPlan {
  const { value, at } = parseYamlFile(text, file, PlanSchema, (f, problems) => new PlanFileError(f, problems));
  const problems: InvalidInputError[] = [];
  const plan = resolvePlan(value, at, problems);
  if (problems.length > 0) throw new PlanFileError(file, problems);
  const digest = createHash('sha256').update(canonicalJson(plan)).digest('hex');
  return { file, plan, digest };
}

function resolvePlan(plan: Plan, at: Locator, problems: InvalidInputError[]): ResolvedPlan {
  const phaseNames = new Set<string>();
  const phases = plan.phases.map((phase, pi) => {
    const where: PathPart[] = ['phases', pi];
    if (phaseNames.has(phase.name))
      problems.push(at.problem([...where, 'name'], phase.name, 'a phase name not used by another phase'));
    phaseNames.add(phase.name);
    const stepNames = new Set<string>();
    const rollbackNames = new Set<string>();
    const resolveAt = (step: PlanStep, path: PathPart[], names: Set<string>) => {
      if (names.has(step.name))
        problems.push(
          at.problem([...path, 'name'], step.name, `a step name not used by another step of phase ${phase.name}`),
        );
      names.add(step.name);
      return resolveStep(step, path, plan.vars, at, problems);
    };
    return {
      name: phase.name,
      ...(phase.description ? { description: phase.description } : {}),
      approval: phase.approval,
      steps: phase.steps.map((step, si) => resolveAt(step, [...where, 'steps', si], stepNames)),
      gate: phase.gate.map((check, gi) => ({
        ...resolveAt(check, [...where, 'gate', gi], stepNames),
        expect: Array.isArray(check.expect) ? check.expect : [check.expect],
      })),
      rollback: phase.rollback.map((step, ri) => resolveAt(step, [...where, 'rollback', ri], rollbackNames)),
    };
  });
  return { apiVersion: plan.apiVersion, kind: plan.kind, metadata: plan.metadata, vars: plan.vars, phases };
}

/** Replaces `${vars.NAME}`: a whole-string reference keeps the var's type, an embedded one becomes text. */
function substitute(
  value: unknown,
  vars: Record<string, unknown>,
  path: PathPart[],
  at: Locator,
  problems: InvalidInputError[],
): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{vars\.([A-Za-z0-9._-]+)\}$/.exec(value);
    if (whole) {
      const name = whole[1] as string;
      if (!(name in vars)) problems.push(at.problem(path, value, `a var defined under vars (${knownVars(vars)})`));
      return vars[name];
    }
    return value.replace(/\$\{vars\.([A-Za-z0-9._-]+)\}/g, (ref, name: string) => {
      if (!(name in vars)) {
        problems.push(at.problem(path, ref, `a var defined under vars (${knownVars(vars)})`));
        return ref;
      }
      return String(vars[name]);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, vars, [...path, i], at, problems));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, vars, [...path, k], at, problems)]),
    );
  return value;
}

function knownVars(vars: Record<string, unknown>): string {
  const names = Object.keys(vars);
  return names.length ? `defined: ${names.join(', ')}` : 'none defined';
}

function resolveStep(
  step: PlanStep,
  path: PathPart[],
  vars: Record<string, unknown>,
  at: Locator,
  problems: InvalidInputError[],
): ResolvedStep {
  const substituted = substitute(step.target, vars, [...path, 'target'], at, problems);
  // Checked again once ${vars} are in: `target: "${vars.x}"` may have become a number, or an empty
  // selector (which would match every agent).
  const checkedTarget = PlanTargetSchema.safeParse(substituted);
  if (!checkedTarget.success)
    problems.push(
      at.problem(
        [...path, 'target'],
        substituted,
        'a non-empty label selector or a list of agent ids, once vars are substituted',
      ),
    );
  const target = checkedTarget.success ? checkedTarget.data : [];
  const rawParams = substitute(step.params, vars, [...path, 'params'], at, problems) as Record<string, unknown>;
  let params: Record<string, unknown> = rawParams;
  let known = true;
  try {
    getStep(step.step);
  } catch (error) {
    known = false;
    const e = error as InvalidInputError;
    problems.push(at.problem([...path, 'step'], step.step, e.expected));
  }
  const bytes = Buffer.byteLength(JSON.stringify(rawParams));
  if (bytes > MAX_PARAMS_BYTES)
    problems.push(
      at.problem(
        [...path, 'params'],
        `${bytes} bytes of JSON`,
        `at most ${MAX_PARAMS_BYTES} bytes (an order must fit one message of the orders stream; split the step)`,
      ),
    );
  if (known) {
    try {
      params = validateStepParams(step.step, rawParams);
    } catch (error) {
      if (!(error instanceof InvalidInputErrors)) throw error;
      for (const p of error.problems) {
        // p.field is `params.a.b`: point at that node in the file.
        const sub = p.field.split('.').slice(1);
        problems.push(at.problem([...path, 'params', ...sub], p.value, p.expected));
      }
    }
  }
  if (typeof target === 'string') {
    try {
      parseSelector(target);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push(at.problem([...path, 'target'], target, error.expected));
    }
  }
  const option = <T>(key: keyof PlanStep, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push(at.problem([...path, key], step[key], error.expected));
      return undefined;
    }
  };
  const concurrency = option('concurrency', () => parseCountOrPercent('concurrency', String(step.concurrency)));
  const maxErrors = option('maxErrors', () => parseCountOrPercent('maxErrors', String(step.maxErrors)));
  const timeoutMs =
    step.timeout === undefined ? undefined : option('timeout', () => parseDurationMs('timeout', String(step.timeout)));
  const deliveryTimeoutMs =
    step.deliveryTimeout === undefined
      ? undefined
      : option('deliveryTimeout', () => parseDurationMs('deliveryTimeout', String(step.deliveryTimeout)));
  return {
    name: step.name,
    step: step.step,
    target: typeof target === 'string' ? { selector: target.trim() } : { agents: target },
    params,
    options: {
      concurrency: concurrency ?? { percent: 100 },
      maxErrors: maxErrors ?? { count: 0 },
      ...(step.serialBy ? { serialBy: step.serialBy } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(deliveryTimeoutMs !== undefined ? { deliveryTimeoutMs } : {}),
    },
  };
}

/** Checks that a phase name given on the command line (`--until`, `--to`, `--phase`) is in the plan. */
export function checkPhaseName(plan: ResolvedPlan, field: string, name: string): number {
  const index = plan.phases.findIndex((p) => p.name === name);
  if (index === -1)
    throw new InvalidInputError(
      field,
      name,
      `a phase of plan ${plan.metadata.name}: ${plan.phases.map((p) => p.name).join(', ')}`,
    );
  return index;
}
