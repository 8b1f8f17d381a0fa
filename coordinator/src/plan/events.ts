// A plan run's own events: every transition (phase started, approval awaited, step finished, run
// failed, rollback…) goes to the events stream (`drover.event.<runId>.coordinator.run`, for tails
// and the live page) and to the audit stream (`drover.audit.run.<runId>`), and to the caller's
// display. Writes are retried through NATS restarts and reported if they still fail.
import { COORDINATOR_TOKEN, eventSubject } from '@drover/shared';
import { audit } from '../engine/audit.ts';
import type { Drover } from '../engine/index.ts';
import { retrying } from '../engine/retry.ts';

export const RUN_EVENT_TYPES = [
  'created',
  'started',
  'resumed',
  'phase-started',
  'awaiting-approval',
  'approved',
  'step-started',
  'step-finished',
  'step-failed',
  'gate-passed',
  'gate-failed',
  'phase-succeeded',
  'phase-failed',
  'paused',
  'succeeded',
  'failed',
  'cancel-requested',
  'cancelled',
  'rollback-started',
  'phase-rolled-back',
  'rolled-back',
  'rollback-failed',
] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

export interface RunEvent {
  runId: string;
  at: number;
  type: RunEventType;
  message: string;
  phase?: string;
  step?: string;
  jobId?: string;
  by?: string;
}

export type RunEventSink = (event: RunEvent) => void;

export function emitRunEvent(d: Drover, sink: RunEventSink | undefined, event: Omit<RunEvent, 'at'>): Promise<unknown> {
  const full: RunEvent = { at: Date.now(), ...event };
  sink?.(full);
  const published = retrying(
    () => d.js.publish(eventSubject(full.runId, COORDINATOR_TOKEN, 'run'), JSON.stringify(full)),
    { onGiveUp: (error) => process.emitWarning(`run event not written: ${(error as Error).message}`) },
  );
  return Promise.all([published, audit(d, 'run', full.runId, { ...full, type: `run-${full.type}` })]);
}
