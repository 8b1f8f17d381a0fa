// The same migration steps on a KRaft cluster (Kafka 4.1): 3 combined broker+controller nodes as the
// source, 3 broker-only nodes added as the destination, one Drover agent per broker, a producer and
// a consumer group running; `drover kafka migrate` + `drover apply` move every partition (internal
// topics included) with the expand, leaders and shrink phases; nothing lost or reordered.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PlanRun } from '@drover/coordinator';
import { KafkaAdmin } from '../../agent/src/clients/kafka/index.ts';
import { createFleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { startBrokerAgents } from '../fleet/kafka-agents.ts';
import { KafkaWorkload } from '../fleet/kafka-workload.ts';
import { startKafka } from '../harness/kafka.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';

test('KRaft 4.1: the three reassignment phases through the same steps, 0 lost, 0 reordered', async () => {
  const nats = await startNats({ servers: 1, secure: true });
  const fleet = createFleet(makeTempDir('kafka-kraft'), nats.urls, nats.security);
  await (await connect(fleet)).close();
  const kafka = await startKafka({
    mode: 'kraft',
    brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
    config: { 'offsets.topic.replication.factor': 3, 'offsets.topic.num.partitions': 3 },
  });
  const setup = kafka.admin('drover-e2e-setup');
  await setup.createTopics({ topics: ['events'], partitions: 6, replicas: 3 });
  await setup.close();
  await kafka.addBrokers([{ id: 101 }, { id: 102 }, { id: 103 }]);
  await startBrokerAgents(fleet, kafka, { cluster: 'kraft' });
  const workload = new KafkaWorkload({ bootstrap: kafka.bootstrap, topic: 'events', groupId: 'kraft-readers' });
  workload.start();
  await waitFor(() => workload.counts.acknowledged >= 300 && workload.counts.consumed > 0, {
    timeoutMs: 60_000,
    what: 'workload',
  });

  const file = join(fleet.dir, 'kraft.plan.yaml');
  const migrate = await fleet.drover([
    'kafka',
    'migrate',
    '--cluster',
    'kraft',
    '--delegate',
    'kraft-101',
    '--map',
    '1=101,2=102,3=103',
    '--throttle',
    '20MB/s',
    '-o',
    file,
  ]);
  assert.equal(migrate.code, 0, migrate.output);
  const applied = await fleet.drover(['apply', file, '--yes', '--json'], { timeoutMs: 600_000 });
  assert.equal(applied.code, 0, applied.output);
  assert.equal((JSON.parse(applied.stdout) as PlanRun).state, 'succeeded');
  await workload.stop();
  const check = await workload.verify();
  assert.equal(check.lost, 0);
  assert.equal(check.reordered, 0);

  const admin = new KafkaAdmin({ bootstrap: [kafka.brokers.find((b) => b.id === 101)?.address ?? ''] });
  try {
    const partitions = await admin.readAssignment();
    assert.ok(partitions.some((p) => p.topic === '__consumer_offsets'));
    for (const p of partitions) {
      assert.ok(
        p.replicas.every((r) => r > 100),
        `${p.topic}/${p.partition} on [${p.replicas}]`,
      );
      assert.equal(p.leader, p.replicas[0]);
    }
    assert.deepEqual(await admin.describeThrottles(), []);
  } finally {
    await admin.close();
  }
});
