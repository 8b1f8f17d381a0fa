// The Cassandra node-status signal against a real nats-server, without Cassandra: two agents declare a
// Cassandra node on a port nothing listens on, so both nodes are "down". Every way of asking says so:
// the agents' HTTP endpoint (503, so `curl -f` gates), `drover cassandra status` (exit 1, and exit 1
// after --timeout with --wait-until-available) and a NATS request on drover.status.cassandra.<cluster>.
// A cluster whose statuses say available (written straight into the bucket) gives exit 0.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CassandraNodeStatus,
  type ClusterStatusSummary,
  cassandraStatusSubject,
  KV_NODE_STATUS,
  nodeStatusKey,
} from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { freePort, makeTempDir, type ProcessHandle, waitFor } from '../harness/process.ts';

let fleet: Fleet;
const agents: ProcessHandle[] = [];
const statusPorts: number[] = [];

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('cassandra-status'), nats.urls, nats.security);
  const d = await connect(fleet);
  await d.close();
  const jvmOptionsFile = join(fleet.dir, 'jvm.options');
  writeFileSync(jvmOptionsFile, '');
  const specs = await Promise.all(
    [1, 2].map(async (i) => {
      const statusPort = await freePort();
      statusPorts.push(statusPort);
      return {
        id: `cass-${i}`,
        labels: { cluster: 'c1' },
        node: {
          cassandra: {
            // Nothing listens there: the node reads as down.
            cql: { host: '127.0.0.1', port: await freePort() },
            nodetoolArgv: ['/bin/false'],
            jvmOptionsFile,
            statusPort,
          },
        },
      };
    }),
  );
  agents.push(...(await Promise.all(specs.map((spec) => fleet.startAgent(spec)))));
});

async function httpStatus(port: number, path = '/v1/cluster/status', method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { code: res.status, body: (await res.json()) as ClusterStatusSummary };
}

const bothDown = (s: ClusterStatusSummary) =>
  s.nodes.length === 2 && s.nodes.every((n) => n.state === 'down' && !n.stale);

test('the HTTP endpoint answers 503 with both nodes down; 404 elsewhere, 405 for other methods', async () => {
  const { code, body } = await waitFor(
    async () => {
      const r = await httpStatus(statusPorts[0]!);
      return bothDown(r.body) ? r : undefined;
    },
    { what: 'both agents to publish a down status', timeoutMs: 15_000, processes: agents },
  );
  assert.equal(code, 503);
  assert.equal(body.cluster, 'c1');
  assert.equal(body.allNodesAvailable, false);
  assert.deepEqual(
    body.nodes.map((n) => [n.agent, n.state, n.available, n.address]),
    [
      ['cass-1', 'down', false, '127.0.0.1'],
      ['cass-2', 'down', false, '127.0.0.1'],
    ],
  );
  assert.deepEqual(
    body.notAvailable.map((n) => n.agent),
    ['cass-1', 'cass-2'],
  );
  assert.ok(body.notAvailable.every((n) => n.reason.startsWith('down: ')));
  // The other agent gives the same answer.
  const other = await httpStatus(statusPorts[1]!);
  assert.equal(other.code, 503);
  assert.equal(bothDown(other.body), true);
  assert.equal((await httpStatus(statusPorts[0]!, '/v1/other')).code, 404);
  assert.equal((await httpStatus(statusPorts[0]!, '/v1/cluster/status', 'POST')).code, 405);
});

test('drover cassandra status: exit 1 with both nodes down, as a table and as --json', async () => {
  const human = await fleet.drover(['cassandra', 'status', '--cluster', 'c1']);
  assert.equal(human.code, 1, human.output);
  assert.match(human.stdout, /^cass-1\s+online\s+127\.0\.0\.1\s+-\s+down\s+no\s+-\s+\d+s ago$/m);
  assert.match(human.stdout, /^cass-2\s+online\s+127\.0\.0\.1\s+-\s+down\s+no\s/m);
  assert.match(human.stdout, /^not available: cass-1: down: /m);
  assert.match(human.stdout, /^all nodes available: no$/m);
  const json = await fleet.drover(['cassandra', 'status', '--cluster', 'c1', '--json']);
  assert.equal(json.code, 1, json.output);
  const summary = JSON.parse(json.stdout) as ClusterStatusSummary;
  assert.equal(summary.allNodesAvailable, false);
  assert.equal(bothDown(summary), true);
});

test('--wait-until-available --timeout 3s gives up after about 3 s with exit 1 and the reasons', async () => {
  const started = Date.now();
  const r = await fleet.drover(['cassandra', 'status', '--cluster', 'c1', '--wait-until-available', '--timeout', '3s']);
  const elapsed = Date.now() - started;
  assert.equal(r.code, 1, r.output);
  assert.ok(elapsed >= 3000, `gave up after ${elapsed} ms`);
  assert.ok(elapsed < 12_000, `gave up after ${elapsed} ms (3 s wait plus CLI start)`);
  assert.match(r.stdout, /^waiting: cass-1 \(down: .*\); cass-2 \(down: /m);
  assert.match(r.output, /timed out after 3s waiting for every node of c1 to be available/);
  assert.match(r.stdout, /^all nodes available: no$/m);
});

test('a NATS request on drover.status.cassandra.c1 gets the same summary from one agent', async () => {
  const d = await connect(fleet);
  try {
    const msg = await d.nc.request(cassandraStatusSubject('c1'), '', { timeout: 5000 });
    const summary = msg.json<ClusterStatusSummary>();
    assert.equal(summary.cluster, 'c1');
    assert.equal(summary.allNodesAvailable, false);
    assert.equal(bothDown(summary), true);
    assert.deepEqual(
      summary.notAvailable.map((n) => n.agent),
      ['cass-1', 'cass-2'],
    );
    // Both agents subscribe, in one queue group: a request gets one answer.
    const replies = [];
    for await (const m of await d.nc.requestMany(cassandraStatusSubject('c1'), '', { maxWait: 1500 })) replies.push(m);
    assert.equal(replies.length, 1);
  } finally {
    await d.close();
  }
});

test('a cluster whose nodes report available: exit 0, also once --wait-until-available sees it', async () => {
  const d = await connect(fleet);
  try {
    const kv = await new Kvm(d.nc).open(KV_NODE_STATUS);
    const put = (agent: string, available: boolean) => {
      const status: CassandraNodeStatus = {
        agent,
        address: '10.0.0.9',
        datacenter: 'dc1',
        state: available ? 'normal' : 'rebuilding',
        available,
        streaming: available
          ? { sessions: 0, bytesReceived: 0, bytesToReceive: 0 }
          : { sessions: 1, bytesReceived: 512, bytesToReceive: 2048 },
        detail: available ? 'gossip NORMAL' : '1 Rebuild session(s)',
        at: Date.now(),
      };
      return kv.put(nodeStatusKey('c2', agent), JSON.stringify(status));
    };
    const none = await fleet.drover(['cassandra', 'status', '--cluster', 'c2']);
    assert.equal(none.code, 1, none.output);
    assert.match(none.stdout, /no Cassandra node of cluster c2 has reported a status/);

    await put('c2-node', false);
    const waiting = fleet.drover([
      'cassandra',
      'status',
      '--cluster',
      'c2',
      '--wait-until-available',
      '--timeout',
      '20s',
    ]);
    await sleep(2000);
    await put('c2-node', true);
    const done = await waiting;
    assert.equal(done.code, 0, done.output);
    assert.match(done.stdout, /^waiting: c2-node \(rebuilding: 1 Rebuild session\(s\)\)$/m);
    assert.match(done.stdout, /^c2-node\s+unregistered\s+10\.0\.0\.9\s+dc1\s+normal\s+yes\s+-\s+\d+s ago$/m);
    assert.match(done.stdout, /^all nodes available: yes$/m);
  } finally {
    await d.close();
  }
});

test('an agent stops cleanly with the signal running', async () => {
  const exit = await agents[1]!.stop();
  assert.equal(exit.code, 0, agents[1]!.logTail());
  assert.match(agents[1]!.logTail(5), /"agent stopped"/);
});
