// NATS loses its whole JetStream state (the server stopped, its store dir wiped, started again empty):
// the agents' journals are the ground truth, and `drover reconcile` rebuilds what ran from them. A job
// that had finished comes back with every target's result; one whose step was still running comes
// back `running` and `drover job resume` follows it to its end; no step ran twice; a second reconcile
// changes nothing; a dry run writes nothing; an agent whose key is not enrolled is not believed.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createJob,
  type Drover,
  driveJob,
  enrollAgent,
  prepareJob,
  type ReconcileReport,
  type RunRecord,
} from '@drover/coordinator';
import { jobKey, journalSubject, loadOrCreateAgentKey, orderSignerFromPem } from '@drover/shared';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, jobRequest, runJob } from '../fleet/jobs.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';

const AGENTS = ['rec-1', 'rec-2', 'rec-3'];
let nats: NatsCluster;
let fleet: Fleet;
let d: Drover;

before(async () => {
  nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('reconcile'), nats.urls, nats.security);
  await fleet.startHost(
    'reconcile',
    AGENTS.map((id) => ({ id, labels: { case: 'rec' } })),
  );
  d = await connect(fleet);
});

after(async () => {
  await d?.close();
});

const t0 = Date.now();
/** Where the test is, on stderr (a hang names its stage). */
function step(name: string): void {
  process.stderr.write(`[reconcile test +${Date.now() - t0} ms] ${name}\n`);
}

function reconcileJson(output: string): ReconcileReport {
  return JSON.parse(output.slice(output.indexOf('{'))) as ReconcileReport;
}

describe('the JetStream state lost: drover reconcile rebuilds what ran from the journals', () => {
  test('finished and running jobs come back from the journals; resume finishes the running one; nothing ran twice', async () => {
    const signer = orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8'));
    // A job that finished before the loss.
    const done = await runJob(d, fleet, { step: 'ping', selector: 'case=rec' });
    assert.equal(done.job.state, 'succeeded');
    // A job whose step still runs on two agents when the loss happens; its coordinator is gone too.
    const prepared = await prepareJob(
      d,
      jobRequest({ step: 'sleep', params: { seconds: 25 }, selector: 'case=rec', concurrency: '2' }),
    );
    await createJob(d, prepared);
    const longJob = prepared.job.id;
    step('long job');
    const away = new AbortController();
    const running = new Set<string>();
    const orders = new Map<string, string>();
    await driveJob(d, longJob, {
      coordinatorId: 'reconcile-test',
      signer,
      tickMs: 50,
      signal: away.signal,
      onRun: (run: RunRecord) => {
        if (run.order) orders.set(run.agentId, run.order.orderId);
        if (run.state === 'running') running.add(run.agentId);
        if (running.size === 2) away.abort();
      },
    });
    assert.equal(running.size, 2, 'two targets were running when the coordinator went');
    const before = d;

    // The loss: the server killed, its store wiped, started again empty.
    step('loss');
    await nats.kill(0);
    rmSync(nats.servers[0]?.storeDir ?? '', { recursive: true, force: true });
    await nats.restart(0);
    step('restarted');
    d = await connect(fleet); // makes the streams and buckets again, empty
    void before.close().catch(() => {});
    step('connected');
    assert.equal(await d.jobs.get(jobKey(done.job.id)), null, 'the job records are gone');

    // Not enrolled (the keys were in NATS too): nobody is believed.
    step('reconcile, not enrolled');
    const unknown = await fleet.drover(['reconcile', '--agents', AGENTS.join(','), '--json']);
    assert.equal(unknown.code, 1, unknown.output);
    const refusedAll = reconcileJson(unknown.stdout);
    assert.equal(refusedAll.refused.length, 3, unknown.stdout);
    assert.equal(refusedAll.jobs.length, 0);

    // The operator enrols the agents' public keys again.
    for (const id of AGENTS)
      await enrollAgent(
        d.agentKeys,
        id,
        loadOrCreateAgentKey(join(fleet.stateDir(id), 'agent-key.pem')).signer.publicKeyPem,
        'test',
      );

    // Every agent answers on its journal subject again before it is asked for real (seen once in CI:
    // two agents that answered the first reconcile did not answer the dry run 0.6 s later, right
    // after the restart; they reconnect on their own).
    await waitFor(
      async () => {
        for (const id of AGENTS)
          if (
            !(await d.nc.request(journalSubject(id), '{}', { timeout: 1000 }).then(
              () => true,
              () => false,
            ))
          )
            return false;
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'every agent answers on its journal subject' },
    );

    step('reconcile --dry-run');
    const dry = await fleet.drover(['reconcile', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.output);
    const dryReport = reconcileJson(dry.stdout);
    assert.deepEqual(dryReport.answered, AGENTS);
    assert.ok(dryReport.jobs.some((j) => j.jobId === done.job.id && j.action === 'rebuilt'));
    assert.equal(dryReport.dryRun, true);
    const dryText = await fleet.drover(['reconcile', '--dry-run']);
    assert.match(dryText.stdout, new RegExp(`would be rebuilt ${done.job.id} \\(ping\\): succeeded; 3 succeeded`));
    assert.equal(await d.jobs.get(jobKey(done.job.id)), null, 'a dry run writes nothing');

    step('reconcile');
    const real = await fleet.drover(['reconcile', '--json']);
    assert.equal(real.code, 0, real.output);
    const report = reconcileJson(real.stdout);
    const finished = report.jobs.find((j) => j.jobId === done.job.id);
    assert.equal(finished?.action, 'rebuilt');
    assert.equal(finished?.state, 'succeeded');
    assert.deepEqual(finished?.targets, AGENTS);
    assert.equal(finished?.counts.succeeded, 3);
    const resumable = report.jobs.find((j) => j.jobId === longJob);
    assert.equal(resumable?.state, 'running', real.stdout);
    assert.deepEqual(resumable?.targets, [...running].sort(), 'the targets that took the order');
    assert.equal(resumable?.counts.running, 2);

    // The records are back: the CLI shows them.
    const described = await fleet.drover(['job', 'describe', done.job.id]);
    assert.equal(described.code, 0, described.output);
    assert.match(described.stdout, /succeeded/);

    step('resume');
    // Resume follows the running targets to their end (their results land on the new stream).
    const resumed = await driveJob(d, longJob, { coordinatorId: 'reconcile-test-2', signer, tickMs: 100 });
    assert.equal(resumed.job.state, 'succeeded', JSON.stringify(resumed.counts));
    assert.equal(resumed.counts.succeeded, 2);

    step('resumed');
    // Nothing ran twice.
    for (const [agentId, orderId] of orders) assert.equal(fleet.journalStarts(agentId, orderId), 1, agentId);
    for (const run of done.runs)
      assert.equal(fleet.journalStarts(run.agentId, run.order?.orderId ?? ''), 1, run.agentId);

    // A second reconcile finds everything in place.
    const again = reconcileJson((await fleet.drover(['reconcile', '--json'])).stdout);
    for (const job of again.jobs) assert.equal(job.action, 'unchanged', job.jobId);
    await waitFor(async () => (await d.jobs.get(jobKey(longJob)))?.json<{ state: string }>().state === 'succeeded', {
      timeoutMs: 5000,
      what: 'the resumed job recorded as succeeded',
    });
  });
});
