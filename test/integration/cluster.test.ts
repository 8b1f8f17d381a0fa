// A 3-server JetStream cluster with every Drover stream and bucket at 3 replicas: a server SIGKILLed
// in the middle of a job does not stop the job, and nothing runs twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectDrover, type Drover } from '@drover/coordinator';
import { STREAM_ORDERS } from '@drover/shared';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { runJob } from '../fleet/jobs.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir } from '../harness/process.ts';

let nats: NatsCluster;
let fleet: Fleet;
let d: Drover;

before(async () => {
  nats = await startNats({ servers: 3, secure: true });
  fleet = createFleet(makeTempDir('cluster'), nats.urls, nats.security);
  d = await connectDrover({ ...fleet.natsOptions, replicas: 3 });
  await fleet.startHost(
    'cluster',
    Array.from({ length: 6 }, (_, i) => ({ id: `cl-${i}`, labels: { case: 'cluster' } })),
  );
});

after(async () => {
  await d?.close();
});

test('R3 streams: a JetStream server killed mid-job, the job still finishes and no order runs twice', async () => {
  assert.equal((await d.jsm.streams.info(STREAM_ORDERS)).config.num_replicas, 3);
  const job = runJob(d, fleet, { step: 'sleep', params: { seconds: 3 }, selector: 'case=cluster', concurrency: '3' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await nats.kill(0);
  const summary = await job;
  assert.equal(summary.job.state, 'succeeded', JSON.stringify(summary.counts));
  assert.equal(summary.counts.succeeded, 6);
  for (const run of summary.runs)
    assert.equal(fleet.journalStarts(run.agentId, run.order?.orderId ?? ''), 1, run.agentId);
});
