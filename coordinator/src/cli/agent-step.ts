// One step on one named agent, waited for, its output checked against the step's result schema: what
// commands that act through a single agent use (`drover zookeeper clean|restore`). An ordinary job
// underneath (signed order, journal, audit, `drover job resume`). A step that fails is an error whose
// message is the agent's (exit 1); bad input before dispatch stays InvalidInputError (exit 2).
import { getStep, type OrderSigner } from '@drover/shared';
import type { z } from 'zod';
import { type Drover, runJobToEnd } from '../engine/index.ts';

export class AgentStepFailedError extends Error {
  readonly oclif = { exit: 1 };
  readonly jobId: string;
  constructor(message: string, jobId: string) {
    super(message);
    this.name = 'AgentStepFailedError';
    this.jobId = jobId;
  }
}

export async function runOnAgent<Result extends z.ZodType>(
  d: Drover,
  request: {
    agent: string;
    step: string;
    params: Record<string, unknown>;
    result: Result;
    timeoutMs?: number;
    coordinatorId: string;
    signer: OrderSigner;
  },
): Promise<{ output: z.infer<Result>; jobId: string }> {
  getStep(request.step);
  const summary = await runJobToEnd(
    d,
    {
      step: request.step,
      params: request.params,
      selector: '',
      agents: [request.agent],
      options: {
        concurrency: { count: 1 },
        maxErrors: { count: 0 },
        ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      },
      createdBy: request.coordinatorId,
    },
    { coordinatorId: request.coordinatorId, signer: request.signer },
  );
  const target = summary.runs[0];
  const jobId = summary.job.id;
  if (summary.job.state !== 'succeeded' || !target?.result || target.result.status !== 'succeeded') {
    const error = target?.result?.error;
    const why = error ? `${error.name}: ${error.message}` : (target?.reason ?? target?.state ?? 'no result');
    throw new AgentStepFailedError(
      `${request.step} on ${request.agent} ${target?.state ?? summary.job.state} (job ${jobId}): ${why}`,
      jobId,
    );
  }
  return { output: request.result.parse(target.result.output), jobId };
}
