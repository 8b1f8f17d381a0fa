// The step implementations of a rehearsal's agents: the same step names, definitions and parameter
// schemas as a real agent's (the shared catalog), with a `run` that acts on the cluster's simulated
// data plane (execute.ts: `clusterModel`) instead of a broker or a node. The agent code around them
// is the real one (signed orders, journal, results), so a plan reaches them through NATS, the plan
// runner and the engine exactly as it reaches production agents. They are handed to `startAgent`
// in the rehearsal's own process; nothing on the wire or in a config file can select them.
import { type SimCosts, type Simulation, STEP_CATALOG, type StepDefinition } from '@drover/shared';
import type { z } from 'zod';
import type { ClusterModel } from './execute.ts';
import type { SimAgent } from './synthesize.ts';

/** What a simulated step needs to know about the agent it runs on. */
export interface SimPlacement {
  model: ClusterModel;
  target: SimAgent;
}

/** Told when a simulated step starts and ends on an agent (the rehearsal's clock gate counts them). */
export interface SimStepHooks {
  begin(jobId: string, agentId: string): void;
  end(jobId: string, agentId: string): void;
}

export interface SimStepsOptions {
  sim: Simulation;
  costs: SimCosts;
  placement(agentId: string): SimPlacement | undefined;
  hooks: SimStepHooks;
}

/** The step implementations (in the agent's `StepImplementation` shape) for every step of the catalog. */
export function simulatedSteps(options: SimStepsOptions): Map<string, SimStepImplementation> {
  const { sim, costs, placement, hooks } = options;
  // A job costs `jobMs` once, from its first order on (as the rehearsal without NATS charges it).
  const jobStarts = new Map<string, number>();
  const steps = new Map<string, SimStepImplementation>();
  for (const [name, definition] of STEP_CATALOG) {
    steps.set(name, {
      definition,
      run: async (ctx, params) => {
        const orderStarted = Date.now();
        const found = placement(ctx.info.agentId);
        if (found === undefined) throw new Error(`agent ${ctx.info.agentId} is not a node of a rehearsed cluster`);
        hooks.begin(ctx.info.jobId, ctx.info.agentId);
        try {
          let started = jobStarts.get(ctx.info.jobId);
          if (started === undefined) {
            started = sim.now;
            jobStarts.set(ctx.info.jobId, started);
          }
          await sim.sleep(Math.max(0, started + costs.jobMs - sim.now));
          // The order's timeout is the step's timeout in simulated ms: the real ms left when it
          // started, to the second (timeouts are whole seconds; the few ms since are NATS's).
          const fields = await found.model.onTarget(
            {
              name: ctx.info.step,
              step: name,
              params: params as Record<string, unknown>,
              timeoutMs: Math.max(1000, Math.round((ctx.info.deadline - orderStarted) / 1000) * 1000),
            },
            found.target,
            ctx.info.jobId,
          );
          return simulatedResult(definition, fields);
        } finally {
          hooks.end(ctx.info.jobId, ctx.info.agentId);
        }
      },
    });
  }
  return steps;
}

/** The shape `startAgent` takes (agent/src/steps/context.ts), without importing the agent here. */
export interface SimStepImplementation {
  definition: StepDefinition;
  run(
    ctx: { info: { jobId: string; agentId: string; step: string; deadline: number } },
    params: unknown,
  ): Promise<unknown>;
}

/**
 * A result that passes the step's result schema: every required field at its type's empty value
 * (0, '', false, [], the first enum member), then the fields the simulation knows (`ok`, `missing`,
 * `resumable`, `available`: what plans' gates read). The agent checks it against the schema as it
 * checks a real step's result.
 */
export function simulatedResult(definition: StepDefinition, fields: Record<string, unknown>): unknown {
  const base = emptyValue(definition.result) as Record<string, unknown>;
  return definition.result.parse({ ...base, ...fields });
}

/** The empty value of a zod schema (the one fill-in the rehearsal needs; no library does it). */
export function emptyValue(schema: z.ZodType): unknown {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (def.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        const value = emptyValue(field);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
    case 'string':
      return '';
    case 'number':
    case 'int':
      return 0;
    case 'bigint':
      return 0n;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'record':
      return {};
    case 'tuple':
      return (def.items as z.ZodType[]).map(emptyValue);
    case 'enum':
      return Object.values(def.entries as Record<string, unknown>)[0];
    case 'literal':
      return (def.values as unknown[])[0];
    case 'nullable':
      return null;
    case 'default':
    case 'prefault':
      return typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
    case 'union':
      return emptyValue((def.options as z.ZodType[])[0] as z.ZodType);
    case 'pipe':
      return emptyValue(def.in as z.ZodType);
    case 'lazy':
      return emptyValue((def.getter as () => z.ZodType)());
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return emptyValue(def.innerType as z.ZodType);
    default:
      // optional, undefined, unknown, any: leave the field out.
      return undefined;
  }
}
