// The simulated data plane against hand calculations: a flow of B bytes through a throttle T takes
// B/T; flows sharing a resource split it; growth slows a copy and a throttle below it stalls; the
// Kafka, Cassandra and ZooKeeper models charge exactly their documented costs plus bytes/rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  NodeDownError,
  rangeFraction,
  resolveSimCosts,
  ScaledClock,
  SimCassandraCluster,
  SimKafkaCluster,
  Simulation,
  SimZooKeeper,
  StalledFlowError,
  StillRebuildingError,
} from '../../src/index.ts';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= Math.max(1e-6, expected * 1e-9), `${what}: ${actual} vs ${expected}`);

test('one flow of B bytes through a throttle T takes B/T', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 1e12 }), fc.integer({ min: 1, max: 1e9 }), async (bytes, rate) => {
      const sim = new Simulation();
      const throttle = sim.resource('t', rate);
      await sim.run(() => sim.transfer({ label: 'p', bytes, resources: [throttle] }));
      close(sim.now, (bytes / rate) * 1000, 'ms');
    }),
    { numRuns: 50 },
  );
});

test('n flows sharing one cap each finish at n·B/T; flows on separate caps do not slow each other', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1e6, max: 1e10 }), async (n, bytes) => {
      const rate = 50e6;
      const shared = new Simulation();
      const cap = shared.resource('broker', rate);
      const ends: number[] = [];
      await shared.run(() =>
        Promise.all(
          Array.from({ length: n }, (_, i) =>
            shared.transfer({ label: `p${i}`, bytes, resources: [cap] }).then(() => ends.push(shared.now)),
          ),
        ),
      );
      for (const end of ends) close(end, ((n * bytes) / rate) * 1000, 'shared end');
      const apart = new Simulation();
      await apart.run(() =>
        Promise.all(
          Array.from({ length: n }, (_, i) =>
            apart.transfer({ label: `p${i}`, bytes, resources: [apart.resource(`b${i}`, rate)] }),
          ),
        ),
      );
      close(apart.now, (bytes / rate) * 1000, 'separate end');
    }),
    { numRuns: 30 },
  );
});

test('max-min fairness: a flow held back elsewhere leaves its share to the others', async () => {
  // Flows A and B share link L (100 B/s); B also crosses S (20 B/s). B gets 20, A gets 80.
  const sim = new Simulation();
  const link = sim.resource('L', 100);
  const slow = sim.resource('S', 20);
  let aEnd = 0;
  let bEnd = 0;
  await sim.run(() =>
    Promise.all([
      sim.transfer({ label: 'A', bytes: 800, resources: [link] }).then(() => {
        aEnd = sim.now;
      }),
      sim.transfer({ label: 'B', bytes: 400, resources: [link, slow] }).then(() => {
        bEnd = sim.now;
      }),
    ]),
  );
  close(aEnd, 10_000, 'A'); // 800 / 80
  close(bEnd, 20_000, 'B'); // 400 / 20
  close(link.bytes, 1200, 'link bytes');
});

test('a copy gaining records finishes at B/(T - inbound); a throttle below the inbound rate stalls with a reason', async () => {
  const sim = new Simulation();
  await sim.run(() =>
    sim.transfer({ label: 'p', bytes: 1000, resources: [sim.resource('t', 60)], growthBytesPerSec: 10 }),
  );
  close(sim.now, 20_000, 'ms');
  const stuck = new Simulation();
  await assert.rejects(
    stuck.run(() =>
      stuck.transfer({
        label: 'orders/0 -> 104',
        bytes: 1000,
        resources: [stuck.resource('t', 5)],
        growthBytesPerSec: 10,
      }),
    ),
    (error: Error) => error instanceof StalledFlowError && /orders\/0 -> 104 never finishes/.test(error.message),
  );
});

test('a throttle raised mid-copy speeds the rest up', async () => {
  const sim = new Simulation();
  const throttle = sim.resource('t', 10);
  await sim.run(async () => {
    const copy = sim.transfer({ label: 'p', bytes: 1000, resources: [throttle] });
    await sim.sleep(50_000); // 500 bytes at 10 B/s
    sim.network.setCapacity(throttle, 50); // the other 500 at 50 B/s: 10 s
    await copy;
  });
  close(sim.now, 60_000, 'ms');
});

const costs = resolveSimCosts({ kafkaAdminMs: 50, isrJoinMs: 500, electionMs: 1000, replicaDeleteMs: 200 });

/** Brokers 1, 2 (old) and 101, 102 (new); two 1 GB partitions of `topic` on [1, 2] and [2, 1]. */
function twoPartitions(topic: string): { sim: Simulation; cluster: SimKafkaCluster } {
  const sim = new Simulation();
  const link = sim.resource('link', 1e12);
  const cluster = new SimKafkaCluster(sim, {
    name: 'k',
    brokers: [1, 2, 101, 102].map((id) => ({ id, region: 'r' })),
    partitions: [
      { topic, partition: 0, replicas: [1, 2], sizeBytes: 1e9, inboundBytesPerSec: 0 },
      { topic, partition: 1, replicas: [2, 1], sizeBytes: 1e9, inboundBytesPerSec: 0 },
    ],
    link: () => link,
    costs,
  });
  return { sim, cluster };
}

test('Kafka: expand, leaders, shrink of one partition cost exactly their hand calculation', async () => {
  const { sim, cluster } = twoPartitions('orders');
  const throttle = (ids: number[]) =>
    ids.flatMap((id) => [
      {
        resource: `broker:${id}`,
        op: 'SET' as const,
        key: 'leader.replication.throttled.rate' as const,
        value: '50000000',
      },
      {
        resource: `broker:${id}`,
        op: 'SET' as const,
        key: 'follower.replication.throttled.rate' as const,
        value: '50000000',
      },
    ]);
  await sim.run(async () => {
    await cluster.alterConfigs(throttle([1, 2, 101, 102]));
    const start = sim.now;
    await cluster.reassign([{ topic: 'orders', partition: 0, replicas: [1, 2, 101, 102] }]);
    // Leader 1 sends 1 GB to 101 and 1 GB to 102 through its one 50 MB/s throttle: 40 s.
    close(sim.now - start, 50 + 40_000 + 500, 'expand one partition, two new replicas');
    const both = sim.now;
    await cluster.reassign([{ topic: 'orders', partition: 1, replicas: [2, 1, 101] }]);
    close(sim.now - both, 50 + 20_000 + 500, 'expand: one new replica');
    assert.equal(cluster.verify({ fullIsr: true }).ok, true);
    await cluster.reassign([{ topic: 'orders', partition: 0, replicas: [101, 102, 1, 2] }]);
    assert.equal(await cluster.elect([{ topic: 'orders', partition: 0 }]), 1);
    assert.equal(cluster.partitions.get('orders/0')?.leader, 101);
    await cluster.reassign([{ topic: 'orders', partition: 0, replicas: [101, 102] }]);
    assert.deepEqual(cluster.partitions.get('orders/0')?.isr, [101, 102]);
  });
});

test('Kafka: two partitions led by one broker share its throttle and take twice as long', async () => {
  const sim = new Simulation();
  const link = sim.resource('link', 1e12);
  const cluster = new SimKafkaCluster(sim, {
    name: 'k',
    brokers: [1, 101, 102].map((id) => ({ id, region: 'r' })),
    partitions: [0, 1].map((partition) => ({
      topic: 't',
      partition,
      replicas: [1],
      sizeBytes: 5e8,
      inboundBytesPerSec: 0,
    })),
    link: () => link,
    costs,
  });
  await sim.run(async () => {
    await cluster.alterConfigs([
      { resource: 'broker:1', op: 'SET', key: 'leader.replication.throttled.rate', value: '10000000' },
    ]);
    const start = sim.now;
    await cluster.reassign([
      { topic: 't', partition: 0, replicas: [1, 101] },
      { topic: 't', partition: 1, replicas: [1, 102] },
    ]);
    close(sim.now - start, 50 + 100_000 + 500, 'two 500 MB copies through 10 MB/s');
  });
});

test('Cassandra: a rebuild streams its ranges at the source stream throughput; one per node; recorded ranges are skipped', async () => {
  const sim = new Simulation();
  const link = sim.resource('link', 1e12);
  const q = (2n ** 62n).toString(); // a quarter of the ring per range below
  const ranges: [string, string][] = [
    ['-9223372036854775808', `-${q}`],
    [`-${q}`, '0'],
  ];
  close(rangeFraction(ranges[0]?.[0] as string, ranges[0]?.[1] as string), 0.25, 'quarter');
  const cluster = new SimCassandraCluster(sim, {
    name: 'c',
    nodes: [
      { address: '10.0.0.1', dc: 'old', region: 'r', running: true },
      { address: '10.1.0.1', dc: 'new', region: 'r', running: true },
      { address: '10.1.0.2', dc: 'new', region: 'r', running: true },
    ],
    keyspaceBytes: new Map([['ks', 4e9]]),
    streamThroughputBytesPerSec: 25e6,
    link: () => link,
    costs: resolveSimCosts({ rebuildStartMs: 8000 }),
  });
  await sim.run(async () => {
    const start = sim.now;
    const bytes = await cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', ranges);
    close(bytes, 2e9, 'half the ring of 4 GB');
    close(sim.now - start, 8000 + 80_000, 'rebuild');
    // Two nodes from the same source share its 25 MB/s.
    const both = sim.now;
    await Promise.all([
      cluster.rebuild('10.1.0.2', 'ks', '10.0.0.1', ranges),
      cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', [['0', q]]),
    ]);
    // 2 GB and 1 GB share 25 MB/s: together 3 GB at 25 MB/s = 120 s.
    close(sim.now - both, 8000 + 120_000, 'two rebuilds from one source');
    assert.equal(cluster.missing('10.1.0.1', 'ks', [...ranges, ['0', q]]), 0);
    const again = sim.now;
    assert.equal(await cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', ranges), 0);
    close(sim.now - again, 8000, 'nothing left to stream');
    const first = cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', ranges);
    await assert.rejects(cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', ranges), StillRebuildingError);
    await first;
  });
});

test('ZooKeeper: an observer is in sync after its start, the reconfig and its snapshot over the link', async () => {
  const sim = new Simulation();
  const zookeeper = new SimZooKeeper(sim, {
    name: 'zk',
    region: 'a',
    dataBytes: 50e6,
    link: () => sim.resource('a-b', 10e6),
    costs: resolveSimCosts({ zookeeperStartMs: 5000, zookeeperReconfigMs: 2000 }),
  });
  await sim.run(() => zookeeper.observerJoin('zk-101', 'b'));
  close(sim.now, 5000 + 2000 + 5000, 'ms');
  assert.deepEqual(zookeeper.notSynced(['zk-101', 'zk-102']), ['zk-102']);
});

test('ScaledClock: 10,000x makes a simulated day 8.64 real seconds', () => {
  let real = 1000;
  const clock = new ScaledClock(10_000, 0, () => real);
  real += 8640;
  close(clock.now(), 86_400_000, 'simulated ms');
  close(clock.realMsUntil(86_400_000 + 10_000), 1, 'real ms until 10 simulated s later');
  assert.throws(() => new ScaledClock(0), /speed must be/);
});

/** One old and one new node; keyspace `ks` of `bytes`; 1 MB/s out of each source; no rebuild start cost. */
function twoNodes(bytes: number): { sim: Simulation; cluster: SimCassandraCluster } {
  const sim = new Simulation();
  const cluster = new SimCassandraCluster(sim, {
    name: 'c',
    nodes: [
      { address: '10.0.0.1', dc: 'old', region: 'r', running: true },
      { address: '10.1.0.1', dc: 'new', region: 'r', running: true },
    ],
    keyspaceBytes: new Map([['ks', bytes]]),
    streamThroughputBytesPerSec: 1e6,
    link: () => sim.resource('link', 1e12),
    costs: resolveSimCosts({ rebuildStartMs: 0 }),
  });
  return { sim, cluster };
}

test('Cassandra: a node going down fails the sessions streaming to or from it at that moment, and later rebuilds', async () => {
  const { sim, cluster } = twoNodes(1e9);
  let failedAt = -1;
  await sim.run(async () => {
    const rebuild = cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', [['0', '0']]).catch((error: Error) => {
      failedAt = sim.now;
      return error;
    });
    await sim.sleep(30_000);
    cluster.down('10.0.0.1');
    assert.ok((await rebuild) instanceof NodeDownError);
    await assert.rejects(cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', [['0', '0']]), NodeDownError);
  });
  assert.equal(failedAt, 30_000);
  assert.equal(cluster.missing('10.1.0.1', 'ks', [['0', '0']]), 1);
});

test('ScaledClock: sleep waits its scaled real time; an abort ends the wait with the reason', async () => {
  const clock = new ScaledClock(100_000);
  const started = performance.now();
  await clock.sleep(2_000_000); // 20 real ms
  const waited = performance.now() - started;
  // Node's timers may fire up to a millisecond or two early against performance.now().
  assert.ok(waited >= 17 && waited < 1000, `waited ${waited} ms`);
  const controller = new AbortController();
  const pending = clock.sleep(86_400_000 * 365, controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(pending, /stop/);
});

test('Kafka faults: a leader down hands over and the copy carries on with the bytes it lacks; a follower down stalls until cancelled; a slow broker is N times slower', async () => {
  const { sim, cluster } = twoPartitions('t');
  const rate = (id: number, value: string) =>
    (['leader', 'follower'] as const).map((side) => ({
      resource: `broker:${id}`,
      op: 'SET' as const,
      key: `${side}.replication.throttled.rate` as const,
      value,
    }));
  await sim.run(async () => {
    // Broker 1 leads at 10 MB/s, broker 2 at 40 MB/s; 1 GB to 101 from 1 would take 100 s.
    await cluster.alterConfigs([...rate(1, '10000000'), ...rate(2, '40000000'), ...rate(101, '1000000000')]);
    const start = sim.now;
    const move = cluster.reassign([{ topic: 't', partition: 0, replicas: [1, 2, 101] }]);
    await sim.sleep(50 + 30_000);
    // 300 MB copied; broker 1 goes: broker 2 leads, the other 700 MB come at 40 MB/s (17.5 s).
    cluster.down(1);
    assert.equal(cluster.partitions.get('t/0')?.leader, 2);
    await move;
    close(sim.now - start, 50 + 30_000 + 17_500 + 500, 'expand across a leader failover');
    // The controller refuses a reassignment naming the down broker.
    await assert.rejects(
      cluster.reassign([{ topic: 't', partition: 1, replicas: [2, 1, 102] }]),
      /k: broker 1 is not alive, so the reassignment of t\/1 is refused/,
    );
    // A follower that goes down mid-copy stalls its move; cancelling puts the partition back.
    let settled = false;
    void cluster.reassign([{ topic: 't', partition: 1, replicas: [2, 102] }]).finally(() => {
      settled = true;
    });
    await sim.sleep(10_000);
    cluster.down(102);
    await sim.sleep(1_000_000);
    assert.equal(settled, false, 'a move toward a down broker never completes');
    assert.deepEqual(cluster.partitions.get('t/1')?.replicas, [2, 102, 1]);
    assert.equal(cluster.cancelInFlight(), 1);
    assert.deepEqual(cluster.partitions.get('t/1')?.replicas, [2, 1]);
    // Broker 2 four times slower: 1 GB at 40 MB/s / 4 takes 100 s; its throttle still reads 40 MB/s.
    cluster.slowDown(2, 4);
    const slow = sim.now;
    await cluster.reassign([{ topic: 't', partition: 1, replicas: [2, 101] }]);
    // (and broker 1's replica dropped)
    close(sim.now - slow, 50 + 100_000 + 500 + costs.replicaDeleteMs, 'a slow leader');
    assert.deepEqual(cluster.verify({ noThrottles: true }).problems.includes('broker 2: throttle still set'), true);
  });
});

test('Cassandra: a failed stream session is retried from the start; a slow source streams N times slower; a cancelled timer holds no clock', async () => {
  const { sim, cluster } = twoNodes(1e8);
  await sim.run(async () => {
    const rebuild = cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', [['0', '0']]);
    await sim.sleep(40_000);
    cluster.failSession('10.0.0.1');
    await assert.rejects(rebuild, /stream session failed: c rebuild 10\.1\.0\.1 ks <- 10\.0\.0\.1/);
    assert.equal(cluster.bytesStreamed, 0);
    // With none in flight, the next session fails as it starts.
    cluster.failSession('10.1.0.1');
    await assert.rejects(cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', [['0', '0']]), /stream session failed/);
    const start = sim.now;
    cluster.slowDown('10.0.0.1', 2);
    await cluster.rebuild('10.1.0.1', 'ks', '10.0.0.1', [['0', '0']]);
    close(sim.now - start, 200_000, '100 MB at 1 MB/s / 2');
    const timeout = sim.timer(1e9);
    timeout.cancel();
  });
  // The cancelled timer did not move the clock to its time.
  assert.ok(sim.now < 1e6, `clock at ${sim.now}`);
});
