// The dry run of a plan against the live registry: per phase, every order that would go out (step,
// params, options) with its resolved targets and their liveness, and what is wrong (a selector that
// matches nobody, an explicit agent that is not registered). `drover apply` refuses to start when
// this finds a problem, before anything is written.
import { InvalidInputError, InvalidInputErrors, matchesSelector, parseSelector } from '@drover/shared';
import { type AgentView, type Drover, listAgents, redactParams } from '../engine/index.ts';
import type { ResolvedPlan, ResolvedStep } from './types.ts';

export interface PlannedOrder {
  phase: string;
  kind: 'step' | 'gate' | 'rollback';
  name: string;
  step: string;
  params: unknown;
  options: ResolvedStep['options'];
  expect?: unknown;
  target: string;
  targets: Array<{ id: string; liveness: string }>;
  /** Explicitly named agents that are not registered. */
  missing: string[];
  offline: string[];
}

export interface PlanShow {
  name: string;
  phases: Array<{ name: string; approval: boolean; orders: PlannedOrder[] }>;
  /** What would make `apply` refuse, each naming the step, the value and what was expected. */
  problems: Array<{ field: string; value: unknown; expected: string; message: string }>;
}

export function describeTarget(target: ResolvedStep['target']): string {
  return 'selector' in target ? target.selector : `agents ${target.agents.join(',')}`;
}

export async function showPlan(d: Drover, plan: ResolvedPlan): Promise<PlanShow> {
  const agents = await listAgents(d.agents);
  const byId = new Map(agents.map((a) => [a.id, a]));
  const problems: PlanShow['problems'] = [];
  const problem = (field: string, value: unknown, expected: string) =>
    problems.push({ field, value, expected, message: new InvalidInputError(field, value, expected).message });
  const phases = plan.phases.map((phase) => {
    const entries: Array<[PlannedOrder['kind'], ResolvedStep & { expect?: unknown }]> = [
      ...phase.steps.map((s) => ['step', s] as [PlannedOrder['kind'], ResolvedStep]),
      ...phase.gate.map((s) => ['gate', s] as [PlannedOrder['kind'], ResolvedStep]),
      ...phase.rollback.map((s) => ['rollback', s] as [PlannedOrder['kind'], ResolvedStep]),
    ];
    const orders = entries.map(([kind, step]): PlannedOrder => {
      let targets: AgentView[];
      let missing: string[] = [];
      if ('selector' in step.target) {
        const selector = parseSelector(step.target.selector);
        targets = agents.filter((a) => matchesSelector(selector, a.labels));
        if (targets.length === 0)
          problem(
            `phase ${phase.name}, ${kind} ${step.name}: target`,
            step.target.selector,
            `a selector matching at least one of the ${agents.length} registered agents`,
          );
      } else {
        targets = step.target.agents.flatMap((id) => byId.get(id) ?? []);
        missing = step.target.agents.filter((id) => !byId.has(id));
        if (missing.length > 0)
          problem(
            `phase ${phase.name}, ${kind} ${step.name}: target`,
            missing,
            "ids of registered agents (see 'drover agents')",
          );
      }
      return {
        phase: phase.name,
        kind,
        name: step.name,
        step: step.step,
        params: redactParams(step.params),
        options: step.options,
        ...(step.expect ? { expect: step.expect } : {}),
        target: describeTarget(step.target),
        targets: targets.map((t) => ({ id: t.id, liveness: t.liveness })),
        missing,
        offline: targets.filter((t) => t.liveness !== 'online').map((t) => t.id),
      };
    });
    return { name: phase.name, approval: phase.approval, orders };
  });
  return { name: plan.metadata.name, phases, problems };
}

/** Refuses (exit 2) a plan whose targets cannot be resolved; nothing has been written yet. */
export function assertNoProblems(shown: PlanShow): void {
  if (shown.problems.length > 0)
    throw new InvalidInputErrors(shown.problems.map((p) => new InvalidInputError(p.field, p.value, p.expected)));
}
