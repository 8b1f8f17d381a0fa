// `ping` step: who this agent is (id, version, labels) and a cheap facts summary.
import { pingStep } from '@drover/shared';
import { factsSummary } from '../facts.ts';
import { implementStep } from './context.ts';

export const pingImplementation = implementStep(pingStep, async (ctx) => ({
  agentId: ctx.agent.id,
  version: ctx.agent.version,
  labels: { ...ctx.agent.labels },
  facts: factsSummary(),
}));
