// The job driver's pure parts (job-state.ts, results.ts, deadlines.ts), without a server.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import {
  eventSubject,
  generateSigningKeyPair,
  type OrderResult,
  orderDigest,
  orderSignerFromPem,
  reportSignerFromPem,
} from '@drover/shared';
import type { KV } from '@nats-io/kv';
import { checkReport, enrollAgent } from '../../src/engine/agent-keys.ts';
import { overdue } from '../../src/engine/deadlines.ts';
import { OrderResender, signOrder } from '../../src/engine/dispatch.ts';
import { JobRuns, type SetState } from '../../src/engine/job-state.ts';
import type { Drover } from '../../src/engine/nats.ts';
import { DELIVERY_GRACE_MS, RESULT_GRACE_MS } from '../../src/engine/options.ts';
import { runFromJournal } from '../../src/engine/reconcile.ts';
import { type JobRecord, parseRuns, type RunRecord, supersedes } from '../../src/engine/records.ts';
import { acceptedTransition, applyEvent, resultTransition } from '../../src/engine/results.ts';
import { isTransientNatsError, retryAfterSetup, retryTransient } from '../../src/engine/retry.ts';

const job: JobRecord = {
  id: 'j-1',
  step: 'ping',
  params: {},
  selector: '*',
  options: { concurrency: { count: 5 }, maxErrors: { count: 0 }, timeoutMs: 10_000, deliveryTimeoutMs: 60_000 },
  groups: [
    { key: 'rack=a', agents: ['n1', 'n2'] },
    { key: 'rack=b', agents: ['n3'] },
  ],
  createdAt: 0,
  createdBy: 'test',
  state: 'running',
  cancelRequested: false,
};
const signer = orderSignerFromPem(generateSigningKeyPair().privateKeyPem);

function runWithOrder(agentId: string, state: RunRecord['state'], now = 1_000): RunRecord {
  return { jobId: job.id, agentId, group: 'rack=a', state, order: signOrder(signer, job, agentId, 0, now) };
}

function result(run: RunRecord, status: OrderResult['status']): OrderResult {
  return {
    orderId: run.order?.orderId ?? '',
    jobId: job.id,
    agentId: run.agentId,
    step: 'ping',
    status,
    finishedAt: 2,
  };
}

test('JobRuns follows the worked example: counts, open groups and the forward-only cursor', () => {
  const runs = new Map<string, RunRecord>([
    ['n1', { jobId: 'j-1', agentId: 'n1', group: 'rack=a', state: 'succeeded' }],
  ]);
  const state = new JobRuns(job, runs);
  assert.equal(state.total, 3);
  assert.equal(state.counts.succeeded, 1);
  assert.equal(state.counts.pending, 2);
  assert.equal(state.firstOpenGroup(), 0);
  const [n2, ...none] = state.takePending(0, 5);
  assert.equal(n2?.agentId, 'n2');
  assert.deepEqual(none, []);
  assert.deepEqual(state.takePending(0, 5), [], 'a target is handed out once');
  state.move(n2 as RunRecord, 'dispatched');
  assert.equal(state.inFlight(), 1);
  state.move(n2 as RunRecord, 'succeeded');
  assert.equal(state.firstOpenGroup(), 1);
  const [n3] = state.takePending(1, 5);
  assert.equal(n3?.agentId, 'n3');
  state.move(n3 as RunRecord, 'failed');
  assert.equal(state.firstOpenGroup(), -1);
  assert.equal(state.allFinal(), true);
  assert.equal(state.countOf(['failed', 'succeeded']), 3);
  assert.equal(state.positionOf('n3'), 2);
});

test('a real result supersedes a rejection; a result after a coordinator verdict is marked late', () => {
  const rejected = runWithOrder('n1', 'dispatched');
  const first = resultTransition(rejected, result(rejected, 'rejected'));
  assert.equal(first?.state, 'rejected');
  Object.assign(rejected, first?.extra, { state: first?.state });
  assert.equal(resultTransition(rejected, result(rejected, 'succeeded'))?.state, 'succeeded');
  assert.equal(resultTransition(rejected, result(rejected, 'rejected')), undefined);

  const done = runWithOrder('n1', 'succeeded');
  done.result = result(done, 'succeeded');
  assert.equal(resultTransition(done, result(done, 'failed')), undefined, 'a real result is final');

  const timedOut = runWithOrder('n1', 'timed-out');
  assert.deepEqual(resultTransition(timedOut, result(timedOut, 'succeeded'))?.extra.late, true);

  const other = runWithOrder('n1', 'running');
  assert.equal(resultTransition(other, { ...result(other, 'succeeded'), orderId: 'j-1-9' }), undefined);
});

test('accepted starts a dispatched target only, at the agent time when it gives one', () => {
  assert.deepEqual(acceptedTransition(runWithOrder('n1', 'dispatched'), { at: 5 }, 9), {
    state: 'running',
    extra: { acceptedAt: 5 },
  });
  assert.equal(acceptedTransition(runWithOrder('n1', 'dispatched'), null, 9)?.extra.acceptedAt, 9);
  assert.equal(acceptedTransition(runWithOrder('n1', 'running'), { at: 5 }, 9), undefined);
});

test('applyEvent routes an event to its target and ignores other agents', () => {
  const run = runWithOrder('n1', 'dispatched');
  const runs = new Map([['n1', run]]);
  const changes: Array<[string, string]> = [];
  const setState: SetState = (r, state) => changes.push([r.agentId, state]);
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  assert.equal(applyEvent(runs, { subject: eventSubject('j-1', 'n9', 'accepted'), data: encode({}) }, setState), false);
  assert.equal(
    applyEvent(runs, { subject: eventSubject('j-1', 'n1', 'accepted'), data: encode({ at: 3 }) }, setState),
    true,
  );
  assert.equal(
    applyEvent(runs, { subject: eventSubject('j-1', 'n1', 'result'), data: encode({ bad: 1 }) }, setState),
    true,
  );
  assert.equal(
    applyEvent(runs, { subject: eventSubject('j-1', 'n1', 'result'), data: new TextEncoder().encode('{') }, setState),
    true,
  );
  assert.deepEqual(changes, [['n1', 'running']]);
});

test('overdue: no-response after expiry plus grace, timed-out after timeout plus grace, cancelled after the grace', () => {
  const none = { seenAt: undefined, graceMs: 10_000 };
  const dispatched = runWithOrder('n1', 'dispatched', 1_000);
  const expiry = (dispatched.order?.expiresAt ?? 0) + DELIVERY_GRACE_MS;
  assert.equal(overdue(dispatched, expiry, none), undefined);
  assert.equal(overdue(dispatched, expiry + 1, none)?.state, 'no-response');

  const running = { ...runWithOrder('n1', 'running'), acceptedAt: 5_000 };
  const limit = 5_000 + job.options.timeoutMs + RESULT_GRACE_MS;
  assert.equal(overdue(running, limit, none), undefined);
  assert.equal(overdue(running, limit + 1, none)?.state, 'timed-out');

  const cancel = { seenAt: 2_000, graceMs: 10_000 };
  assert.equal(overdue(runWithOrder('n1', 'running'), 12_000, cancel), undefined);
  assert.equal(overdue({ ...running, acceptedAt: 11_000 }, 12_001, cancel)?.state, 'cancelled');
  assert.equal(overdue(runWithOrder('n1', 'succeeded'), 1e12, cancel), undefined);
});

test('applyEvent with verification: only reports signed by the enrolled key of the subject agent count', () => {
  const run = runWithOrder('n1', 'dispatched');
  const runs = new Map([['n1', run]]);
  const changes: string[] = [];
  const setState: SetState = (_r, state) => changes.push(state);
  const n1 = reportSignerFromPem(generateSigningKeyPair().privateKeyPem);
  const n2 = reportSignerFromPem(generateSigningKeyPair().privateKeyPem);
  const keys = new Map([
    ['n1', createPublicKey(n1.publicKeyPem)],
    ['n2', createPublicKey(n2.publicKeyPem)],
  ]);
  const refused: string[] = [];
  const verification = {
    check: (agentId: string, body: unknown) => checkReport(keys, agentId, body),
    onRefused: (r: { reason: string }) => refused.push(r.reason),
  };
  const send = (body: unknown) =>
    applyEvent(
      runs,
      { subject: eventSubject('j-1', 'n1', 'result'), data: new TextEncoder().encode(JSON.stringify(body)) },
      setState,
      0,
      verification,
    );
  const real = result(run, 'succeeded');
  assert.equal(send(real), false, 'unsigned');
  assert.equal(send(n2.sign(real)), false, "another agent's key");
  assert.equal(send(n2.sign({ ...real, agentId: 'n2' })), false, "another agent's name");
  assert.equal(send({ ...n1.sign(real), status: 'failed' }), false, 'altered after signing');
  assert.deepEqual(changes, []);
  assert.equal(refused.length, 4);
  assert.match(refused[0] ?? '', /unsigned/);
  assert.match(refused[1] ?? '', /not the enrolled key/);
  assert.match(refused[2] ?? '', /names agent "n2"/);
  assert.match(refused[3] ?? '', /does not match/);
  assert.equal(send(n1.sign(real)), true);
  assert.deepEqual(changes, ['succeeded']);
});

test('a rejection counts for an order only when it names that order message (a refused forged copy does not)', () => {
  const run = runWithOrder('n1', 'running');
  const rejected = (digest: string) => ({ ...result(run, 'rejected'), rejectedDigest: digest });
  assert.equal(resultTransition(run, rejected(orderDigest({ ...run.order, signature: 'AAAA' }))), undefined);
  assert.equal(resultTransition(run, rejected(orderDigest(run.order)))?.state, 'rejected');
  assert.equal(resultTransition(run, result(run, 'rejected'))?.state, 'rejected', 'an agent that says nothing');
});

test('OrderResender: an untaken order is re-sent from 3 s on; a running one with no result is asked about after askAfterMs, then less often', () => {
  const sent: Array<{ subject: string; at: number }> = [];
  let clock = 0;
  const d = { nc: { publish: (subject: string) => sent.push({ subject, at: clock }) } } as unknown as Drover;
  const order = { orderId: 'j-0', expiresAt: 1_000_000 } as RunRecord['order'];
  const waiting = { agentId: 'a', state: 'dispatched', dispatchedAt: 0, order } as RunRecord;
  const busy = { agentId: 'b', state: 'running', acceptedAt: 0, order } as RunRecord;
  const done = { agentId: 'c', state: 'succeeded', order } as RunRecord;
  const resender = new OrderResender({ askAfterMs: 10_000 });
  for (clock = 0; clock <= 60_000; clock += 250) resender.resendDue(d, [waiting, busy, done], clock);
  const times = (agent: string) => sent.filter((s) => s.subject === `drover.resend.${agent}`).map((s) => s.at);
  assert.deepEqual(times('a').slice(0, 3), [3000, 9000, 21_000], 'first after 3 s, then doubling');
  assert.deepEqual(times('b'), [10_000, 30_000], 'asked after 10 s, then after 20 s more (the next is at 70 s)');
  assert.deepEqual(times('c'), [], 'a finished target is never asked');
  // Taken at last: the schedule starts again from its acceptance, as a question.
  Object.assign(waiting, { state: 'running', acceptedAt: 60_000 });
  const before = times('a').length;
  for (clock = 60_000; clock <= 75_000; clock += 250) resender.resendDue(d, [waiting], clock);
  assert.deepEqual(times('a').slice(before), [70_000]);
});

test('a target rebuilt from a journal: running or finished as the journal says, and its result counts by order id', () => {
  const record = { orderId: 'j-1-0', jobId: 'j-1', step: 'sleep', startedAt: 10, expiresAt: 99, running: true };
  const running = runFromJournal('j-1', 'a', { record });
  assert.equal(running.state, 'running');
  assert.equal(running.orderId, 'j-1-0');
  const result = {
    orderId: 'j-1-0',
    jobId: 'j-1',
    agentId: 'a',
    step: 'sleep',
    status: 'succeeded' as const,
    finishedAt: 20,
  };
  assert.equal(resultTransition(running, result)?.state, 'succeeded', 'the real result ends it');
  assert.equal(resultTransition(running, { ...result, orderId: 'j-1-9' }), undefined, 'another order does not');
  assert.equal(
    resultTransition(running, { ...result, status: 'rejected' }),
    undefined,
    'no rejection without the order',
  );
  assert.equal(runFromJournal('j-1', 'a', { record: { ...record, running: false, result } }).state, 'succeeded');
  const interrupted = runFromJournal('j-1', 'a', { record: { ...record, running: false } });
  assert.equal(interrupted.state, 'failed');
  assert.match(interrupted.reason ?? '', /interrupted/);
  const cancelled = runFromJournal('j-1', 'a', { cancelled: { orderId: 'j-1-0', at: 5, reason: 'job cancelled' } });
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(cancelled.orderId, 'j-1-0');
});

test('transient NATS errors are tried again, others fail at once', async () => {
  const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
  assert.equal(isTransientNatsError(timeout), true);
  assert.equal(isTransientNatsError(new Error('JetStream system temporarily unavailable')), true);
  assert.equal(isTransientNatsError(new Error("Permissions Violation for Publish to 'x'")), false);
  assert.equal(isTransientNatsError(new Error('stream not found')), false);
  assert.equal(isTransientNatsError(new Error('no responders')), false, 'a server without JetStream');
  let calls = 0;
  const value = await retryTransient(async () => {
    calls++;
    if (calls < 3) throw timeout;
    return 'done';
  });
  assert.deepEqual([value, calls], ['done', 3]);
  calls = 0;
  await assert.rejects(
    retryTransient(async () => {
      calls++;
      throw new Error('wrong last sequence');
    }),
    /wrong last sequence/,
  );
  assert.equal(calls, 1, 'not retried');
});

test('"no responders" is tried again only once JetStream was reached, or within a short first budget', async () => {
  const noResponders = Object.assign(new Error('jetstream is not enabled'), { name: 'JetStreamNotEnabled' });
  assert.equal(isTransientNatsError(noResponders, { noResponders: true }), true);
  assert.equal(isTransientNatsError(new Error("no responders: '$KV.drover-jobs.j-1'"), { noResponders: true }), true);
  assert.equal(isTransientNatsError(new Error('Permissions Violation'), { noResponders: true }), false);
  let calls = 0;
  const flaky = async () => {
    calls++;
    if (calls < 3) throw noResponders;
    return 'done';
  };
  assert.equal(await retryAfterSetup(flaky), 'done');
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(retryTransient(flaky), /jetstream is not enabled/);
  assert.equal(calls, 1, 'before setup: at once');
  calls = 0;
  assert.equal(await retryTransient(flaky, 60_000, { noRespondersForMs: 5000 }), 'done');
  calls = 0;
  const started = Date.now();
  await assert.rejects(
    retryTransient(
      async () => {
        calls++;
        throw noResponders;
      },
      60_000,
      { noRespondersForMs: 300 },
    ),
    /not enabled/,
  );
  assert.ok(Date.now() - started < 5000 && calls > 1, `${calls} calls in ${Date.now() - started} ms`);
});

test('an enrolment right after a cluster restart is written once JetStream is back; a refused write is reported at once', async () => {
  const pem = generateSigningKeyPair().publicKeyPem;
  const puts: string[] = [];
  let failures = 2;
  const kv = {
    put: async (key: string) => {
      if (failures-- > 0) throw Object.assign(new Error('jetstream is not enabled'), { name: 'JetStreamNotEnabled' });
      puts.push(key);
      return 1;
    },
  } as unknown as KV;
  const enrollment = await enrollAgent(kv, 'n1', pem, 'test');
  assert.equal(enrollment.agentId, 'n1');
  assert.deepEqual(puts, ['n1'], 'written once, after two refusals');
  const denied = {
    put: async () => {
      throw new Error("Permissions Violation for Publish to '$KV.drover-agent-keys.n2'");
    },
  } as unknown as KV;
  const started = Date.now();
  await assert.rejects(enrollAgent(denied, 'n2', pem, 'test'), /Permissions Violation/);
  assert.ok(Date.now() - started < 1000, 'a permission error is not tried again');
});

test('run records under a target key and in batches: the record furthest along is the target state', () => {
  const dispatched = runWithOrder('n1', 'dispatched');
  const base = { jobId: job.id, agentId: 'n1', group: 'rack=a', orderId: dispatched.order?.orderId };
  const noResponse: RunRecord = { ...base, state: 'no-response', reason: 'agent did not take the order' };
  const rejected: RunRecord = { ...base, state: 'rejected', result: result(dispatched, 'rejected') };
  const succeeded: RunRecord = { ...base, state: 'succeeded', result: result(dispatched, 'succeeded') };
  const late: RunRecord = { ...noResponse, state: 'failed', result: result(dispatched, 'failed'), late: true };
  assert.ok(supersedes(dispatched, undefined));
  assert.ok(supersedes(noResponse, dispatched), 'a final verdict replaces a dispatched record');
  assert.ok(!supersedes(dispatched, noResponse), 'a stale dispatched record read after it does not');
  assert.ok(supersedes(late, noResponse), 'a late result replaces the verdict');
  assert.ok(supersedes(succeeded, rejected), 'a real result replaces a rejection');
  assert.ok(!supersedes(rejected, succeeded));
  assert.ok(!supersedes(noResponse, succeeded));
  // A batch value holds several records; a target's own key one; anything else neither.
  assert.deepEqual(parseRuns({ runs: [succeeded, late] })?.length, 2);
  assert.equal(parseRuns(dispatched)?.[0]?.state, 'dispatched');
  assert.equal(parseRuns({ runs: [{ agentId: 'n1' }] }), undefined);
  assert.equal(parseRuns('junk'), undefined);
});

test('a target whose record was never written (its coordinator died at once) ends with its result, not running for good', () => {
  // Resumed: n1 has no record, so it is pending with no known order; its agent's events are on the stream.
  const runs = new Map<string, RunRecord>();
  const state = new JobRuns(job, runs);
  const run = runs.get('n1') as RunRecord;
  const setState: SetState = (r, next, extra = {}) => {
    Object.assign(r, extra);
    state.move(r, next);
  };
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const orderId = 'j-1-0';
  applyEvent(runs, { subject: eventSubject('j-1', 'n1', 'accepted'), data: encode({ orderId, at: 7 }) }, setState);
  assert.equal(run.state, 'running');
  assert.equal(run.orderId, orderId, 'the order id the agent signed');
  const result = { orderId, jobId: 'j-1', agentId: 'n1', step: 'ping', status: 'succeeded', finishedAt: 9 };
  applyEvent(runs, { subject: eventSubject('j-1', 'n1', 'result'), data: encode(result) }, setState);
  assert.equal(run.state, 'succeeded', 'its result counts');
  // Had the result been lost, the job's own timeout would end it (no signed order to read one from).
  const silent: RunRecord = { jobId: 'j-1', agentId: 'n2', group: 'rack=a', state: 'running', acceptedAt: 0, orderId };
  const none = { seenAt: undefined, graceMs: 10_000 };
  assert.equal(overdue(silent, 10_000 + RESULT_GRACE_MS, none, 10_000), undefined);
  assert.equal(overdue(silent, 10_001 + RESULT_GRACE_MS, none, 10_000)?.state, 'timed-out');
  assert.equal(overdue(silent, 1e12, none), undefined, 'without a timeout to go by, nothing is judged');
});
