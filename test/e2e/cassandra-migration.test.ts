// The seed's Cassandra migration carried out by Drover's agents on real Cassandra 5.0 nodes, driven
// through the drover CLI: a 3-node source DC made inconsistent the seed's way (rows written with one,
// then two, replicas down and hints off), a 3-node new DC whose nodes the agents start with
// -Dcassandra.reset_bootstrap_progress=false, `drover cassandra migrate` (topology read through the
// agents) and `drover apply` of the plan it writes, with a client writing at LOCAL_QUORUM throughout.
// Proven from every node's LOCAL data (sstables read offline): every row is on at least as many
// new-DC replicas as old-DC replicas; reads at LOCAL_QUORUM in the new DC return every row; bad
// rebuild input is refused before anything streams; the status signal says the cluster is available.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PlanRun } from '@drover/coordinator';
import cassandra from 'cassandra-driver';
import { parse as parseYaml } from 'yaml';
import { parseDescribeRing } from '../../agent/src/steps/cassandra/ring.ts';
import {
  harnessNodes,
  type LocalNode,
  localKeys,
  replicaShortfall,
  type SkewedRows,
  sessionsOf,
  writeSkewedRows,
} from '../fleet/cassandra-data.ts';
import {
  type CassandraDestinationNodes,
  type CassandraSourceAgents,
  cassandraMigrateArgs,
  startCassandraDestinationNodes,
  startCassandraSourceAgents,
} from '../fleet/cassandra-nodes.ts';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { type CassandraCluster, startCassandra } from '../harness/cassandra.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, runCommand, waitFor } from '../harness/process.ts';

const KEYSPACE = 'shop';
const TABLE = 'items';
let cluster: CassandraCluster;
let fleet: Fleet;
let sources: CassandraSourceAgents;
let dest: CassandraDestinationNodes;
let skewed: SkewedRows;
/** The migration's plan file and its run, once `drover apply` of it succeeded. */
let migration: { file: string; run: PlanRun } | undefined;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('cassandra-migration'), nats.urls, nats.security);
  await (await connect(fleet)).close();
  cluster = await startCassandra({ datacenters: [{ name: 'old', racks: ['r1', 'r2', 'r3'], nodes: 3 }] });
  skewed = await writeSkewedRows(cluster, { keyspace: KEYSPACE, table: TABLE, datacenter: 'old', rows: 3000 });
  sources = await startCassandraSourceAgents(fleet, cluster, { cluster: 'c1' });
  dest = await startCassandraDestinationNodes(fleet, cluster, {
    cluster: 'c1',
    datacenter: 'new',
    // Rack names unlike the old DC's (another cloud's zones): with identical names, a plain rebuild
    // happens to pick sources one-to-one (the snitch ranks them by rack name), hiding the problem.
    racks: ['a1', 'a2', 'a3'],
    nodes: 3,
  });
});

after(async () => {
  await dest?.stop();
  await sources?.stop();
  await cluster?.stop();
});

async function drover(args: string[], timeoutMs = 600_000) {
  return fleet.drover(args, { timeoutMs });
}

async function droverJson<T>(args: string[], timeoutMs = 600_000): Promise<T> {
  const result = await drover([...args, '--json'], timeoutMs);
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    assert.fail(`drover ${args.join(' ')} (exit ${result.code}):\n${result.output}`);
  }
}

function allNodes(): LocalNode[] {
  return [
    ...harnessNodes(cluster),
    ...dest.nodes.map((n) => ({ name: n.name, address: n.address, datacenter: n.datacenter, dataDir: n.dataDir })),
  ];
}

async function nodetool(node: LocalNode, argv: string[]) {
  const staged = dest.nodes.find((n) => n.name === node.name);
  if (!staged) return cluster.nodetool(node.name, argv);
  const [program, ...prefix] = staged.nodetoolArgv;
  const result = await runCommand(program!, [...prefix, ...argv], { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.output);
  return result;
}

function client(localDataCenter: string, contactPoints: string[]) {
  return new cassandra.Client({
    contactPoints,
    localDataCenter,
    policies: {
      loadBalancing: new cassandra.policies.loadBalancing.DCAwareRoundRobinPolicy(localDataCenter),
    },
    socketOptions: { readTimeout: 20_000 },
  });
}

/** Rows of `keys` on fewer `destDc` replicas than old-DC ones, read from `nodes`' sstables. */
async function shortfallOf(nodes: LocalNode[], keys: string[], destDc: string, keyspace = KEYSPACE, table = TABLE) {
  const local = await localKeys(nodes, keyspace, table, nodetool);
  return replicaShortfall(keys, local, new Map(nodes.map((n) => [n.name, n.datacenter])), 'old', destDc);
}

async function streamingSessions(address: string): Promise<string[]> {
  return (await sessionsOf(address, 'new')).map((s) => s.id).sort();
}

describe('cassandra migration: add a datacenter and rebuild it consistently', () => {
  test('the destination nodes start through their agents, with rebuilds made resumable', async () => {
    const result = await drover([
      'run',
      'cassandra.node-prepare',
      '--selector',
      'cluster=c1,role=destination',
      '--concurrency',
      '1',
      '--json',
    ]);
    assert.equal(result.code, 0, result.output);
    const summary = JSON.parse(result.stdout) as {
      targets: Array<{ agentId: string; output?: { resumable: boolean; started: boolean } }>;
    };
    assert.equal(summary.targets.length, 3);
    for (const target of summary.targets) {
      assert.equal(target.output?.resumable, true, `${target.agentId} runs with the property`);
      assert.equal(target.output?.started, true, `${target.agentId} was started by its agent`);
    }
    for (const node of dest.nodes)
      assert.match(readFileSync(node.jvmOptionsFile, 'utf8'), /reset_bootstrap_progress=false/);
    await cluster.waitSettled([...cluster.nodes, ...dest.nodes].map((n) => n.address));
  });

  test('drover cassandra migrate + apply: every row on at least as many new-DC replicas, LOCAL_QUORUM reads complete', async () => {
    const file = join(fleet.dir, 'migration.yaml');
    const generated = await drover(
      cassandraMigrateArgs({
        cluster: 'c1',
        delegate: dest.agentIds[0]!,
        destDc: 'new',
        out: file,
        extra: ['--rf', '3'],
      }),
    );
    assert.equal(generated.code, 0, generated.output);

    // A client writing at LOCAL_QUORUM in the old DC for the whole run.
    const writer = client('old', cluster.contactPoints('old'));
    await writer.connect();
    const during: string[] = [];
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        const key = `during-${i}`;
        await writer.execute(`INSERT INTO ${KEYSPACE}.${TABLE} (id, v) VALUES (?, ?)`, [key, `v${i}`], {
          prepare: true,
          consistency: cassandra.types.consistencies.localQuorum,
        });
        during.push(key);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const run = await droverJson<PlanRun>(['apply', file, '--yes'], 900_000);
    writing = false;
    await writes;
    await writer.shutdown();
    assert.equal(run.state, 'succeeded', run.message);
    migration = { file, run };
    t_diag(
      `phases: ${run.phases.map((p) => `${p.name} ${(((p.finishedAt ?? 0) - (p.startedAt ?? 0)) / 1000).toFixed(1)} s`).join(', ')}`,
    );
    assert.ok(during.length > 50, `${during.length} rows written during the run`);

    const shortfall = await shortfallOf(allNodes(), skewed.keys, 'new');
    const sourceOnFewer = Object.entries(shortfall.sourceHistogram)
      .filter(([n]) => Number(n) < 3)
      .reduce((sum, [, rows]) => sum + rows, 0);
    assert.ok(sourceOnFewer > 100, `the source DC is inconsistent: ${JSON.stringify(shortfall.sourceHistogram)}`);
    assert.deepEqual(
      shortfall.short.slice(0, 10),
      [],
      `${shortfall.short.length} rows on fewer new-DC replicas (source ${JSON.stringify(shortfall.sourceHistogram)}, new ${JSON.stringify(shortfall.destHistogram)})`,
    );

    const reader = client(
      'new',
      dest.nodes.map((n) => n.address),
    );
    await reader.connect();
    try {
      const missing: string[] = [];
      // Rows written at LOCAL_QUORUM (round 1 and during the run): a LOCAL_QUORUM read must see each.
      // Rows written at LOCAL_ONE are not promised to a quorum read in either DC; their guarantee is
      // the replica count proven above from the sstables.
      const quorumWritten = [...skewed.keys.filter((k) => k.startsWith('r1-')), ...during];
      assert.ok(quorumWritten.length > 1000);
      for (const key of quorumWritten) {
        const rows = (
          await reader.execute(`SELECT v FROM ${KEYSPACE}.${TABLE} WHERE id = ?`, [key], {
            prepare: true,
            consistency: cassandra.types.consistencies.localQuorum,
          })
        ).rows;
        if (rows.length !== 1) missing.push(key);
      }
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} rows missing at LOCAL_QUORUM in the new DC`);
    } finally {
      await reader.shutdown();
    }
  });

  test('the verify gate checks sample keys; the rebuild rollback wipes every rebuilt node and a new apply rebuilds them', async () => {
    assert.ok(migration, 'the migration above succeeded');
    const { file, run } = migration;
    // Sample keys: read by the delegate's cassandra.describe, placed by the generator, checked by
    // every destination node with `nodetool getendpoints` as part of the verify gate.
    const document = parseYaml(readFileSync(file, 'utf8')) as {
      phases: Array<{
        name: string;
        gate?: Array<{ params: { samples?: Array<{ keyspace: string; table: string }> } }>;
      }>;
    };
    const samples = document.phases.find((p) => p.name === 'verify')?.gate?.[0]?.params.samples ?? [];
    assert.ok(samples.length >= 1, 'the plan carries sample keys');
    assert.ok(samples.every((s) => s.keyspace === KEYSPACE && s.table === TABLE));
    const gateJob = run.phases.find((p) => p.name === 'verify')?.steps.find((s) => s.kind === 'gate')?.jobId;
    assert.ok(gateJob);
    const gate = await droverJson<{
      runs: Array<{ agentId: string; result?: { output?: { samplesChecked: number; samplesWrong: number } } }>;
    }>(['job', 'describe', gateJob]);
    assert.equal(gate.runs.length, 3);
    for (const r of gate.runs) {
      assert.equal(r.result?.output?.samplesChecked, samples.length, r.agentId);
      assert.equal(r.result?.output?.samplesWrong, 0, r.agentId);
    }

    // The rebuild phase's rollback: every destination node drained, wiped and restarted.
    const rolled = await droverJson<PlanRun>(['run', 'rollback', run.id, '--to', 'rebuild'], 900_000);
    assert.equal(rolled.state, 'rolled-back', rolled.message);
    const wipe = rolled.phases.find((p) => p.name === 'rebuild')?.rollback[0];
    assert.equal(wipe?.state, 'succeeded', wipe?.message);
    const destLocal = allNodes().filter((n) => n.datacenter === 'new');
    const wiped = await localKeys(destLocal, KEYSPACE, TABLE, nodetool);
    for (const node of destLocal) assert.equal(wiped.get(node.name)?.size, 0, `${node.name} holds no ${KEYSPACE} row`);
    // system_views.streaming lives in memory: the restart emptied it.
    const sessionsBefore = new Map(
      await Promise.all(dest.nodes.map(async (n) => [n.address, (await streamingSessions(n.address)).length] as const)),
    );

    // The retry: a new apply of the same file streams everything again (nothing is recorded as
    // available any more) and ends with the same guarantee.
    const again = await droverJson<PlanRun>(['apply', file, '--yes'], 900_000);
    assert.equal(again.state, 'succeeded', again.message);
    for (const n of dest.nodes)
      assert.ok(
        (await streamingSessions(n.address)).length > (sessionsBefore.get(n.address) ?? 0),
        `${n.address} streamed again`,
      );
    const shortfall = await shortfallOf(allNodes(), skewed.keys, 'new');
    assert.deepEqual(shortfall.short.slice(0, 10), [], `${shortfall.short.length} rows short after the retry`);
  });

  test('bad rebuild input is refused with the field and nothing streams', async () => {
    const node = dest.nodes[0]!;
    const agent = dest.agentIds[0]!;
    const source = cluster.nodes[0]!.address;
    const bad = async (item: Record<string, unknown>, sourceDc = 'old') => {
      const rebuilds = JSON.stringify([
        { agent, node: node.address, keyspace: KEYSPACE, source, ranges: [['0', '100']], ...item },
      ]);
      const result = await drover([
        'run',
        'cassandra.rebuild',
        '--selector',
        `cluster=c1,role=destination,rack=${node.rack}`,
        '--param',
        `sourceDc=${sourceDc}`,
        '--param',
        `rebuilds=${rebuilds}`,
      ]);
      assert.notEqual(result.code, 0, result.output);
      return result.output;
    };
    const before = await streamingSessions(node.address);
    assert.match(
      await bad({ keyspace: 'nope' }),
      /params\.rebuilds\[0\]\.keyspace: got "nope", expected an existing keyspace/,
    );
    assert.match(
      await bad({ source: dest.nodes[1]!.address }),
      /params\.rebuilds\[0\]\.source: got "[\d.]+", expected a replica in datacenter old \(it is in new\)/,
    );
    // With RF 1 in the new DC, a node replicates a third of the ring: ask it for a range it does not.
    const c = client('old', cluster.contactPoints('old'));
    try {
      await c.execute(
        "CREATE KEYSPACE IF NOT EXISTS partial WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 1, 'new': 1}",
      );
    } finally {
      await c.shutdown();
    }
    const ring = parseDescribeRing((await nodetool(allNodes()[3]!, ['describering', 'partial'])).stdout);
    const notMine = ring.find((r) => !r.endpoints.some((e) => e.host === node.address));
    assert.ok(notMine, 'a range node4 does not replicate');
    const owner = notMine.endpoints.find((e) => e.datacenter === 'old')?.host;
    assert.match(
      await bad({ keyspace: 'partial', source: owner, ranges: [notMine.range] }),
      /params\.rebuilds\[0\]\.ranges\[0\]: got "\(-?\d+,-?\d+\]", expected a range [\d.]+ replicates for partial/,
    );
    assert.deepEqual(await streamingSessions(node.address), before, 'no streaming session started');
  });

  test('the node-status signal says every node is available once the rebuild is over', async () => {
    const result = await drover([
      'cassandra',
      'status',
      '--cluster',
      'c1',
      '--wait-until-available',
      '--timeout',
      '60s',
    ]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /all nodes available: yes/);
  });
});

describe('faults and table drops during a rebuild', () => {
  const oldNodes = () => cluster.nodes.filter((n) => n.datacenter === 'old');

  /** `rows` rows of 8 KB of random bytes (incompressible: a stream lasts as long as its size says) into `table`. */
  async function fill(c: cassandra.Client, table: string, rows: number, prefix = 'k'): Promise<string[]> {
    const keys: string[] = [];
    for (let i = 0; i < rows; i += 50) {
      const batch = Array.from({ length: Math.min(50, rows - i) }, (_, j) => `${prefix}-${i + j}`);
      await Promise.all(
        batch.map((key) =>
          c.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [key, randomBytes(8192)], {
            prepare: true,
            consistency: cassandra.types.consistencies.localQuorum,
          }),
        ),
      );
      keys.push(...batch);
    }
    return keys;
  }

  /** A keyspace in the old DC only with a `blobs` table of `rows` random rows, flushed. */
  async function loadKeyspace(name: string, rows: number): Promise<string[]> {
    const c = client('old', cluster.contactPoints('old'));
    try {
      await c.execute(`CREATE KEYSPACE ${name} WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 3}`);
      await c.execute(`CREATE TABLE ${name}.blobs (id text PRIMARY KEY, v blob)`);
      const keys = await fill(c, `${name}.blobs`, rows, name);
      for (const node of oldNodes()) await cluster.nodetool(node, ['flush', name]);
      return keys;
    } finally {
      await c.shutdown();
    }
  }

  /** Stream throughput of every old node (MiB/s; 0 = unthrottled), so a rebuild lasts long enough to be hit. */
  async function throttle(mib: number): Promise<void> {
    for (const node of oldNodes()) {
      await cluster.nodetool(node, ['setstreamthroughput', '-m', String(mib)]);
      await cluster.nodetool(node, ['setstreamthroughput', '-e', String(mib)]);
    }
  }

  async function migratePlan(keyspace: string): Promise<{ file: string; itemsPerNode: Map<string, number> }> {
    const file = join(fleet.dir, `${keyspace}.yaml`);
    const generated = await drover(
      cassandraMigrateArgs({
        cluster: 'c1',
        delegate: dest.agentIds[0]!,
        destDc: 'new',
        out: file,
        // Masks over each node's replicated ranges in the waves and the verify gate (what big
        // clusters get), read by the agents against this real ring.
        extra: ['--keyspaces', keyspace, '--compact-ranges'],
      }),
    );
    assert.equal(generated.code, 0, generated.output);
    const plan = parseYaml(readFileSync(file, 'utf8')) as {
      phases: Array<{ name: string; steps?: Array<{ params: { rebuilds: Array<{ node: string }> } }> }>;
    };
    const itemsPerNode = new Map<string, number>();
    for (const step of plan.phases.find((p) => p.name === 'rebuild')?.steps ?? [])
      for (const item of step.params.rebuilds) itemsPerNode.set(item.node, (itemsPerNode.get(item.node) ?? 0) + 1);
    return { file, itemsPerNode };
  }

  async function activeRebuild(): Promise<string | undefined> {
    for (const node of dest.nodes)
      if (
        (await sessionsOf(node.address, 'new')).some((s) => /rebuild/i.test(s.operation) && /init|start/.test(s.status))
      )
        return node.address;
    return undefined;
  }

  test('agents killed (-9) mid-rebuild, then a node restarted mid-rebuild: the run resumes and no completed session streams again', async () => {
    const keys = await loadKeyspace('big', 3000);
    await throttle(1);
    const { file, itemsPerNode } = await migratePlan('big');
    const before = new Map<string, Set<string>>();
    for (const node of dest.nodes) before.set(node.address, new Set(await streamingSessions(node.address)));
    const newSessions = async (address: string) =>
      (await sessionsOf(address, 'new')).filter((s) => !before.get(address)?.has(s.id) && /rebuild/i.test(s.operation));

    const apply = await fleet.startDrover('apply-big', ['apply', file, '--yes']);
    await waitFor(
      async () =>
        (
          await Promise.all(
            dest.nodes.map(async (n) => (await newSessions(n.address)).some((s) => s.status === 'success')),
          )
        ).some(Boolean) && (await activeRebuild()) !== undefined,
      { timeoutMs: 240_000, intervalMs: 500, what: 'one rebuild of big finished and another streaming' },
    );
    await dest.killAgents();
    await new Promise((r) => setTimeout(r, 2000));
    await dest.restartAgents();
    const applied = await apply.exited;
    assert.notEqual(applied.code, 0, 'the run stops: the agents died with their orders');
    const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(apply.logTail(400))?.[1] ?? '';
    assert.ok(runId, apply.logTail(40));

    const resume = await fleet.startDrover('resume-big', ['run', 'resume', runId, '--yes']);
    const restarted = await waitFor(async () => activeRebuild(), {
      timeoutMs: 240_000,
      intervalMs: 500,
      what: 'a rebuild streaming after the resume',
    });
    const victim = dest.nodes.find((n) => n.address === restarted)!;
    const bounced = await drover([
      'run',
      'service',
      '--selector',
      `cluster=c1,role=destination,rack=${victim.rack}`,
      '--param',
      'name=cassandra',
      '--param',
      'action=restart',
    ]);
    assert.equal(bounced.code, 0, bounced.output);
    const resumed = await resume.exited;
    assert.equal(resumed.code, 0, resume.logTail(80));
    assert.match(resume.logTail(400), /succeeded/);

    for (const node of dest.nodes) {
      const sessions = await newSessions(node.address);
      const completed = sessions.filter((s) => s.status === 'success' && s.bytes > 0).length;
      const planned = itemsPerNode.get(node.address) ?? 0;
      t_diag(
        `${node.name}: ${planned} planned rebuild(s), ${completed} completed session(s) with data, ${sessions.filter((s) => s.status === 'failure').length} failed`,
      );
      assert.ok(completed <= planned, `${node.name}: ${completed} completed sessions for ${planned} planned rebuilds`);
    }
    const nodes = [...harnessNodes(cluster, 'old'), ...allNodes().filter((n) => n.datacenter === 'new')];
    const shortfall = await shortfallOf(nodes, keys, 'new', 'big', 'blobs');
    assert.equal(shortfall.short.length, 0, JSON.stringify(shortfall.destHistogram));
  });

  test('table drops that ask the status signal let the rebuild finish; the same drops without it break one', async () => {
    await loadKeyspace('drops', 300);
    const c = client('old', cluster.contactPoints('old'));
    const failedSessions = async () => {
      let n = 0;
      for (const node of dest.nodes)
        n += (await sessionsOf(node.address, 'new')).filter((x) => x.status === 'failure').length;
      return n;
    };
    /** The customer's tables: created with 600 random rows each, flushed, so rebuilds stream them. */
    const makeTables = async (names: string[]) => {
      for (const name of names) {
        await c.execute(`CREATE TABLE drops.${name} (id text PRIMARY KEY, v blob)`);
        await fill(c, `drops.${name}`, 600);
      }
      for (const node of oldNodes()) await cluster.nodetool(node, ['flush', 'drops']);
    };
    try {
      await c.execute(
        "ALTER KEYSPACE drops WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 3, 'new': 3}",
      );
      const { file } = await migratePlan('drops');
      const plan = parseYaml(readFileSync(file, 'utf8')) as {
        phases: Array<{ name: string; steps?: Array<{ params: { sourceDc: string; rebuilds: unknown[] } }> }>;
      };
      const firstWave = plan.phases.find((p) => p.name === 'rebuild')!.steps![0]!.params;

      // Without the signal: the plan's first wave run once (no retry), and the automation drops its
      // tables as soon as the nodes stream.
      await makeTables(['n0', 'n1', 'n2', 'n3']);
      // 2 megabits/s (a quarter of a MiB) per source: the wave streams for ~30 s, so the drops land
      // while the tables are still in flight (at 1 MiB/s CI once saw every stream done before them).
      for (const node of oldNodes()) await cluster.nodetool(node, ['setstreamthroughput', '2']);
      const blind = drover([
        'run',
        'cassandra.rebuild',
        '--selector',
        'cluster=c1,role=destination',
        '--param',
        `sourceDc=${firstWave.sourceDc}`,
        '--param',
        `rebuilds=${JSON.stringify(firstWave.rebuilds)}`,
        '--param',
        'attempts=1',
      ]);
      await waitFor(async () => activeRebuild(), { timeoutMs: 120_000, intervalMs: 200, what: 'a rebuild streaming' });
      for (const name of ['n0', 'n1', 'n2', 'n3']) await c.execute(`DROP TABLE drops.${name}`);
      const broken = await blind;
      t_diag(`without the signal: 4 tables dropped while streaming; the wave exited ${broken.code}`);
      assert.notEqual(
        broken.code,
        0,
        `a table dropped during streaming breaks the rebuild:\n${broken.output.slice(-1500)}`,
      );
      assert.match(broken.output, /dropped|stream/i);
      await throttle(1);

      // With the signal: the whole plan applied while the automation creates a table and drops the
      // oldest one every 2 s, but only when GET /v1/cluster/status says 200.
      await makeTables(['s0', 's1']);
      const tables = ['s0', 's1'];
      const counts = { dropped: 0, held: 0 };
      let looping = true;
      const loop = (async () => {
        for (let i = 2; looping; i++) {
          const status = await fetch(`http://127.0.0.1:${dest.statusPorts[0]}/v1/cluster/status`).then((r) => r.status);
          if (status === 200) {
            await c.execute(`CREATE TABLE drops.s${i} (id text PRIMARY KEY, v blob)`);
            await fill(c, `drops.s${i}`, 50);
            tables.push(`s${i}`);
            await c.execute(`DROP TABLE drops.${tables.shift()}`);
            counts.dropped++;
          } else counts.held++;
          await new Promise((r) => setTimeout(r, 2000));
        }
      })();
      const failuresBefore = await failedSessions();
      const run = await droverJson<PlanRun>(['apply', file, '--yes'], 900_000);
      looping = false;
      await loop;
      t_diag(`with the signal: ${counts.dropped} tables dropped, ${counts.held} drops held back; run ${run.state}`);
      assert.equal(run.state, 'succeeded', run.message);
      assert.ok(counts.held > 0, 'the automation held back while nodes rebuilt');
      assert.equal(await failedSessions(), failuresBefore, 'no rebuild session broke (none had to be retried)');
    } finally {
      await c.shutdown();
      await throttle(0);
    }
  });
});

describe('a source node down before the run', () => {
  test('the ranges at risk are reported and no plan is written (a fallback would break one-to-one)', async () => {
    const down = cluster.nodes.find((n) => n.datacenter === 'old')!;
    await cluster.stop(down);
    try {
      const file = join(fleet.dir, 'down.yaml');
      const refused = await drover(
        cassandraMigrateArgs({
          cluster: 'c1',
          delegate: dest.agentIds[0]!,
          destDc: 'new',
          out: file,
          extra: ['--keyspaces', KEYSPACE],
        }),
      );
      assert.equal(refused.code, 2, refused.output);
      assert.match(
        refused.output,
        new RegExp(`at risk: shop \\(-?\\d+,-?\\d+\\] on [\\d.]+: .*${down.address.replaceAll('.', '\\.')}`),
      );
      assert.match(refused.output, /no range at risk \(\d+ listed above/);
      assert.equal(existsSync(file), false, 'no plan written');
    } finally {
      await cluster.restart(down);
    }
  });
});

describe('the same data, rebuilt the plain way', () => {
  test('a plain `nodetool rebuild -- old` into a third DC leaves rows on fewer replicas; a later rebuild there aborts without the property', async () => {
    const plain = await cluster.addDatacenter({ name: 'plain', racks: ['b1', 'b2', 'b3'], nodes: 3 });
    const c = client('old', cluster.contactPoints('old'));
    try {
      await c.execute(
        `ALTER KEYSPACE ${KEYSPACE} WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 3, 'new': 3, 'plain': 3}`,
      );
    } finally {
      await c.shutdown();
    }
    for (const node of plain) await cluster.nodetool(node, ['rebuild', '-ks', KEYSPACE, '--', 'old']);
    const nodes = [...harnessNodes(cluster, 'old'), ...harnessNodes(cluster, 'plain')];
    const shortfall = await shortfallOf(nodes, skewed.keys, 'plain');
    t_diag(
      `plain rebuild: ${shortfall.short.length} of ${shortfall.rows} rows short, ${shortfall.none.length} on none`,
    );
    assert.ok(
      shortfall.short.length > 0,
      `a plain rebuild lost replicas (source ${JSON.stringify(shortfall.sourceHistogram)}, plain ${JSON.stringify(shortfall.destHistogram)})`,
    );

    // CASSANDRA-17679: a later rebuild of the keyspace asking for fewer ranges than are recorded
    // aborts on a node without -Dcassandra.reset_bootstrap_progress=false (the plain DC's nodes)…
    const ring = parseDescribeRing((await cluster.nodetool(plain[0]!, ['describering', KEYSPACE])).stdout);
    const range = ring[0]!;
    const source = range.endpoints.find((e) => e.datacenter === 'old')!.host;
    const again = [
      'rebuild',
      '-ks',
      KEYSPACE,
      '-ts',
      `(${range.range[0]},${range.range[1]}]`,
      '-s',
      source,
      '--',
      'old',
    ];
    const refused = await cluster.nodetool(plain[0]!, again, { check: false });
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /Discovered existing bootstrap data/);
    // …and is skipped on a node prepared by Drover (every range of it is recorded there already).
    const prepared = await nodetool(allNodes().find((n) => n.datacenter === 'new')!, again);
    assert.equal(prepared.code, 0);
    await cluster.stop(plain[0]);
    await cluster.stop(plain[1]);
    await cluster.stop(plain[2]);
  });
});

function t_diag(message: string): void {
  process.stdout.write(`# ${message}\n`);
}
