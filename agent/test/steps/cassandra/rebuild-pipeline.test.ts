// A pipelined cassandra.rebuild item waits for the earlier items it names (`after`) on other nodes,
// as their agents report them in the node-status signal; its own earlier items need no wait.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CassandraNodeStatus, CassandraRebuildParams } from '@drover/shared';
import { beginNodeActivity, nodeActivity, setClusterStatusReader } from '../../../src/clients/cassandra/index.ts';
import { waitForEarlier } from '../../../src/steps/cassandra/rebuild.ts';
import type { StepContext } from '../../../src/steps/context.ts';

const NODE = '127.0.0.9:9042';
const item = (agent: string, source: string, after?: number[]) => ({
  agent,
  node: `10.0.0.${agent.at(-1)}`,
  keyspace: 'shop',
  source,
  ranges: [['0', '100']],
  ...(after ? { after } : {}),
});
const params = CassandraRebuildParams.parse({
  sourceDc: 'old',
  rebuilds: [item('a1', '10.9.0.1'), item('a2', '10.9.0.2'), item('a1', '10.9.0.2', [1]), item('a2', '10.9.0.1', [0])],
});

function context(agentId: string, progress: string[] = []): StepContext {
  return {
    info: { jobId: 'job-1', orderId: 'o', agentId, step: 'cassandra.rebuild', deadline: Date.now() + 60_000 },
    signal: new AbortController().signal,
    progress: (m: string) => progress.push(m),
  } as unknown as StepContext;
}

const status = (agent: string, rebuilt: string[], at = Date.now()): CassandraNodeStatus => ({
  agent,
  address: '10.0.0.1',
  datacenter: 'new',
  state: 'rebuilding',
  available: false,
  streaming: { sessions: 0, bytesReceived: 0, bytesToReceive: 0 },
  detail: '',
  at,
  rebuilt,
});

test('an item waits until the other node reports the item it names done (this job only)', async () => {
  let reads = 0;
  setClusterStatusReader(NODE, async () => {
    reads++;
    // Done in another job first (a retry's ids differ), then in this job.
    return [status('a2', reads < 2 ? ['job-0#1'] : ['job-1#1'])];
  });
  const progress: string[] = [];
  const started = Date.now();
  await waitForEarlier(context('a1', progress), params, 2, NODE, 'shop from 10.9.0.2');
  assert.ok(reads >= 2, `${reads} reads`);
  assert.ok(Date.now() - started >= 900, 'it waited');
  assert.match(progress[0] ?? '', /waiting for its source to be free: a2 \(shop from 10\.9\.0\.2\)/);
  setClusterStatusReader(NODE, undefined);
});

test('no wait for items without `after` or whose `after` items are this agent’s own', async () => {
  const own = CassandraRebuildParams.parse({
    sourceDc: 'old',
    rebuilds: [item('a1', '10.9.0.1'), item('a1', '10.9.0.1', [0])],
  });
  await waitForEarlier(context('a1'), own, 1, NODE, 'x');
  await waitForEarlier(context('a1'), params, 0, NODE, 'x');
});

test('an agent whose status is silent for 60 s fails the waiting item; no signal at all is refused', async () => {
  setClusterStatusReader(NODE, async () => [status('a1', [], Date.now() - 61_000)]);
  await assert.rejects(
    waitForEarlier(context('a2'), params, 3, NODE, 'shop from 10.9.0.1'),
    /waiting for params\.rebuilds\[0\] on agent a1, whose node status is 61 s old \(agent down\?\)/,
  );
  setClusterStatusReader(NODE, undefined);
  await assert.rejects(
    waitForEarlier(context('a2'), params, 3, NODE, 'shop from 10.9.0.1'),
    /params\.rebuilds\[3\]\.after needs the node-status signal/,
  );
});

test('a finished rebuild keeps its node announced for the linger, then the announcement ends by itself', async () => {
  const node = '127.0.0.8:9042';
  const end = beginNodeActivity(node, 'rebuild of 1 item(s)');
  end(200);
  assert.equal(nodeActivity(node), 'rebuild of 1 item(s)', 'still announced right after');
  const next = beginNodeActivity(node, 'rebuild of 2 item(s)');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(nodeActivity(node), 'rebuild of 2 item(s)', 'the lingering one ended, the next one stays');
  next();
  assert.equal(nodeActivity(node), undefined);
});
