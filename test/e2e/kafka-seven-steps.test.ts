// The seed's procedure with Drover doing the node work too: the destination nodes are empty hosts
// (own loopback addresses 127.0.0.101-103) with a Drover agent each that declares a ZooKeeper
// observer and a Kafka broker run as supervised processes. `drover kafka migrate --observers
// --destination-agents` writes the plan: the observers join the source ensemble by reconfig and must
// be in sync (gate) before any destination broker starts; each broker renders its server.properties
// from the cluster profile (custom listener name, ZooKeeper through the observers, chroot) and
// starts, one at a time; then the three reassignment phases and cleanup. A producer and a consumer
// group run throughout: nothing lost or reordered.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { PlanRun } from '@drover/coordinator';
import { KafkaAdmin } from '../../agent/src/clients/kafka/index.ts';
import { createFleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { startBrokerAgents } from '../fleet/kafka-agents.ts';
import { startDestinationNodes } from '../fleet/kafka-nodes.ts';
import { KafkaWorkload } from '../fleet/kafka-workload.ts';
import { startKafka } from '../harness/kafka.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';
import { startZooKeeper } from '../harness/zookeeper.ts';

test('observers, brokers from the profile, expand, leaders, shrink, cleanup: all by the agents, 0 lost, 0 reordered', async (t) => {
  const nats = await startNats({ servers: 1, secure: true });
  const fleet = createFleet(makeTempDir('kafka-seven'), nats.urls, nats.security);
  await (await connect(fleet)).close();
  const zk = await startZooKeeper({ voters: 3 });
  const kafka = await startKafka({
    mode: 'zookeeper',
    zookeeper: zk,
    chroot: '/kafka-a',
    brokers: [
      { id: 1, rack: 'a' },
      { id: 2, rack: 'b' },
      { id: 3, rack: 'c' },
    ],
    config: { 'offsets.topic.replication.factor': 3, 'offsets.topic.num.partitions': 6 },
  });
  const setup = kafka.admin('drover-e2e-setup');
  await setup.createTopics({ topics: ['orders'], partitions: 6, replicas: 3 });
  await setup.close();
  await startBrokerAgents(fleet, kafka, { cluster: 'kafka-a' });

  // Three empty destination nodes: an agent each, declaring a ZooKeeper observer and a Kafka broker.
  const nodes = await startDestinationNodes(fleet, zk, {
    cluster: 'kafka-a',
    chroot: '/kafka-a',
    ids: [101, 102, 103],
    racks: ['a', 'b', 'c'],
  });
  const { kafkaPort } = nodes;
  t.after(() => nodes.stop());
  const set = await fleet.drover(['profile', 'set', '--file', nodes.profileFile]);
  assert.equal(set.code, 0, set.output);

  const workload = new KafkaWorkload({ bootstrap: kafka.bootstrap, topic: 'orders', groupId: 'seven-steps' });
  workload.start();
  await waitFor(() => workload.counts.acknowledged >= 300, { timeoutMs: 60_000, what: 'workload' });

  const ensemble = zk.voters
    .map((v) => `${v.id}=${v.host}:${v.clientPort}:${v.quorumPort}:${v.electionPort}`)
    .join(',');
  const planFile = path.join(fleet.dir, 'seven.plan.yaml');
  const migrate = await fleet.drover([
    'kafka',
    'migrate',
    '--cluster',
    'kafka-a',
    '--delegate',
    'kafka-a-1',
    '--map',
    '1=101,2=102,3=103',
    '--observers',
    'cluster=kafka-a,role=destination',
    '--zookeeper-ensemble',
    ensemble,
    '--destination-agents',
    'cluster=kafka-a,role=destination',
    '--throttle',
    '20MB/s',
    '-o',
    planFile,
  ]);
  assert.equal(migrate.code, 0, migrate.output);
  const applied = await fleet.drover(['apply', planFile, '--yes', '--json'], { timeoutMs: 900_000 });
  assert.equal(applied.code, 0, applied.output);
  const run = JSON.parse(applied.stdout) as PlanRun;
  assert.equal(run.state, 'succeeded', run.message);
  const phase = (name: string) => run.phases.find((p) => p.name === name);
  assert.ok(
    (phase('observers')?.finishedAt ?? Infinity) <= (phase('brokers')?.startedAt ?? 0),
    'the observers were verified in sync before any destination broker started',
  );
  assert.equal(phase('observers')?.steps.find((s) => s.kind === 'gate')?.state, 'succeeded');

  await workload.stop();
  const check = await workload.verify();
  process.stdout.write(`# seven steps: ${JSON.stringify(check)}\n`);
  assert.equal(check.lost, 0);
  assert.equal(check.reordered, 0);

  const admin = new KafkaAdmin({ bootstrap: [`127.0.0.101:${kafkaPort}`] });
  try {
    for (const p of await admin.readAssignment()) {
      assert.ok(
        p.replicas.every((r) => r > 100),
        `${p.topic}/${p.partition} on [${p.replicas}]`,
      );
      assert.equal(p.leader, p.replicas[0]);
    }
    assert.deepEqual(await admin.describeThrottles(), []);
    const brokers = (await admin.describeCluster()).brokers.filter((b) => b.id > 100);
    assert.deepEqual(
      brokers.map((b) => `${b.id}@${b.host}:${b.port}`),
      [101, 102, 103].map((id) => `${id}@127.0.0.${id}:${kafkaPort}`),
      'destination brokers advertise what the profile rendered',
    );
  } finally {
    await admin.close();
  }
  const rendered = fs.readFileSync(path.join(fleet.dir, 'node-102', 'kafka', 'server.properties'), 'utf8');
  assert.match(rendered, new RegExp(`^zookeeper.connect=${nodes.observers.join(',')}/kafka-a$`, 'm'));
  assert.match(rendered, /^broker.rack=b$/m);
});
