// Chaos: jobs over 60 agents on a 3-server JetStream cluster of the current nats-server (TLS,
// per-agent identities, R3 streams)
// while agent processes are SIGKILLed and restarted, the coordinator is SIGKILLed mid-job and the
// job resumed by another, NATS servers are killed and restarted, and the network between a quarter
// of the agents and every NATS server is cut for seconds (relays the test cuts). After every job, from the
// agents' journals (the ground truth) and the job's records:
//   - no order started twice on any agent;
//   - no result lost: every outcome an agent journaled is the one its target holds;
//   - every target in a final state, and the job finished.
// Then the same during a plan (`drover apply` of a plan whose phases each run a step on the 60 agents,
// its coordinator SIGKILLed and the run resumed with `drover run resume`), and last the whole JetStream
// state lost (every server killed, every store dir wiped): `drover reconcile` rebuilds every job of
// both tests from the agents' journals, and the same checks pass on what it rebuilt.
// Size: CHAOS_JOBS, CHAOS_HOST_KILLS (5 agents per host: one kill is 5 agent kills),
// CHAOS_COORDINATOR_KILLS, CHAOS_NATS_KILLS, CHAOS_NET_CUTS; for the plan CHAOS_PLAN_PHASES,
// CHAOS_PLAN_COORDINATOR_KILLS, CHAOS_PLAN_HOST_KILLS, CHAOS_PLAN_NATS_KILLS, CHAOS_PLAN_NET_CUTS. CI runs
// the defaults below, `npm run test:chaos:full` the size (100 agent kills, 20 coordinator kills).
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type Drover,
  enrollAgent,
  type JobRecord,
  listAgents,
  type PlanRun,
  type ReconcileReport,
  type RunRecord,
  readJob,
  readRuns,
} from '@drover/coordinator';
import { jobKey, loadOrCreateAgentKey, type OrderResult } from '@drover/shared';
import { type AgentSpec, connectCoordinator, createFleet, type Fleet } from '../fleet/fleet.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir, type ProcessHandle, waitFor } from '../harness/process.ts';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const JOBS = env('CHAOS_JOBS', 6);
const HOST_KILLS = env('CHAOS_HOST_KILLS', 6);
const COORDINATOR_KILLS = env('CHAOS_COORDINATOR_KILLS', 2);
const NATS_KILLS = env('CHAOS_NATS_KILLS', 2);
const NET_CUTS = env('CHAOS_NET_CUTS', 2);
const PLAN_PHASES = env('CHAOS_PLAN_PHASES', 4);
const PLAN_COORDINATOR_KILLS = env('CHAOS_PLAN_COORDINATOR_KILLS', 1);
const PLAN_CHAOS = {
  host: env('CHAOS_PLAN_HOST_KILLS', 2),
  nats: env('CHAOS_PLAN_NATS_KILLS', 1),
  net: env('CHAOS_PLAN_NET_CUTS', 1),
};
/** Every job of the job test and of the plan's steps, checked again after the state loss. */
const allJobs: string[] = [];
const HOSTS = 12;
const PER_HOST = 5;
/** Hosts whose agents reach NATS only through the relays (the ones a network cut cuts off). */
const BEHIND_RELAYS = 3;

let nats: NatsCluster;
let fleet: Fleet;
let d: Drover;
const hosts: Array<{ name: string; specs: AgentSpec[]; process: ProcessHandle | undefined }> = [];
/** One relay per NATS server, between the hosts behind relays and that server. */
let relays: TcpProxy[] = [];

before(async () => {
  // The current nats-server, as production must run (knowledge/executors.md: JetStream before 2.10.23
  // can lose a stream after crashes). Debian's 2.9.10 was seen here resetting DROVER_ORDERS ("stream
  // store EOF") after a server kill, which took the agents' consumers with it.
  nats = await startNats({ servers: 3, secure: true, version: 'current' });
  relays = await Promise.all(nats.servers.map((server) => startTcpProxy(server.port)));
  fleet = createFleet(makeTempDir('chaos'), nats.urls, nats.security);
  fleet.env.DROVER_STREAM_REPLICAS = '3';
  d = await connectCoordinator({ ...fleet.natsOptions, replicas: 3 });
  for (let h = 0; h < HOSTS; h++) {
    const specs = Array.from({ length: PER_HOST }, (_, i) => ({
      id: `chaos-${h}-${i}`,
      labels: { chaos: 'yes', host: `h${h}` },
      heartbeatMs: 2000,
      ackWaitMs: 4000,
      maxConcurrentOrders: 2,
      ...(h < BEHIND_RELAYS ? { natsUrls: relays.map((r) => `nats://127.0.0.1:${r.port}`) } : {}),
    }));
    hosts.push({ name: `chaos-h${h}`, specs, process: undefined });
  }
  for (const host of hosts) host.process = await fleet.startHost(host.name, host.specs);
});

after(async () => {
  await d?.close();
  await Promise.all(relays.map((r) => r.close()));
});

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Journal lines of one agent: how many times each order started, and its journaled outcome. */
function journal(agentId: string): { starts: Map<string, number>; ends: Map<string, OrderResult> } {
  const starts = new Map<string, number>();
  const ends = new Map<string, OrderResult>();
  let text = '';
  try {
    text = readFileSync(join(fleet.stateDir(agentId), 'journal.jsonl'), 'utf8');
  } catch {
    return { starts, ends };
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as { t: string; orderId: string; result?: OrderResult };
    if (entry.t === 'start') starts.set(entry.orderId, (starts.get(entry.orderId) ?? 0) + 1);
    if (entry.t === 'end' && entry.result) ends.set(entry.orderId, entry.result);
  }
  return { starts, ends };
}

const stats = {
  hostKills: 0,
  agentKills: 0,
  coordinatorKills: 0,
  natsKills: 0,
  netCuts: 0,
  jobs: 0,
  orders: 0,
  planPhases: 0,
  planCoordinatorKills: 0,
  /** Runs found stopped (not by a kill) after the chaos and resumed once by the test, as an operator would. */
  planExtraResumes: 0,
  reconciledJobs: 0,
};
/** How the targets ended, over every job (the chaos shows up as interrupted and late ones). */
const endings: Record<string, number> = {};

/** The chaos that runs while jobs do: host kills, NATS server kills and network cuts, spread over the jobs. */
async function chaos(
  until: () => boolean,
  budget: { host: number; nats: number; net: number } = { host: HOST_KILLS, nats: NATS_KILLS, net: NET_CUTS },
): Promise<void> {
  const left = { ...budget };
  while (!until() && left.host + left.nats + left.net > 0) {
    await pause(1500 + Math.random() * 2500);
    if (until()) break;
    // Each kind with the odds of what is left of it.
    const draw = Math.random() * (left.host + left.nats + left.net);
    if (draw < left.nats) {
      left.nats--;
      const i = Math.floor(Math.random() * 3);
      await nats.kill(i);
      stats.natsKills++;
      await pause(2000);
      await nats.restart(i);
    } else if (draw < left.nats + left.net) {
      left.net--;
      // The hosts behind relays lose every NATS server at once, for 3 to 8 s, mid-step or mid-report.
      const acceptedBefore = relays.reduce((n, r) => n + r.accepted, 0);
      for (const relay of relays) relay.cut();
      stats.netCuts++;
      await pause(3000 + Math.random() * 5000);
      for (const relay of relays) relay.heal();
      // Every agent behind the relays comes back THROUGH them (none went around on a learned address).
      await waitFor(() => relays.reduce((n, r) => n + r.accepted, 0) - acceptedBefore >= BEHIND_RELAYS * PER_HOST, {
        timeoutMs: 30_000,
        what: 'the agents behind the relays reconnected through them',
      });
    } else {
      left.host--;
      const host = pick(hosts);
      await host.process?.kill();
      stats.hostKills++;
      stats.agentKills += host.specs.length;
      await pause(500);
      host.process = await fleet.startHost(host.name, host.specs);
    }
  }
}

/** One job through the CLI; with `kill`, its coordinator is SIGKILLed mid-job and another resumes it. */
async function oneJob(n: number, kill: boolean): Promise<string> {
  const args = ['run', 'sleep', '--param', 'seconds=1', '--selector', 'chaos=yes', '--concurrency', '20'].concat([
    '--max-errors',
    '100%',
    '--delivery-timeout',
    '2m',
    '--timeout',
    '30s',
  ]);
  const cli = await fleet.startDrover(`chaos-job-${n}`, args);
  const jobId = await waitFor(() => /job (j-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(50))?.[1], {
    timeoutMs: 60_000,
    what: `job ${n} started`,
  });
  if (kill) {
    await pause(1000 + Math.random() * 2500);
    await cli.kill();
    stats.coordinatorKills++;
    const resumed = await fleet.drover(['job', 'resume', jobId, '--quiet'], { timeoutMs: 300_000 });
    appendFileSync(join(fleet.dir, 'logs', `chaos-resume-${n}.log`), resumed.output);
    assert.ok(resumed.code === 0 || resumed.code === 1, `job resume ${jobId}: ${resumed.output.slice(-800)}`);
    const { job } = await readJob(d.jobs, jobId);
    assert.notEqual(
      job.state,
      'running',
      `job resume ${jobId} exited ${resumed.code} with the job still running: ${resumed.output.slice(-800)}`,
    );
  } else {
    await cli.exited;
  }
  return jobId;
}

async function check(jobId: string, counting = true): Promise<void> {
  const { job } = await readJob(d.jobs, jobId);
  assert.notEqual(job.state, 'running', `job ${jobId} finished`);
  const runs = await readRuns(d.runs, job as JobRecord);
  for (const group of job.groups)
    for (const agentId of group.agents) {
      const run = runs.get(agentId) as RunRecord | undefined;
      assert.ok(run, `${jobId}: ${agentId} has a run record`);
      assert.ok(
        ['succeeded', 'failed', 'rejected', 'timed-out', 'no-response', 'cancelled', 'skipped'].includes(run.state),
        `${jobId}: ${agentId} ends in a final state, not ${run.state}`,
      );
      if (counting) endings[run.state] = (endings[run.state] ?? 0) + 1;
      // A record rebuilt by reconcile names its order by id only.
      const orderId = run.order?.orderId ?? run.orderId;
      if (!orderId) continue;
      if (counting) stats.orders++;
      const { starts, ends } = journal(agentId);
      assert.ok((starts.get(orderId) ?? 0) <= 1, `${orderId} started ${starts.get(orderId)} times on ${agentId}`);
      const ended = ends.get(orderId);
      if (ended)
        assert.equal(
          run.result?.status,
          ended.status,
          `${orderId}: ${agentId} journaled ${ended.status}; its target holds ${run.state} ${JSON.stringify(run.result?.error ?? '')}`,
        );
    }
}

test('jobs over 60 agents while agents, coordinators and NATS servers are killed: nothing runs twice, no result is lost, every target ends honestly', async () => {
  let done = false;
  const chaosRun = chaos(() => done);
  const killAt = new Set<number>();
  while (killAt.size < Math.min(COORDINATOR_KILLS, JOBS)) killAt.add(Math.floor(Math.random() * JOBS));
  const jobIds: string[] = [];
  try {
    for (let n = 0; n < JOBS; n++) jobIds.push(await oneJob(n, killAt.has(n)));
  } finally {
    done = true;
    await chaosRun;
  }
  // Every host back up, then every job checked against the journals.
  for (const host of hosts)
    if (!host.process || host.process.exitInfo) host.process = await fleet.startHost(host.name, host.specs);
  for (const jobId of jobIds) {
    await check(jobId);
    stats.jobs++;
  }
  allJobs.push(...jobIds);
  process.stdout.write(
    `# chaos: ${JSON.stringify(stats)}; targets ended ${JSON.stringify(endings)}; steps run twice 0, results lost 0\n`,
  );
  assert.equal(stats.jobs, JOBS);
});

/** The plan: PLAN_PHASES phases, each one step of 1 s sleeps on the 60 agents. */
function writeChaosPlan(): string {
  const phases = Array.from({ length: PLAN_PHASES }, (_, i) =>
    [
      `  - name: phase-${i + 1}`,
      '    steps:',
      '      - name: sleep',
      '        step: sleep',
      '        target: chaos=yes',
      '        params: { seconds: 1 }',
      '        concurrency: 20',
      "        maxErrors: '100%'",
      '        timeout: 30s',
      '        deliveryTimeout: 2m',
    ].join('\n'),
  );
  const file = join(fleet.dir, 'chaos-plan.yaml');
  writeFileSync(
    file,
    `apiVersion: drover/v1\nkind: Plan\nmetadata:\n  name: chaos\n  cluster: chaos\nphases:\n${phases.join('\n')}\n`,
  );
  return file;
}

test('a plan over 60 agents while agents, its coordinator and NATS servers are killed: the run resumes and ends, nothing runs twice, no result is lost', async () => {
  const file = writeChaosPlan();
  let done = false;
  const chaosRun = chaos(() => done, PLAN_CHAOS);
  let runId: string;
  try {
    let cli = await fleet.startDrover('chaos-plan', ['apply', file, '--yes']);
    runId = await waitFor(() => /^run (\S+): plan chaos/m.exec(cli.logTail(50))?.[1], {
      timeoutMs: 60_000,
      what: 'the plan run started',
    });
    for (let k = 0; k < PLAN_COORDINATOR_KILLS; k++) {
      await pause(1500 + Math.random() * 4000);
      if (cli.exitInfo) break; // the run ended first
      await cli.kill();
      stats.planCoordinatorKills++;
      // Another coordinator takes the run over once the dead one's lease lapses (15 s at most); it is
      // killed in turn only once it drives the run (a kill while it waits for the lease tests nothing).
      const next = await fleet.startDrover(`chaos-plan-resume-${k}`, ['run', 'resume', runId]);
      cli = next;
      await waitFor(() => /\[run\] resumed/.test(next.logTail(5000)) || next.exitInfo !== undefined, {
        timeoutMs: 90_000,
        what: `resume ${k} drives the run`,
      });
    }
    await cli.exited;
  } finally {
    done = true;
    await chaosRun;
  }
  for (const host of hosts)
    if (!host.process || host.process.exitInfo) host.process = await fleet.startHost(host.name, host.specs);
  let described = await fleet.drover(['run', 'describe', runId, '--json'], { timeoutMs: 60_000 });
  let run = JSON.parse(described.stdout) as PlanRun;
  if (run.state === 'running' || run.state === 'failed') {
    // An honest stop (a step past its maxErrors cannot happen at 100%; a NATS failure can): resumed once.
    stats.planExtraResumes++;
    const resumed = await fleet.drover(['run', 'resume', runId], { timeoutMs: 600_000 });
    appendFileSync(join(fleet.dir, 'logs', 'chaos-plan-final-resume.log'), resumed.output);
    described = await fleet.drover(['run', 'describe', runId, '--json'], { timeoutMs: 60_000 });
    run = JSON.parse(described.stdout) as PlanRun;
  }
  assert.equal(run.state, 'succeeded', `${runId}: ${run.message ?? ''}`);
  const jobIds: string[] = [];
  for (const phase of run.phases)
    for (const step of phase.steps) {
      assert.equal(step.state, 'succeeded', `${phase.name}/${step.name}: ${step.message ?? ''}`);
      assert.ok(step.jobId, `${phase.name}/${step.name} ran a job`);
      jobIds.push(step.jobId);
    }
  assert.equal(jobIds.length, PLAN_PHASES);
  for (const jobId of jobIds) {
    await check(jobId);
    stats.planPhases++;
  }
  allJobs.push(...jobIds);
  process.stdout.write(`# chaos plan: ${JSON.stringify(stats)}; targets ended ${JSON.stringify(endings)}\n`);
});

test('the whole JetStream state lost: drover reconcile rebuilds every job from the journals, and the checks hold on it', async () => {
  assert.ok(allJobs.length > 0, 'the tests above ran jobs');
  const before = new Map<string, string>();
  for (const jobId of allJobs) before.set(jobId, (await readJob(d.jobs, jobId)).job.state);
  // Every server killed, every store wiped, all started again empty (together: a lone member of a
  // JetStream cluster is not ready without its peers).
  await nats.kill();
  for (const server of nats.servers) rmSync(server.storeDir, { recursive: true, force: true });
  await Promise.all(nats.servers.map((_, i) => nats.restart(i)));
  void d.close().catch(() => {});
  d = await connectCoordinator({ ...fleet.natsOptions, replicas: 3 }); // streams and buckets again, empty
  assert.equal(await d.jobs.get(jobKey(allJobs[0] ?? '')), null, 'the job records are gone');
  // The agents' keys were in NATS too: the operator enrols them again (from the keys the agents keep).
  for (const host of hosts)
    for (const spec of host.specs)
      await enrollAgent(
        d.agentKeys,
        spec.id,
        loadOrCreateAgentKey(join(fleet.stateDir(spec.id), 'agent-key.pem')).signer.publicKeyPem,
        'chaos',
      );
  const everyone = hosts.flatMap((h) => h.specs.map((spec) => spec.id));
  // Every agent back on the new, empty servers (its heartbeat in the registry again) before it is
  // asked: the ones behind the relays reconnect last.
  await waitFor(
    async () => {
      const online = (await listAgents(d.agents)).filter((a) => a.liveness === 'online').map((a) => a.id);
      return everyone.every((id) => online.includes(id));
    },
    { timeoutMs: 120_000, intervalMs: 1000, what: 'every agent registered again after the loss' },
  );
  const reconciled = await fleet.drover(['reconcile', '--json', '--timeout', '15s', '--agents', everyone.join(',')], {
    timeoutMs: 300_000,
  });
  appendFileSync(join(fleet.dir, 'logs', 'chaos-reconcile.log'), reconciled.output);
  assert.equal(reconciled.code, 0, reconciled.output.slice(-1500));
  const report = JSON.parse(reconciled.stdout.slice(reconciled.stdout.indexOf('{'))) as ReconcileReport;
  assert.equal(report.answered.length, HOSTS * PER_HOST, `every agent answered: ${report.answered.length}`);
  for (const jobId of allJobs) {
    const rebuilt = report.jobs.find((j) => j.jobId === jobId);
    assert.ok(rebuilt, `${jobId} rebuilt`);
    // A job that succeeded comes back succeeded; a failed one may come back succeeded only if its
    // failures were targets that never started (nothing in any journal); check() compares every
    // rebuilt target with its journal.
    if (before.get(jobId) === 'succeeded') assert.equal(rebuilt.state, 'succeeded', jobId);
    else assert.ok(['succeeded', 'failed'].includes(rebuilt.state), `${jobId}: ${rebuilt.state}`);
    await check(jobId, false);
    stats.reconciledJobs++;
  }
  process.stdout.write(
    `# chaos: ${JSON.stringify(stats)}; targets ended ${JSON.stringify(endings)}; steps run twice 0, results lost 0; state lost once, ${stats.reconciledJobs} jobs rebuilt from the journals\n`,
  );
});
