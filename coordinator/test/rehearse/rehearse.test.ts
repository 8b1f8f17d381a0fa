// Rehearsals end to end in this process (no NATS in this slice: the plan runs on the simulated
// data plane): a small fleet of 3 Kafka and 2 Cassandra clusters finishes every plan with its
// phases in order and the fleet's concurrency kept; a single Kafka cluster's total matches a hand
// calculation; the two ways of loading a generated plan agree; the seed-shaped fleet has the
// seed's counts and is the same for the same seed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type Fleet, FleetSchema } from '@drover/shared';
import { parseFleetText } from '../../src/rehearse/fleet-file.ts';
import { forecastFleet, parseFault } from '../../src/rehearse/forecast.ts';
import { fleetYaml, generateSeedFleet } from '../../src/rehearse/generate.ts';
import { planCluster } from '../../src/rehearse/synthesize.ts';

const fixture = new URL('./fixtures/small-fleet.yaml', import.meta.url).pathname;
const small = parseFleetText(readFileSync(fixture, 'utf8'), fixture);

const KAFKA_PHASES = [
  'preflight',
  'observers',
  'brokers',
  'expand',
  'leaders',
  'shrink',
  'cleanup',
  'repoint-clients',
  'stop-source',
];
const CASSANDRA_PHASES = ['prepare', 'extend', 'rebuild', 'verify', 'move-clients'];

test('a small fleet (3 Kafka, 2 Cassandra clusters): every plan finishes, phases in order, at most clustersAtOnce at a time', async () => {
  const forecast = await forecastFleet(small);
  assert.equal(forecast.clusters.length, 5);
  for (const cluster of forecast.clusters) {
    assert.equal(cluster.outcome, 'succeeded', cluster.cluster);
    const expected = (cluster.kind === 'kafka' ? KAFKA_PHASES : CASSANDRA_PHASES).filter(
      (p) => p !== 'observers' || cluster.cluster === 'orders',
    );
    assert.deepEqual(
      cluster.phases.map((p) => p.name),
      expected,
      `${cluster.cluster}'s phases`,
    );
    let at = cluster.startMs;
    for (const phase of cluster.phases) {
      assert.ok(phase.startMs >= at && phase.endMs >= phase.startMs, `${cluster.cluster} ${phase.name} in order`);
      at = phase.endMs;
    }
    assert.equal(cluster.endMs, at);
    const data = cluster.phases.find((p) => p.name === 'expand' || p.name === 'rebuild');
    assert.ok(data && data.endMs > data.startMs, `${cluster.cluster} moved data`);
  }
  // Every replica copied: Kafka bytes = partitions × RF × bytes per partition.
  const orders = forecast.clusters.find((c) => c.cluster === 'orders');
  assert.ok(orders && Math.abs(orders.bytes - 12 * 3 * 1e9) < 1e3, `orders moved ${orders?.bytes}`);
  // Two slots: at no time do three clusters run.
  const edges = forecast.clusters.flatMap((c) => [
    [c.startMs, 1],
    [c.endMs, -1],
  ]) as [number, number][];
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  for (const [, delta] of edges) {
    running += delta;
    assert.ok(running <= small.migration.clustersAtOnce, 'clusters at once');
  }
  assert.equal(forecast.totalMs, Math.max(...forecast.clusters.map((c) => c.endMs)));
  const last = forecast.criticalPath.at(-1);
  assert.equal(forecast.clusters.find((c) => c.cluster === last)?.endMs, forecast.totalMs);
  assert.ok(forecast.agentsPeak > 0 && forecast.agentsPeak <= forecast.clusters.reduce((n, c) => n + c.agents, 0));
});

test('a single Kafka cluster: the forecast total is the hand calculation within 5%', async () => {
  // 3 brokers, 15 partitions of 10 GB with RF 1: broker i leads 5; with 5 moves per broker the
  // planner puts all 15 in one batch, so each source broker sends 5 copies through its 50 MB/s
  // throttle: expand = 5 × 10 GB / 50 MB/s = 1,000 s. Then 3 destination brokers started one at a
  // time (3 × 20 s) and 3 source brokers stopped one at a time (3 × 10 s). Hand total: 1,090 s.
  const fleet: Fleet = FleetSchema.parse({
    apiVersion: 'drover/v1',
    kind: 'Fleet',
    metadata: { name: 'one' },
    regions: [{ name: 'r', cloud: 'aws' }],
    migration: { clustersAtOnce: 1, kafka: { throttle: '50MB/s', perBrokerMoves: 5 } },
    clusters: [
      {
        name: 'solo',
        kind: 'kafka',
        cloud: 'aws',
        region: 'r',
        nodes: 3,
        size: 'r6g.large',
        topics: [{ name: 'big', partitions: 15, replication: 1, bytesPerPartition: '10GB' }],
      },
    ],
  });
  const forecast = await forecastFleet(fleet);
  const solo = forecast.clusters[0];
  assert.ok(solo);
  const hand = (5 * 10e9) / 50e6 + 3 * 20 + 3 * 10;
  const total = (solo.endMs - solo.startMs) / 1000;
  assert.ok(Math.abs(total - hand) / hand <= 0.05, `total ${total} s vs hand ${hand} s`);
  const expand = solo.phases.find((p) => p.name === 'expand');
  assert.ok(expand);
  const expandSeconds = (expand.endMs - expand.startMs) / 1000;
  assert.ok(Math.abs(expandSeconds - 1000) / 1000 <= 0.02, `expand ${expandSeconds} s vs 1000 s`);
});

test('a single Cassandra cluster: the forecast total is the hand calculation within 5%', async () => {
  // 3 + 3 nodes, 1 token each, RF 3: every node holds the whole keyspace, U = 300 GB. With the
  // new DC's tokens between the old ones, new node j copies the half of the ring ending at old
  // tokens from old node j and the other half from old node j+1: 6 rebuilds of 150 GB, at most one
  // per node and one per source at a time, so 2 waves of 150 GB at 24 MiB/s each (the three system
  // keyspaces' 1 MB rebuilds are noise). Before them the 3 new nodes start one at a time (90 s each).
  const fleet: Fleet = FleetSchema.parse({
    apiVersion: 'drover/v1',
    kind: 'Fleet',
    metadata: { name: 'one' },
    regions: [{ name: 'r', cloud: 'aws' }],
    migration: { clustersAtOnce: 1, cassandra: { streamThroughput: '24MiB/s', maxStreamsPerSource: 1 } },
    clusters: [
      {
        name: 'solo',
        kind: 'cassandra',
        cloud: 'aws',
        region: 'r',
        nodes: 3,
        size: 'i3.xlarge',
        vnodes: 1,
        keyspaces: [{ name: 'big', replication: 3, bytesPerNode: '300GB' }],
      },
    ],
  });
  const forecast = await forecastFleet(fleet);
  const solo = forecast.clusters[0];
  assert.ok(solo);
  const wave = 150e9 / (24 * 1024 * 1024);
  const hand = 2 * wave + 3 * 90;
  const total = (solo.endMs - solo.startMs) / 1000;
  assert.ok(Math.abs(total - hand) / hand <= 0.05, `total ${total} s vs hand ${hand} s`);
  assert.ok(Math.abs(solo.bytes - 3 * 300e9 - 3 * 3 * 1e6) < 1e3, `bytes ${solo.bytes}`);
});

test("a throttle below what a partition's copies need: the real planner refuses, and the rehearsal says so", async () => {
  // (The simulated data plane's own stall, for a plan that got through, is tested in shared/test/rehearse.)
  const text = readFileSync(fixture, 'utf8').replace('inboundRate: 100kB/s', 'inboundRate: 60MB/s');
  await assert.rejects(
    forecastFleet(parseFleetText(text, fixture)),
    /^PlannerRefusedError: orders: the Kafka planner found errors \(12\): throttle 50000000 B\/s is below the 180000000 B\/s its 3 new replicas need/,
  );
});

test('a Cassandra node down mid-rebuild: that plan stops in rebuild, its rollback cannot wipe the down node and stops there, the others finish', async () => {
  const forecast = await forecastFleet(small, { faults: [parseFault(small, 'users-d2@20m')] });
  const users = forecast.clusters.find((c) => c.cluster === 'users');
  assert.ok(users);
  // The rebuild's rollback wipes every new node; the down one cannot be, so the rollback stops
  // before removing the new DC (its half-rebuilt records would be trusted by a later rebuild).
  assert.equal(users.outcome, 'rollback-failed');
  assert.equal(users.failure?.phase, 'rebuild');
  assert.match(
    users.failure?.reason ?? '',
    /^on users-d2: 10\.2\.0\.2 \S+ <- 10\.1\.0\.\d: 10\.2\.0\.2 is down \(4 attempts\)$/,
  );
  assert.deepEqual(
    users.phases.map((p) => p.name),
    ['prepare', 'extend', 'rebuild'],
    'nothing after the phase it stopped in',
  );
  assert.deepEqual(
    users.rollback.map((p) => p.name),
    ['rebuild'],
  );
  const rebuild = users.phases[2];
  assert.ok(rebuild && (users.rollback[0]?.startMs ?? 0) >= rebuild.endMs);
  assert.ok(rebuild.endMs - rebuild.startMs > 0);
  // The wipes of the nodes that are up before it (one at a time, drain + stop + start each).
  assert.ok((users.rollback[0]?.endMs ?? 0) - (users.rollback[0]?.startMs ?? 0) >= 90_000);
  for (const other of forecast.clusters.filter((c) => c.cluster !== 'users'))
    assert.equal(other.outcome, 'succeeded', other.cluster);
  // The same node down after its cluster ended changes nothing.
  const late = await forecastFleet(small, { faults: [parseFault(small, 'users-d2@10d')] });
  assert.ok(late.clusters.every((c) => c.outcome === 'succeeded'));
  // A source node down fails the rebuilds streaming from it.
  const source = await forecastFleet(small, { faults: [parseFault(small, 'users-s1@20m')] });
  assert.match(source.clusters.find((c) => c.cluster === 'users')?.failure?.reason ?? '', /10\.1\.0\.1 is down/);
  assert.throws(() => parseFault(small, 'orders-x1@1h'), /--fail: got "orders-x1@1h", expected AGENT@TIME/);
  assert.throws(() => parseFault(small, 'users-d7@1h'), /users-d7 is not a node of a cluster of the fleet/);
});

test('Kafka brokers down or slow, a stream session failing: each plan reacts as the real one would', async () => {
  const base = await forecastFleet(small);
  const span = (forecast: typeof base, name: string) => {
    const c = forecast.clusters.find((x) => x.cluster === name);
    assert.ok(c, name);
    return c;
  };
  const phase = (c: ReturnType<typeof span>, name: string) => {
    const p = c.phases.find((x) => x.name === name);
    assert.ok(p, `${c.cluster} ${name}`);
    return p.endMs - p.startMs;
  };
  const orders = span(base, 'orders');
  const expand = orders.phases.find((p) => p.name === 'expand');
  assert.ok(expand && expand.startMs - orders.startMs < 120_000 && expand.endMs - orders.startMs > 120_000);

  // A destination broker down mid-expand: the copies toward it stall, so the reassignment never
  // completes; the step fails at its timeout (kafka.reassign's default, a day), the expand's
  // rollback cancels the moves in flight, and the brokers phase's rollback cannot stop the down
  // broker's service (its agent went with it), so the rollback stops there.
  const destination = await forecastFleet(small, { faults: [parseFault(small, 'orders-d2@2m')] });
  const d2 = span(destination, 'orders');
  assert.equal(d2.outcome, 'rollback-failed');
  assert.deepEqual(d2.failure && [d2.failure.phase, d2.failure.reason], [
    'expand',
    'on orders-d1: timed out after 1d 00:00:00',
  ]);
  assert.ok(Math.abs(phase(d2, 'expand') - 86_400_000) < 1000, `expand ${phase(d2, 'expand')} ms`);
  assert.deepEqual(
    d2.rollback.map((p) => p.name),
    ['expand', 'brokers'],
  );
  // A source broker down: its partitions' leadership moves to another replica (copies carry on
  // from it), but the next batch names the down broker among its targets and the controller
  // refuses it; so does the rollback's reassignment back to the old replicas.
  const source = span(await forecastFleet(small, { faults: [parseFault(small, 'orders-s1@2m')] }), 'orders');
  assert.equal(source.outcome, 'rollback-failed');
  assert.equal(source.failure?.phase, 'expand');
  assert.match(
    source.failure?.reason ?? '',
    /^on orders-d1: orders: broker 1 is not alive, so the reassignment of orders\/\d+ is refused$/,
  );
  // A slow source broker: the plan finishes, its expand several times longer (1 s in, 4x slower).
  const slow = span(await forecastFleet(small, { faults: [parseFault(small, 'orders-s1@1s:slow=4')] }), 'orders');
  assert.equal(slow.outcome, 'succeeded');
  assert.ok(
    phase(slow, 'expand') > 3 * phase(orders, 'expand'),
    `${phase(slow, 'expand')} vs ${phase(orders, 'expand')}`,
  );
  // A stream session failing mid-rebuild: the rebuild is retried and streams its ranges again; the
  // plan finishes later, the other clusters as before.
  const session = await forecastFleet(small, { faults: [parseFault(small, 'users-s1@20m:session')] });
  const users = span(session, 'users');
  assert.equal(users.outcome, 'succeeded');
  assert.ok(phase(users, 'rebuild') > phase(span(base, 'users'), 'rebuild') + 60_000);
  assert.equal(span(session, 'events').endMs, span(base, 'events').endMs);
  // Bad fault texts are named.
  assert.throws(
    () => parseFault(small, 'orders-s1@1h:session'),
    /:session on a Cassandra node.*orders is a Kafka cluster/,
  );
  assert.throws(() => parseFault(small, 'orders-s1@1h:slow=1'), /slow=N with N a factor above 1/);
  assert.throws(() => parseFault(small, 'orders-s1@1h:gone'), /expected AGENT@TIME\[:down\|:session\|:slow=N\]/);
});

test('a generated plan loaded as an object is the plan the file loader reads', () => {
  for (const cluster of small.clusters) {
    const fromFile = planCluster(small, cluster, 'file');
    const fromObject = planCluster(small, cluster, 'object');
    assert.deepEqual(fromObject.plan, fromFile.plan, cluster.name);
  }
});

test("the seed-shaped fleet: the seed's counts, the same file for the same seed", () => {
  const text = fleetYaml(generateSeedFleet({ seed: 3 }));
  assert.equal(fleetYaml(generateSeedFleet({ seed: 3 })), text);
  assert.notEqual(fleetYaml(generateSeedFleet({ seed: 4 })), text);
  const fleet = parseFleetText(text, 'seed.yaml');
  const of = (kind: string) => fleet.clusters.filter((c) => c.kind === kind);
  assert.equal(of('kafka').length, 154);
  assert.equal(of('cassandra').length, 58);
  assert.equal(
    of('kafka').reduce((n, c) => n + c.nodes, 0),
    1050,
  );
  assert.equal(
    of('cassandra').reduce((n, c) => n + c.nodes, 0),
    1079,
  );
  assert.equal(fleet.regions.length, 6);
  assert.deepEqual([...new Set(fleet.regions.map((r) => r.cloud))].sort(), ['aws', 'gcp']);
  assert.equal(new Set(of('kafka').map((c) => c.size)).size, 21);
  assert.equal(new Set(of('cassandra').map((c) => c.size)).size, 17);
  assert.ok(text.startsWith("# A fleet shaped like the seed's"), 'the distributions are documented in the file');
});
