// Faults against real processes: agents offline at dispatch, an agent SIGKILLed mid-step, the
// coordinator SIGKILLed mid-job, nats-server restarted mid-job. Every target must end in an honest
// state and no order may run twice.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createJob, type Drover, driveJob, prepareJob, type RunRecord, readJob, updateJob } from '@drover/coordinator';
import { orderSignerFromPem, orderSubject, STREAM_EVENTS, STREAM_ORDERS } from '@drover/shared';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, jobRequest, runJob } from '../fleet/jobs.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';

let nats: NatsCluster;
let fleet: Fleet;
let d: Drover;

before(async () => {
  nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('faults'), nats.urls, nats.security);
  d = await connect(fleet);
});

after(async () => {
  await d?.close();
});

describe('faults', () => {
  test('an agent offline at dispatch runs its order when it returns; one that stays away ends as no-response', async () => {
    const back = { id: 'off-back', labels: { case: 'offline' } };
    const away = { id: 'off-away', labels: { case: 'offline' } };
    const online = { id: 'off-online', labels: { case: 'offline' } };
    const procs = await Promise.all([fleet.startAgent(back), fleet.startAgent(away), fleet.startAgent(online)]);
    await procs[0]?.stop();
    await procs[1]?.stop();

    const job = runJob(d, fleet, { step: 'ping', selector: 'case=offline', deliveryTimeoutMs: 8000 });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await fleet.startAgent(back);
    const summary = await job;
    const state = (id: string) => summary.runs.find((r) => r.agentId === id);
    assert.equal(state('off-online')?.state, 'succeeded');
    assert.equal(state('off-back')?.state, 'succeeded', 'ran when it came back within the delivery window');
    assert.equal(state('off-away')?.state, 'no-response');
    assert.match(state('off-away')?.reason ?? '', /did not take the order before it expired/);

    // When the absent agent finally returns, the expired order never runs: the coordinator removed it
    // from the stream when it gave up, and the agent is ready only once it has read back everything
    // newer than its cursor; its journal has no start of it.
    const orderId = state('off-away')?.order?.orderId ?? '';
    assert.ok(orderId, 'the absent agent had an order');
    const stored = await d.jsm.streams.getMessage(STREAM_ORDERS, { last_by_subj: orderSubject('off-away') });
    assert.notEqual(stored?.json<{ orderId: string }>().orderId, orderId, 'the expired order is off the stream');
    await fleet.startAgent(away);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(fleet.journalStarts('off-away', orderId), 0);
  });

  test('kill -9 of an agent mid-step: not run again after restart, and the target ends failed (interrupted)', async () => {
    const spec = { id: 'kill-agent', labels: { case: 'kill' }, ackWaitMs: 2000 };
    const proc = await fleet.startAgent(spec);
    let killed = false;
    const started = runJob(
      d,
      fleet,
      { step: 'sleep', params: { seconds: 6 }, selector: 'case=kill' },
      (run: RunRecord) => {
        if (run.state === 'running' && !killed) {
          killed = true;
          void proc.kill().then(() => fleet.startAgent(spec));
        }
      },
    );
    const summary = await started;
    const run = summary.runs[0];
    assert.ok(killed, 'the agent was killed while the step ran');
    assert.equal(run?.state, 'failed');
    assert.equal(run?.result?.error?.name, 'InterruptedByRestartError');
    assert.equal(fleet.journalStarts('kill-agent', run?.order?.orderId ?? ''), 1, 'the step started exactly once');
    assert.ok(
      (run?.finishedAt ?? 0) - (run?.dispatchedAt ?? 0) < 6000,
      'reported without waiting for the step timeout',
    );
  });

  test('coordinator kill -9 mid-job, then `drover job resume`: the job finishes and no finished order runs again', async () => {
    const specs = Array.from({ length: 6 }, (_, i) => ({ id: `coord-${i}`, labels: { case: 'coordinator' } }));
    await fleet.startHost('coordinator', specs);
    const cli = await fleet.startDrover('drover-run', [
      'run',
      'sleep',
      '--param',
      'seconds=2',
      '--selector',
      'case=coordinator',
      '--concurrency',
      '2',
    ]);
    const log = () => cli.logTail(200);
    await waitFor(() => (log().match(/^succeeded/gm) ?? []).length >= 2, {
      timeoutMs: 30_000,
      what: 'two targets done',
    });
    await cli.kill();
    const jobId = /job (j-[0-9-]+-[0-9a-f]+)/.exec(log())?.[1];
    assert.ok(jobId, 'the CLI printed the job id');

    const resumed = await fleet.drover(['job', 'resume', jobId, '--json'], { timeoutMs: 90_000 });
    assert.equal(resumed.code, 0, resumed.output);
    const result = JSON.parse(resumed.stdout) as { state: string; counts: Record<string, number> };
    assert.equal(result.state, 'succeeded');
    assert.equal(result.counts.succeeded, 6);
    for (let i = 0; i < 6; i++) {
      assert.equal(fleet.journalStarts(`coord-${i}`, `${jobId}-${i}`), 1, `coord-${i} ran its order exactly once`);
    }
  });

  test('a job resumed after its targets reported and their deadlines passed: the results on the stream count, nothing is timed out', async () => {
    const specs = Array.from({ length: 3 }, (_, i) => ({ id: `late-${i}`, labels: { case: 'late-resume' } }));
    await fleet.startHost('late-resume', specs);
    const signer = orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8'));
    const prepared = await prepareJob(
      d,
      jobRequest({
        step: 'sleep',
        params: { seconds: 1 },
        selector: 'case=late-resume',
        timeoutMs: 2000,
        deliveryTimeoutMs: 3000,
      }),
    );
    await createJob(d, prepared);
    const jobId = prepared.job.id;
    // The first coordinator goes away once every target took its order (no result read yet).
    const away = new AbortController();
    const taken = new Set<string>();
    await driveJob(d, jobId, {
      coordinatorId: 'late-first',
      signer,
      tickMs: 50,
      signal: away.signal,
      onRun: (run: RunRecord) => {
        if (run.state === 'running') taken.add(run.agentId);
        if (taken.size === 3) away.abort();
      },
    });
    assert.equal(taken.size, 3);
    // The results land on the events stream while nobody drives the job; its lease lapses and every
    // deadline passes (2 s step timeout + 15 s result grace; delivery 3 s + 2 s).
    await new Promise((resolve) => setTimeout(resolve, 19_000));
    const resumed = await driveJob(d, jobId, { coordinatorId: 'late-second', signer, tickMs: 50 });
    assert.equal(resumed.job.state, 'succeeded', JSON.stringify(resumed.counts));
    assert.equal(resumed.counts.succeeded, 3, JSON.stringify(resumed.runs.map((r) => [r.agentId, r.state, r.reason])));
    for (let i = 0; i < 3; i++) assert.equal(fleet.journalStarts(`late-${i}`, `${jobId}-${i}`), 1);
  });

  test('nats-server restarted mid-job: the job still finishes', async () => {
    const specs = Array.from({ length: 4 }, (_, i) => ({ id: `restart-${i}`, labels: { case: 'nats-restart' } }));
    await fleet.startHost('nats-restart', specs);
    const job = runJob(d, fleet, { step: 'sleep', params: { seconds: 4 }, selector: 'case=nats-restart' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await nats.restart(0);
    const summary = await job;
    assert.equal(summary.job.state, 'succeeded', JSON.stringify(summary.counts));
    assert.equal(summary.counts.succeeded, 4);
  });

  test('the lease is judged by watching, not by clocks: a live coordinator is not taken over, a frozen one is', async () => {
    await fleet.startAgent({ id: 'lease-1', labels: { case: 'lease' } });
    const cli = await fleet.startDrover('drover-lease', [
      'run',
      'sleep',
      '--param',
      'seconds=25',
      '--selector',
      'case=lease',
    ]);
    const jobId = await waitFor(() => /job (j-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(50))?.[1], {
      timeoutMs: 20_000,
      what: 'the job id',
    });
    await waitFor(async () => (await d.runs.get(`${jobId}.lease-1`))?.json<RunRecord>().state === 'running', {
      timeoutMs: 20_000,
      what: 'the step running',
    });
    // Live: the resume watches the lease, sees it renewed and refuses at once (it used to wait forever).
    const started = Date.now();
    const refused = await fleet.drover(['job', 'resume', jobId], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(refused.output.replace(/\s+/g, ' '), /being driven by .* renews its lease/);
    assert.ok(Date.now() - started < 20_000, `refused after ${Date.now() - started} ms`);

    // Frozen (SIGSTOP: its clock and lease stop): the resume takes over after one quiet lease.
    process.kill(cli.pid, 'SIGSTOP');
    try {
      const resumed = await fleet.drover(['job', 'resume', jobId, '--json'], { timeoutMs: 90_000 });
      assert.equal(resumed.code, 0, resumed.output);
      assert.equal((JSON.parse(resumed.stdout) as { state: string }).state, 'succeeded');
    } finally {
      process.kill(cli.pid, 'SIGCONT');
    }
    // Thawed, the old coordinator finds its lease gone and writes nothing: the record stays the resumer's.
    await cli.exited;
    const { job } = await readJob(d.jobs, jobId);
    assert.equal(job.state, 'succeeded');
    assert.notEqual(job.owner, undefined);
    assert.doesNotMatch(
      cli.logTail(20),
      /job j-[0-9-]+-[0-9a-f]+ succeeded/,
      'the frozen coordinator wrote no verdict',
    );
  });

  test("a lease that a coordinator's clock put an hour ahead lapses when it is not renewed", async () => {
    await fleet.startAgent({ id: 'skew-1', labels: { case: 'skew' } });
    const prepared = await prepareJob(
      d,
      jobRequest({ step: 'sleep', params: { seconds: 0.2 }, selector: 'case=skew' }),
    );
    await createJob(d, prepared);
    await updateJob(d.jobs, prepared.job.id, (job) => ({
      ...job,
      owner: 'skewed-coordinator',
      leaseUntil: Date.now() + 3_600_000,
    }));
    const resumed = await fleet.drover(['job', 'resume', prepared.job.id, '--json'], { timeoutMs: 60_000 });
    assert.equal(resumed.code, 0, resumed.output);
    assert.equal((JSON.parse(resumed.stdout) as { state: string }).state, 'succeeded');
  });

  test('the orders stream, then the events stream, deleted and made again: agents take orders again and a job across it ends honestly', async () => {
    await fleet.startAgent({ id: 'streams-1', labels: { case: 'streams' } });
    const quick = { step: 'sleep', params: { seconds: 0.2 }, selector: 'case=streams', deliveryTimeoutMs: 30_000 };
    assert.equal((await runJob(d, fleet, quick)).job.state, 'succeeded', 'the control case');

    // An operator deletes the orders stream; any drover command makes it again.
    await d.jsm.streams.delete(STREAM_ORDERS);
    await (await connect(fleet)).close();
    const afterOrders = await runJob(d, fleet, quick);
    assert.equal(afterOrders.job.state, 'succeeded', JSON.stringify(afterOrders.runs[0]));

    // The events stream made again while a 4 s step runs: the coordinator must still see its result.
    let running = false;
    const job = runJob(d, fleet, { ...quick, params: { seconds: 4 }, timeoutMs: 20_000 }, (run) => {
      if (run.state === 'running') running = true;
    });
    await waitFor(() => running, { timeoutMs: 15_000, what: 'the step running' });
    await d.jsm.streams.delete(STREAM_EVENTS);
    await (await connect(fleet)).close();
    const summary = await job;
    assert.equal(summary.job.state, 'succeeded', JSON.stringify(summary.runs[0]));
    assert.equal(summary.runs[0]?.result?.status, 'succeeded');
  });
});
