// The drover CLI as an operator uses it: keys, agent config template, agents list, run with --json,
// jobs, describe, cancel of a running job, tail of a finished job.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Drover } from '@drover/coordinator';
import { readJob, requestCancel } from '@drover/coordinator';
import { AGENT_BIN, createFleet, type Fleet, NODE } from '../fleet/fleet.ts';
import { connect, runJob } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, runCommand } from '../harness/process.ts';

let fleet: Fleet;
let d: Drover;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('cli'), nats.urls, nats.security);
  d = await connect(fleet);
  await fleet.startHost('cli', [
    { id: 'cli-1', labels: { cluster: 'kafka-a', rack: '1a' } },
    { id: 'cli-2', labels: { cluster: 'kafka-a', rack: '1b' } },
    { id: 'cli-3', labels: { cluster: 'cass-a', rack: '1a' } },
  ]);
});

after(async () => {
  await d?.close();
});

describe('drover CLI', () => {
  test('keys generate refuses to overwrite; agent init writes a config the agent accepts', async () => {
    const key = join(fleet.dir, 'ops', 'coordinator.key');
    const made = await fleet.drover(['keys', 'generate', '--out', key, '--json']);
    assert.equal(made.code, 0, made.output);
    assert.match(JSON.parse(made.stdout).keyId, /^ed25519-[0-9a-f]{16}$/);
    const again = await fleet.drover(['keys', 'generate', '--out', key]);
    assert.equal(again.code, 2);
    assert.match(again.output.replace(/\s+/g, ' '), /already exists/);

    const config = join(fleet.dir, 'ops', 'agent.json');
    const init = await fleet.drover([
      'agent',
      'init',
      '--id',
      'node-7',
      '--label',
      'cluster=kafka-a',
      '--label',
      'rack=1c',
      '--public-key',
      key.replace(/\.key$/, '.pub'),
      '--state-dir',
      join(fleet.dir, 'ops', 'state'),
      '--out',
      config,
    ]);
    assert.equal(init.code, 0, init.output);
    const check = await runCommand(NODE, [AGENT_BIN, '--config', config, '--check-config']);
    assert.equal(check.code, 0, check.output);
    assert.match(check.output, /agent node-7, 1 trusted key/);
  });

  test('agents lists every agent with labels and status; --json has the same', async () => {
    const out = await fleet.drover(['agents', '--json']);
    assert.equal(out.code, 0, out.output);
    const agents = (
      JSON.parse(out.stdout) as { agents: Array<{ id: string; liveness: string; labels: Record<string, string> }> }
    ).agents;
    assert.deepEqual(
      agents.map((a) => a.id),
      ['cli-1', 'cli-2', 'cli-3'],
    );
    assert.ok(agents.every((a) => a.liveness === 'online'));
    const table = await fleet.drover(['agents', '--selector', 'cluster=kafka-a']);
    assert.match(table.stdout, /cli-1\s+cluster=kafka-a,rack=1a/);
    assert.doesNotMatch(table.stdout, /cli-3/);
    const one = await fleet.drover(['agent', 'describe', 'cli-2', '--json']);
    assert.equal(JSON.parse(one.stdout).labels.rack, '1b');
  });

  test('run prints each outcome and a summary; jobs and job describe show it', async () => {
    const out = await fleet.drover(['run', 'ping', '--selector', 'cluster=kafka-a']);
    assert.equal(out.code, 0, out.output);
    assert.match(out.stdout, /succeeded\s+cli-1/);
    assert.match(out.stdout, /succeeded\s+cli-2/);
    const jobId = /job (j-\S+) succeeded: 2 succeeded/.exec(out.stdout)?.[1];
    assert.ok(jobId, out.stdout);
    const jobs = JSON.parse((await fleet.drover(['jobs', '--json'])).stdout) as {
      jobs: Array<{ id: string; state: string; targets: number }>;
    };
    assert.deepEqual(
      jobs.jobs.find((j) => j.id === jobId),
      { ...jobs.jobs.find((j) => j.id === jobId), state: 'succeeded', targets: 2 },
    );
    const described = JSON.parse((await fleet.drover(['job', 'describe', jobId, '--json'])).stdout) as {
      runs: Array<{ agentId: string; state: string; orderId: string }>;
    };
    assert.deepEqual(
      described.runs.map((r) => [r.agentId, r.state]),
      [
        ['cli-1', 'succeeded'],
        ['cli-2', 'succeeded'],
      ],
    );

    const tail = await fleet.drover(['tail', jobId, '--json'], { timeoutMs: 30_000 });
    const kinds = (JSON.parse(tail.stdout) as { events: Array<{ kind: string; agentId: string }> }).events.map(
      (e) => `${e.agentId}:${e.kind}`,
    );
    // A ping ends within the agent's 250 ms hold of its `accepted` event: its result is what it sends.
    for (const expected of ['cli-1:result', 'cli-2:result', 'coordinator:job'])
      assert.ok(kinds.includes(expected), expected);
  });

  test('job cancel stops a running job: the running step is cancelled, queued targets never run', async () => {
    let cancelled = false;
    const job = runJob(d, fleet, { step: 'sleep', params: { seconds: 30 }, concurrency: '1' }, (run) => {
      if (run.state === 'running' && !cancelled) {
        cancelled = true;
        void requestCancel(d.jobs, run.jobId);
      }
    });
    const summary = await job;
    assert.equal(summary.job.state, 'cancelled');
    const running = summary.runs.find((r) => r.result);
    assert.equal(running?.state, 'cancelled');
    assert.equal(running?.result?.status, 'cancelled', 'the agent itself confirmed the cancel');
    assert.ok((running?.result?.finishedAt ?? 0) - (running?.result?.startedAt ?? 0) < 10_000, 'stopped early');
    for (const run of summary.runs.filter((r) => r !== running)) {
      assert.equal(run.state, 'cancelled');
      assert.equal(run.order, undefined, `${run.agentId} was never sent an order`);
    }
    assert.equal((await readJob(d.jobs, summary.job.id)).job.state, 'cancelled');
  });
});
