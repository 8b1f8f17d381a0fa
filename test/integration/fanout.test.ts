// Fan-out to 60 real agents over a real nats-server: rate control, error threshold, rack-serial
// groups, dry run. Agents run in two host processes (30 each, each agent its own NATS connection).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Drover, readRuns } from '@drover/coordinator';
import { isFinalTargetState, runKeysFilter, STREAM_ORDERS } from '@drover/shared';
import { type AgentSpec, createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, maxOverlap, runJob } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir } from '../harness/process.ts';

const AGENTS = 60;
let fleet: Fleet;
let d: Drover;

function specs(): AgentSpec[] {
  return Array.from({ length: AGENTS }, (_, i) => ({
    id: `agent-${String(i).padStart(2, '0')}`,
    labels: { cluster: i < 30 ? 'kafka-a' : 'cass-b', rack: `r${(i % 3) + 1}`, role: i % 2 ? 'broker' : 'node' },
    // The first ten agents' health check fails: that is what trips --max-errors.
    commands: { check: { argv: [i < 10 ? '/bin/false' : '/bin/true'] } },
  }));
}

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('fanout'), nats.urls, nats.security);
  d = await connect(fleet); // creates the streams and buckets the agents wait for
  const all = specs();
  await Promise.all([fleet.startHost('a', all.slice(0, 30)), fleet.startHost('b', all.slice(30))]);
});

after(async () => {
  await d?.close();
});

describe('fan-out to 60 agents', () => {
  test('--concurrency 10 keeps at most 10 steps running at once and every target succeeds', async () => {
    const summary = await runJob(d, fleet, { step: 'sleep', params: { seconds: 0.5 }, concurrency: '10' });
    assert.equal(summary.job.state, 'succeeded');
    assert.equal(summary.counts.succeeded, AGENTS);
    const intervals = summary.runs.map(
      (r) => [r.result?.startedAt ?? 0, r.result?.finishedAt ?? 0] as [number, number],
    );
    const overlap = maxOverlap(intervals);
    assert.ok(overlap <= 10, `at most 10 at once, saw ${overlap}`);
    assert.ok(overlap >= 5, `orders really ran in parallel (saw ${overlap})`);
  });

  test('--concurrency 25% of 60 means 15 in flight', async () => {
    const summary = await runJob(d, fleet, { step: 'sleep', params: { seconds: 0.3 }, concurrency: '25%' });
    assert.equal(summary.counts.succeeded, AGENTS);
    const overlap = maxOverlap(
      summary.runs.map((r) => [r.result?.startedAt ?? 0, r.result?.finishedAt ?? 0] as [number, number]),
    );
    assert.ok(overlap <= 15 && overlap >= 8, `15 at most, saw ${overlap}`);
  });

  test('--max-errors 2 stops dispatching past the threshold; the rest are skipped, never sent', async () => {
    const summary = await runJob(d, fleet, {
      step: 'command',
      params: { name: 'check' },
      concurrency: '5',
      maxErrors: '2',
    });
    assert.equal(summary.job.state, 'stopped');
    const failed = summary.counts.failed ?? 0;
    assert.ok(failed > 2, `threshold crossed (${failed} failed)`);
    assert.ok(failed <= 2 + 5, `no dispatch after the threshold beyond the in-flight window (${failed} failed)`);
    const skipped = summary.runs.filter((r) => r.state === 'skipped');
    assert.ok(skipped.length >= AGENTS - 10, `most targets skipped (${skipped.length})`);
    for (const run of skipped) assert.equal(run.order, undefined, `${run.agentId} was skipped without an order`);
    for (const run of summary.runs)
      assert.ok(isFinalTargetState(run.state), `${run.agentId} ended in a final state (${run.state})`);
    assert.equal(summary.runs.length, AGENTS);
  });

  test('a failing step within --max-errors leaves the job failed but every target dispatched', async () => {
    const summary = await runJob(d, fleet, {
      step: 'command',
      params: { name: 'check' },
      maxErrors: '20%',
      selector: 'rack=r1',
    });
    // rack r1 holds agents 0,3,6,9 among the failing ten: 4 of 20 = 20%, within the threshold
    assert.equal(summary.counts.failed, 4);
    assert.equal(summary.counts.succeeded, 16);
    assert.equal(summary.job.state, 'failed');
    const failedRun = summary.runs.find((r) => r.state === 'failed');
    assert.equal(failedRun?.result?.error?.name, 'StepFailedError');
  });

  test('--serial-by rack runs one rack after another', async () => {
    const summary = await runJob(d, fleet, {
      step: 'sleep',
      params: { seconds: 0.3 },
      serialBy: 'rack',
      selector: 'cluster=kafka-a',
    });
    assert.equal(summary.counts.succeeded, 30);
    assert.deepEqual(
      summary.job.groups.map((g) => g.key),
      ['rack=r1', 'rack=r2', 'rack=r3'],
    );
    const span = (key: string) => {
      const runs = summary.runs.filter((r) => r.group === key);
      return {
        start: Math.min(...runs.map((r) => r.result?.startedAt ?? 0)),
        end: Math.max(...runs.map((r) => r.result?.finishedAt ?? 0)),
      };
    };
    assert.ok(span('rack=r1').end <= span('rack=r2').start, 'r2 starts after r1 ended');
    assert.ok(span('rack=r2').end <= span('rack=r3').start, 'r3 starts after r2 ended');
  });

  test('label selectors: in, notin, != and existence', async () => {
    const summary = await runJob(d, fleet, {
      step: 'ping',
      selector: 'cluster in (kafka-a), rack notin (r1), role!=broker, role',
    });
    const expected = specs().filter(
      (s) => s.labels.cluster === 'kafka-a' && s.labels.rack !== 'r1' && s.labels.role !== 'broker',
    );
    assert.deepEqual(summary.runs.map((r) => r.agentId).sort(), expected.map((s) => s.id).sort());
    assert.equal(summary.job.state, 'succeeded');
    const output = summary.runs[0]?.result?.output as { agentId: string; labels: Record<string, string> };
    assert.equal(output.agentId, summary.runs[0]?.agentId);
  });

  test('one wave, one signature: connected agents take their orders live, nothing is stored per target, final records go in batches', async () => {
    const storedBefore = (await d.jsm.streams.info(STREAM_ORDERS)).state.last_seq;
    const summary = await runJob(d, fleet, { step: 'ping' });
    assert.equal(summary.counts.succeeded, AGENTS);
    const signatures = new Set(summary.runs.map((r) => r.order?.signature));
    assert.equal(signatures.size, 1, 'the wave of 60 orders was signed once');
    for (const run of summary.runs)
      assert.equal(run.order?.wave?.count, AGENTS, `${run.agentId}'s copy names a wave of 60`);
    // Every agent answered within the two seconds after which an unheard order is stored (a slow
    // moment of the shared machine may leave one or two that the coordinator had not heard from yet).
    const stored = (await d.jsm.streams.info(STREAM_ORDERS)).state.last_seq - storedBefore;
    assert.ok(stored <= 3, `orders stored on the stream: ${stored} of ${AGENTS}`);
    const keys: string[] = [];
    for await (const key of await d.runs.keys(runKeysFilter(summary.job.id))) keys.push(key);
    const batches = keys.filter((k) => k.includes('._f-'));
    assert.ok(batches.length >= 1, 'final records written in batches');
    assert.ok(keys.length <= 10, `KV keys for 60 targets: ${keys.length} (${batches.length} batches)`);
    const records = await readRuns(d.runs, summary.job);
    assert.equal(records.size, AGENTS);
    for (const run of records.values()) {
      assert.equal(run.state, 'succeeded', run.agentId);
      assert.equal(run.orderId, summary.runs.find((r) => r.agentId === run.agentId)?.order?.orderId);
    }
  });

  test('--dry-run through the CLI lists targets and groups and dispatches nothing', async () => {
    const before = (await d.jsm.streams.info(STREAM_ORDERS)).state.last_seq;
    const jobsBefore = (await d.jobs.status()).values;
    const out = await fleet.drover([
      'run',
      'sleep',
      '--param',
      'seconds=1',
      '--selector',
      'cluster=cass-b',
      '--serial-by',
      'rack',
      '--dry-run',
      '--json',
    ]);
    assert.equal(out.code, 0, out.output);
    const result = JSON.parse(out.stdout) as { dryRun: boolean; targets: Array<{ group: string }> };
    assert.equal(result.dryRun, true);
    assert.equal(result.targets.length, 30);
    assert.equal(new Set(result.targets.map((t) => t.group)).size, 3);
    assert.equal((await d.jsm.streams.info(STREAM_ORDERS)).state.last_seq, before, 'no order published');
    assert.equal((await d.jobs.status()).values, jobsBefore, 'no job written');
  });
});
