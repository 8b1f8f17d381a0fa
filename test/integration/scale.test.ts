// 1,500 agents on the current nats-server complete a job (issue 12). A current server caps a stream
// at 1,000 consumers unless the stream says otherwise; with one durable consumer per agent, agent
// 1,001 never got an order. Orders now hold no consumer per agent: this proves the cap cannot bite,
// and that no consumer is left on the orders stream once the agents have caught up.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Drover } from '@drover/coordinator';
import { STREAM_ORDERS } from '@drover/shared';
import { type AgentSpec, createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, runJob } from '../fleet/jobs.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';

const AGENTS = 1500;
const PER_HOST = 300;
let nats: NatsCluster;
let fleet: Fleet;
let d: Drover;

before(async () => {
  nats = await startNats({ servers: 1, version: 'current' });
  fleet = createFleet(makeTempDir('scale'), nats.urls);
  d = await connect(fleet);
  const specs: AgentSpec[] = Array.from({ length: AGENTS }, (_, i) => ({
    id: `s-${String(i).padStart(4, '0')}`,
    labels: { scale: 'yes' },
    heartbeatMs: 30_000,
    maxConcurrentOrders: 1,
  }));
  const hosts = [];
  for (let i = 0; i < AGENTS; i += PER_HOST)
    hosts.push(fleet.startHost(`s${i / PER_HOST}`, specs.slice(i, i + PER_HOST)));
  await Promise.all(hosts);
});

after(async () => {
  await d?.close();
});

test('1,500 agents on the current nats-server, past its 1,000-consumer default, all run a ping', async () => {
  const summary = await runJob(d, fleet, { step: 'ping', selector: 'scale=yes', deliveryTimeoutMs: 60_000 });
  assert.equal(summary.runs.length, AGENTS);
  assert.equal(summary.counts.succeeded, AGENTS, JSON.stringify(summary.counts));
  assert.equal(summary.job.state, 'succeeded');
  assert.match(nats.version, /^v2\.1[1-9]|^v[3-9]/, `a current server (${nats.version})`);
  // Catch-up consumers are short-lived: none is left behind on the orders stream.
  await waitFor(async () => (await d.jsm.streams.info(STREAM_ORDERS)).state.consumer_count === 0, {
    timeoutMs: 30_000,
    what: 'no consumer left on the orders stream',
  });
});
