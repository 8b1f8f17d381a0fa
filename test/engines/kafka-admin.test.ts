// The agent's Kafka client (agent/src/clients/kafka) against real brokers. ZooKeeper mode (3.9), one
// cluster for the file: 3 brokers holding `orders` and `__consumer_offsets`, 3 brokers added; a full
// expand → leaders → shrink → clean-up of `orders` with throttles; a throttled move cancelled in
// flight; ElectLeaders v0, v1 and v2 each against the broker (DROVER_RECORD_FIXTURES=1 records their
// bytes for the codec's unit tests); refusals and a stopped broker. KRaft (4.1): reorder + elect.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConfigOp } from '@drover/shared';
import {
  type Admin,
  Connection,
  Consumer,
  createAPI,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import {
  ConfigKeyNotAllowedError,
  KafkaAdmin,
  KafkaUnreachableError,
  NoReassignmentInProgressError,
  type PartitionState,
  type ThrottleSetting,
  UnknownTopicOrPartitionError,
} from '../../agent/src/clients/kafka/index.ts';
import {
  ELECT_LEADERS_CODECS,
  ELECTION_TYPES,
  type ElectLeadersRequest,
  type ElectLeadersResponse,
} from '../../agent/src/clients/kafka-protocol/index.ts';
import { type KafkaCluster, startKafka } from '../harness/kafka.ts';
import { consume, produce } from '../harness/kafka-clients.ts';
import { waitFor } from '../harness/process.ts';

const FIXTURES = path.join(import.meta.dirname, '../../agent/test/clients/kafka-protocol/elect-leaders/fixtures');
const RATE = String(50 * 1024 * 1024);

function sorted(ids: number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}

function dedupe(ids: number[]): number[] {
  return [...new Set(ids)];
}

async function partitionsOf(client: KafkaAdmin, topic: string): Promise<PartitionState[]> {
  return (await client.readAssignment()).filter((p) => p.topic === topic);
}

/** Waits until no move of `topic` is in flight and each partition has exactly `target[p]`, all in sync. */
async function waitMoved(client: KafkaAdmin, topic: string, target: Map<number, number[]>, timeoutMs = 120_000) {
  return waitFor(
    async () => {
      if ((await client.listReassignments()).some((r) => r.topic === topic)) return undefined;
      const states = await partitionsOf(client, topic);
      const done = states.every((s) => {
        const want = target.get(s.partition);
        return (
          want === undefined || (s.replicas.join() === want.join() && sorted(s.isr).join() === sorted(want).join())
        );
      });
      return done ? states : undefined;
    },
    { what: `${topic} to reach ${JSON.stringify([...target])} with full ISR`, timeoutMs, intervalMs: 500 },
  );
}

/**
 * Waits until Metadata shows each partition of `leaders` led by its broker: the controller answers
 * ElectLeaders once elected, and the brokers' metadata caches learn it a moment later.
 */
async function waitLeaders(client: KafkaAdmin, topic: string, leaders: Map<number, number>): Promise<void> {
  await waitFor(
    async () => (await partitionsOf(client, topic)).every((p) => (leaders.get(p.partition) ?? p.leader) === p.leader),
    { what: `${topic} led by ${JSON.stringify([...leaders])}`, timeoutMs: 30_000, intervalMs: 100 },
  );
}

/**
 * describeThrottles until `check` holds. ZooKeeper mode applies a broker's dynamic config through a
 * ZooKeeper notification, so the broker reports a change it was sent a moment later.
 */
async function waitThrottles(client: KafkaAdmin, what: string, check: (settings: ThrottleSetting[]) => boolean) {
  return waitFor(
    async () => {
      const settings = await client.describeThrottles();
      return check(settings) ? settings : undefined;
    },
    { what, timeoutMs: 30_000, intervalMs: 250 },
  );
}

async function createTopic(admin: Admin, topic: string, assignments: number[][]): Promise<void> {
  await admin.createTopics({
    topics: [topic],
    assignments: assignments.map((brokers, partition) => ({ partition, brokers })),
  });
}

interface RecordedBytes {
  request?: Buffer;
  response?: Buffer;
}

/** ElectLeaders of `version` through Drover's codec, keeping the request and response bodies sent and received. */
function recordingApi(version: number) {
  const codec = ELECT_LEADERS_CODECS[version]!;
  const bytes: RecordedBytes = {};
  const api = createAPI<[ElectLeadersRequest], ElectLeadersResponse>(
    43,
    version,
    (request: ElectLeadersRequest) => {
      const writer = codec.encode(request);
      bytes.request = Buffer.from(writer.buffer);
      return writer;
    },
    (_correlationId, _apiKey, _apiVersion, reader) => {
      bytes.response = Buffer.from(reader.buffer.slice(reader.position));
      return codec.decode(reader);
    },
    codec.flexible,
    codec.flexible,
  );
  return { api, bytes };
}

describe('KafkaAdmin against Kafka 3.9 (ZooKeeper mode), 3 + 3 brokers', { timeout: 600_000 }, () => {
  let kafka: KafkaCluster;
  let client: KafkaAdmin;
  let admin: Admin;
  let bootstrap: string[];

  before(async () => {
    const started = Date.now();
    kafka = await startKafka({
      mode: 'zookeeper',
      brokers: [
        { id: 1, rack: 'rack-a' },
        { id: 2, rack: 'rack-b' },
        { id: 3, rack: 'rack-c' },
      ],
    });
    bootstrap = kafka.bootstrap;
    admin = kafka.admin();
    await createTopic(admin, 'orders', [
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2],
    ]);
    await createTopic(admin, 'big', [[1]]);
    await createTopic(admin, 'elect', [
      [1, 2],
      [2, 3],
      [3, 1],
    ]);
    await produce(bootstrap, 'orders', 30);
    await produce(bootstrap, 'big', 800, 10_000);
    assert.equal((await consume(bootstrap, 'orders', 30, 'drover-before')).length, 30);
    await kafka.addBrokers([
      { id: 4, rack: 'rack-a' },
      { id: 5, rack: 'rack-b' },
      { id: 6, rack: 'rack-c' },
    ]);
    client = new KafkaAdmin({ bootstrap: [kafka.brokers[0]!.address] });
    console.error(`# ZooKeeper-mode cluster of 6 brokers ready in ${Date.now() - started} ms`);
  });

  after(async () => {
    await client?.close();
    await admin?.close();
    await kafka?.stop();
  });

  test('describeCluster: six brokers with their racks, the controller, the cluster id', async () => {
    const cluster = await client.describeCluster();
    assert.deepEqual(
      cluster.brokers.map((b) => [b.id, b.rack]),
      [
        [1, 'rack-a'],
        [2, 'rack-b'],
        [3, 'rack-c'],
        [4, 'rack-a'],
        [5, 'rack-b'],
        [6, 'rack-c'],
      ],
    );
    assert.equal(cluster.clusterId, kafka.clusterId);
    assert.ok([1, 2, 3, 4, 5, 6].includes(cluster.controllerId));
    const broker = kafka.brokers.find((b) => b.id === 4)!;
    assert.deepEqual(cluster.brokers[3], { id: 4, host: broker.host, port: broker.port, rack: 'rack-a' });
  });

  test('readAssignment: every partition, internal topics included', async () => {
    const assignment = await client.readAssignment();
    const offsets = assignment.filter((p) => p.topic === '__consumer_offsets');
    assert.equal(offsets.length, 10, 'offsets.topic.num.partitions = 10');
    assert.ok(offsets.every((p) => p.internal && p.replicas.length === 3 && p.leader === p.replicas[0]));
    assert.deepEqual(
      assignment.filter((p) => p.topic === 'orders').map((p) => [p.partition, p.replicas, sorted(p.isr), p.leader]),
      [
        [0, [1, 2, 3], [1, 2, 3], 1],
        [1, [2, 3, 1], [1, 2, 3], 2],
        [2, [3, 1, 2], [1, 2, 3], 3],
      ],
    );
    assert.ok(assignment.every((p) => p.error === null && p.offlineReplicas.length === 0));
    assert.ok(!assignment.some((p) => p.topic === 'orders' && p.internal));
    // What @platformatic/kafka's own admin.metadata() returns: internal topics missing.
    const theirs = await admin.metadata({ topics: [], forceUpdate: true });
    assert.ok(!theirs.topics.has('__consumer_offsets'));
  });

  test('expand with throttles, reorder, elect preferred, shrink, clean-up', async () => {
    const started = Date.now();
    const source = new Map((await partitionsOf(client, 'orders')).map((p) => [p.partition, p.replicas]));
    const destination = new Map([...source].map(([p, s]) => [p, s.map((b) => b + 3)]));
    const brokers = [1, 2, 3, 4, 5, 6];

    // Expand throttles, one APPEND per partition and key: the same key of topic:orders three times,
    // so three runs (Kafka refuses two ops on one key of a resource in one request).
    const expandOps: ConfigOp[] = [];
    for (const [p, s] of source) {
      expandOps.push(
        {
          resource: 'topic:orders',
          op: 'APPEND',
          key: 'leader.replication.throttled.replicas',
          value: s.map((b) => `${p}:${b}`).join(','),
        },
        {
          resource: 'topic:orders',
          op: 'APPEND',
          key: 'follower.replication.throttled.replicas',
          value: destination
            .get(p)!
            .map((b) => `${p}:${b}`)
            .join(','),
        },
      );
    }
    for (const b of brokers) {
      expandOps.push(
        { resource: `broker:${b}`, op: 'SET', key: 'leader.replication.throttled.rate', value: RATE },
        { resource: `broker:${b}`, op: 'SET', key: 'follower.replication.throttled.rate', value: RATE },
      );
    }
    const applied = await client.incrementalAlterConfigs(expandOps);
    assert.deepEqual({ ops: applied.ops, runs: applied.runs }, { ops: 18, runs: 3 });
    const throttles = await waitThrottles(client, 'the expand throttles', (t) => t.length === 14);
    const leaderList = throttles.find((t) => t.resource === 'topic:orders' && t.key.startsWith('leader.'));
    assert.deepEqual(leaderList?.value.split(',').sort(), [
      '0:1',
      '0:2',
      '0:3',
      '1:1',
      '1:2',
      '1:3',
      '2:1',
      '2:2',
      '2:3',
    ]);
    assert.equal(leaderList?.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.deepEqual(
      throttles.filter((t) => t.resource.startsWith('broker:')).map((t) => `${t.resource} ${t.key} ${t.source}`),
      brokers.flatMap((b) => [
        `broker:${b} follower.replication.throttled.rate DYNAMIC_BROKER_CONFIG`,
        `broker:${b} leader.replication.throttled.rate DYNAMIC_BROKER_CONFIG`,
      ]),
    );

    // (a) expand: sources first, so leaders do not move.
    const expanded = new Map([...source].map(([p, s]) => [p, dedupe([...s, ...destination.get(p)!])]));
    const expandOutcomes = await client.alterReassignments(
      [...expanded].map(([partition, replicas]) => ({ topic: 'orders', partition, replicas })),
    );
    assert.deepEqual(
      expandOutcomes.map((o) => o.error),
      [null, null, null],
    );
    await waitMoved(client, 'orders', expanded);
    const sizes = await client.describeLogDirs({ topics: ['orders'] });
    for (const b of [4, 5, 6]) {
      assert.equal(sizes.filter((s) => s.broker === b && s.topic === 'orders').length, 3, `broker ${b} has 3 replicas`);
    }
    assert.ok(sizes.some((s) => s.sizeBytes > 0));

    // (b) leaders: reorder (completes at once, leader unchanged), then elect the preferred replica.
    const reordered = new Map([...source].map(([p, s]) => [p, dedupe([...destination.get(p)!, ...s])]));
    const reorderOutcomes = await client.alterReassignments(
      [...reordered].map(([partition, replicas]) => ({ topic: 'orders', partition, replicas })),
    );
    assert.ok(reorderOutcomes.every((o) => o.error === null));
    const beforeElection = await waitMoved(client, 'orders', reordered);
    assert.ok(
      beforeElection.every((p) => source.get(p.partition)!.includes(p.leader)),
      'leaders still on sources',
    );
    const elections = [0, 1, 2].map((partition) => ({ topic: 'orders', partition }));
    const elected = await client.electPreferred(elections);
    assert.deepEqual(
      elected.map((r) => [r.partition, r.electionNeeded, r.error]),
      [
        [0, true, null],
        [1, true, null],
        [2, true, null],
      ],
    );
    await waitLeaders(client, 'orders', new Map([...destination].map(([p, d]) => [p, d[0]!])));
    const again = await client.electPreferred(elections);
    assert.deepEqual(
      again.map((r) => [r.electionNeeded, r.error]),
      [
        [false, null],
        [false, null],
        [false, null],
      ],
      'ELECTION_NOT_NEEDED is success',
    );

    // (c) shrink to the destinations.
    const shrinkOutcomes = await client.alterReassignments(
      [...destination].map(([partition, replicas]) => ({ topic: 'orders', partition, replicas })),
    );
    assert.ok(shrinkOutcomes.every((o) => o.error === null));
    await waitMoved(client, 'orders', destination);

    // (d) clean-up: every throttle key deleted; none left anywhere.
    const cleanup: ConfigOp[] = [
      { resource: 'topic:orders', op: 'DELETE', key: 'leader.replication.throttled.replicas', value: null },
      { resource: 'topic:orders', op: 'DELETE', key: 'follower.replication.throttled.replicas', value: null },
      ...brokers.flatMap((b): ConfigOp[] => [
        { resource: `broker:${b}`, op: 'DELETE', key: 'leader.replication.throttled.rate', value: null },
        { resource: `broker:${b}`, op: 'DELETE', key: 'follower.replication.throttled.rate', value: null },
      ]),
    ];
    assert.deepEqual(await client.incrementalAlterConfigs(cleanup), { ops: 14, runs: 1, requests: 7 });
    await waitThrottles(client, 'no throttle left', (t) => t.length === 0);

    const values = await consume(bootstrap, 'orders', 30, 'drover-after');
    assert.equal(values.length, 30, 'every record is still there after the move');
    console.error(`# expand/leaders/shrink/clean-up took ${Date.now() - started} ms`);
  });

  test('cancelReassignments stops a throttled move in flight and restores the assignment', async () => {
    const ops: ConfigOp[] = [
      { resource: 'topic:big', op: 'SET', key: 'leader.replication.throttled.replicas', value: '0:1' },
      { resource: 'topic:big', op: 'SET', key: 'follower.replication.throttled.replicas', value: '0:4' },
      { resource: 'broker:1', op: 'SET', key: 'leader.replication.throttled.rate', value: '1000' },
      { resource: 'broker:4', op: 'SET', key: 'follower.replication.throttled.rate', value: '1000' },
    ];
    await client.incrementalAlterConfigs(ops);
    await waitThrottles(client, 'the throttles of big-0', (t) => t.length === 4);
    const [outcome] = await client.alterReassignments([{ topic: 'big', partition: 0, replicas: [4] }]);
    assert.equal(outcome?.error, null);
    const inFlight = await client.listReassignments();
    assert.deepEqual(inFlight, [{ topic: 'big', partition: 0, replicas: [4, 1], adding: [4], removing: [1] }]);

    const [cancelled] = await client.cancelReassignments([{ topic: 'big', partition: 0 }]);
    assert.equal(cancelled?.error, null);
    await waitMoved(client, 'big', new Map([[0, [1]]]), 60_000);
    const [again] = await client.cancelReassignments([{ topic: 'big', partition: 0 }]);
    assert.ok(again?.error instanceof NoReassignmentInProgressError, String(again?.error));
    assert.equal(again.error.retryable, false);

    await client.incrementalAlterConfigs(ops.map((o) => ({ ...o, op: 'DELETE', value: null })));
    await waitThrottles(client, 'no throttle left', (t) => t.length === 0);
  });

  test('refusals before any request: a non-throttle key, a bad reassignment', async () => {
    // Against a client whose broker cannot be reached: a refusal proves nothing was sent.
    const nowhere = new KafkaAdmin({ bootstrap: ['127.0.0.1:1'], connectTimeoutMs: 500 });
    try {
      await assert.rejects(
        nowhere.incrementalAlterConfigs([
          { resource: 'topic:orders', op: 'SET', key: 'leader.replication.throttled.replicas', value: '0:1' },
          { resource: 'topic:orders', op: 'SET', key: 'retention.ms', value: '1' } as unknown as ConfigOp,
        ]),
        (error: unknown) => {
          assert.ok(error instanceof ConfigKeyNotAllowedError, String(error));
          assert.deepEqual(error.refused, [{ index: 1, resource: 'topic:orders', key: 'retention.ms' }]);
          return true;
        },
      );
      await assert.rejects(
        nowhere.incrementalAlterConfigs([
          { resource: 'broker:1', op: 'SET', key: 'leader.replication.throttled.replicas', value: '0:1' },
        ]),
        { name: 'InvalidInputError' },
      );
      await assert.rejects(
        nowhere.alterReassignments([{ topic: 'orders', partition: 0, replicas: [4, 4] }]),
        /replicas without duplicates/,
      );
    } finally {
      await nowhere.close();
    }
    // Against the cluster: Kafka's own refusals come back per partition, typed.
    const outcomes = await client.alterReassignments([
      { topic: 'orders', partition: 0, replicas: [4, 99] },
      { topic: 'orders', partition: 7, replicas: [4, 5, 6] },
    ]);
    assert.equal(outcomes[0]?.error?.name, 'InvalidReplicaAssignmentError');
    assert.ok(outcomes[1]?.error instanceof UnknownTopicOrPartitionError, String(outcomes[1]?.error));
  });

  test('ElectLeaders v0, v1 and v2 codecs against the broker', async () => {
    // Each version: elect partition v of `elect` (reordered so an election is needed), partition
    // (v+1)%3 (already led by its preferred replica) and partition 9 (does not exist). Then v2 sent to
    // a broker that is not the controller. DROVER_RECORD_FIXTURES=1 writes the bytes as fixtures;
    // otherwise the request bytes are compared with them.
    const record = process.env.DROVER_RECORD_FIXTURES === '1';
    const recordedFrom = `Kafka ${kafka.version} (ZooKeeper mode), test/engines/kafka-admin.test.ts`;
    const keep = (name: string, request: ElectLeadersRequest, bytes: RecordedBytes) => {
      const file = (kind: string) => path.join(FIXTURES, `${name}_${kind}.json`);
      if (record) {
        fs.mkdirSync(FIXTURES, { recursive: true });
        const requestJson = { recordedFrom, request, hex: bytes.request!.toString('hex') };
        fs.writeFileSync(file('request'), `${JSON.stringify(requestJson, null, 2)}\n`);
        const responseJson = { recordedFrom, hex: bytes.response!.toString('hex') };
        fs.writeFileSync(file('response'), `${JSON.stringify(responseJson, null, 2)}\n`);
      } else if (fs.existsSync(file('request'))) {
        const fixture = JSON.parse(fs.readFileSync(file('request'), 'utf8')) as { hex: string };
        assert.equal(bytes.request!.toString('hex'), fixture.hex, `${name} request bytes = fixture`);
      }
    };
    const cluster = await client.describeCluster();
    const connect = async (broker: { host: string; port: number }) => {
      const connection = new Connection('drover-fixtures');
      await connection.connect(broker.host, broker.port);
      return connection;
    };
    const controller = await connect(cluster.brokers.find((b) => b.id === cluster.controllerId)!);
    const follower = await connect(cluster.brokers.find((b) => b.id !== cluster.controllerId)!);
    try {
      const initial = await partitionsOf(client, 'elect');
      for (const version of [0, 1, 2]) {
        const replicas = [...initial[version]!.replicas].reverse();
        await client.alterReassignments([{ topic: 'elect', partition: version, replicas }]);
        await waitMoved(client, 'elect', new Map([[version, replicas]]));
        const request: ElectLeadersRequest = {
          electionType: ELECTION_TYPES.PREFERRED,
          topicPartitions: [{ topic: 'elect', partitions: [version, (version + 1) % 3, 9] }],
          timeoutMs: 30_000,
        };
        const { api, bytes } = recordingApi(version);
        const results = ELECT_LEADERS_CODECS[version]!.parse(await api.async(controller, request));
        const byPartition = new Map(results.map((r) => [r.partition, r]));
        assert.equal(byPartition.get(version)?.electionNeeded, true, `v${version}: partition ${version} elected`);
        assert.equal(byPartition.get(version)?.error, null);
        assert.deepEqual(
          [byPartition.get((version + 1) % 3)?.electionNeeded, byPartition.get((version + 1) % 3)?.error],
          [false, null],
        );
        assert.ok(byPartition.get(9)?.error instanceof UnknownTopicOrPartitionError);
        await waitLeaders(client, 'elect', new Map([[version, replicas[0]!]]));
        keep(`v${version}`, request, bytes);
      }

      const request: ElectLeadersRequest = {
        electionType: ELECTION_TYPES.PREFERRED,
        topicPartitions: [{ topic: 'elect', partitions: [0, 1] }],
        timeoutMs: 30_000,
      };
      const { api, bytes } = recordingApi(2);
      const results = ELECT_LEADERS_CODECS[2]!.parse(await api.async(follower, request));
      assert.deepEqual(
        results.map((r) => [r.partition, r.error?.name]),
        [
          [0, 'NotControllerError'],
          [1, 'NotControllerError'],
        ],
      );
      keep('v2_not_controller', request, bytes);
    } finally {
      await controller.close();
      await follower.close();
    }
  });

  test('a stopped broker: a clear error naming its address', async () => {
    const broker = kafka.brokers.find((b) => b.id === 3)!;
    await kafka.stop(3);
    const stopped = new KafkaAdmin({ bootstrap: [broker.address], connectTimeoutMs: 2_000 });
    try {
      await assert.rejects(stopped.describeCluster(), (error: unknown) => {
        assert.ok(error instanceof KafkaUnreachableError, String(error));
        assert.deepEqual(error.addresses, [broker.address]);
        assert.ok(error.message.includes(`bootstrap ${broker.address}`), error.message);
        assert.equal(error.retryable, true);
        return true;
      });
    } finally {
      await stopped.close();
    }
    // A client of a live broker still reads the whole cluster, broker 3 out of every ISR.
    const offsets = await waitFor(
      async () => {
        const states = (await client.readAssignment()).filter((p) => p.topic === '__consumer_offsets');
        return states.every((p) => !p.isr.includes(3)) ? states : undefined;
      },
      { what: 'broker 3 out of every ISR', timeoutMs: 60_000, intervalMs: 1000 },
    );
    assert.equal(offsets.length, 10);
  });
});

describe('KafkaAdmin against Kafka 4.1 (KRaft), 3 nodes', { timeout: 300_000 }, () => {
  let kafka: KafkaCluster;
  let client: KafkaAdmin;

  before(async () => {
    kafka = await startKafka({
      mode: 'kraft',
      brokers: [
        { id: 1, rack: 'rack-a' },
        { id: 2, rack: 'rack-b' },
        { id: 3, rack: 'rack-c' },
      ],
    });
    const admin = kafka.admin();
    try {
      await createTopic(admin, 'orders', [
        [1, 2, 3],
        [2, 3, 1],
        [3, 1, 2],
      ]);
    } finally {
      await admin.close();
    }
    client = new KafkaAdmin({ bootstrap: [kafka.brokers[0]!.address] });
  });

  after(async () => {
    await client?.close();
    await kafka?.stop();
  });

  test('reorder, electPreferred makes the new first replica leader, then ELECTION_NOT_NEEDED', async () => {
    const cluster = await client.describeCluster();
    assert.equal(cluster.clusterId, kafka.clusterId);
    const target = new Map([
      [0, [2, 3, 1]],
      [1, [3, 1, 2]],
      [2, [1, 2, 3]],
    ]);
    await waitFor(async () => (await partitionsOf(client, 'orders')).every((p) => p.isr.length === 3), {
      what: 'orders with 3 in-sync replicas per partition',
      timeoutMs: 60_000,
    });
    const outcomes = await client.alterReassignments(
      [...target].map(([partition, replicas]) => ({ topic: 'orders', partition, replicas })),
    );
    assert.ok(outcomes.every((o) => o.error === null));
    await waitMoved(client, 'orders', target);
    const elections = [0, 1, 2].map((partition) => ({ topic: 'orders', partition }));
    const elected = await client.electPreferred(elections);
    assert.deepEqual(
      elected.map((r) => [r.partition, r.electionNeeded, r.error]),
      [
        [0, true, null],
        [1, true, null],
        [2, true, null],
      ],
    );
    await waitLeaders(client, 'orders', new Map([...target].map(([p, r]) => [p, r[0]!])));
    const again = await client.electPreferred(elections);
    assert.ok(again.every((r) => !r.electionNeeded && r.error === null));
    assert.deepEqual(await client.listReassignments(), []);
    assert.deepEqual(await client.describeThrottles(), []);
  });
});
