// The Kafka migration's way back and its faults, on real Kafka 3.9 brokers (ZooKeeper mode) with one
// Drover agent per broker, all driven through the drover CLI: cancel in the middle of a throttled
// expand and roll back (assignment restored, throttles gone); pause after leaders and roll back
// (sources lead again); a destination broker killed in the middle of expand (the phase waits, says
// so, and finishes once the broker is back); plans naming brokers that do not exist, or services
// the agent does not have, refused with nothing changed on the cluster.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openRunStore, type PlanRun, readRun } from '@drover/coordinator';
import { STREAM_EVENTS } from '@drover/shared';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { KafkaAdmin } from '../../agent/src/clients/kafka/index.ts';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { brokerAgentSpec, startBrokerAgents } from '../fleet/kafka-agents.ts';
import { type KafkaCluster, startKafka } from '../harness/kafka.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, type ProcessHandle, waitFor } from '../harness/process.ts';

const TOPIC = 'big';
let kafka: KafkaCluster;
let fleet: Fleet;
let admin: KafkaAdmin;
let original: Map<string, number[]>;
/** The agent of broker 101, which runs the cluster-wide steps (restarted by a test). */
let delegate: ProcessHandle;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('kafka-rollback'), nats.urls, nats.security);
  (await connect(fleet)).close();
  kafka = await startKafka({
    mode: 'zookeeper',
    brokers: [
      { id: 1, rack: 'a' },
      { id: 2, rack: 'b' },
      { id: 3, rack: 'c' },
    ],
    config: { 'offsets.topic.replication.factor': 3, 'offsets.topic.num.partitions': 3 },
  });
  const setup = kafka.admin('drover-e2e-setup');
  await setup.createTopics({ topics: [TOPIC], partitions: 3, replicas: 3 });
  await setup.close();
  // About 3 MB per partition: at 100 KB/s a move takes long enough to be caught in flight.
  const producer = new Producer({
    clientId: 'fill',
    bootstrapBrokers: kafka.bootstrap,
    serializers: stringSerializers,
    acks: -1,
  });
  const value = 'x'.repeat(10_000);
  for (let round = 0; round < 30; round++)
    await producer.send({ messages: Array.from({ length: 30 }, (_, i) => ({ topic: TOPIC, key: `k${i}`, value })) });
  await producer.close();
  await kafka.addBrokers([
    { id: 101, rack: 'a' },
    { id: 102, rack: 'b' },
    { id: 103, rack: 'c' },
  ]);
  const agents = await startBrokerAgents(fleet, kafka, { cluster: 'kafka-b' });
  delegate = agents[kafka.brokers.findIndex((b) => b.id === 101)] as ProcessHandle;
  admin = new KafkaAdmin({ bootstrap: [kafka.brokers[0]?.address ?? ''] });
  original = await assignment();
});

after(async () => {
  await admin?.close();
});

async function assignment(): Promise<Map<string, number[]>> {
  return new Map((await admin.readAssignment()).map((p) => [`${p.topic}/${p.partition}`, p.replicas]));
}

async function leaders(): Promise<Map<string, number>> {
  return new Map((await admin.readAssignment()).map((p) => [`${p.topic}/${p.partition}`, p.leader]));
}

async function migratePlan(name: string, throttle: string): Promise<string> {
  const file = join(fleet.dir, `${name}.yaml`);
  const result = await fleet.drover([
    'kafka',
    'migrate',
    '--cluster',
    'kafka-b',
    '--delegate',
    'kafka-b-101',
    '--map',
    '1=101,2=102,3=103',
    '--throttle',
    throttle,
    '--per-broker',
    '1',
    '--name',
    name,
    '-o',
    file,
  ]);
  assert.equal(result.code, 0, result.output);
  return file;
}

async function droverRun(args: string[], timeoutMs = 300_000): Promise<PlanRun> {
  const result = await fleet.drover([...args, '--json'], { timeoutMs });
  try {
    return JSON.parse(result.stdout) as PlanRun;
  } catch {
    assert.fail(`drover ${args.join(' ')} (exit ${result.code}):\n${result.output}`);
  }
}

/**
 * Topic `name`: partition 0 on broker 1 with about 3 MB, partition 1 on broker 2 empty; and a plan
 * with ONE kafka.reassign batch moving both (0 → 1,101 at 300 KB/s: about 10 s; 1 → 2,102: at once),
 * throttled as the planner does (APPEND the entries, SET the rates of the four brokers).
 */
async function mixedTopicPlan(name: string): Promise<{ file: string; rate: number }> {
  const setup = kafka.admin(`drover-e2e-${name}`);
  await setup.createTopics({
    topics: [name],
    assignments: [
      { partition: 0, brokers: [1] },
      { partition: 1, brokers: [2] },
    ],
  });
  await setup.close();
  const producer = new Producer({
    clientId: `fill-${name}`,
    bootstrapBrokers: kafka.bootstrap,
    serializers: stringSerializers,
    acks: -1,
  });
  const value = 'y'.repeat(10_000);
  for (let round = 0; round < 10; round++)
    await producer.send({
      messages: Array.from({ length: 30 }, (_, i) => ({ topic: name, partition: 0, key: `k${i}`, value })),
    });
  await producer.close();
  // Well below what lets 3 MB through at once: Kafka's throttle measures its rate over ~11 one-second
  // windows, so a move it has no recent history for may send about rate x 10 s in a burst (at
  // 300 kB/s the whole partition moved in 0.7 s once, and the window the test watches for never came).
  // At 100 kB/s at least 1.9 MB go at the throttle: mixed-0 moves for 19 s or more.
  const rate = 100_000;
  const file = join(fleet.dir, `${name}.yaml`);
  const ops = [
    { resource: `topic:${name}`, op: 'APPEND', key: 'leader.replication.throttled.replicas', value: '0:1,1:2' },
    { resource: `topic:${name}`, op: 'APPEND', key: 'follower.replication.throttled.replicas', value: '0:101,1:102' },
    ...[1, 2, 101, 102].flatMap((b) => [
      { resource: `broker:${b}`, op: 'SET', key: 'leader.replication.throttled.rate', value: String(rate) },
      { resource: `broker:${b}`, op: 'SET', key: 'follower.replication.throttled.rate', value: String(rate) },
    ]),
  ];
  const batch = {
    configOps: ops,
    reassignments: [
      { topic: name, partition: 0, replicas: [1, 101] },
      { topic: name, partition: 1, replicas: [2, 102] },
    ],
  };
  writeFileSync(
    file,
    `apiVersion: drover/v1
kind: Plan
metadata: { name: ${name} }
phases:
  - name: expand
    steps:
      - name: expand
        step: kafka.reassign
        target: [kafka-b-101]
        params: ${JSON.stringify({ phase: 'expand', batches: [batch], pollMs: 250 })}
`,
  );
  return { file, rate };
}

const settingsOf = (all: Awaited<ReturnType<KafkaAdmin['describeThrottles']>>) =>
  new Map(all.map((t) => [`${t.resource} ${t.key}`, t.value]));

async function placedOf(topic: string): Promise<Map<number, number[]>> {
  return new Map((await admin.readAssignment()).filter((p) => p.topic === topic).map((p) => [p.partition, p.replicas]));
}

describe('kafka migration: rollback and faults', () => {
  test('cancel in the middle of a throttled expand, then roll back: assignment restored, no throttle left', async () => {
    const file = await migratePlan('cancel-expand', '100KB/s');
    const cli = await fleet.startDrover('apply-cancel', ['apply', file, '--yes']);
    await waitFor(async () => (await admin.listReassignments()).length > 0, {
      timeoutMs: 60_000,
      what: 'a move in flight',
    });
    const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(200))?.[1] ?? '';
    const cancelled = await droverRun(['run', 'cancel', runId]);
    assert.equal(cancelled.state, 'cancelled');
    await cli.exited;
    const rolled = await droverRun(['run', 'rollback', runId]);
    assert.equal(rolled.state, 'rolled-back', rolled.message);
    assert.deepEqual(await admin.listReassignments(), []);
    assert.deepEqual(await assignment(), original, 'every partition back on its source replicas, in order');
    assert.deepEqual(await admin.describeThrottles(), [], 'the expand throttles are gone');
  });

  test('pause after leaders, then roll back: sources hold and lead every partition again', async () => {
    const leadersBefore = await leaders();
    const file = await migratePlan('until-leaders', '50MB/s');
    const paused = await droverRun(['apply', file, '--until', 'leaders']);
    assert.equal(paused.state, 'paused', paused.message);
    const moved = await leaders();
    assert.ok(
      [...moved.values()].every((l) => l > 100),
      'destination brokers lead after the leaders phase',
    );
    const rolled = await droverRun(['run', 'rollback', paused.id]);
    assert.equal(rolled.state, 'rolled-back', rolled.message);
    assert.deepEqual(
      rolled.phases.map((p) => p.state),
      ['rolled-back', 'rolled-back', 'rolled-back', 'pending', 'pending', 'pending'],
    );
    assert.deepEqual(await assignment(), original);
    await waitFor(async () => [...(await leaders()).values()].every((l) => l <= 3), {
      timeoutMs: 30_000,
      what: 'sources leading',
    });
    for (const [key, leader] of await leaders())
      assert.equal(
        leader,
        original.get(key)?.[0],
        `${key} led by its original preferred leader (was ${leadersBefore.get(key)})`,
      );
    assert.deepEqual(await admin.describeThrottles(), []);
  });

  test('a destination broker killed in the middle of expand: the phase waits, says so, and finishes when it is back', async () => {
    const file = await migratePlan('broker-killed', '500KB/s');
    const cli = await fleet.startDrover('apply-killed-broker', ['apply', file, '--yes']);
    // A move of the big topic onto 102 (about 6 s at 500 KB/s), not a small offsets partition that
    // may be done before the kill lands: then the whole expand could end first, on a slow machine.
    await waitFor(
      async () => (await admin.listReassignments()).some((m) => m.topic === TOPIC && m.adding.includes(102)),
      { timeoutMs: 60_000, intervalMs: 100, what: `a move of ${TOPIC} onto broker 102 in flight` },
    );
    await kafka.kill(102);
    const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(200))?.[1] ?? '';
    const d = await connect(fleet);
    try {
      // The delegate reports the wait in its progress events, and the run neither fails nor gives up.
      const jobId = `${runId}-p1-s0-a1`;
      await waitFor(
        async () => {
          const consumer = await d.js.consumers.get(STREAM_EVENTS, {
            filter_subjects: `drover.event.${jobId}.kafka-b-101.progress`,
          });
          const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
          for await (const m of batch) {
            if (/waiting for broker\(s\) 102 \(down\)/.test((m.json() as { message: string }).message)) return true;
            if (m.info.pending === 0) break;
          }
          return false;
        },
        // SIGKILL leaves 102 registered until its ZooKeeper session expires (18 s), and a controller
        // change can add more on a loaded machine: CI once needed more than 30 s.
        { timeoutMs: 75_000, what: 'a progress event saying broker 102 is down' },
      );
      const run = (await readRun(await openRunStore(d), runId)).run;
      assert.equal(run.state, 'running');
    } finally {
      await d.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await kafka.restart(102);
    const exit = await cli.exited;
    assert.equal(exit.code, 0, cli.logTail(60));
    assert.match(cli.logTail(400), /run r-[0-9-]+-[0-9a-f]+ succeeded/);
    const final = await assignment();
    for (const [key, replicas] of final)
      assert.ok(
        replicas.every((r) => r > 100),
        `${key} on [${replicas}]`,
      );
  });

  test('throttles released per finished partition and per idle broker while another move of the batch runs; none left at the end', async () => {
    const { file, rate } = await mixedTopicPlan('mixed');
    const cli = await fleet.startDrover('apply-mixed', ['apply', file, '--yes']);
    // While mixed-0 still moves: mixed-1's entries and brokers 2 and 102's rates are gone; mixed-0's stay.
    const seen = await waitFor(
      async () => {
        const moving = await admin.listReassignments();
        const t = settingsOf(await admin.describeThrottles());
        const released =
          t.get('topic:mixed leader.replication.throttled.replicas') === '0:1' &&
          t.get('topic:mixed follower.replication.throttled.replicas') === '0:101' &&
          !t.has('broker:2 leader.replication.throttled.rate') &&
          !t.has('broker:102 follower.replication.throttled.rate');
        // Read the moves again after the throttles: mixed-0 must still be in flight at that point.
        const still = (await admin.listReassignments()).some((m) => m.topic === 'mixed' && m.partition === 0);
        return released && still && moving.some((m) => m.topic === 'mixed' && m.partition === 0) ? t : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "mixed-1's throttles released while mixed-0 still moves" },
    );
    assert.equal(
      seen.get('broker:1 leader.replication.throttled.rate'),
      String(rate),
      'broker 1 still moving: rate kept',
    );
    assert.equal(seen.get('broker:101 follower.replication.throttled.rate'), String(rate));
    const exit = await cli.exited;
    assert.equal(exit.code, 0, cli.logTail(60));
    const placed = await placedOf('mixed');
    assert.deepEqual(placed.get(0), [1, 101]);
    assert.deepEqual(placed.get(1), [2, 102]);
    assert.deepEqual(await admin.describeThrottles(), [], 'no throttle left after the step');
  });

  test('the delegate agent killed mid-batch, the run resumed: the new attempt ends with no throttle left', async () => {
    const { file } = await mixedTopicPlan('mixed2');
    const cli = await fleet.startDrover('apply-mixed2', ['apply', file, '--yes']);
    await waitFor(
      async () => (await admin.listReassignments()).some((m) => m.topic === 'mixed2' && m.partition === 0),
      { timeoutMs: 60_000, intervalMs: 100, what: 'mixed2-0 in flight' },
    );
    await delegate.kill();
    delegate = await fleet.startAgent(brokerAgentSpec(kafka, 101, { cluster: 'kafka-b' }));
    const exit = await cli.exited;
    assert.notEqual(exit.code, 0, 'the interrupted run does not succeed');
    const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(200))?.[1] ?? '';
    const left = settingsOf(await admin.describeThrottles());
    process.stdout.write(`# throttles after the kill: ${JSON.stringify([...left])}\n`);
    const resumed = await droverRun(['run', 'resume', runId]);
    assert.equal(resumed.state, 'succeeded', resumed.message);
    const placed = await placedOf('mixed2');
    assert.deepEqual(placed.get(0), [1, 101]);
    assert.deepEqual(placed.get(1), [2, 102]);
    assert.deepEqual(await admin.describeThrottles(), [], 'no throttle left after the resumed attempt');
  });

  test('a plan naming brokers that do not exist, or a service the agent lacks, is refused and changes nothing', async () => {
    const before = await assignment();
    const refused = await fleet.drover([
      'kafka',
      'migrate',
      '--cluster',
      'kafka-b',
      '--delegate',
      'kafka-b-101',
      '--map',
      '101=901,102=902,103=903',
      '-o',
      join(fleet.dir, 'x.yaml'),
    ]);
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.output, /--map: got "901,902,903", expected destination brokers registered in the cluster/);

    const file = join(fleet.dir, 'bad-targets.yaml');
    writeFileSync(
      file,
      `apiVersion: drover/v1
kind: Plan
metadata: { name: bad-targets }
phases:
  - name: move
    steps:
      - name: to-nowhere
        step: kafka.reassign
        target: [kafka-b-101]
        params: { phase: expand, batches: [{ reassignments: [{ topic: ${TOPIC}, partition: 0, replicas: [101, 999] }] }] }
  - name: stop
    steps: [{ name: stop-it, step: service, target: [kafka-b-101], params: { name: kafka, action: stop } }]
`,
    );
    const run = await droverRun(['apply', file]);
    assert.equal(run.state, 'failed');
    assert.match(run.message ?? '', /replicas on brokers of the cluster .*nothing was changed/);
    assert.deepEqual(await assignment(), before, 'nothing moved');

    const pathy = join(fleet.dir, 'pathy.yaml');
    writeFileSync(
      pathy,
      `apiVersion: drover/v1
kind: Plan
metadata: { name: pathy }
phases:
  - name: stop
    steps: [{ name: stop-it, step: service, target: [kafka-b-101], params: { name: /etc/passwd, action: stop } }]
`,
    );
    const bad = await fleet.drover(['apply', pathy]);
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.output, /params\.name: got "\/etc\/passwd", expected a service name from the agent config/);

    const unknownService = join(fleet.dir, 'unknown-service.yaml');
    writeFileSync(
      unknownService,
      `apiVersion: drover/v1
kind: Plan
metadata: { name: unknown-service }
phases:
  - name: stop
    steps: [{ name: stop-it, step: service, target: [kafka-b-101], params: { name: kafka, action: stop } }]
`,
    );
    const noService = await droverRun(['apply', unknownService]);
    assert.equal(noService.state, 'failed');
    assert.match(noService.message ?? '', /kafka/);
    assert.deepEqual(await assignment(), before, 'the broker still serves: nothing stopped');
  });
});
