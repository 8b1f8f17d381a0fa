// Orders an agent missed live (issue 12: there is no consumer per agent holding them for it): an
// agent that was down while its order was published reads it back from the stream, from its own
// journaled cursor, when it returns, even with no coordinator alive to send it again; one whose
// order expired while it was away never runs it and its target ends `no-response`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createJob,
  type Drover,
  driveJob,
  prepareJob,
  type RunRecord,
  readRuns,
  requestCancel,
} from '@drover/coordinator';
import {
  eventSubject,
  jobKey,
  LEGACY_STREAM_ORDERS,
  orderSignerFromPem,
  orderSubject,
  STREAM_EVENTS,
  STREAM_ORDERS,
} from '@drover/shared';
import { connectCoordinator, createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, jobRequest, runJob } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.ts';

let fleet: Fleet;
let d: Drover;
let natsPort = 0;
let proxy: TcpProxy | undefined;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  natsPort = Number(new URL(nats.urls[0] ?? '').port);
  fleet = createFleet(makeTempDir('catch-up'), nats.urls, nats.security);
  d = await connect(fleet);
});

after(async () => {
  await d?.close();
  await proxy?.close();
});

/** The agent's journal lines about one order, and its cursor (the last cursor line). */
function journal(
  agentId: string,
  orderId: string,
): { lines: Array<{ t: string; result?: { status: string } }>; cursor: number } {
  let text = '';
  try {
    text = readFileSync(join(fleet.stateDir(agentId), 'journal.jsonl'), 'utf8');
  } catch {
    return { lines: [], cursor: 0 };
  }
  const all = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { t: string; orderId?: string; seq?: number; result?: { status: string } });
  const cursor = all.filter((l) => l.t === 'cursor').at(-1)?.seq ?? 0;
  return { lines: all.filter((l) => l.orderId === orderId), cursor };
}

/**
 * An agent started once (so it is enrolled) and now down, and a created `ping` job for it alone
 * (delivery timeout 60 s); the signer drives it. `goneAfterCreation`: the agent is still online when
 * the job is made and goes only after (an order its coordinator expected it to answer live).
 */
async function jobForAwayAgent(id: string, options: { goneAfterCreation?: boolean } = {}) {
  const spec = { id, labels: { case: id } };
  const first = await fleet.startAgent(spec);
  if (!options.goneAfterCreation) await first.stop();
  const prepared = await prepareJob(d, jobRequest({ step: 'ping', selector: `case=${id}`, deliveryTimeoutMs: 60_000 }));
  await createJob(d, prepared);
  if (options.goneAfterCreation) await first.stop();
  return { spec, prepared, signer: orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8')) };
}

/**
 * Starts the agent again and checks it read `orderId` back from the stream (its cursor at or past
 * `storedSeq`) and ran it once, successfully, with no coordinator needed.
 */
async function backAndRunsOnce(
  spec: { id: string; labels: Record<string, string> },
  orderId: string,
  storedSeq: number,
) {
  await fleet.startAgent(spec);
  await waitFor(() => journal(spec.id, orderId).lines.some((l) => l.t === 'end'), {
    timeoutMs: 20_000,
    what: 'the agent ran the order it read back',
  });
  const seen = journal(spec.id, orderId);
  assert.equal(seen.lines.filter((l) => l.t === 'start').length, 1, 'started once');
  assert.equal(seen.lines.find((l) => l.t === 'end')?.result?.status, 'succeeded');
  assert.ok(seen.cursor >= storedSeq, 'its cursor moved past the order');
}

describe('orders missed live', () => {
  test('an agent down while its order was published, with no coordinator left to send it again, reads it back and runs it once', async () => {
    // The coordinator publishes the order while the agent is down, then goes away at once: no live
    // copy reached the agent, and nobody is left to re-send it.
    const { spec, prepared, signer } = await jobForAwayAgent('catch-back');
    const away = new AbortController();
    let orderId = '';
    const gone = await driveJob(d, prepared.job.id, {
      coordinatorId: 'catch-up-test',
      signer,
      tickMs: 50,
      signal: away.signal,
      onRun: (run) => {
        if (run.state === 'dispatched' && run.order) {
          orderId = run.order.orderId;
          away.abort();
        }
      },
    });
    assert.ok(orderId, 'the order was dispatched');
    assert.equal(gone.runs[0]?.state, 'dispatched', 'the coordinator left before any answer');
    const stored = await d.jsm.streams.getMessage(STREAM_ORDERS, { last_by_subj: orderSubject(spec.id) });
    assert.equal(stored?.json<{ orderId: string }>().orderId, orderId, 'the order is on the stream');
    assert.equal(journal(spec.id, orderId).lines.length, 0, 'the agent knew nothing of it');

    // Back: it reads the order from its cursor and runs it, before any coordinator is there again.
    await backAndRunsOnce(spec, orderId, stored?.seq ?? Number.POSITIVE_INFINITY);

    // The job resumed: the republished copy is answered from the journal; the target succeeded.
    const resumed = await driveJob(d, prepared.job.id, { coordinatorId: 'catch-up-test', signer, tickMs: 50 });
    assert.equal(resumed.job.state, 'succeeded');
    assert.equal(resumed.runs[0]?.result?.status, 'succeeded');
    assert.equal(journal(spec.id, orderId).lines.filter((l) => l.t === 'start').length, 1, 'still started once');
  });

  test('an order its agent did not answer within two seconds is stored on the stream while the coordinator waits; the agent reads it back when it returns', async () => {
    // Online when the job was made (an agent away then has its order stored at once: the next test).
    const { spec, prepared, signer } = await jobForAwayAgent('catch-stored', { goneAfterCreation: true });
    assert.equal(prepared.job.away, undefined, 'the agent was online when the job was made');
    let orderId = '';
    let dispatchedAt = 0;
    const driving = driveJob(d, prepared.job.id, {
      coordinatorId: 'catch-up-test',
      signer,
      tickMs: 50,
      onRun: (run) => {
        if (run.state === 'dispatched' && run.order) {
          orderId = run.order.orderId;
          dispatchedAt = Date.now();
        }
      },
    });
    // Sent live to nobody: stored once the agent has been silent for two seconds.
    const stored = await waitFor(
      async () => {
        const last = await d.jsm.streams
          .getMessage(STREAM_ORDERS, { last_by_subj: orderSubject(spec.id) })
          .catch(() => null);
        return orderId && last?.json<{ orderId: string }>().orderId === orderId ? last : undefined;
      },
      { timeoutMs: 10_000, what: 'the unanswered order stored on the stream' },
    );
    assert.ok(Date.now() - dispatchedAt >= 1900, 'not stored before two seconds of silence');
    // Back before the first re-send (3 s) or at any time after: it runs the order once.
    await fleet.startAgent(spec);
    const summary = await driving;
    assert.equal(summary.job.state, 'succeeded');
    const seen = journal(spec.id, orderId);
    assert.equal(seen.lines.filter((l) => l.t === 'start').length, 1, 'started once');
    assert.ok(seen.cursor >= stored.seq, 'read back from the stream (its cursor moved past the order)');
  });

  test('an agent away when the job is made has its order stored as it is dispatched: with the coordinator killed (SIGKILL) right after, the agent, back, runs it with no resume', async () => {
    const spec = { id: 'catch-killed', labels: { case: 'catch-killed' } };
    const first = await fleet.startAgent(spec);
    await first.stop();
    const cli = await fleet.startDrover('drover-killed', [
      'run',
      'ping',
      '--selector',
      'case=catch-killed',
      '--delivery-timeout',
      '60s',
    ]);
    const jobId = await waitFor(() => /job (j-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(50))?.[1], {
      timeoutMs: 20_000,
      what: 'the job id',
    });
    const orderId = `${jobId}-0`;
    // Stored well before the two seconds an online agent's order waits for its answer.
    const started = Date.now();
    const stored = await waitFor(
      async () => {
        const last = await d.jsm.streams
          .getMessage(STREAM_ORDERS, { last_by_subj: orderSubject(spec.id) })
          .catch(() => null);
        return last?.json<{ orderId: string }>().orderId === orderId ? last : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, what: 'the order stored on the stream' },
    );
    const storedAfterMs = Date.now() - started;
    await cli.kill();
    const job = (await d.jobs.get(jobKey(jobId)))?.json<{ away?: string[] }>();
    assert.deepEqual(job?.away, [spec.id], 'the job says its target was away');
    assert.ok(storedAfterMs < 1500, `stored ${storedAfterMs} ms after the job id was printed`);
    assert.equal(journal(spec.id, orderId).lines.length, 0, 'the agent knew nothing of it');

    // Back with no coordinator anywhere: it reads the order from its cursor and runs it once.
    await backAndRunsOnce(spec, orderId, stored.seq);
    // The job resumed later: the result is taken from the agent's report, nothing runs again.
    const resumed = await fleet.drover(['job', 'resume', jobId, '--json'], { timeoutMs: 60_000 });
    assert.equal(resumed.code, 0, resumed.output);
    assert.equal((JSON.parse(resumed.stdout) as { state: string }).state, 'succeeded');
    assert.equal(journal(spec.id, orderId).lines.filter((l) => l.t === 'start').length, 1, 'still started once');
  });

  test('a job cancelled while its agent is away: the order it never got is not stored later, and the agent never runs it', async () => {
    const { spec, prepared, signer } = await jobForAwayAgent('catch-cancel');
    let orderId = '';
    const summary = await driveJob(d, prepared.job.id, {
      coordinatorId: 'catch-up-test',
      signer,
      tickMs: 50,
      // Longer than the two seconds after which an unanswered order is stored.
      cancelGraceMs: 4000,
      onRun: (run) => {
        if (run.state === 'dispatched' && run.order && !orderId) {
          orderId = run.order.orderId;
          void requestCancel(d.jobs, prepared.job.id);
        }
      },
    });
    assert.equal(summary.job.state, 'cancelled');
    assert.equal(summary.runs[0]?.state, 'cancelled');
    const last = await d.jsm.streams
      .getMessage(STREAM_ORDERS, { last_by_subj: orderSubject(spec.id) })
      .catch(() => null);
    assert.notEqual(last?.json<{ orderId: string }>().orderId, orderId, 'the cancelled order was never stored');
    await fleet.startAgent(spec);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(journal(spec.id, orderId).lines.filter((l) => l.t === 'start').length, 0, 'never started');
  });

  test("an agent away past its order's expiry never runs it, and its target ends no-response", async () => {
    const spec = { id: 'catch-late', labels: { case: 'catch-late' } };
    const first = await fleet.startAgent(spec);
    await first.stop();
    const summary = await runJob(d, fleet, { step: 'ping', selector: 'case=catch-late', deliveryTimeoutMs: 3000 });
    const run = summary.runs[0];
    assert.equal(run?.state, 'no-response');
    assert.match(run?.reason ?? '', /did not take the order before it expired/);
    const orderId = run?.order?.orderId ?? '';

    // Back after the expiry: ready means its catch-up read everything newer than its cursor.
    await fleet.startAgent(spec);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(journal(spec.id, orderId).lines.filter((l) => l.t === 'start').length, 0, 'never started');
    const records = await readRuns(d.runs, summary.job);
    assert.equal(records.get(spec.id)?.state, 'no-response', 'the verdict stands');
  });

  test("a result the events stream lost is asked for: the coordinator's question is answered from the agent's journal", async () => {
    const spec = { id: 'asked', labels: { case: 'asked' } };
    await fleet.startAgent(spec);
    // This coordinator reaches NATS through a link the test cuts; the agent does not.
    proxy = await startTcpProxy(natsPort);
    const far = await connectCoordinator({ ...fleet.natsOptions, servers: [`nats://127.0.0.1:${proxy.port}`] });
    try {
      const prepared = await prepareJob(
        d,
        jobRequest({ step: 'sleep', params: { seconds: 3 }, selector: 'case=asked', timeoutMs: 30_000 }),
      );
      await createJob(d, prepared);
      const signer = orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8'));
      const jobId = prepared.job.id;
      let orderId = '';
      const link = proxy;
      const states: string[] = [];
      const driving = driveJob(far, jobId, {
        coordinatorId: 'asking-test',
        signer,
        tickMs: 50,
        askAfterMs: 2000,
        onRun: (run: RunRecord) => {
          states.push(run.state);
          if (run.state === 'running' && !link.isCut) {
            orderId = run.order?.orderId ?? '';
            link.cut();
          }
        },
      });
      // Cut while the step runs: the agent finishes it and its result lands on the stream unseen.
      await waitFor(() => orderId !== '' && journal(spec.id, orderId).lines.some((l) => l.t === 'reported'), {
        timeoutMs: 20_000,
        what: 'the agent reported its result while the coordinator was cut off',
      });
      // The stream loses it (a lost store, a re-created stream): deleted before the coordinator is back.
      const subject = eventSubject(jobId, spec.id, 'result');
      const stored = await d.jsm.streams.getMessage(STREAM_EVENTS, { last_by_subj: subject });
      assert.ok(stored, 'the result was on the events stream');
      assert.equal(await d.jsm.streams.deleteMessage(STREAM_EVENTS, stored.seq, true), true);
      link.heal();

      const summary = await driving;
      assert.equal(summary.job.state, 'succeeded', `states seen: ${states.join(' > ')}`);
      assert.equal(summary.runs[0]?.state, 'succeeded');
      const again = await d.jsm.streams.getMessage(STREAM_EVENTS, { last_by_subj: subject });
      assert.ok(again && again.seq > stored.seq, 'a result was published again after the loss');
      assert.match(new TextDecoder().decode(again.data), /"replayed":true/, 'answered from the journal');
      const lines = journal(spec.id, orderId).lines;
      assert.equal(lines.filter((l) => l.t === 'start').length, 1, 'the step ran once');
    } finally {
      await far.close();
    }
  });

  test('the work-queue orders stream of an older version is removed, with a warning, and orders flow through the new one', async () => {
    const spec = { id: 'catch-upgrade', labels: { case: 'catch-upgrade' } };
    await fleet.startAgent(spec);
    // What an older coordinator left: DROVER_ORDERS (work queue) on the same subjects, one order queued.
    await d.jsm.streams.delete(STREAM_ORDERS);
    await d.jsm.streams.add({
      name: LEGACY_STREAM_ORDERS,
      subjects: ['drover.order.>'],
      retention: 'workqueue' as never,
    });
    await d.js.publish(orderSubject('someone'), '{}');
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await (await connect(fleet)).close();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.ok(
      warnings.some((w) => w.includes(LEGACY_STREAM_ORDERS) && w.includes('1 order(s) still queued')),
      warnings.join('; '),
    );
    await assert.rejects(d.jsm.streams.info(LEGACY_STREAM_ORDERS), /stream not found/i);
    assert.equal((await d.jsm.streams.info(STREAM_ORDERS)).config.retention, 'limits');
    const summary = await runJob(d, fleet, { step: 'ping', selector: 'case=catch-upgrade' });
    assert.equal(summary.job.state, 'succeeded', JSON.stringify(summary.runs[0]));
  });
});
