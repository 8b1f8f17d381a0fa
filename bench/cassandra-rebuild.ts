// `npm run bench:cassandra-rebuild -- --mb 200`: what Drover's parallel consistent rebuild buys over
// the way Minotaur does it. A 3-node source DC on loopback holding --mb megabytes per replica
// (incompressible rows), and two empty 3-node DCs whose nodes Drover's agents start with
// -Dcassandra.reset_bootstrap_progress=false. In the same run:
//   sequential  DC `seq`: the consistent plan's rebuilds (the same one-to-one sources), run one node
//               and one source at a time, each a `nodetool rebuild -ks -ts -s` on its node;
//   drover      DC `new`: `drover cassandra migrate --pipeline` + `drover apply`: one rebuild per node
//               at a time, nodes in parallel, at most one stream per source (--max-streams-per-source
//               1); a node starts its next rebuild as soon as its source is free (one step).
// Every source node's outbound stream throughput is capped at --throttle MiB/s (both streaming kinds),
// as production caps it; on loopback the cap, not the network, is what a parallel plan shares out.
// Drover's time is its rebuild phase (from the run record); the sequential time is the sum of its
// nodetool runs. Figures, not a test.
// LAST line: cassandra-rebuild bytes=… drover_s=… sequential_s=… speedup=…
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PlanRun } from '@drover/coordinator';
import cassandra from 'cassandra-driver';
import { parse as parseYaml } from 'yaml';
import { sessionsOf } from '../test/fleet/cassandra-data.ts';
import {
  cassandraMigrateArgs,
  startCassandraDestinationNodes,
  startCassandraSourceAgents,
} from '../test/fleet/cassandra-nodes.ts';
import { createFleet } from '../test/fleet/fleet.ts';
import { connect } from '../test/fleet/jobs.ts';
import { startCassandra } from '../test/harness/cassandra.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir, runCommand } from '../test/harness/process.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '200' },
    throttle: { type: 'string', default: '2' },
    tokens: { type: 'string', default: '16' },
  },
});
const KEYSPACE = 'bench';
const ROW_BYTES = 8192;
const rows = Math.ceil((Number(values.mb) * 1024 * 1024) / ROW_BYTES);
const say = (line: string) => process.stdout.write(`${line}\n`);

const nats = await startNats({ servers: 1 });
const fleet = createFleet(makeTempDir('bench-cassandra-rebuild'), nats.urls);
await (await connect(fleet)).close();
const cluster = await startCassandra({
  datacenters: [{ name: 'old', racks: ['r1', 'r2', 'r3'], nodes: 3 }],
  // Cassandra 4.0+'s default: with 4 random tokens a node's share of the ring varies by 2x or more,
  // and a wave lasts as long as its biggest rebuild.
  numTokens: Number(values.tokens),
});
const sources = await startCassandraSourceAgents(fleet, cluster, { cluster: 'bench' });
const seq = await startCassandraDestinationNodes(fleet, cluster, {
  cluster: 'bench',
  datacenter: 'seq',
  racks: ['s1', 's2', 's3'],
  nodes: 3,
});
const dest = await startCassandraDestinationNodes(fleet, cluster, {
  cluster: 'bench',
  datacenter: 'new',
  racks: ['a1', 'a2', 'a3'],
  nodes: 3,
});

async function drover(args: string[]) {
  const result = await fleet.drover(args, { timeoutMs: 3_600_000 });
  if (result.code !== 0) throw new Error(`drover ${args.join(' ')} (exit ${result.code}):\n${result.output}`);
  return result;
}

try {
  // 1. Data: incompressible rows, replicated 3 times in the old DC, flushed.
  const started = Date.now();
  const client = new cassandra.Client({
    contactPoints: cluster.contactPoints('old'),
    localDataCenter: 'old',
    policies: { loadBalancing: new cassandra.policies.loadBalancing.DCAwareRoundRobinPolicy('old') },
  });
  await client.execute(`CREATE KEYSPACE ${KEYSPACE} WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 3}`);
  await client.execute(`CREATE TABLE ${KEYSPACE}.rows (id text PRIMARY KEY, v blob)`);
  process.stdout.write(`writing ${rows} rows of ${ROW_BYTES} B (${values.mb} MiB per replica)… `);
  for (let i = 0; i < rows; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, rows - i) }, (_, j) =>
        client.execute(`INSERT INTO ${KEYSPACE}.rows (id, v) VALUES (?, ?)`, [`k${i + j}`, randomBytes(ROW_BYTES)], {
          prepare: true,
          consistency: cassandra.types.consistencies.localQuorum,
        }),
      ),
    );
  }
  await client.shutdown();
  for (const node of cluster.nodes) await cluster.nodetool(node, ['flush', KEYSPACE]);
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const node of cluster.nodes) {
    await cluster.nodetool(node, ['setstreamthroughput', '-m', values.throttle]);
    await cluster.nodetool(node, ['setstreamthroughput', '-e', values.throttle]);
  }

  // 2. Both new DCs' nodes started by their agents, with rebuilds made resumable.
  await drover(['run', 'cassandra.node-prepare', '--selector', 'cluster=bench,role=destination', '--concurrency', '1']);
  await cluster.waitSettled([...cluster.nodes, ...seq.nodes, ...dest.nodes].map((n) => n.address));

  // Cassandra 5.0 refuses a system_auth replication that leaves out a DC with live nodes, and both new
  // DCs are up from here on: system_auth gets all three at once (the extend steps then leave it).
  const admin = new cassandra.Client({
    contactPoints: cluster.contactPoints('old'),
    localDataCenter: 'old',
    policies: { loadBalancing: new cassandra.policies.loadBalancing.DCAwareRoundRobinPolicy('old') },
  });
  await admin.execute(
    "ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', 'old': 3, 'seq': 3, 'new': 3}",
  );
  await admin.shutdown();

  // 3. Sequential, the Minotaur way: the consistent plan for `seq`, one rebuild at a time.
  const seqFile = join(fleet.dir, 'seq.yaml');
  await drover(
    cassandraMigrateArgs({
      cluster: 'bench',
      delegate: seq.agentIds[0]!,
      destDc: 'seq',
      out: seqFile,
      extra: ['--keyspaces', KEYSPACE],
    }),
  );
  const seqPlan = parseYaml(readFileSync(seqFile, 'utf8')) as {
    phases: Array<{
      name: string;
      steps?: Array<{ params: Record<string, unknown> }>;
    }>;
  };
  // The plan's extend step, run by hand (same step, through Drover), then its rebuilds one by one.
  const extend = seqPlan.phases.find((p) => p.name === 'extend')?.steps?.[0]?.params ?? {};
  await drover([
    'run',
    'cassandra.keyspaces-extend',
    '--selector',
    `cluster=bench,role=destination,dc=seq,rack=s1`,
    ...Object.entries(extend).flatMap(([k, v]) => ['--param', `${k}=${JSON.stringify(v)}`]),
  ]);
  const items = (seqPlan.phases.find((p) => p.name === 'rebuild')?.steps ?? []).flatMap(
    (s) => s.params.rebuilds as Array<{ node: string; keyspace: string; source: string; ranges: [string, string][] }>,
  );
  const seqStarted = Date.now();
  for (const item of items) {
    const node = seq.nodes.find((n) => n.address === item.node);
    if (!node) throw new Error(`no seq node ${item.node}`);
    const [program, ...prefix] = node.nodetoolArgv;
    const ts = item.ranges.map(([s, e]) => `(${s},${e}]`).join(',');
    const t0 = Date.now();
    const result = await runCommand(
      program!,
      [...prefix, 'rebuild', '-ks', item.keyspace, '-ts', ts, '-s', item.source, '--', 'old'],
      { timeoutMs: 3_600_000 },
    );
    if (result.code !== 0) throw new Error(`sequential rebuild on ${node.name} failed:\n${result.output}`);
    say(`sequential: ${node.name} from ${item.source}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const sequentialS = (Date.now() - seqStarted) / 1000;
  say(`sequential: ${items.length} rebuilds in ${sequentialS.toFixed(1)} s`);

  // 4. Drover: the plan for `new`, applied.
  const file = join(fleet.dir, 'new.yaml');
  await drover(
    cassandraMigrateArgs({
      cluster: 'bench',
      delegate: dest.agentIds[0]!,
      destDc: 'new',
      out: file,
      // Masks over each node's replicated ranges instead of listed ranges: the same rebuilds, and the
      // compact form big clusters get is exercised on a real ring.
      extra: ['--keyspaces', KEYSPACE, '--max-streams-per-source', '1', '--compact-ranges', '--pipeline'],
    }),
  );
  const applied = await drover(['apply', file, '--yes', '--json']);
  const run = JSON.parse(applied.stdout) as PlanRun;
  if (run.state !== 'succeeded') throw new Error(`drover apply: ${run.state} ${run.message ?? ''}`);
  const phase = run.phases.find((p) => p.name === 'rebuild');
  const droverS = ((phase?.finishedAt ?? 0) - (phase?.startedAt ?? 0)) / 1000;
  say(`drover: rebuild phase ${droverS.toFixed(1)} s (${phase?.steps.length ?? 0} waves)`);

  // 5. Bytes: what the new DC's nodes hold, and what their rebuild sessions say they received.
  let streamed = 0;
  for (const node of dest.nodes)
    for (const session of await sessionsOf(node.address, 'new'))
      if (/rebuild/i.test(session.operation)) streamed += session.bytes;
  // What landed on disk (live SSTables of the table on each new node), to set `bytes` against.
  let onDisk = 0;
  for (const node of dest.nodes) {
    const [program, ...prefix] = node.nodetoolArgv;
    const out = await runCommand(program!, [...prefix, 'tablestats', `${KEYSPACE}.rows`], { timeoutMs: 120_000 });
    onDisk += Number(/Space used \(live\): (\d+)/.exec(out.output)?.[1] ?? Number.NaN);
  }
  const steps = phase?.steps ?? [];
  say(
    `drover: waves ${steps.map((s) => `${s.name} ${(((s.finishedAt ?? 0) - (s.startedAt ?? 0)) / 1000).toFixed(1)} s`).join(', ')}`,
  );
  // `bytes` is what landed (live bytes of the table on the new DC's nodes): system_views.streaming's
  // bytes_received overcounts (3x to 13x the bytes on disk in runs here, the factor varying between
  // runs), while the bytes on disk match the throttle and the times.
  say(
    `bytes: ${onDisk} live on disk in the new DC; system_views.streaming's bytes_received says ${streamed} (${(streamed / onDisk).toFixed(2)}x, overcounted)`,
  );
  say(
    `cassandra-rebuild bytes=${onDisk} drover_s=${droverS.toFixed(1)} sequential_s=${sequentialS.toFixed(1)} speedup=${(sequentialS / droverS).toFixed(2)}`,
  );
} finally {
  await dest.stop();
  await seq.stop();
  await sources.stop();
  await cluster.stop();
  await nats.stop();
}
