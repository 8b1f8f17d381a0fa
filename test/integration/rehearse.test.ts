// The rehearsal through NATS: `drover rehearse run` starts its own nats-server (the harness's
// binary here), creates each cluster's plan as a real run, and the real plan runner and engine carry
// it out with signed orders to real agents whose steps act on the simulated data plane. The
// forecast must equal the in-process model's (same plans, same data plane: only the runner
// differs), a node down must stop the right plan in the right phase and run its rollback through
// `rollbackRun`, and a plan bigger than a NATS message must still be stored and read back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createRun, newRun, openRunStore, readRunPlan } from '@drover/coordinator';
import { parseFleetText } from '../../coordinator/src/rehearse/fleet-file.ts';
import { planCluster } from '../../coordinator/src/rehearse/synthesize.ts';
import { createFleet, DROVER_BIN, NODE } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, runCommand } from '../harness/process.ts';
import { natsServerBinary } from '../harness/versions.ts';

const FIXTURE = new URL('../../coordinator/test/rehearse/fixtures/small-fleet.yaml', import.meta.url).pathname;

interface Forecast {
  through: 'model' | 'nats';
  totalMs: number;
  nats?: { runs: number; agentsStarted: number; stepsRun: number; forcedAdvances: number; natsServer: string };
  clusters: {
    cluster: string;
    outcome: string;
    startMs: number;
    endMs: number;
    phases: { name: string; startMs: number; endMs: number }[];
    rollback: { name: string; startMs: number; endMs: number }[];
    failure?: { phase: string; step: string; reason: string };
  }[];
}

async function rehearse(...args: string[]): Promise<Forecast> {
  const result = await runCommand(NODE, [DROVER_BIN, 'rehearse', 'run', FIXTURE, '--json', ...args], {
    env: { ...process.env },
    timeoutMs: 600_000,
  });
  assert.equal(result.code, 0, result.output);
  return JSON.parse(result.stdout) as Forecast;
}

/** Same clusters, same phases, same simulated times (to the millisecond). */
function assertSameForecast(nats: Forecast, model: Forecast): void {
  assert.equal(nats.clusters.length, model.clusters.length);
  for (const m of model.clusters) {
    const n = nats.clusters.find((c) => c.cluster === m.cluster);
    assert.ok(n, m.cluster);
    assert.equal(n.outcome, m.outcome, m.cluster);
    assert.ok(Math.abs(n.startMs - m.startMs) < 1, `${m.cluster} starts at ${n.startMs}, model ${m.startMs}`);
    assert.ok(Math.abs(n.endMs - m.endMs) < 1, `${m.cluster} ends at ${n.endMs}, model ${m.endMs}`);
    assert.deepEqual(
      n.phases.map((p) => [p.name, Math.round(p.endMs - p.startMs)]),
      m.phases.map((p) => [p.name, Math.round(p.endMs - p.startMs)]),
      m.cluster,
    );
    assert.deepEqual(
      n.rollback.map((p) => p.name),
      m.rollback.map((p) => p.name),
      m.cluster,
    );
  }
  assert.ok(Math.abs(nats.totalMs - model.totalMs) < 1, `total ${nats.totalMs} vs model ${model.totalMs}`);
}

test('the small fleet (3 Kafka, 2 Cassandra clusters) through NATS: every run succeeds, phases in order, the forecast equals the model', async () => {
  const binary = natsServerBinary('debian').binary;
  const nats = await rehearse('--nats-server', binary);
  const model = await rehearse('--model');
  assert.equal(nats.through, 'nats');
  assert.equal(model.through, 'model');
  // Five real runs, one agent per node and observer, every step of every plan on them, and the
  // clock never had to move while a cluster was between steps.
  assert.equal(nats.nats?.runs, 5);
  assert.equal(nats.nats?.agentsStarted, 41);
  assert.ok((nats.nats?.stepsRun ?? 0) > 100, `${nats.nats?.stepsRun} steps`);
  assert.equal(nats.nats?.forcedAdvances, 0);
  assert.equal(nats.nats?.natsServer, '2.9.10');
  for (const c of nats.clusters) {
    assert.equal(c.outcome, 'succeeded', c.cluster);
    for (const [i, p] of c.phases.entries()) {
      assert.ok(p.endMs >= p.startMs, `${c.cluster} ${p.name}`);
      if (i > 0)
        assert.ok(
          p.startMs >= (c.phases[i - 1]?.endMs ?? 0),
          `${c.cluster}: ${p.name} before the previous phase ended`,
        );
    }
  }
  assertSameForecast(nats, model);
});

test('a Cassandra node down mid-rebuild through NATS: that run fails in rebuild, its rollback runs and stops at the down node, the others succeed', async () => {
  const nats = await rehearse('--fail', 'users-d2@20m');
  const users = nats.clusters.find((c) => c.cluster === 'users');
  assert.ok(users);
  assert.equal(users.outcome, 'rollback-failed');
  assert.equal(users.failure?.phase, 'rebuild');
  // The engine's own verdict on the step: the down node's target failed past maxErrors 0.
  assert.match(users.failure?.reason ?? '', /users-d2 failed: 10\.2\.0\.2 \S+ <- 10\.1\.0\.\d: 10\.2\.0\.2 is down/);
  assert.deepEqual(
    users.phases.map((p) => p.name),
    ['prepare', 'extend', 'rebuild'],
  );
  assert.deepEqual(
    users.rollback.map((p) => p.name),
    ['rebuild'],
  );
  for (const other of nats.clusters.filter((c) => c.cluster !== 'users')) assert.equal(other.outcome, 'succeeded');
  assertSameForecast(nats, await rehearse('--model', '--fail', 'users-d2@20m'));
});

test('a Kafka broker down mid-expand and a Cassandra stream session failing, through NATS: the step times out in simulated time, the rollback cancels the moves; the rebuild is retried; equal to the model', async () => {
  const faults = ['--fail', 'orders-d2@2m', '--fail', 'users-s1@20m:session'];
  const nats = await rehearse(...faults);
  const orders = nats.clusters.find((c) => c.cluster === 'orders');
  assert.ok(orders);
  assert.equal(orders.outcome, 'rollback-failed');
  assert.equal(orders.failure?.phase, 'expand');
  assert.match(orders.failure?.reason ?? '', /orders-d1 failed: timed out after 1d 00:00:00/);
  assert.deepEqual(
    orders.rollback.map((p) => p.name),
    ['expand', 'brokers'],
  );
  const users = nats.clusters.find((c) => c.cluster === 'users');
  assert.equal(users?.outcome, 'succeeded');
  assert.equal(nats.nats?.forcedAdvances, 0);
  assertSameForecast(nats, await rehearse('--model', ...faults));
});

test('a plan bigger than a NATS message is stored in chunks and read back whole; a damaged chunk is named', async () => {
  const natsCluster = await startNats({ servers: 1, secure: true });
  const fleet = createFleet(makeTempDir('rehearse-plan'), natsCluster.urls, natsCluster.security);
  const d = await connect(fleet);
  try {
    const store = await openRunStore(d);
    const small = parseFleetText(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    const { plan } = planCluster(small, small.clusters.find((c) => c.name === 'users') as never);
    // 1.5 MB of params that do not compress: bigger than the server's 1 MiB max_payload.
    const step = plan.phases[0]?.steps[0];
    assert.ok(step);
    step.params = { ...step.params, note: randomBytes(1_100_000).toString('base64') };
    const run = newRun({ file: 'big.yaml', plan, digest: 'x' }, 'test');
    await createRun(store, run, plan);
    assert.deepEqual(await readRunPlan(store, run.id), plan);
    const chunks = (await store.kv.keys(`${run.id}.plan.*`)) as AsyncIterable<string>;
    const names: string[] = [];
    for await (const k of chunks) names.push(k);
    assert.ok(names.length >= 5, `${names.length} chunks`);
    await store.kv.put(`${run.id}.plan.1`, 'damaged');
    await assert.rejects(readRunPlan(store, run.id), /plan's chunks do not match their manifest/);
  } finally {
    await d.close();
  }
});
