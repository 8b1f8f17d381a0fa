// `npm run demo -- cassandra`: a real Cassandra migration on loopback, the seed's procedure done by
// Drover's agents. A 3-node source datacenter `old` (Cassandra 5.0, racks r1..r3) holding a keyspace
// made inconsistent the seed's way (rows written with one, then two, replicas down and hints off, so
// rows sit on 3, 2 or 1 of the 3 replicas), an agent on each node; a new datacenter `new` of 3 staged
// nodes (racks a1..a3, another cloud's zones) whose agents run them as a `cassandra` service. Then,
// with a client writing and reading back at LOCAL_QUORUM the whole time: `drover run
// cassandra.node-prepare` has the agents start the new nodes with
// -Dcassandra.reset_bootstrap_progress=false; `drover cassandra migrate` reads the live cluster
// through an agent and writes the plan (every new replica streams from a DISTINCT old replica);
// `drover apply` carries it out (prepare, extend, rebuild waves, verify) with live progress and stops
// at the approval to move clients; `drover cassandra status` shows the cluster available and `drover
// run approve` finishes it. The proof, from every node's LOCAL data (sstables read offline): every
// row is on at least as many new-DC replicas as old-DC replicas; every row written at LOCAL_QUORUM is
// read back at LOCAL_QUORUM in the new DC; the client saw no error. Exits non-zero when any part of
// the proof fails. Everything is stopped at the end, also on failure.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  loadPlanFile,
  type PlanRun,
  type PlanShow,
  type ResolvedPlan,
  type ResolvedStep,
  tailEvents,
} from '@drover/coordinator';
import type { ClusterStatusSummary } from '@drover/shared';
import cassandra from 'cassandra-driver';
import {
  harnessNodes,
  type LocalNode,
  localKeys,
  replicaShortfall,
  writeSkewedRows,
} from '../test/fleet/cassandra-data.ts';
import {
  type CassandraDestinationNodes,
  type CassandraSourceAgents,
  cassandraMigrateArgs,
  startCassandraDestinationNodes,
  startCassandraSourceAgents,
} from '../test/fleet/cassandra-nodes.ts';
import { createFleet, DROVER_BIN, type Fleet, NODE } from '../test/fleet/fleet.ts';
import { connect } from '../test/fleet/jobs.ts';
import { startLiveStatus } from '../test/fleet/serve.ts';
import { type CassandraCluster, startCassandra } from '../test/harness/cassandra.ts';
import { CommandFailedError } from '../test/harness/errors.ts';
import { type NatsCluster, startNats } from '../test/harness/nats.ts';
import { makeTempDir, runCommand } from '../test/harness/process.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '3000' } } });
const CLUSTER = 'cassandra-a';
const KEYSPACE = 'shop';
const TABLE = 'items';
const started = Date.now();
const elapsed = (from = started) => `${((Date.now() - from) / 1000).toFixed(1)} s`;
const say = (text: string) => process.stdout.write(`\n=== [${elapsed()}] ${text}\n`);
const print = (text: string) => process.stdout.write(`${text}\n`);
const timings: Array<[string, string]> = [];
let stepStarted = Date.now();
/** Records how long the step since the previous mark took. */
function mark(what: string): void {
  timings.push([what, elapsed(stepStarted)]);
  stepStarted = Date.now();
}

/**
 * Runs the drover CLI with its output shown live, each line prefixed; returns what it printed.
 * `onLine` sees every line as it comes (to follow the run's phases).
 */
function drover(
  args: string[],
  options: { prefix?: string; onLine?: (line: string) => void } = {},
): Promise<{ code: number | null; output: string }> {
  const prefix = options.prefix ?? '';
  return new Promise((resolve) => {
    const child = spawn(NODE, [DROVER_BIN, ...args], {
      env: { ...process.env, ...fleet.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const forward = () => {
      let pending = '';
      const emit = (line: string) => {
        process.stdout.write(`${prefix}${line}\n`);
        options.onLine?.(line);
      };
      return {
        data: (chunk: Buffer) => {
          const text = chunk.toString();
          output += text;
          const lines = (pending + text).split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) emit(line);
        },
        flush: () => {
          if (pending) emit(pending);
          pending = '';
        },
      };
    };
    const out = forward();
    const err = forward();
    child.stdout.on('data', out.data);
    child.stderr.on('data', err.data);
    child.once('close', (code) => {
      out.flush();
      err.flush();
      resolve({ code, output });
    });
  });
}

/** A DC-aware cassandra-driver client pinned to `datacenter`. */
function client(datacenter: string, contactPoints: string[]): cassandra.Client {
  return new cassandra.Client({
    contactPoints,
    localDataCenter: datacenter,
    policies: { loadBalancing: new cassandra.policies.loadBalancing.DCAwareRoundRobinPolicy(datacenter) },
    socketOptions: { readTimeout: 20_000 },
  });
}

const localQuorum = { prepare: true, consistency: cassandra.types.consistencies.localQuorum };

/** Writes a row every ~20 ms at LOCAL_QUORUM in the old DC and reads it back at LOCAL_QUORUM. */
class Workload {
  readonly written: string[] = [];
  readonly counts = { writes: 0, reads: 0, readMismatches: 0, errors: 0 };
  lastError = '';
  #running = false;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #client: cassandra.Client;

  constructor(contactPoints: string[]) {
    this.#client = client('old', contactPoints);
  }

  async start(): Promise<void> {
    await this.#client.connect();
    this.#running = true;
    this.#loop = (async () => {
      for (let i = 0; this.#running; i++) {
        const key = `client-${String(i).padStart(6, '0')}`;
        try {
          await this.#client.execute(
            `INSERT INTO ${KEYSPACE}.${TABLE} (id, v) VALUES (?, ?)`,
            [key, `v${i}`],
            localQuorum,
          );
          this.counts.writes++;
          this.written.push(key);
          const rows = (
            await this.#client.execute(`SELECT v FROM ${KEYSPACE}.${TABLE} WHERE id = ?`, [key], localQuorum)
          ).rows;
          this.counts.reads++;
          if (rows.length !== 1 || rows[0]?.get('v') !== `v${i}`) this.counts.readMismatches++;
        } catch (error) {
          this.counts.errors++;
          this.lastError = (error as Error).message;
        }
        await sleep(20);
      }
    })();
  }

  text(): string {
    const { writes, reads, readMismatches, errors } = this.counts;
    return `client: ${writes} rows written at LOCAL_QUORUM, ${reads} read back at LOCAL_QUORUM (${readMismatches} not as written), ${errors} errors${errors ? ` (last: ${this.lastError})` : ''}`;
  }

  /** Stops writing and closes the client (once; later calls return at once). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#running = false;
    await this.#loop;
    await this.#client.shutdown();
  }
}

/** `drover cassandra status --json` every few seconds, one line per change (or every 10 s). */
function pollStatus(): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    let last = '';
    let lastAt = 0;
    while (running) {
      const result = await fleet.drover(['cassandra', 'status', '--cluster', CLUSTER, '--json'], { timeoutMs: 30_000 });
      try {
        const summary = JSON.parse(result.stdout) as ClusterStatusSummary;
        const text = summary.nodes
          .filter((n) => n.datacenter === 'new')
          .map((n) => {
            const s = n.streaming;
            const streaming =
              s.sessions > 0 ? ` ${s.sessions} stream(s) ${kib(s.bytesReceived)}/${kib(s.bytesToReceive)} KiB` : '';
            return `${n.agent.replace(`${CLUSTER}-`, '')} ${n.state}${streaming}`;
          })
          .join(' | ');
        if (text !== last || Date.now() - lastAt > 10_000) {
          print(`  [status] ${new Date().toISOString().slice(11, 19)} ${text}`);
          last = text;
          lastAt = Date.now();
        }
      } catch {
        print(`  [status] no answer (exit ${result.code}): ${result.output.trim().split('\n').at(-1) ?? ''}`);
      }
      for (let i = 0; i < 6 && running; i++) await sleep(500);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);

/** Agents' progress events (what `drover tail` shows), printed as they come, until stopped. */
async function followProgress(): Promise<{ stop(): Promise<void> }> {
  const d = await connect(fleet);
  const abort = new AbortController();
  const loop = (async () => {
    try {
      for await (const event of tailEvents(d, { signal: abort.signal })) {
        if (event.kind !== 'progress') continue;
        const message = String(event.data.message ?? '');
        print(
          `  [agent] ${new Date(event.at).toISOString().slice(11, 19)} ${event.agentId.replace(`${CLUSTER}-`, '')}: ${message}`,
        );
      }
    } catch (error) {
      if (!abort.signal.aborted) print(`  [agent] progress feed ended: ${(error as Error).message}`);
    }
  })();
  return {
    stop: async () => {
      abort.abort();
      await Promise.race([loop, sleep(3000)]);
      await d.close();
    },
  };
}

/**
 * The plan as the demo prints it: each phase with its description, its steps and gate checks (with
 * the number of agents `drover plan show` resolved), and every rebuild as `new node <- old node`.
 * The rebuilds come from the plan file itself: `plan show` redacts params whose name contains "key".
 */
function planSummary(plan: ResolvedPlan, shown: PlanShow, nameOf: (address: string) => string): string[] {
  const lines: string[] = [];
  for (const [pi, phase] of plan.phases.entries()) {
    const resolved = new Map((shown.phases[pi]?.orders ?? []).map((o) => [`${o.kind} ${o.name}`, o.targets.length]));
    lines.push(
      `  phase ${pi + 1}/${plan.phases.length} ${phase.name}${phase.approval ? ' (waits for approval)' : ''}: ${phase.description ?? ''}`,
    );
    const orders: Array<['step' | 'gate', ResolvedStep]> = [
      ...phase.steps.map((s): ['step', ResolvedStep] => ['step', s]),
      ...phase.gate.map((s): ['gate', ResolvedStep] => ['gate', s]),
    ];
    for (const [kind, order] of orders) {
      const head = `    ${kind} ${order.name}: ${order.step} on ${resolved.get(`${kind} ${order.name}`) ?? '?'} agent(s)`;
      const rebuilds = order.params.rebuilds as
        | Array<{ node: string; keyspace: string; source: string; ranges: unknown[] }>
        | undefined;
      lines.push(
        rebuilds
          ? `${head}: ${rebuilds.map((r) => `${nameOf(r.node)} <- ${nameOf(r.source)} ${r.keyspace} (${r.ranges.length} ranges)`).join(', ')}`
          : head,
      );
    }
  }
  return lines;
}

function histogram(h: Record<number, number>): string {
  return [3, 2, 1, 0].map((n) => `${n} replica(s): ${h[n] ?? 0}`).join(', ');
}

let nats: NatsCluster | undefined;
let fleet: Fleet;
let cluster: CassandraCluster | undefined;
let sources: CassandraSourceAgents | undefined;
let dest: CassandraDestinationNodes | undefined;
let workload: Workload | undefined;
let ok = false;
let runId: string | undefined;

try {
  say('a local nats-server (JetStream) and the source datacenter `old`: 3 Cassandra 5.0 nodes, racks r1, r2, r3');
  nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('demo-cassandra'), nats.urls, nats.security);
  await (await connect(fleet)).close(); // creates Drover's streams and buckets (the agents wait for them)
  cluster = await startCassandra({ datacenters: [{ name: 'old', racks: ['r1', 'r2', 'r3'], nodes: 3 }] });
  print(`nats ${nats.urls[0]}; cluster ${cluster.clusterName} (Cassandra ${cluster.version}):`);
  for (const n of cluster.nodes) print(`  ${n.name} ${n.address} dc ${n.datacenter} rack ${n.rack}`);
  print(`work folder ${fleet.dir} (kept if the demo fails)`);
  const live = await startLiveStatus(fleet);
  print(
    `live status (drover serve): ${live.url}?token=$(cat ${live.tokenFile})  (fleet, plan runs, per-target progress)`,
  );
  mark('nats + 3 source nodes started');

  say(
    `data written the way a real fleet drifts between repairs: ${values.rows} rows of ${KEYSPACE}.${TABLE} (RF 3), hints off`,
  );
  const skewed = await writeSkewedRows(cluster, {
    keyspace: KEYSPACE,
    table: TABLE,
    datacenter: 'old',
    rows: Number(values.rows),
  });
  for (const [i, r] of skewed.rounds.entries())
    print(
      `  round ${i + 1}: ${r.rows} rows (${r.firstKey}..${r.lastKey}) at ${r.consistency}` +
        `${r.stopped.length ? ` with ${r.stopped.join(', ')} stopped` : ', every node up'}: on ${r.expectedReplicas} of 3 replicas`,
    );
  mark('skewed rows written');

  say(
    `one Drover agent per source node; the new datacenter \`new\`: 3 staged nodes (racks a1, a2, a3) run by their agents`,
  );
  sources = await startCassandraSourceAgents(fleet, cluster, { cluster: CLUSTER });
  dest = await startCassandraDestinationNodes(fleet, cluster, {
    cluster: CLUSTER,
    datacenter: 'new',
    racks: ['a1', 'a2', 'a3'],
    nodes: 3,
  });
  for (const n of dest.nodes) print(`  ${n.name} ${n.address} dc ${n.datacenter} rack ${n.rack} (not started)`);
  await drover(['agents']);
  mark('agents started, new DC staged');

  say(
    '1. drover run cassandra.node-prepare: the agents start the new nodes with -Dcassandra.reset_bootstrap_progress=false',
  );
  const prepare = await drover(
    ['run', 'cassandra.node-prepare', '--selector', `cluster=${CLUSTER},role=destination`, '--concurrency', '1'],
    { prefix: '  ' },
  );
  if (prepare.code !== 0) throw new Error(`drover run cassandra.node-prepare exited ${prepare.code}`);
  await cluster.waitSettled([...cluster.nodes, ...dest.nodes].map((n) => n.address));
  print((await cluster.nodetool(cluster.nodes[0]!, ['status'])).stdout.trimEnd());
  mark('new nodes started by their agents, cluster settled');

  say('2. a client in DC old: a row every ~20 ms at LOCAL_QUORUM, read back at LOCAL_QUORUM, for the whole migration');
  workload = new Workload(cluster.contactPoints('old'));
  await workload.start();
  await sleep(3000);
  print(workload.text());
  mark('client started');

  say('3. drover cassandra migrate: read the live cluster through the agents, plan the consistent rebuild');
  const planFile = join(fleet.dir, `${CLUSTER}.plan.yaml`);
  const migrate = await drover(
    cassandraMigrateArgs({
      cluster: CLUSTER,
      delegate: dest.agentIds[0]!,
      destDc: 'new',
      out: planFile,
      extra: ['--rf', '3'],
    }),
    { prefix: '  ' },
  );
  if (migrate.code !== 0) throw new Error(`drover cassandra migrate exited ${migrate.code}`);
  const shown = await fleet.drover(['plan', 'show', planFile, '--json']);
  if (shown.code !== 0) throw new Error(`drover plan show exited ${shown.code}:\n${shown.output}`);
  const shownPlan = JSON.parse(shown.stdout) as PlanShow;
  const names = new Map([...cluster.nodes, ...dest.nodes].map((n) => [n.address, n.name]));
  print(`the plan (${planFile}; 'drover plan show' resolves its targets):`);
  for (const line of planSummary(loadPlanFile(planFile).plan, shownPlan, (a) => names.get(a) ?? a)) print(line);
  print(shownPlan.problems.length ? `problems: ${shownPlan.problems.map((p) => p.message).join('; ')}` : 'no problems');
  if (shownPlan.problems.length) throw new Error('the plan has problems');
  mark('plan written (migrate + plan show)');

  say(
    '4. drover apply: prepare, extend, rebuild waves, verify; it stops at the approval point move-clients. ' +
      "Live: the run's lines, the agents' progress events, and `drover cassandra status --json` every 3 s during the rebuild",
  );
  const progress = await followProgress();
  let poller: { stop(): Promise<void> } | undefined;
  const stopPoller = async () => {
    const p = poller;
    poller = undefined;
    await p?.stop();
  };
  const applied = await drover(['apply', planFile], {
    prefix: '  [apply] ',
    onLine: (line) => {
      if (!poller && /\[run rebuild\] phase \d+\/\d+ rebuild:/.test(line)) poller = pollStatus();
      else if (poller && /\[run (verify|move-clients)\]|\[run rebuild\] phase rebuild (succeeded|failed)/.test(line))
        void stopPoller();
    },
  });
  await stopPoller();
  runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(applied.output)?.[1];
  const waiting = new RegExp(`approve with: drover run approve ${runId} --phase move-clients`).test(applied.output);
  print(workload.text());
  mark('drover apply up to the approval');
  if (!runId || applied.code !== 0 || !waiting) {
    await progress.stop();
    throw new Error(`drover apply exited ${applied.code} without waiting at move-clients (run ${runId})`);
  }

  say(`the run waits for approval at move-clients; meanwhile: drover cassandra status --cluster ${CLUSTER}`);
  await drover(['cassandra', 'status', '--cluster', CLUSTER], { prefix: '  ' });
  print(
    'a real fleet moves its clients to DC new here (DC-aware policy, localDc new, LOCAL_* consistency); ' +
      "the demo's client keeps writing in DC old, and the proof reads every row in DC new",
  );

  say(`drover run approve ${runId}: the move-clients gate checks every new node is available, and the run finishes`);
  const approved = await drover(['run', 'approve', runId, '--by', 'demo'], { prefix: '  [approve] ' });
  await progress.stop();
  mark('approval and the rest of the run');
  const described = await fleet.drover(['run', 'describe', runId, '--json']);
  const run = JSON.parse(described.stdout) as PlanRun;
  print(
    `run ${run.id} ${run.state}; phases: ${run.phases
      .map((p) => `${p.name} ${(((p.finishedAt ?? 0) - (p.startedAt ?? 0)) / 1000).toFixed(1)} s`)
      .join(', ')}`,
  );

  say('5. the proof: every node’s LOCAL data (nodetool snapshot + sstables read offline), then reads in DC new');
  await sleep(2000);
  await workload.stop();
  const clientCounts = { ...workload.counts };
  const allNodes: LocalNode[] = [
    ...harnessNodes(cluster),
    ...dest.nodes.map((n) => ({ name: n.name, address: n.address, datacenter: n.datacenter, dataDir: n.dataDir })),
  ];
  const staged = dest.nodes;
  const c = cluster;
  const local = await localKeys(
    allNodes,
    KEYSPACE,
    TABLE,
    async (node, argv) => {
      const s = staged.find((n) => n.name === node.name);
      if (!s) return c.nodetool(node.name, argv);
      const [program, ...prefix] = s.nodetoolArgv;
      const result = await runCommand(program!, [...prefix, ...argv], { timeoutMs: 120_000 });
      if (result.code !== 0) throw new CommandFailedError(`nodetool ${argv.join(' ')}`, result.code, result.output);
      return result;
    },
    {
      onNode: (n) =>
        print(`  ${n.node}: ${n.keys} keys in ${n.sstables} sstable(s) (${(n.durationMs / 1000).toFixed(1)} s)`),
    },
  );
  const shortfall = replicaShortfall(
    skewed.keys,
    local,
    new Map(allNodes.map((n) => [n.name, n.datacenter])),
    'old',
    'new',
  );
  const sourceOnFewer = [1, 2].reduce((sum, n) => sum + (shortfall.sourceHistogram[n] ?? 0), 0);

  const reader = client(
    'new',
    dest.nodes.map((n) => n.address),
  );
  await reader.connect();
  const quorumWritten = [...skewed.keys.filter((k) => k.startsWith('r1-')), ...workload.written];
  const missing: string[] = [];
  let readErrors = 0;
  const readStarted = Date.now();
  try {
    let next = 0;
    const worker = async () => {
      while (next < quorumWritten.length) {
        const key = quorumWritten[next++]!;
        try {
          const rows = (await reader.execute(`SELECT v FROM ${KEYSPACE}.${TABLE} WHERE id = ?`, [key], localQuorum))
            .rows;
          if (rows.length !== 1) missing.push(key);
        } catch {
          readErrors++;
          missing.push(key);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    await reader.shutdown();
  }
  const r1 = skewed.keys.filter((k) => k.startsWith('r1-')).length;
  print(
    [
      '',
      `rows of the inconsistent data set: ${shortfall.rows}`,
      `  on old-DC replicas: ${histogram(shortfall.sourceHistogram)}`,
      `  on new-DC replicas: ${histogram(shortfall.destHistogram)}`,
      `rows on fewer new-DC replicas than old: ${shortfall.short.length}${shortfall.short.length ? ` (e.g. ${shortfall.short.slice(0, 5).join(', ')})` : ''}`,
      `rows on no new-DC replica: ${shortfall.none.length}`,
      `rows written at LOCAL_QUORUM (round 1: ${r1}, the client: ${workload.written.length}) read at LOCAL_QUORUM in DC new: ` +
        `${quorumWritten.length - missing.length}/${quorumWritten.length} found, ${missing.length} missing${readErrors ? ` (${readErrors} read errors)` : ''} (${elapsed(readStarted)})`,
      `client during the migration: ${clientCounts.writes} writes, ${clientCounts.reads} reads back, ${clientCounts.readMismatches} not as written, ${clientCounts.errors} errors${clientCounts.errors ? ` (last: ${workload.lastError})` : ''}`,
      `run ${runId}: ${run.state}`,
      '',
    ].join('\n'),
  );
  mark('proof (local keys of 6 nodes, reads in DC new)');
  const checks: Array<[string, boolean]> = [
    ['drover run approve exited 0 and the run succeeded', approved.code === 0 && run.state === 'succeeded'],
    ['the source DC was inconsistent (rows on 1 or 2 old replicas)', sourceOnFewer > 0],
    ['no row on fewer new-DC replicas than old', shortfall.short.length === 0],
    ['every LOCAL_QUORUM row read at LOCAL_QUORUM in DC new', missing.length === 0 && quorumWritten.length > 0],
    ['the client wrote during the migration', clientCounts.writes > 50],
    ['the client saw no error and read back every row', clientCounts.errors === 0 && clientCounts.readMismatches === 0],
  ];
  for (const [what, passed] of checks) print(`${passed ? 'ok  ' : 'FAIL'} ${what}`);
  ok = checks.every(([, passed]) => passed);
} catch (error) {
  process.stdout.write(`\nERROR: ${(error as Error).stack ?? error}\n`);
  if (workload) print(workload.text());
} finally {
  say('6. stopping everything: the client, the new DC (through its agents), the source agents, the old DC, nats');
  const stopping = Date.now();
  const attempt = async (what: string, stop: () => Promise<void>) => {
    try {
      await stop();
    } catch (error) {
      print(`could not stop ${what}: ${(error as Error).message}`);
    }
  };
  if (workload) await attempt('the client', () => workload!.stop());
  if (dest) await attempt('the new DC', () => dest!.stop());
  if (sources) await attempt('the source agents', () => sources!.stop());
  if (cluster) await attempt('the old DC', () => cluster!.stop());
  if (nats) await attempt('nats', () => nats!.stop());
  print(`stopped in ${elapsed(stopping)}`);
  mark('stop');
}
print('\nstep timings:');
for (const [what, took] of timings) print(`  ${took.padStart(8)}  ${what}`);
say(`demo ${ok ? 'succeeded' : 'FAILED'} in ${elapsed()}${runId ? ` (run ${runId})` : ''}`);
process.exit(ok ? 0 : 1);
