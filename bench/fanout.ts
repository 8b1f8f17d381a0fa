// `npm run bench:fanout -- --agents N`: N lightweight agents (many per process, each with its own
// NATS connection, journal and order intake) on a local nats-server. Times a durable `ping` job
// from dispatch to the last result, and in the same run a raw NATS requestMany to the same N
// connections. Also measures one idle agent daemon's RSS. Figures, not a test. `--secure`: TLS and a
// NATS identity per agent with the shipped permissions (compare with a plain run for their cost).
// CPU: what nats-server (every thread, from /proc/<pid>/task/*/schedstat, in ns) and this process
// (the coordinator, or the raw client: process.cpuUsage) spent during each round; the agents' own
// CPU is left out of both. `nats_ms` is the median of at least 9 raw rounds (it is noisy).
// `--servers 3`: a JetStream cluster of 3 nats-servers, every Drover stream and bucket at 3 replicas,
// the agents spread over the servers (the client picks one at random); `cpu_ms` then sums all three.
// The coordinator's own CPU per job (this process, median of the drover rounds) and its peak RSS are
// printed too, and appended to the last line (`coord_cpu_ms`, `coord_rss_mb`).
// LAST line: fanout agents=N drover_ms=… nats_ms=… ratio=… cpu_ms=… nats_cpu_ms=… cpu_ratio=… agent_rss_mb=… servers=… coord_cpu_ms=… coord_rss_mb=…
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createJob, driveJob, prepareJob } from '@drover/coordinator';
import { isFinalTargetState, LIVE_PING_SUBJECT, orderSignerFromPem } from '@drover/shared';
import { type AgentSpec, connectCoordinator, createFleet } from '../test/fleet/fleet.ts';
import { jobRequest } from '../test/fleet/jobs.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir } from '../test/harness/process.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '2129' },
    'per-host': { type: 'string', default: '300' },
    nats: { type: 'string', default: 'debian' },
    rounds: { type: 'string', default: '3' },
    'nats-rounds': { type: 'string', default: '9' },
    // TLS and one NATS identity per agent with the shipped permissions (the production setup).
    secure: { type: 'boolean', default: false },
    servers: { type: 'string', default: '1' },
  },
});
const serverCount = Number(values.servers);
const N = Number(values.agents);
const perHost = Number(values['per-host']);
const rounds = Number(values.rounds);
const natsRounds = Math.max(9, Number(values['nats-rounds']));

const nats = await startNats({
  servers: serverCount,
  version: values.nats === 'current' ? 'current' : 'debian',
  secure: values.secure,
});
const fleet = createFleet(makeTempDir('bench-fanout'), nats.urls, nats.security);
// Streams and buckets at as many replicas as servers (made here, before the agents' hosts connect).
const d = await connectCoordinator({ ...fleet.natsOptions, replicas: Math.min(3, serverCount) });
const signer = orderSignerFromPem(readFileSync(fleet.keyPath, 'utf8'));

const specs: AgentSpec[] = Array.from({ length: N }, (_, i) => ({
  id: `b-${String(i).padStart(5, '0')}`,
  labels: { bench: 'fanout', rack: `r${i % 3}` },
  heartbeatMs: 30_000,
  maxConcurrentOrders: 1,
}));
const startAt = Date.now();
const hosts = [];
for (let i = 0; i < N; i += perHost) hosts.push(fleet.startHost(`h${i / perHost}`, specs.slice(i, i + perHost)));
const hostHandles = await Promise.all(hosts);
console.log(`started ${N} agents in ${hosts.length} processes in ${Date.now() - startAt} ms (nats ${nats.version})`);

/** CPU time (ms) these processes' threads have had, summed from /proc/<pid>/task/<tid>/schedstat (ns). */
function cpuMsOf(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    const tasks = `/proc/${pid}/task`;
    for (const tid of readdirSync(tasks)) {
      try {
        ns += Number(readFileSync(`${tasks}/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // a thread that ended between the listing and the read
      }
    }
  }
  return ns / 1e6;
}
/** CPU time (ms) of these processes' threads by thread name (`comm`: node's main thread, libuv's pool…). */
function cpuMsByThread(pids: readonly number[]): Map<string, number> {
  const byName = new Map<string, number>();
  for (const pid of pids) {
    const tasks = `/proc/${pid}/task`;
    for (const tid of readdirSync(tasks)) {
      try {
        const name = readFileSync(`${tasks}/${tid}/comm`, 'utf8').trim();
        const ms = Number(readFileSync(`${tasks}/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
        byName.set(name, (byName.get(name) ?? 0) + ms);
      } catch {
        // a thread that ended between the listing and the read
      }
    }
  }
  return byName;
}
/** nats-server's CPU time (ms). */
const serverCpuMs = () => cpuMsOf(nats.servers.map((s) => s.pid));
/** The agent hosts' CPU time (ms): every agent of the fleet. */
const agentsCpuMs = () => cpuMsOf(hostHandles.map((h) => h.pid));

/** CPU time (ms) of this process: the coordinator in a drover round, the raw client in a NATS round. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

interface Round {
  ms: number;
  /** nats-server + this process, during the round. */
  cpuMs: number;
  /** This process alone (the coordinator, or the raw client). */
  ownMs: number;
  /** The agents' processes. */
  agentsMs: number;
}

let peakRssMb = 0;
const rssWatch = setInterval(() => {
  peakRssMb = Math.max(peakRssMb, process.memoryUsage.rss() / 2 ** 20);
}, 100);

async function measured(round: () => Promise<number>): Promise<Round> {
  const server0 = serverCpuMs();
  const own0 = ownCpuMs();
  const agents0 = agentsCpuMs();
  const ms = await round();
  const ownMs = ownCpuMs() - own0;
  return { ms, cpuMs: serverCpuMs() - server0 + ownMs, ownMs, agentsMs: agentsCpuMs() - agents0 };
}

async function droverRound(): Promise<number> {
  const prepared = await prepareJob(
    d,
    jobRequest({ step: 'ping', selector: 'bench=fanout', timeoutMs: 60_000, deliveryTimeoutMs: 60_000 }),
  );
  await createJob(d, prepared);
  let done = 0;
  let last = 0;
  let dispatched = 0;
  let lastDispatch = 0;
  let running = 0;
  let lastRunning = 0;
  const threads0 = process.env.BENCH_PHASES ? cpuMsByThread(hostHandles.map((h) => h.pid)) : undefined;
  const t0 = performance.now();
  const summary = await driveJob(d, prepared.job.id, {
    coordinatorId: 'bench',
    signer,
    tickMs: 20,
    onRun: (run) => {
      if (run.state === 'dispatched' && ++dispatched === N) lastDispatch = performance.now();
      // A quick step's agent sends no `accepted` (its result comes first): started = running or final.
      if ((run.state === 'running' || (isFinalTargetState(run.state) && !run.acceptedAt)) && ++running === N)
        lastRunning = performance.now();
      if (isFinalTargetState(run.state) && ++done === N) last = performance.now();
    },
  });
  if (process.env.BENCH_PHASES)
    console.log(
      `  phases: all dispatched +${(lastDispatch - t0).toFixed(0)} ms, all started +${(lastRunning - t0).toFixed(0)} ms, all final +${(last - t0).toFixed(0)} ms`,
    );
  if (threads0) {
    const parts = [...cpuMsByThread(hostHandles.map((h) => h.pid))]
      .map(([name, ms]) => [name, ms - (threads0.get(name) ?? 0)] as const)
      .filter(([, ms]) => ms >= 1)
      .sort((a, b) => b[1] - a[1]);
    console.log(`  agents' CPU by thread: ${parts.map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`).join(', ')}`);
  }
  if (process.env.BENCH_PHASES) {
    const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)] ?? 0;
    const deliver = summary.runs.map((r) => (r.result?.startedAt ?? 0) - (r.order?.issuedAt ?? 0));
    const exec = summary.runs.map((r) => (r.result?.finishedAt ?? 0) - (r.result?.startedAt ?? 0));
    const back = summary.runs.map((r) => (r.finishedAt ?? 0) - (r.result?.finishedAt ?? 0));
    const announced = summary.runs.filter((r) => r.acceptedAt !== undefined).length;
    console.log(`  targets whose agent sent an accepted event (the step outlasted the agent's hold): ${announced}`);
    console.log(
      `  issue->agent start p50/p99/max ${pct(deliver, 0.5)}/${pct(deliver, 0.99)}/${pct(deliver, 1)} ms; step p50/max ${pct(exec, 0.5)}/${pct(exec, 1)} ms; agent result->coordinator p50/max ${pct(back, 0.5)}/${pct(back, 1)} ms`,
    );
  }
  if (summary.counts.succeeded !== N) throw new Error(`drover round: ${JSON.stringify(summary.counts)}`);
  return (last || performance.now()) - t0;
}

async function natsRound(): Promise<number> {
  const t0 = performance.now();
  const replies = await d.nc.requestMany(LIVE_PING_SUBJECT, '', { strategy: 'count', maxMessages: N, maxWait: 60_000 });
  let count = 0;
  for await (const _ of replies) count++;
  const ms = performance.now() - t0;
  if (count !== N) throw new Error(`requestMany got ${count} of ${N} replies`);
  return ms;
}

const droverRounds: Round[] = [];
const natsRoundsDone: Round[] = [];
await droverRound(); // warm-up: connections, JIT
await natsRound();
for (let r = 0; r < Math.max(rounds, natsRounds); r++) {
  const drover = r < rounds ? await measured(droverRound) : undefined;
  if (drover) droverRounds.push(drover);
  const raw = await measured(natsRound);
  natsRoundsDone.push(raw);
  console.log(
    `round ${r + 1}: ${drover ? `drover ${drover.ms.toFixed(0)} ms (cpu ${drover.cpuMs.toFixed(0)} ms, coordinator ${drover.ownMs.toFixed(0)} ms, agents ${drover.agentsMs.toFixed(0)} ms), ` : ''}nats requestMany ${raw.ms.toFixed(0)} ms (cpu ${raw.cpuMs.toFixed(0)} ms, agents ${raw.agentsMs.toFixed(0)} ms)`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// One idle agent daemon (the real entry, one process) for its resident memory.
const solo = await fleet.startAgent({ id: 'rss-probe', labels: { bench: 'rss' } });
await new Promise((resolve) => setTimeout(resolve, 5000));
const status = readFileSync(`/proc/${solo.pid}/status`, 'utf8');
const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
console.log(`idle agent daemon RSS: ${(rssKb / 1024).toFixed(1)} MB (pid ${solo.pid}, node ${process.version})`);

await d.close();
const droverMs = median(droverRounds.map((r) => r.ms));
const natsMs = median(natsRoundsDone.map((r) => r.ms));
const cpuMs = median(droverRounds.map((r) => r.cpuMs));
const natsCpuMs = median(natsRoundsDone.map((r) => r.cpuMs));
const coordCpuMs = median(droverRounds.map((r) => r.ownMs));
const agentsCpu = median(droverRounds.map((r) => r.agentsMs));
const natsAgentsCpu = median(natsRoundsDone.map((r) => r.agentsMs));
clearInterval(rssWatch);
console.log(
  `coordinator: ${coordCpuMs.toFixed(0)} ms CPU per job of ${N} targets (median), peak RSS ${peakRssMb.toFixed(0)} MB (the agents run in other processes); nats-server${serverCount > 1 ? `s (${serverCount})` : ''} + coordinator ${cpuMs.toFixed(0)} ms`,
);
console.log(
  "durability: orders on a file-backed stream (no consumer per agent; read back from each agent's journaled cursor after a gap), results on a file-backed stream, each order journaled with fdatasync on its agent",
);
console.log(
  `fanout agents=${N} drover_ms=${droverMs.toFixed(0)} nats_ms=${natsMs.toFixed(0)} ratio=${(droverMs / natsMs).toFixed(2)} cpu_ms=${cpuMs.toFixed(0)} nats_cpu_ms=${natsCpuMs.toFixed(0)} cpu_ratio=${(cpuMs / natsCpuMs).toFixed(2)} agent_rss_mb=${(rssKb / 1024).toFixed(1)} servers=${serverCount} coord_cpu_ms=${coordCpuMs.toFixed(0)} coord_rss_mb=${peakRssMb.toFixed(0)} agents_cpu_ms=${agentsCpu.toFixed(0)} nats_agents_cpu_ms=${natsAgentsCpu.toFixed(0)}`,
);
process.exit(0);
