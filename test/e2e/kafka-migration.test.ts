// The Kafka shared-cluster migration end to end on real brokers: a ZooKeeper-mode Kafka 3.9 cluster
// (3 source brokers) with 3 destination brokers joined, one Drover agent per broker, a producer
// (acks=all, idempotent) and a consumer group running throughout. `drover kafka migrate` reads the
// live cluster through a delegate agent and writes the plan; `drover apply` carries it out. At the
// end every partition (internal topics included) lives only on the destination brokers with
// destination leaders, no throttle remains, the consumer group's committed offsets carried over,
// and the workload proves zero records lost or reordered. The ZooKeeper ensemble is shared with a
// second cluster (`kafka-b`, chroot /kafka-b), which the migration must leave untouched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PlanRun } from '@drover/coordinator';
import { KafkaAdmin } from '../../agent/src/clients/kafka/index.ts';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { startBrokerAgents } from '../fleet/kafka-agents.ts';
import { KafkaWorkload } from '../fleet/kafka-workload.ts';
import { type KafkaCluster, startKafka } from '../harness/kafka.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';
import { startZooKeeper } from '../harness/zookeeper.ts';

const TOPIC = 'orders';
let kafka: KafkaCluster;
let other: KafkaCluster;
let otherBefore: Map<string, number[]>;
let fleet: Fleet;
let admin: KafkaAdmin;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('kafka-migration'), nats.urls, nats.security);
  (await connect(fleet)).close();
  const zookeeper = await startZooKeeper({ voters: 3 });
  other = await startKafka({ mode: 'zookeeper', zookeeper, chroot: '/kafka-b', brokers: [{ id: 1 }] });
  const otherAdmin = other.admin('drover-e2e-other');
  await otherAdmin.createTopics({ topics: ['untouched'], partitions: 3, replicas: 1 });
  await otherAdmin.close();
  otherBefore = await assignmentOf(other);
  kafka = await startKafka({
    mode: 'zookeeper',
    zookeeper,
    chroot: '/kafka-a',
    brokers: [
      { id: 1, rack: 'a' },
      { id: 2, rack: 'b' },
      { id: 3, rack: 'c' },
    ],
    config: { 'offsets.topic.replication.factor': 3, 'offsets.topic.num.partitions': 6 },
  });
  const harnessAdmin = kafka.admin('drover-e2e-setup');
  try {
    await harnessAdmin.createTopics({ topics: [TOPIC], partitions: 6, replicas: 3 });
  } finally {
    await harnessAdmin.close();
  }
  await kafka.addBrokers([
    { id: 101, rack: 'a' },
    { id: 102, rack: 'b' },
    { id: 103, rack: 'c' },
  ]);
  await startBrokerAgents(fleet, kafka, { cluster: 'kafka-a' });
  admin = new KafkaAdmin({ bootstrap: [kafka.brokers[3]?.address ?? ''] });
});

after(async () => {
  await admin?.close();
});

async function assignmentOf(cluster: KafkaCluster): Promise<Map<string, number[]>> {
  const a = new KafkaAdmin({ bootstrap: cluster.bootstrap });
  try {
    return new Map((await a.readAssignment()).map((p) => [`${p.topic}/${p.partition}`, p.replicas]));
  } finally {
    await a.close();
  }
}

test('the whole migration through drover apply: destination only, no throttles, offsets kept, 0 lost, 0 reordered', async () => {
  const workload = new KafkaWorkload({ bootstrap: kafka.bootstrap, topic: TOPIC });
  workload.start();
  await waitFor(() => workload.counts.acknowledged >= 500 && workload.counts.consumed >= 200, {
    timeoutMs: 60_000,
    what: 'the workload producing and consuming',
  });
  const offsetsBefore = await workload.committedOffsets();
  assert.ok(offsetsBefore.size > 0, 'the group committed offsets before the move');

  const planFile = join(fleet.dir, 'kafka-a.plan.yaml');
  const migrate = await fleet.drover([
    'kafka',
    'migrate',
    '--cluster',
    'kafka-a',
    '--delegate',
    'kafka-a-101',
    '--map',
    '1=101,2=102,3=103',
    '--throttle',
    '20MB/s',
    '--per-broker',
    '2',
    '-o',
    planFile,
  ]);
  assert.equal(migrate.code, 0, migrate.output);
  const planText = readFileSync(planFile, 'utf8');
  assert.match(planText, /__consumer_offsets/, 'internal topics are part of the plan');

  const started = Date.now();
  const applied = await fleet.drover(['apply', planFile, '--yes', '--json'], { timeoutMs: 600_000 });
  const applyMs = Date.now() - started;
  assert.equal(applied.code, 0, applied.output);
  const run = JSON.parse(applied.stdout) as PlanRun;
  assert.equal(run.state, 'succeeded', run.message);
  assert.deepEqual(
    run.phases.map((p) => `${p.name}:${p.state}`),
    [
      'preflight:succeeded',
      'expand:succeeded',
      'leaders:succeeded',
      'shrink:succeeded',
      'cleanup:succeeded',
      'repoint-clients:succeeded',
    ],
  );

  // Keep the clients running a little on the destination brokers, then stop and check.
  const ackedAtEnd = workload.counts.acknowledged;
  await waitFor(() => workload.counts.acknowledged > ackedAtEnd + 200, { timeoutMs: 30_000, what: 'producing after' });
  await workload.stop();
  const verification = await workload.verify();
  process.stdout.write(
    `# kafka migration: apply ${applyMs} ms; ${JSON.stringify(verification)}; send errors ${workload.sendErrors.length}\n`,
  );
  assert.ok(verification.acknowledged > 700);
  assert.equal(verification.lost, 0, 'no acknowledged record lost');
  assert.equal(verification.reordered, 0, 'no record out of order within its key');

  const partitions = await admin.readAssignment();
  assert.ok(partitions.some((p) => p.topic === '__consumer_offsets'));
  for (const p of partitions) {
    assert.ok(
      p.replicas.every((r) => r > 100),
      `${p.topic}/${p.partition} on [${p.replicas}]`,
    );
    assert.ok(p.leader > 100 && p.leader === p.replicas[0], `${p.topic}/${p.partition} led by ${p.leader}`);
    assert.equal(p.isr.length, p.replicas.length, `${p.topic}/${p.partition} ISR full`);
  }
  assert.deepEqual(await admin.listReassignments(), []);
  assert.deepEqual(await admin.describeThrottles(), [], 'no throttle left');
  // The other cluster on the same ZooKeeper ensemble (another chroot) is untouched.
  assert.deepEqual(await assignmentOf(other), otherBefore, 'kafka-b (chroot /kafka-b) untouched');
  const offsetsAfter = await workload.committedOffsets();
  for (const [partition, offset] of offsetsBefore)
    assert.ok((offsetsAfter.get(partition) ?? -1n) >= offset, `group offset of partition ${partition} carried over`);
});
