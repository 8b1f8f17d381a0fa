// Orders that must never run: forged (untrusted key), unsigned, tampered, expired, for another
// agent, replayed. Each is refused by the real agent daemon, audited on DROVER_AUDIT, and leaves no
// trace of execution. Bad operator input is refused before anything is dispatched.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectDrover, createJob, type Drover, driveJob, enrollAgent, prepareJob } from '@drover/coordinator';
import {
  eventSubject,
  generateSigningKeyPair,
  type JobEvent,
  journalSubject,
  type Order,
  orderCatchUpConsumerName,
  orderResendSubject,
  orderSignerFromPem,
  orderSubject,
  reportSignerFromPem,
  STREAM_AUDIT,
  STREAM_EVENTS,
  STREAM_ORDERS,
} from '@drover/shared';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, jobRequest } from '../fleet/jobs.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';

let fleet: Fleet;
let nats: NatsCluster;
let d: Drover;
let markers: string;

const touchCommand = {
  touch: { argv: ['/usr/bin/touch', '{path}'], params: { path: { pattern: '^/[A-Za-z0-9/._-]+$' } } },
};

before(async () => {
  // Authenticated and encrypted: TLS with a test CA, a coordinator identity and one identity per
  // agent with the permissions deploy/nats ships.
  nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('security'), nats.urls, nats.security);
  markers = join(fleet.dir, 'markers');
  mkdirSync(markers, { recursive: true });
  d = await connect(fleet);
  await Promise.all([
    fleet.startAgent({ id: 'sec-1', labels: { case: 'security' }, commands: touchCommand }),
    fleet.startAgent({ id: 'sec-2', labels: { case: 'security' }, commands: touchCommand }),
  ]);
});

after(async () => {
  await d?.close();
});

function orderFor(
  agentId: string,
  name: string,
  overrides: Partial<Order> = {},
  pem = readFileSync(fleet.keyPath, 'utf8'),
): Order {
  const now = Date.now();
  const signed = orderSignerFromPem(pem).sign({
    v: 1,
    jobId: 'j-security',
    orderId: `o-${name}`,
    agentId,
    step: 'command',
    params: { name: 'touch', args: { path: join(markers, name) } },
    issuedAt: now,
    expiresAt: now + 60_000,
    timeoutMs: 10_000,
    ...overrides,
  });
  return signed;
}

async function auditRecords(agentId: string): Promise<Array<Record<string, unknown>>> {
  const consumer = await d.js.consumers.get(STREAM_AUDIT, { filter_subjects: `drover.audit.rejected.${agentId}` });
  const out: Array<Record<string, unknown>> = [];
  const info = await d.jsm.streams.info(STREAM_AUDIT, { subjects_filter: `drover.audit.rejected.${agentId}` } as never);
  const total = Object.values((info.state as { subjects?: Record<string, number> }).subjects ?? {}).reduce(
    (a, b) => a + b,
    0,
  );
  if (total === 0) return out;
  const messages = await consumer.fetch({ max_messages: total, expires: 2000 });
  for await (const m of messages) out.push(m.json());
  return out;
}

async function waitForAudit(agentId: string, orderId: string, reason: string): Promise<Record<string, unknown>> {
  return waitFor(async () => (await auditRecords(agentId)).find((r) => r.orderId === orderId && r.reason === reason), {
    timeoutMs: 15_000,
    what: `audit record ${reason} for ${orderId}`,
  });
}

async function resultsFor(orderId: string): Promise<Array<Record<string, unknown>>> {
  const consumer = await d.js.consumers.get(STREAM_EVENTS, { filter_subjects: 'drover.event.j-security.*.result' });
  const info = await d.jsm.streams.info(STREAM_EVENTS, {
    subjects_filter: 'drover.event.j-security.*.result',
  } as never);
  const total = Object.values((info.state as { subjects?: Record<string, number> }).subjects ?? {}).reduce(
    (a, b) => a + b,
    0,
  );
  const out: Array<Record<string, unknown>> = [];
  if (total === 0) return out;
  for await (const m of await consumer.fetch({ max_messages: total, expires: 2000 })) {
    const r = m.json() as Record<string, unknown>;
    if (r.orderId === orderId) out.push(r);
  }
  return out;
}

const publish = (agentId: string, body: unknown) => d.js.publish(orderSubject(agentId), JSON.stringify(body));

describe('order verification by the agent', () => {
  test('a valid signed order runs (the control case)', async () => {
    await publish('sec-1', orderFor('sec-1', 'valid'));
    await waitFor(() => existsSync(join(markers, 'valid')), { timeoutMs: 15_000, what: 'valid order ran' });
  });

  test('forged: signed by a key the agent does not trust', async () => {
    const rogue = generateSigningKeyPair();
    await publish('sec-1', orderFor('sec-1', 'forged', {}, rogue.privateKeyPem));
    const record = await waitForAudit('sec-1', 'o-forged', 'signature');
    assert.match(String(record.message), /not a trusted coordinator key/);
    const [result] = await waitFor(
      async () => ((await resultsFor('o-forged')).length ? resultsFor('o-forged') : undefined),
      { timeoutMs: 10_000, what: 'rejected result' },
    );
    assert.equal(result?.status, 'rejected');
    assert.equal(existsSync(join(markers, 'forged')), false);
  });

  test('unsigned: an order without a signature', async () => {
    const { signature: _removed, ...unsigned } = orderFor('sec-1', 'unsigned');
    await publish('sec-1', unsigned);
    await waitForAudit('sec-1', 'o-unsigned', 'schema');
    assert.equal(existsSync(join(markers, 'unsigned')), false);
  });

  test('tampered: parameters changed after signing', async () => {
    const order = orderFor('sec-1', 'tampered');
    await publish('sec-1', {
      ...order,
      params: { name: 'touch', args: { path: join(markers, 'tampered-elsewhere') } },
    });
    const record = await waitForAudit('sec-1', 'o-tampered', 'signature');
    assert.match(String(record.message), /signature does not match/);
    assert.equal(existsSync(join(markers, 'tampered-elsewhere')), false);
  });

  test('expired: past its delivery deadline', async () => {
    const now = Date.now();
    await publish('sec-1', orderFor('sec-1', 'expired', { issuedAt: now - 120_000, expiresAt: now - 60_000 }));
    await waitForAudit('sec-1', 'o-expired', 'expired');
    assert.equal(existsSync(join(markers, 'expired')), false);
  });

  test('wrong target: an order signed for sec-2 delivered to sec-1', async () => {
    await publish('sec-1', orderFor('sec-2', 'wrong-target'));
    const record = await waitForAudit('sec-1', 'o-wrong-target', 'target');
    assert.match(String(record.message), /order is for agent sec-2/);
    assert.equal(existsSync(join(markers, 'wrong-target')), false);
  });

  test('a wave signed once: each copy runs on its own agent; a copy moved to the other agent or altered is refused', async () => {
    const now = Date.now();
    const waveOf = (tag: string) =>
      orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8')).signWave(
        {
          v: 1,
          jobId: 'j-security',
          step: 'command',
          params: { name: 'touch', args: { path: join(markers, tag) } },
          issuedAt: now,
          expiresAt: now + 60_000,
          timeoutMs: 10_000,
        },
        [
          { agentId: 'sec-1', orderId: `o-${tag}-1` },
          { agentId: 'sec-2', orderId: `o-${tag}-2` },
        ],
      );
    // Both copies of one wave run, each on its agent (the marker is the same file: it exists once both ran).
    const [one, two] = waveOf('wave-ok') as [Order, Order];
    assert.equal(one.signature, two.signature, 'one signature for the wave');
    await publish('sec-1', one);
    await publish('sec-2', two);
    await waitFor(async () => (await resultsFor('o-wave-ok-2')).some((r) => r.status === 'succeeded'), {
      timeoutMs: 15_000,
      what: "sec-2's copy of the wave succeeded",
    });
    assert.ok(
      (await resultsFor('o-wave-ok-1')).some((r) => r.status === 'succeeded'),
      "sec-1's copy succeeded",
    );
    // sec-2's copy renamed for sec-1: its leaf is not in the signed wave.
    const [, moved] = waveOf('wave-moved') as [Order, Order];
    await publish('sec-1', { ...moved, agentId: 'sec-1', orderId: 'o-wave-moved-x' });
    const refused = await waitForAudit('sec-1', 'o-wave-moved-x', 'signature');
    assert.match(String(refused.message), /not at index 1 of its signed wave/);
    // sec-2's copy, unchanged, delivered to sec-1: not its order.
    await publish('sec-1', moved);
    await waitForAudit('sec-1', 'o-wave-moved-2', 'target');
    // A copy whose params were changed: the wave's signature no longer matches.
    const [altered] = waveOf('wave-altered') as [Order, Order];
    await publish('sec-1', { ...altered, params: { name: 'touch', args: { path: join(markers, 'wave-elsewhere') } } });
    await waitForAudit('sec-1', 'o-wave-altered-1', 'signature');
    for (const marker of ['wave-moved', 'wave-altered', 'wave-elsewhere'])
      assert.equal(existsSync(join(markers, marker)), false, `${marker} never ran`);
  });

  test('replayed: the same signed order again is refused, audited and not run twice', async () => {
    const order = orderFor('sec-2', 'replayed');
    await publish('sec-2', order);
    await waitFor(() => existsSync(join(markers, 'replayed')), { timeoutMs: 15_000, what: 'first delivery ran' });
    rmSync(join(markers, 'replayed'));
    await publish('sec-2', order); // no msgID: an attacker re-publishing captured bytes
    await waitForAudit('sec-2', 'o-replayed', 'replay');
    const results = await waitFor(
      async () => ((await resultsFor('o-replayed')).length >= 2 ? resultsFor('o-replayed') : undefined),
      {
        timeoutMs: 10_000,
        what: 'the re-reported result',
      },
    );
    assert.equal(results[1]?.replayed, true, 'the stored result is re-reported, marked replayed');
    assert.equal(results[1]?.status, 'succeeded');
    assert.equal(existsSync(join(markers, 'replayed')), false, 'the step did not run again');
    assert.equal(fleet.journalStarts('sec-2', 'o-replayed'), 1);
  });

  test('a command value that breaks the allow-list pattern is refused by the step, never run', async () => {
    await publish(
      'sec-1',
      orderFor('sec-1', 'injection', {
        params: { name: 'touch', args: { path: `${join(markers, 'x')}; touch ${join(markers, 'pwned')}` } },
      }),
    );
    const [result] = await waitFor(
      async () => ((await resultsFor('o-injection')).length ? resultsFor('o-injection') : undefined),
      { timeoutMs: 10_000, what: 'result' },
    );
    assert.equal(result?.status, 'failed');
    assert.equal((result?.error as { name: string } | undefined)?.name, 'NotAllowedError');
    assert.equal(existsSync(join(markers, 'pwned')), false);
  });
});

describe('what an agent reports counts only when its enrolled key signed it', () => {
  /** Drives a 4 s sleep on sec-1 in-process; `meanwhile` runs once the target is running. */
  async function sleepJob(meanwhile: (jobId: string, orderId: string) => Promise<void>) {
    const prepared = await prepareJob(d, {
      ...jobRequest({ step: 'sleep', params: { seconds: 4 } }),
      agents: ['sec-1'],
    });
    await createJob(d, prepared);
    const events: JobEvent[] = [];
    let orderId: string | undefined;
    const started = Date.now();
    const driving = driveJob(d, prepared.job.id, {
      coordinatorId: 'test-coordinator',
      signer: orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8')),
      tickMs: 100,
      onRun: (run) => {
        if (run.state === 'running') orderId = run.order?.orderId;
      },
      onJobEvent: (event) => events.push(event),
    });
    await waitFor(() => orderId, { timeoutMs: 15_000, what: 'the sleep running on sec-1' });
    await meanwhile(prepared.job.id, orderId as string);
    const summary = await driving;
    return { summary, events, orderId: orderId as string, tookMs: Date.now() - started };
  }

  test("forged results (unsigned, an unenrolled key, another agent's key) do not finish a running step", async () => {
    const stranger = reportSignerFromPem(generateSigningKeyPair().privateKeyPem);
    const sec2 = reportSignerFromPem(readFileSync(join(fleet.stateDir('sec-2'), 'agent-key.pem'), 'utf8'));
    const { summary, events, tookMs } = await sleepJob(async (jobId, orderId) => {
      const forged = { orderId, jobId, agentId: 'sec-1', step: 'sleep', status: 'succeeded', finishedAt: Date.now() };
      const subject = eventSubject(jobId, 'sec-1', 'result');
      await d.js.publish(subject, JSON.stringify(forged), { msgID: `${orderId}-forged-1` });
      await d.js.publish(subject, JSON.stringify(stranger.sign(forged)), { msgID: `${orderId}-forged-2` });
      await d.js.publish(subject, JSON.stringify(sec2.sign(forged)), { msgID: `${orderId}-forged-3` });
      await d.js.publish(subject, JSON.stringify(sec2.sign({ ...forged, agentId: 'sec-2' })), {
        msgID: `${orderId}-forged-4`,
      });
    });
    assert.equal(summary.job.state, 'succeeded');
    const run = summary.runs[0];
    assert.ok(tookMs >= 3900, `the job ended after ${tookMs} ms, before the 4 s step could finish`);
    assert.ok(
      (run?.result?.finishedAt ?? 0) - (run?.result?.startedAt ?? 0) >= 3900,
      `the result that counted is the real one: ${JSON.stringify(run?.result)}`,
    );
    assert.ok(
      events.some((e) => /ignored a result \(succeeded\) on sec-1's subject/.test(e.message)),
      events.map((e) => e.message).join('\n'),
    );
  });

  test("progress lines: the agent's own are signed and shown as its own; forged ones are marked UNVERIFIED", async () => {
    const stranger = reportSignerFromPem(generateSigningKeyPair().privateKeyPem);
    let job = '';
    await sleepJob(async (jobId, orderId) => {
      job = jobId;
      const forged = { orderId, at: Date.now(), message: 'forged: 100% done', percent: 100 };
      const subject = eventSubject(jobId, 'sec-1', 'progress');
      await d.js.publish(subject, JSON.stringify(forged));
      await d.js.publish(subject, JSON.stringify(stranger.sign({ ...forged, message: 'forged and signed: 99%' })));
    });
    const tail = await fleet.drover(['tail', job]);
    assert.equal(tail.code, 0, tail.output);
    const lines = tail.stdout.split('\n');
    const real = lines.filter((l) => / sec-1 \d+% slept/.test(l));
    assert.ok(real.length >= 2, `the sleep's own progress lines:\n${tail.stdout}`);
    for (const line of real) assert.doesNotMatch(line, /UNVERIFIED/);
    const forgedLines = lines.filter((l) => /forged/.test(l));
    assert.equal(forgedLines.length, 2, tail.stdout);
    assert.match(forgedLines[0] ?? '', /\[UNVERIFIED, not from sec-1's key: unsigned\]/);
    assert.match(forgedLines[1] ?? '', /\[UNVERIFIED, not from sec-1's key: signed with key/);
  });

  test('an unsigned copy of a live order is rejected under its own message id: the real result still counts', async () => {
    const { summary } = await sleepJob(async (jobId, orderId) => {
      const now = Date.now();
      await publish('sec-1', {
        v: 1,
        jobId,
        orderId,
        agentId: 'sec-1',
        step: 'sleep',
        params: { seconds: 0 },
        issuedAt: now,
        expiresAt: now + 60_000,
        timeoutMs: 10_000,
        keyId: 'ed25519-0000000000000000',
        signature: `${'A'.repeat(86)}==`,
      });
      await waitForAudit('sec-1', orderId, 'signature');
    });
    assert.equal(summary.job.state, 'succeeded', JSON.stringify(summary.runs[0]?.result));
    assert.equal(summary.runs[0]?.result?.status, 'succeeded');
  });

  const countJobs = async () => {
    let n = 0;
    for await (const _ of await d.jobs.keys()) n++;
    return n;
  };

  test('an agent that is not enrolled is refused before anything is written or dispatched', async () => {
    const rekeyed = await d.agentKeys.get('sec-2');
    await d.agentKeys.delete('sec-2');
    try {
      const jobsBefore = await countJobs();
      const out = await fleet.drover(['run', 'ping', '--selector', 'case=security']);
      assert.notEqual(out.code, 0);
      assert.match(out.output, /targets/);
      assert.match(out.output, /sec-2/);
      assert.match(out.output, /drover agent enroll/);
      assert.equal(await countJobs(), jobsBefore, 'no job written');
    } finally {
      if (rekeyed?.operation === 'PUT') await d.agentKeys.put('sec-2', rekeyed.string());
    }
    const again = await fleet.drover(['run', 'ping', '--selector', 'case=security']);
    assert.equal(again.code, 0, again.output);
  });
});

describe('NATS: TLS and one identity per agent, with the permissions deploy/nats ships', () => {
  const server = () => nats.urls[0] as string;
  const asAgent = (id: string) =>
    natsConnect({
      servers: server(),
      user: id,
      pass: nats.security?.agentPassword(id) ?? '',
      inboxPrefix: `_INBOX_${id}`,
      tls: { caFile: nats.security?.caFile ?? '' },
    });

  test('no credentials, or no trust in the test CA: no connection', async () => {
    await assert.rejects(natsConnect({ servers: server(), tls: { caFile: nats.security?.caFile ?? '' } }), /authoriz/i);
    await assert.rejects(
      natsConnect({ servers: server(), user: 'sec-1', pass: nats.security?.agentPassword('sec-1') ?? '' }),
      /certificate|self.signed|tls/i,
    );
  });

  test("an agent's identity cannot take another agent's orders, speak for it, enrol a key or delete anything", async () => {
    const nc = await asAgent('sec-1');
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      // Its own orders it may read back (the catch-up consumer on its own subject)...
      await jsm.consumers.add(STREAM_ORDERS, {
        name: orderCatchUpConsumerName('sec-1'),
        filter_subject: orderSubject('sec-1'),
        ack_policy: 'none' as never,
      });
      assert.ok(await jsm.consumers.delete(STREAM_ORDERS, orderCatchUpConsumerName('sec-1')));
      // ...but no consumer on another agent's orders: under that agent's name, under its own name with
      // the other's filter, a wildcard filter, or a durable (its body, not its subject, holds the filter).
      for (const config of [
        { name: orderCatchUpConsumerName('sec-2'), filter_subject: orderSubject('sec-2') },
        { name: orderCatchUpConsumerName('sec-1'), filter_subject: orderSubject('sec-2') },
        { name: orderCatchUpConsumerName('sec-1'), filter_subject: 'drover.order.>' },
        { durable_name: 'agent-sec-2', filter_subject: orderSubject('sec-2') },
        { name: 'other', filter_subject: orderSubject('sec-2') },
      ])
        await assert.rejects(
          jsm.consumers.add(STREAM_ORDERS, { ...config, ack_policy: 'none' as never }),
          /permission/i,
          JSON.stringify(config),
        );
      await assert.rejects(js.consumers.get(STREAM_ORDERS, orderCatchUpConsumerName('sec-2')), /permission/i);
      // The permitted request subject with the other agent's filter in its body: the server refuses it.
      const forged = await nc.request(
        `$JS.API.CONSUMER.CREATE.${STREAM_ORDERS}.${orderCatchUpConsumerName('sec-1')}.${orderSubject('sec-1')}`,
        JSON.stringify({
          stream_name: STREAM_ORDERS,
          config: {
            name: orderCatchUpConsumerName('sec-1'),
            filter_subject: orderSubject('sec-2'),
            ack_policy: 'none',
          },
        }),
        { timeout: 2000 },
      );
      assert.match(forged.string(), /"error"/, `a consumer on sec-2's orders was made: ${forged.string()}`);
      // Nor the last order on another agent's subject, nor any message by sequence.
      await assert.rejects(
        jsm.direct.getMessage(STREAM_ORDERS, { last_by_subj: orderSubject('sec-2') }),
        /permission|timeout|no responders/i,
      );
      await assert.rejects(jsm.streams.getMessage(STREAM_ORDERS, { seq: 1 }), /permission|timeout/i);
      // Nor subscribe to another agent's orders, live or re-sent: the server closes the subscription.
      for (const subject of [
        orderSubject('sec-2'),
        orderResendSubject('sec-2'),
        journalSubject('sec-2'),
        'drover.order.>',
        'drover.resend.*',
      ]) {
        const sub = nc.subscribe(subject);
        const closed = await Promise.race([
          sub.closed.then(
            () => 'closed',
            () => 'closed',
          ),
          new Promise((resolve) => setTimeout(() => resolve('open'), 2000)),
        ]);
        assert.equal(closed, 'closed', `sec-1 could subscribe to ${subject}`);
      }
      await assert.rejects(
        js.publish(eventSubject('j-x', 'sec-2', 'result'), '{}', { timeout: 1000 }),
        /permission/i,
        "sec-2's result subject",
      );
      await assert.rejects(js.publish('$KV.drover-agent-keys.sec-1', '{}', { timeout: 1000 }), /permission/i);
      // Nor ask another agent for its journal (what `drover reconcile` asks, as the coordinator).
      await assert.rejects(
        nc.request(journalSubject('sec-2'), '{}', { timeout: 1500 }),
        /permission|timeout|no responders/i,
        "sec-2's journal",
      );
      for (const stream of [STREAM_ORDERS, STREAM_EVENTS, STREAM_AUDIT, 'KV_drover-agent-keys'])
        await assert.rejects(jsm.streams.delete(stream), /permission/i, stream);
      // ...while its own work goes on: its result subject takes a message.
      await js.publish(eventSubject('j-x', 'sec-1', 'progress'), '{}', { timeout: 1000 }).catch((error: Error) => {
        // progress is not on a stream subject the agent may ack through JetStream; core publish is what it uses
        if (!/no response|503|no stream/i.test(error.message)) throw error;
      });
    } finally {
      await nc.close();
    }
  });

  test('the read-only identity (drover serve) reads jobs, runs and events, and can change nothing', async () => {
    const viewer = nats.security?.viewer;
    assert.ok(viewer);
    const ro = await connectDrover({
      servers: [server()],
      user: viewer.user,
      pass: viewer.pass,
      tlsCaFile: nats.security?.caFile ?? '',
      readOnly: true,
      inboxPrefix: '_INBOX_viewer',
    });
    try {
      // What the page needs: the buckets' values and the events stream.
      const agentKeys = [];
      for await (const key of await ro.agents.keys()) agentKeys.push(key);
      assert.ok(agentKeys.includes('sec-1'), 'the registry is readable');
      assert.equal((await ro.jsm.streams.info(STREAM_EVENTS)).config.name, STREAM_EVENTS);
      const events = await ro.js.consumers.get(STREAM_EVENTS, { filter_subjects: 'drover.event.>' });
      await events.delete();
      // What it must not do: dispatch, cancel, report, write state, take orders, delete anything.
      const order = { v: 1, jobId: 'j-x', orderId: 'j-x-0', agentId: 'sec-1', step: 'ping', params: {} };
      await assert.rejects(
        ro.js.publish(orderSubject('sec-1'), JSON.stringify(order), { timeout: 1000 }),
        /permission/i,
      );
      await assert.rejects(
        ro.js.publish(eventSubject('j-x', 'sec-1', 'result'), '{}', { timeout: 1000 }),
        /permission/i,
      );
      await assert.rejects(ro.jobs.put('j-x', '{}'), /permission/i, 'a job record');
      await assert.rejects(ro.runs.put('j-x.sec-1', '{}'), /permission/i, 'a run record');
      await assert.rejects(ro.agentKeys.put('sec-1', '{}'), /permission/i, 'an enrolled key');
      await assert.rejects(
        ro.js.consumers.get(STREAM_ORDERS, { filter_subjects: orderSubject('sec-1') }),
        /permission/i,
      );
      for (const stream of [STREAM_ORDERS, STREAM_EVENTS, STREAM_AUDIT, 'KV_drover-runs'])
        await assert.rejects(ro.jsm.streams.delete(stream), /permission/i, stream);
      // A cancel is a core publish: the server drops it, and the connection reports the violation.
      const violation = new Promise<string>((resolve) => {
        void (async () => {
          for await (const status of ro.nc.status()) if (status.type === 'error') resolve(String(status.error));
        })();
      });
      ro.nc.publish(`drover.cancel.sec-1`, '{}');
      assert.match(await violation, /permission/i);
    } finally {
      await ro.close();
    }
  });
});

describe('the agent registry', () => {
  test("a record written under another key claiming an agent's id does not make that agent appear twice", async () => {
    const real = await d.agents.get('sec-1');
    assert.ok(real?.operation === 'PUT');
    await d.agents.put(
      'impostor',
      JSON.stringify({ ...(real.json() as object), id: 'sec-1', labels: { case: 'security', rack: 'x' } }),
    );
    try {
      const out = await fleet.drover(['agents', '--json']);
      const ids = (JSON.parse(out.stdout) as { agents: Array<{ id: string }> }).agents.map((a) => a.id);
      assert.equal(ids.filter((id) => id === 'sec-1').length, 1, ids.join(','));
      const run = await fleet.drover(['run', 'ping', '--selector', 'case=security', '--serial-by', 'rack', '--json']);
      assert.equal(run.code, 0, run.output);
      assert.equal((JSON.parse(run.stdout) as { targets: unknown[] }).targets.length, 2, 'each agent once');
    } finally {
      await d.agents.delete('impostor');
    }
  });
});

describe('bad input through the CLI: a clear error, nothing dispatched', () => {
  const cases: Array<{ name: string; args: string[]; expect: RegExp[] }> = [
    {
      name: 'unknown step',
      args: ['run', 'reboot-everything', '--selector', 'case=security'],
      expect: [/step/, /"reboot-everything"/, /one of ping, facts, sleep, command/],
    },
    {
      name: 'bad parameter value',
      args: ['run', 'sleep', '--param', 'seconds=-5', '--selector', 'case=security'],
      expect: [/params\.seconds/, /-5/, />=0/],
    },
    {
      name: 'unknown parameter',
      args: ['run', 'sleep', '--param', 'seconds=1', '--param', 'shell=rm', '--selector', 'case=security'],
      expect: [/params/, /shell not allowed/],
    },
    {
      name: 'bad selector',
      args: ['run', 'ping', '--selector', 'rack in (a'],
      expect: [/selector/, /"rack in \(a"/, /key in \(a,b\)/],
    },
    {
      name: 'selector matching nothing',
      args: ['run', 'ping', '--selector', 'cluster=nope'],
      expect: [/cluster=nope/, /matches none/, /nothing dispatched/],
    },
    {
      name: 'bad concurrency',
      args: ['run', 'ping', '--concurrency', 'lots'],
      expect: [/--concurrency/, /"lots"/, /percentage/],
    },
    {
      name: 'bad timeout',
      args: ['run', 'ping', '--timeout', '5 minutes'],
      expect: [/--timeout/, /"5 minutes"/, /duration like/],
    },
    {
      name: 'a timeout every agent would refuse (8d)',
      args: ['run', 'ping', '--all', '--timeout', '8d'],
      expect: [/--timeout/, /691200000 ms/, /at most 7d/],
    },
    {
      name: 'concurrency 0',
      args: ['run', 'ping', '--all', '--concurrency', '0'],
      expect: [/--concurrency/, /got 0/, /at least 1 target at a time/],
    },
    {
      name: 'no selector (every agent only with --all)',
      args: ['run', 'ping'],
      expect: [/--selector/, /label selector/, /--all for every registered agent/],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const before = (await d.jsm.streams.info(STREAM_ORDERS)).state.last_seq;
      const jobs = (await d.jobs.status()).values;
      const out = await fleet.drover(c.args);
      assert.equal(out.code, 2, out.output);
      // oclif wraps long messages at the terminal width: compare with whitespace folded.
      const text = out.output.replace(/\s+/g, ' ');
      for (const pattern of c.expect) assert.match(text, pattern);
      assert.equal((await d.jsm.streams.info(STREAM_ORDERS)).state.last_seq, before, 'no order published');
      assert.equal((await d.jobs.status()).values, jobs, 'no job written');
    });
  }

  test('--all targets every registered agent and says which are not online', async () => {
    const gone = reportSignerFromPem(generateSigningKeyPair().privateKeyPem);
    await enrollAgent(d.agentKeys, 'sec-gone', gone.publicKeyPem, 'test');
    const real = (await d.agents.get('sec-1'))?.json() as Record<string, unknown>;
    await d.agents.put('sec-gone', JSON.stringify({ ...real, id: 'sec-gone', status: 'offline', keyId: gone.keyId }));
    try {
      const out = await fleet.drover(['run', 'ping', '--all', '--delivery-timeout', '2s']);
      assert.equal(out.code, 1, out.output);
      assert.match(out.output, /1 of 3 target\(s\) not online \(sec-gone offline\)/);
      assert.match(out.output, /no-response/);
    } finally {
      await d.agents.delete('sec-gone');
      await d.agentKeys.delete('sec-gone');
    }
  });

  test('NATS down: the CLI says which server it could not reach', async () => {
    const out = await fleet.drover(['agents', '--nats', 'nats://127.0.0.1:1']);
    assert.equal(out.code, 2, out.output);
    assert.match(out.output, /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});
