// Running jobs in-process through the coordinator engine (the same calls `drover run` makes).
import { readFileSync } from 'node:fs';
import {
  createJob,
  type Drover,
  driveJob,
  type JobRequest,
  type JobSummary,
  parseCountOrPercent,
  prepareJob,
  type RunRecord,
} from '@drover/coordinator';
import { orderSignerFromPem } from '@drover/shared';
import { connectCoordinator, type Fleet } from './fleet.ts';

export interface QuickJob {
  step: string;
  params?: Record<string, unknown>;
  selector?: string;
  concurrency?: string;
  maxErrors?: string;
  serialBy?: string;
  timeoutMs?: number;
  deliveryTimeoutMs?: number;
}

export function jobRequest(job: QuickJob): JobRequest {
  return {
    step: job.step,
    params: job.params ?? {},
    selector: job.selector ?? '',
    // A quick job without a selector is meant for every agent of the test's fleet.
    ...(job.selector ? {} : { all: true }),
    options: {
      concurrency: parseCountOrPercent('concurrency', job.concurrency ?? '100%'),
      maxErrors: parseCountOrPercent('maxErrors', job.maxErrors ?? '0'),
      ...(job.serialBy ? { serialBy: job.serialBy } : {}),
      ...(job.timeoutMs ? { timeoutMs: job.timeoutMs } : {}),
      ...(job.deliveryTimeoutMs ? { deliveryTimeoutMs: job.deliveryTimeoutMs } : {}),
    },
    createdBy: 'test',
  };
}

export async function connect(fleet: Fleet): Promise<Drover> {
  return connectCoordinator(fleet.natsOptions);
}

/** Creates and drives a job to its end; returns the summary. */
export async function runJob(
  d: Drover,
  fleet: Fleet,
  job: QuickJob,
  onRun?: (run: RunRecord) => void,
): Promise<JobSummary> {
  const prepared = await prepareJob(d, jobRequest(job));
  await createJob(d, prepared);
  const signer = orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8'));
  return driveJob(d, prepared.job.id, {
    coordinatorId: 'test-coordinator',
    signer,
    tickMs: 100,
    ...(onRun ? { onRun } : {}),
  });
}

/** The largest number of intervals [start, end) open at the same instant. */
export function maxOverlap(intervals: Array<[number, number]>): number {
  const points = intervals.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]) as Array<[number, number]>;
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of points) {
    open += delta;
    max = Math.max(max, open);
  }
  return max;
}
