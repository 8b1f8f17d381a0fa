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
  parseSelector,
  validateStepParams,
} from '@drover/shared';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { parseCountOrPercent, parseDurationMs } from '../engine/index.ts';
import type { ResolvedPlan, ResolvedStep } from './types.ts';

export type PathPart = string | number;

/** `phases[1].steps[0].params.seconds` */
export function formatPath(path: readonly PathPart[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    '',
  );
}

/** Every problem found in a plan file (exit 2 in the CLI; nothing is written anywhere). */
export class PlanFileError extends InvalidInputErrors {
  readonly file: string;
  constructor(file: string, problems: InvalidInputError[]) {
    super(problems);
    this.name = 'PlanFileError';
    this.file = file;
  }
}

class Locator {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly file: string;
  constructor(file: string, doc: Document, lines: LineCounter) {
    this.file = file;
    this.doc = doc;
    this.lines = lines;
  }

  /** `file:line:col` of the deepest node that exists along the path (the parent when a key is missing). */
  where(path: readonly PathPart[]): string {
    for (let n = path.length; n >= 0; n--) {
      const node = (n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
      const offset = node && (isScalar(node) || isMap(node) || isSeq(node)) ? node.range?.[0] : undefined;
      if (offset !== undefined) {
        const { line, col } = this.lines.linePos(offset);
        return `${this.file}:${line}:${col}`;
      }
    }
    return `${this.file}:1:1`;
  }

  problem(path: readonly PathPart[], value: unknown, expected: string): InvalidInputError {
    return new InvalidInputError(`${this.where(path)}: ${formatPath(path) || '(document)'}`, value, expected);
  }
}

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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PlanFileError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        const near = text.split('\n')[pos.line - 1]?.trim() ?? '';
        return new InvalidInputError(
          `${file}:${pos.line}:${pos.col}: YAML`,
          near,
          `valid YAML (${e.message.split('\n')[0]})`,
        );
      }),
    );
  }
  const at = new Locator(file, doc, lines);
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const parsed = PlanSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PlanFileError(
      file,
      parsed.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is PathPart => typeof p !== 'symbol');
        const expected =
          issue.code === 'unrecognized_keys' ? `no unknown keys (${issue.keys.join(', ')} not allowed)` : issue.message;
        const keyPath = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
        return at.problem(keyPath, valueAt(raw, keyPath), expected);
      }),
    );
  }
  const problems: InvalidInputError[] = [];
  const plan = resolvePlan(parsed.data, at, problems);
  if (problems.length > 0) throw new PlanFileError(file, problems);
  const digest = createHash('sha256').update(canonicalJson(plan)).digest('hex');
  return { file, plan, digest };
}

function valueAt(value: unknown, path: readonly PathPart[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key as string];
  }
  return current;
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
  const target = substitute(step.target, vars, [...path, 'target'], at, problems) as string | string[];
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
