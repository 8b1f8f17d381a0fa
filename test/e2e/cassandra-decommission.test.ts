// cassandra.decommission on real Cassandra 5.0: a one-node datacenter `gone` (its node run by its
// agent as a service, as the old DC's nodes are in production) beside the harness's one-node `old`.
// The step refuses while a keyspace still replicates to `gone`, naming each; once none does, the node
// leaves the ring (the other DC no longer lists it; system_auth may still list `gone`, which Cassandra
// 5.0 requires while the node is live) and its service is stopped; the same order again
// reports it already left. The migration plan's decommission-source-dc phase runs this step.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { type CassandraDestinationNodes, startCassandraDestinationNodes } from '../fleet/cassandra-nodes.ts';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { type CassandraCluster, startCassandra } from '../harness/cassandra.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir } from '../harness/process.ts';

let nats: NatsCluster;
let fleet: Fleet;
let cluster: CassandraCluster;
let gone: CassandraDestinationNodes;

before(async () => {
  nats = await startNats({ servers: 1 });
  fleet = createFleet(makeTempDir('cassandra-decommission'), nats.urls);
  await (await connect(fleet)).close();
  cluster = await startCassandra({ datacenters: [{ name: 'old', racks: ['r1'], nodes: 1 }] });
  gone = await startCassandraDestinationNodes(fleet, cluster, {
    cluster: 'd1',
    datacenter: 'gone',
    racks: ['g1'],
    nodes: 1,
  });
  const prepared = await fleet.drover(['run', 'cassandra.node-prepare', '--selector', 'cluster=d1,role=destination']);
  assert.equal(prepared.code, 0, prepared.output);
  await cluster.waitSettled([...cluster.nodes, ...gone.nodes].map((n) => n.address));
});

after(async () => {
  await gone?.stop();
  await cluster?.stop();
  await nats?.stop();
});

async function cql(statement: string) {
  const c = new cassandra.Client({
    contactPoints: cluster.contactPoints('old'),
    localDataCenter: 'old',
    policies: { loadBalancing: new cassandra.policies.loadBalancing.DCAwareRoundRobinPolicy('old') },
  });
  try {
    await c.execute(statement);
  } finally {
    await c.shutdown();
  }
}

async function decommission() {
  const result = await fleet.drover(
    ['run', 'cassandra.decommission', '--selector', 'cluster=d1,role=destination', '--json'],
    { timeoutMs: 600_000 },
  );
  const summary = (() => {
    try {
      return JSON.parse(result.stdout) as {
        targets: Array<{
          agentId: string;
          output?: { decommissioned: boolean; alreadyLeft: boolean; serviceStopped: boolean; datacenter: string };
        }>;
      };
    } catch {
      return undefined;
    }
  })();
  return { ...result, summary };
}

async function ringOfOld(): Promise<string> {
  return (await cluster.nodetool(cluster.nodes[0]!, ['status'])).output;
}

describe('cassandra.decommission', () => {
  test('refused while a keyspace still replicates to the node’s datacenter, each one named; nothing changes', async () => {
    await cql("CREATE KEYSPACE shop WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 1, 'gone': 1}");
    const refused = await decommission();
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(
      refused.output,
      /node [\d.]+ is in datacenter gone, which \d+ keyspace\(s\) still replicate to: [^;]*shop \(gone: 1\)/,
    );
    // SimpleStrategy keyspaces replicate to every datacenter: named too.
    assert.match(refused.output, /system_distributed \(SimpleStrategy, RF \d\)/);
    assert.match(await ringOfOld(), new RegExp(`UN\\s+${gone.nodes[0]!.address.replaceAll('.', '\\.')}\\s`));
  });

  test('once nothing replicates there, the node leaves the ring and its service stops; again: already left', async () => {
    await cql("ALTER KEYSPACE shop WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 1}");
    for (const ks of ['system_distributed', 'system_traces'])
      await cql(`ALTER KEYSPACE ${ks} WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 1}`);
    // Cassandra 5.0 refuses to leave `gone` out of system_auth while its node is live: it stays.
    await cql(
      "ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 1, 'gone': 1}",
    );
    const left = await decommission();
    assert.equal(left.code, 0, left.output);
    const output = left.summary?.targets[0]?.output;
    assert.deepEqual(
      { decommissioned: output?.decommissioned, alreadyLeft: output?.alreadyLeft, stopped: output?.serviceStopped },
      { decommissioned: true, alreadyLeft: false, stopped: true },
    );
    assert.equal(output?.datacenter, 'gone');
    assert.doesNotMatch(await ringOfOld(), new RegExp(`${gone.nodes[0]!.address.replaceAll('.', '\\.')}\\s`));
    const services = await fleet.drover([
      'run',
      'service',
      '--selector',
      'cluster=d1,role=destination',
      '--param',
      'name=cassandra',
      '--param',
      'action=status',
      '--json',
    ]);
    assert.match(services.stdout, /"state":\s*"stopped"/, services.output);

    const again = await decommission();
    assert.equal(again.code, 0, again.output);
    assert.equal(again.summary?.targets[0]?.output?.alreadyLeft, true, again.output);
    assert.equal(again.summary?.targets[0]?.output?.decommissioned, true);
  });
});
