// Kafka really works here. ZooKeeper mode (3.9): 3 brokers on 3 racks, a topic with RF 3, produce and
// consume through @platformatic/kafka, 3 more brokers added to the running cluster, and one partition
// moved onto them with AlterPartitionReassignments until its ISR is the new replicas. KRaft (4.x):
// 3 combined nodes; create, produce, consume.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Admin,
  alterPartitionReassignmentsV0,
  Connection,
  Consumer,
  listPartitionReassignmentsV0,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { startKafka } from '../harness/kafka.ts';
import { consume, produce } from '../harness/kafka-clients.ts';
import { waitFor } from '../harness/process.ts';

const TOPIC = 'orders';
const MESSAGES = 20;

async function partitionState(admin: Admin, topic: string, partition: number) {
  const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
  const state = metadata.topics.get(topic)?.partitions[partition];
  assert.ok(state, `metadata has ${topic}-${partition}`);
  return state;
}

function sorted(ids: number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}

test('Kafka ZooKeeper mode: 3 racks, RF 3, produce/consume, add 3 brokers, reassign a partition onto them', {
  timeout: 420_000,
}, async (t) => {
  const kafka = await startKafka({
    mode: 'zookeeper',
    brokers: [
      { id: 1, rack: 'rack-a' },
      { id: 2, rack: 'rack-b' },
      { id: 3, rack: 'rack-c' },
    ],
    chroot: '/kafka-source',
  });
  t.after(() => kafka.stop());
  t.diagnostic(`kafka ${kafka.version} (ZooKeeper ${kafka.zookeeperConnect}) started in ${kafka.startupMs} ms`);
  const admin = kafka.admin();
  t.after(() => admin.close());

  await admin.createTopics({ topics: [TOPIC], partitions: 3, replicas: 3 });
  for (const p of [0, 1, 2]) {
    await waitFor(async () => (await partitionState(admin, TOPIC, p)).isr.length === 3, {
      what: `${TOPIC}-${p} to have 3 in-sync replicas`,
      timeoutMs: 30_000,
    });
  }
  const racks = new Map([...(await admin.metadata({ topics: [] })).brokers].map(([id, b]) => [id, b.rack]));
  assert.deepEqual(sorted([...racks.keys()]), [1, 2, 3]);
  assert.equal(new Set(racks.values()).size, 3, 'three distinct racks');

  await produce(kafka.bootstrap, TOPIC, MESSAGES);
  const first = await consume(kafka.bootstrap, TOPIC, MESSAGES, 'drover-test-1');
  assert.deepEqual(sorted(first.map((v) => Number(v.slice(1)))), [...Array(MESSAGES).keys()]);

  const startAdd = Date.now();
  const added = await kafka.addBrokers([
    { id: 4, rack: 'rack-a' },
    { id: 5, rack: 'rack-b' },
    { id: 6, rack: 'rack-c' },
  ]);
  t.diagnostic(`3 brokers added in ${Date.now() - startAdd} ms`);
  assert.deepEqual(
    added.map((b) => b.id),
    [4, 5, 6],
  );
  const metadata = await admin.metadata({ topics: [], forceUpdate: true });
  assert.deepEqual(sorted([...metadata.brokers.keys()]), [1, 2, 3, 4, 5, 6]);

  // AlterPartitionReassignments goes to the controller (ZooKeeper mode does not forward it).
  const controller = kafka.brokers.find((b) => b.id === metadata.controllerId);
  assert.ok(controller, `controller ${metadata.controllerId} is one of our brokers`);
  const connection = new Connection('drover-test-reassign');
  await connection.connect(controller.host, controller.port);
  t.after(() => connection.close());
  const target = [4, 5, 6];
  const response = await alterPartitionReassignmentsV0.api.async(connection, 30_000, false, [
    { name: TOPIC, partitions: [{ partitionIndex: 0, replicas: target }] },
  ]);
  assert.equal(response.errorCode, 0);
  assert.equal(response.responses[0]?.partitions[0]?.errorCode, 0);

  const moved = await waitFor(
    async () => {
      const inFlight = await listPartitionReassignmentsV0.api.async(connection, 30_000, null);
      if (inFlight.topics.length > 0) return undefined;
      const state = await partitionState(admin, TOPIC, 0);
      return sorted(state.replicas).join() === '4,5,6' && sorted(state.isr).join() === '4,5,6' ? state : undefined;
    },
    { what: `${TOPIC}-0 to move to brokers 4,5,6 with all three in sync`, timeoutMs: 90_000, intervalMs: 1000 },
  );
  assert.deepEqual(moved.replicas, target);
  assert.ok(target.includes(moved.leader), `leader ${moved.leader} is a new replica`);

  // The moved partition still serves every record it had.
  const again = await consume(kafka.bootstrap, TOPIC, MESSAGES, 'drover-test-2');
  assert.equal(again.length, MESSAGES);
  for (const b of kafka.brokers) {
    t.diagnostic(`kafka-${b.id} peak RSS ${Math.round((b.process.peakRssBytes() ?? 0) / 2 ** 20)} MiB`);
  }
});

test('Kafka KRaft: 3 combined nodes; create, produce, consume', { timeout: 300_000 }, async (t) => {
  const kafka = await startKafka({
    mode: 'kraft',
    brokers: [
      { id: 1, rack: 'rack-a' },
      { id: 2, rack: 'rack-b' },
      { id: 3, rack: 'rack-c' },
    ],
  });
  t.after(() => kafka.stop());
  t.diagnostic(`kafka ${kafka.version} KRaft cluster ${kafka.clusterId} started in ${kafka.startupMs} ms`);
  assert.ok(kafka.brokers.every((b) => b.roles === 'broker,controller' && b.controllerPort !== undefined));
  const admin = kafka.admin();
  t.after(() => admin.close());

  await admin.createTopics({ topics: [TOPIC], partitions: 3, replicas: 3 });
  for (const p of [0, 1, 2]) {
    await waitFor(async () => (await partitionState(admin, TOPIC, p)).isr.length === 3, {
      what: `${TOPIC}-${p} to have 3 in-sync replicas`,
      timeoutMs: 30_000,
    });
  }
  await produce(kafka.bootstrap, TOPIC, MESSAGES);
  const values = await consume(kafka.bootstrap, TOPIC, MESSAGES, 'drover-test-kraft');
  assert.deepEqual(sorted(values.map((v) => Number(v.slice(1)))), [...Array(MESSAGES).keys()]);
  for (const b of kafka.brokers) {
    t.diagnostic(`kafka-${b.id} peak RSS ${Math.round((b.process.peakRssBytes() ?? 0) / 2 ** 20)} MiB`);
  }
});
