// One job from request to its end in a single call: what commands that need an answer from agents
// (a generator reading a live cluster through its delegate agent) use. The job is an ordinary one:
// signed orders, journal, audit, and `drover job resume` if this process dies.
import type { OrderSigner } from '@drover/shared';
import { type DriveOptions, driveJob, type JobSummary } from './driver.ts';
import { createJob, type JobRequest, prepareJob } from './jobs.ts';
import type { Drover } from './nats.ts';

export async function runJobToEnd(
  d: Drover,
  request: JobRequest,
  options: { coordinatorId: string; signer: OrderSigner } & Partial<DriveOptions>,
): Promise<JobSummary> {
  const prepared = await prepareJob(d, request);
  await createJob(d, prepared);
  return driveJob(d, prepared.job.id, options);
}
