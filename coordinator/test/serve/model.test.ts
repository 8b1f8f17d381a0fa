// The live model behind the page: snapshots and patches of agents, jobs, targets and plan runs,
// liveness going stale by silence, progress, and signed results shown before KV catches up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentRecord, OrderResult } from '@drover/shared';
import type { JobRecord, RunRecord } from '../../src/engine/records.ts';
import type { PlanRun } from '../../src/plan/types.ts';
import { LiveModel } from '../../src/serve/model.ts';

const agent = (id: string, lastSeen: number): AgentRecord => ({
  id,
  labels: { cluster: 'kafka-a', role: 'broker' },
  version: '0.1.0',
  startedAt: 0,
  lastSeen,
  heartbeatMs: 1000,
  status: 'online',
  steps: ['ping'],
  facts: { hostname: `${id}.local`, cpus: 4 },
});

const order = { orderId: 'o-1', issuedAt: 100 } as RunRecord['order'];
const target = (state: RunRecord['state'], extra: Partial<RunRecord> = {}): RunRecord => ({
  jobId: 'j-1',
  agentId: 'a-1',
  group: '',
  state,
  order: { ...order!, signature: 'x' } as RunRecord['order'],
  ...extra,
});

test('a snapshot holds trimmed records; a patch only what changed since the last one', () => {
  const m = new LiveModel();
  m.putAgent('a-1', agent('a-1', 1000), 1000);
  m.putAgent('spoof', agent('a-1', 1000), 1000);
  const snap = m.snapshot(1000);
  assert.deepEqual(
    snap.agents.map((a) => a.id),
    ['a-1'],
    'a record under another key is not shown',
  );
  assert.equal(snap.agents[0]?.hostname, 'a-1.local');
  assert.ok(!('facts' in (snap.agents[0] ?? {})), 'no facts on the wire');
  const first = m.takePatch(1000);
  assert.deepEqual(
    first?.agents.map((a) => a.id),
    ['a-1'],
  );
  assert.equal(m.takePatch(1000), undefined, 'nothing changed since');
  m.putAgent('a-1', undefined, 1100);
  assert.deepEqual(m.takePatch(1100)?.removed.agents, ['a-1']);
});

test('an agent goes stale after three missed heartbeats, without any KV write', () => {
  const m = new LiveModel();
  m.putAgent('a-1', agent('a-1', 1000), 1000);
  m.takePatch(1000);
  m.tick(3500);
  assert.equal(m.takePatch(3500), undefined, 'still online');
  m.tick(4500);
  assert.equal(m.takePatch(4500)?.agents[0]?.liveness, 'stale');
});

test('progress is kept per target (latest first), and a signed result shows until KV has the final state', () => {
  const m = new LiveModel();
  m.putTarget('j-1.a-1', target('running'));
  m.putProgress('j-1', 'a-1', { at: 2, message: 'moved 20 MB of 100 MB', percent: 20 });
  m.putProgress('j-1', 'a-1', { at: 1, message: 'older', percent: 10 });
  assert.equal(m.targets.get('j-1.a-1')?.progress?.percent, 20, 'an older event does not win');
  const result: OrderResult = {
    orderId: 'o-1',
    jobId: 'j-1',
    agentId: 'a-1',
    step: 'command',
    status: 'failed',
    finishedAt: 500,
    error: { name: 'CommandFailed', message: 'exit code 3', retryable: false },
  };
  m.putLiveResult('j-1', 'a-1', result);
  assert.equal(m.targets.get('j-1.a-1')?.state, 'failed');
  assert.equal(m.targets.get('j-1.a-1')?.error, 'exit code 3');
  m.putTarget('j-1.a-1', target('running'));
  assert.equal(m.targets.get('j-1.a-1')?.state, 'failed', 'a late KV write of running does not hide it');
  m.putTarget('j-1.a-1', target('timed-out', { reason: 'no result in time' }));
  assert.equal(m.targets.get('j-1.a-1')?.state, 'timed-out', "KV's final state wins");
  assert.deepEqual(m.orderOf('j-1', 'a-1'), { orderId: 'o-1', issuedAt: 100 });
});

test('jobs, and plan runs joined with their outline (approvals), without lease details', () => {
  const m = new LiveModel();
  m.putJob('j-1', {
    id: 'j-1',
    step: 'sleep',
    params: {},
    selector: 'cluster=a',
    options: {
      concurrency: { count: 1 },
      maxErrors: { count: 0 },
      timeoutMs: 1,
      deliveryTimeoutMs: 1,
    },
    groups: [{ key: '', agents: ['a-1', 'a-2'] }],
    createdAt: 1,
    createdBy: 'me',
    state: 'running',
    cancelRequested: false,
  } satisfies JobRecord);
  assert.equal(m.jobs.get('j-1')?.targets, 2);
  const run = {
    id: 'r-1',
    name: 'p',
    file: '/secret/path.yaml',
    digest: 'd',
    createdAt: 1,
    createdBy: 'me',
    state: 'awaiting-approval',
    phase: 1,
    phases: [],
    cancelRequested: false,
    owner: 'host-1',
    leaseUntil: 99,
  } satisfies PlanRun;
  m.putPlanRunKey('r-1.state', { state: run });
  m.putPlanRunKey('r-1.plan', {
    plan: {
      apiVersion: 'drover/v1',
      kind: 'Plan',
      metadata: { name: 'p' },
      vars: {},
      phases: [
        {
          name: 'go-live',
          approval: true,
          steps: [
            {
              name: 'hello',
              step: 'ping',
              target: { selector: 'case=serve' },
              params: {},
              options: { concurrency: { count: 1 }, maxErrors: { count: 0 } },
            },
          ],
          gate: [],
          rollback: [],
        },
      ],
    },
  });
  const shown = m.planRuns.get('r-1');
  assert.equal(shown?.driver, 'host-1');
  assert.ok(!('leaseUntil' in (shown ?? {})) && !('file' in (shown ?? {})));
  assert.deepEqual(shown?.outline?.phases[0], {
    name: 'go-live',
    approval: true,
    steps: [{ name: 'hello', step: 'ping', target: 'case=serve' }],
  });
  m.putPlanRunKey('r-1.state', undefined);
  assert.equal(m.planRuns.has('r-1'), false);
});
