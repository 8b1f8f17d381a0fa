// The progress model: run records, run events, the driver's target records and the agents' events
// folded into phases -> steps -> targets, in whatever order they arrive; and its text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isRunSettled,
  type ProgressAction,
  type ProgressView,
  reduce,
  stepOutput,
  stepTitle,
  viewOfJob,
  viewOfRun,
} from '../../../src/cli/progress/index.ts';
import type { RunRecord, TailEvent } from '../../../src/engine/index.ts';
import type { PlanRun, RunEvent } from '../../../src/plan/index.ts';

const RUN: PlanRun = {
  id: 'r-1',
  name: 'demo',
  file: 'plan.yaml',
  digest: 'x'.repeat(64),
  createdAt: 0,
  createdBy: 'me',
  state: 'running',
  phase: 0,
  cancelRequested: false,
  phases: [
    {
      name: 'prepare',
      state: 'pending',
      steps: [
        { name: 'settle', kind: 'step', attempt: 1, state: 'pending' },
        { name: 'check', kind: 'gate', attempt: 1, state: 'pending' },
      ],
      rollback: [{ name: 'undo', kind: 'rollback', attempt: 1, state: 'pending' }],
    },
    {
      name: 'finish',
      state: 'pending',
      steps: [{ name: 'done', kind: 'step', attempt: 1, state: 'pending' }],
      rollback: [],
    },
  ],
};

const runEvent = (type: RunEvent['type'], extra: Partial<RunEvent> = {}): ProgressAction => ({
  type: 'run-event',
  event: { runId: 'r-1', at: 1, type, message: `${type}`, ...extra },
});
const agentEvent = (kind: string, agentId: string, data: Record<string, unknown>, jobId = 'j-1'): ProgressAction => ({
  type: 'event',
  event: { jobId, agentId, kind, at: 1, data } satisfies TailEvent,
});
const target = (agentId: string, state: RunRecord['state'], extra: Partial<RunRecord> = {}): ProgressAction => ({
  type: 'target',
  record: { jobId: 'j-1', agentId, group: 'all', state, ...extra },
  total: 2,
});
const fold = (view: ProgressView, actions: ProgressAction[]) => actions.reduce(reduce, view);
const settle = (v: ProgressView) => v.phases[0]?.steps[0];

describe('progress model', () => {
  test('a run record gives phases and steps; pending rollback steps are left out', () => {
    const view = viewOfRun(RUN);
    assert.equal(view.state, 'running');
    assert.deepEqual(
      view.phases.map((p) => [p.name, p.state, p.steps.map((s) => `${s.kind}:${s.name}`)]),
      [
        ['prepare', 'pending', ['step:settle', 'gate:check']],
        ['finish', 'pending', ['step:done']],
      ],
    );
  });

  test('run events, target records and agent events fill one step', () => {
    const view = fold(viewOfRun(RUN), [
      runEvent('phase-started', { phase: 'prepare' }),
      runEvent('step-started', { phase: 'prepare', step: 'settle', jobId: 'j-1', message: 'step settle: sleep' }),
      target('a1', 'dispatched'),
      target('a2', 'dispatched'),
      agentEvent('accepted', 'a1', {}),
      agentEvent('progress', 'a1', { message: 'slept 1s of 2s', percent: 50 }),
      agentEvent('progress', 'a2', { message: 'starting' }),
    ]);
    assert.equal(view.phases[0]?.state, 'running');
    const step = settle(view);
    assert.equal(step?.state, 'running');
    assert.equal(step?.jobId, 'j-1');
    assert.deepEqual(step?.targets, [
      { agentId: 'a1', state: 'running', percent: 50, message: 'slept 1s of 2s' },
      { agentId: 'a2', state: 'running', message: 'starting' },
    ]);
    assert.equal(stepTitle(step as NonNullable<typeof step>), 'settle 0/2 (job j-1)');
    const text = stepOutput(step as NonNullable<typeof step>, false);
    assert.equal(text, 'a1  running     [##########----------]  50% slept 1s of 2s\na2  running     starting');
  });

  test('a final state never goes back; the driver has the last word; success fills the bar', () => {
    const view = fold(viewOfRun(RUN), [
      runEvent('step-started', { phase: 'prepare', step: 'settle', jobId: 'j-1' }),
      agentEvent('progress', 'a1', { message: 'half', percent: 50 }),
      agentEvent('result', 'a1', { status: 'succeeded' }),
      target('a1', 'running'), // late
      agentEvent('progress', 'a1', { message: 'late', percent: 60 }), // late
      agentEvent('result', 'a2', { status: 'failed', error: { name: 'E', message: 'boom' } }),
      target('a2', 'timed-out', { reason: 'no result in time' }),
      runEvent('step-failed', { phase: 'prepare', step: 'settle', jobId: 'j-1' }),
      runEvent('failed', { message: 'run failed at prepare' }),
    ]);
    assert.deepEqual(settle(view)?.targets, [
      { agentId: 'a1', state: 'succeeded', percent: 100, message: 'half' },
      { agentId: 'a2', state: 'timed-out', message: 'no result in time' },
    ]);
    assert.equal(settle(view)?.state, 'failed');
    assert.equal(view.state, 'failed');
    assert.equal(view.message, 'run failed at prepare');
    assert.ok(isRunSettled(view));
  });

  test('a record read again keeps the targets of the same job, drops those of an earlier attempt', () => {
    const withTargets = fold(viewOfRun(RUN), [
      runEvent('step-started', { phase: 'prepare', step: 'settle', jobId: 'j-1' }),
      target('a1', 'running'),
    ]);
    const again = structuredClone(RUN);
    Object.assign(again.phases[0]?.steps[0] ?? {}, { state: 'running', jobId: 'j-1' });
    assert.equal(settle(reduce(withTargets, { type: 'run', run: again }))?.targets.length, 1);
    Object.assign(again.phases[0]?.steps[0] ?? {}, { attempt: 2, jobId: 'j-2' });
    assert.equal(settle(reduce(withTargets, { type: 'run', run: again }))?.targets.length, 0);
  });

  test('awaiting approval and paused settle a run; running does not', () => {
    const view = viewOfRun(RUN);
    assert.equal(isRunSettled(view), false);
    assert.ok(isRunSettled(reduce(view, runEvent('awaiting-approval', { phase: 'finish' }))));
    assert.equal(
      reduce(view, runEvent('awaiting-approval', { phase: 'finish' })).phases[1]?.state,
      'awaiting-approval',
    );
    assert.ok(isRunSettled(reduce(view, runEvent('paused'))));
  });

  test('tail: a job view, verdicts, and a job nobody named goes under `jobs`', () => {
    let view = viewOfJob('j-1', 'sleep', ['a1', 'a2']);
    view = fold(view, [
      agentEvent('progress', 'a1', { message: 'x', percent: 101 }),
      agentEvent('job', 'coordinator', { type: 'verdict', agentId: 'a2', state: 'no-response', message: 'silent' }),
      agentEvent('result', 'a1', { status: 'succeeded' }),
      agentEvent('job', 'coordinator', { type: 'finished', counts: { succeeded: 1, 'no-response': 1 } }),
    ]);
    assert.deepEqual(view.phases[0]?.steps[0]?.targets, [
      { agentId: 'a1', state: 'succeeded', percent: 100, message: 'x' },
      { agentId: 'a2', state: 'no-response', message: 'silent' },
    ]);
    assert.equal(view.phases[0]?.steps[0]?.state, 'failed');
    assert.equal(view.phases[0]?.state, 'failed');
    const other = reduce(view, agentEvent('accepted', 'b1', {}, 'j-9'));
    assert.equal(other.phases[1]?.name, 'jobs');
    assert.deepEqual(other.phases[1]?.steps[0]?.targets, [{ agentId: 'b1', state: 'running' }]);
  });

  test('run events seen by a tail of every job build the run as they come', () => {
    const view = fold({ title: 'all', phases: [] }, [
      agentEvent(
        'run',
        'coordinator',
        { runId: 'r-1', at: 1, type: 'step-started', phase: 'p', step: 's', jobId: 'j-1', message: 'step s' },
        'r-1',
      ),
      agentEvent('progress', 'a1', { message: 'hi', percent: 10 }),
    ]);
    assert.equal(view.phases[0]?.name, 'p');
    assert.deepEqual(view.phases[0]?.steps[0]?.targets, [
      { agentId: 'a1', state: 'running', percent: 10, message: 'hi' },
    ]);
  });
});
