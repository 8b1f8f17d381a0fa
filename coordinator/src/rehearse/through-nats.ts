// The rehearsal through NATS: each cluster's plan is created as a run and carried out by the real
// plan runner and engine (`createRun`, `driveRun`, `rollbackRun`: signed orders, run and job
// records, gates judged by the engine), over a private nats-server this module starts on loopback,
// to real agents (`startAgent`: journal, signature checks, results) started in this process for the
// cluster's nodes, whose steps act on the simulated data plane (sim-steps.ts).
//
// Time: the simulated clock moves only while every migrating cluster is waiting on it (its current
// step's targets all inside a simulated step, or done), never while an order, a result or the
// runner's bookkeeping is on its way (the gate below, Simulation.run). So the forecast counts the
// data plane and the documented costs, not this machine's NATS latency, and it equals what the same
// plans give without NATS unless the engine behaves differently from the model (which is the point).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  agentKey,
  DroverError,
  loadOrCreateAgentKey,
  matchesSelector,
  parseSelector,
  ScaledClock,
  type SimCosts,
  type SimGate,
  type Simulation,
} from '@drover/shared';
import { connectDrover, type Drover, enrollAgent, loadSigner, type RunRecord, writeKeyPair } from '../engine/index.ts';
import type { RunEvent } from '../plan/events.ts';
import { createRun, driveRun, newRun, openRunStore, type RunStore, rollbackRun } from '../plan/index.ts';
import type { PlanRun, ResolvedPlan, ResolvedStep } from '../plan/types.ts';
import {
  type ClusterOutcome,
  type ClusterRun,
  clusterModel,
  clusterRun,
  type ExecuteContext,
  type PhaseTiming,
} from './execute.ts';
import { type SimPlacement, simulatedSteps } from './sim-steps.ts';
import type { ClusterPlan } from './synthesize.ts';

export interface NatsRehearsalOptions {
  /** The nats-server executable. @default `nats-server` on PATH, else /usr/sbin/nats-server */
  natsServer?: string;
  /** How long (real ms) the clock waits on a cluster it cannot see settle before it moves anyway. @default 10000 */
  patienceMs?: number;
  /** At most this many simulated ms per real ms (10,000: a day in 8.6 s); unset: as fast as the machine goes. */
  speed?: number;
}

export interface NatsRehearsalStats {
  runs: number;
  agentsStarted: number;
  /** Steps run by simulated agents (one per target of every job). */
  stepsRun: number;
  /** Clock moves made while some cluster was not settled (see Simulation.run); 0 in a clean rehearsal. */
  forcedAdvances: number;
  natsServer: string;
}

export interface NatsRehearsal {
  execute(prepared: ClusterPlan, context: ExecuteContext): Promise<ClusterRun>;
  gate: SimGate;
  stats(): NatsRehearsalStats;
  close(): Promise<void>;
}

/** The rehearsal's nats-server could not be started. */
export class RehearsalNatsError extends DroverError {
  constructor(message: string) {
    super(message);
    this.name = 'RehearsalNatsError';
  }
}

type AgentModule = typeof import('@drover/agent');
type StepImplementation = import('@drover/agent').StepImplementation;

/** One cluster's plan, as the clock gate sees it. */
class PlanTrack {
  /** Simulated steps running now, by job. */
  readonly inStep = new Map<string, number>();
  job: { id: string; total: number; limit: number; done: number } | undefined;

  settled(): boolean {
    const job = this.job;
    if (job === undefined) return false;
    const running = this.inStep.get(job.id) ?? 0;
    return running > 0 && running >= Math.min(job.limit, job.total - job.done);
  }
}

export async function startNatsRehearsal(
  sim: Simulation,
  costs: SimCosts,
  options: NatsRehearsalOptions = {},
): Promise<NatsRehearsal> {
  const agentModule: AgentModule = await import('@drover/agent');
  const dir = mkdtempSync(join(tmpdir(), 'drover-rehearse-'));
  const server = await startServer(options.natsServer ?? defaultNatsServer(), dir).catch((error: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  let d: Drover;
  try {
    d = await connectDrover({ servers: [server.url] }, 'drover-rehearsal');
  } catch (error) {
    server.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const store: RunStore = await openRunStore(d);
  const keyPath = join(dir, 'coordinator.key');
  const { publicKeyPath } = writeKeyPair(keyPath, true);
  const signer = loadSigner(keyPath);
  const coordinatorId = 'rehearsal';

  const tracks = new Map<string, PlanTrack>();
  const stopping: Promise<void>[] = [];
  const trackOfAgent = new Map<string, PlanTrack>();
  const placements = new Map<string, SimPlacement>();
  const stats: NatsRehearsalStats = {
    runs: 0,
    agentsStarted: 0,
    stepsRun: 0,
    forcedAdvances: 0,
    natsServer: server.version,
  };

  // Something changed that may settle the gate: wake the clock.
  let wake: ((why: 'change') => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.('change');
  };
  const patienceMs = options.patienceMs ?? 10_000;
  const pacer = options.speed === undefined ? undefined : new ScaledClock(options.speed);
  const gate: SimGate = {
    ...(pacer ? { pace: (at: number) => pacer.until(at) } : {}),
    settled: () => [...tracks.values()].every((t) => t.settled()),
    changed: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve('timeout');
        }, patienceMs);
        wake = (why) => {
          clearTimeout(timer);
          resolve(why);
        };
      }),
  };

  const steps = simulatedSteps({
    sim,
    costs,
    placement: (agentId) => placements.get(agentId),
    hooks: {
      begin(jobId, agentId) {
        stats.stepsRun++;
        const track = trackOfAgent.get(agentId);
        if (track) track.inStep.set(jobId, (track.inStep.get(jobId) ?? 0) + 1);
        notify();
      },
      end(jobId, agentId) {
        const track = trackOfAgent.get(agentId);
        if (track) {
          const left = (track.inStep.get(jobId) ?? 1) - 1;
          if (left > 0) track.inStep.set(jobId, left);
          else track.inStep.delete(jobId);
        }
        notify();
      },
    },
  });

  async function execute(prepared: ClusterPlan, context: ExecuteContext): Promise<ClusterRun> {
    const { cluster, agents } = prepared;
    // Each job's target count and concurrency (the clock gate reads them by job id).
    const jobs = jobTable(prepared.plan, agents);
    // Registered before the first await: the clock must not move while the cluster starts.
    const track = new PlanTrack();
    tracks.set(cluster.name, track);
    const model = clusterModel(prepared, context);
    for (const agent of agents) {
      trackOfAgent.set(agent.id, track);
      placements.set(agent.id, { model, target: agent });
    }
    const handles: Awaited<ReturnType<AgentModule['startAgent']>>[] = [];
    try {
      // The cluster's agents: enrolled (their keys made in their state dirs), then started.
      const configs = agents.map((agent) => {
        const stateDir = join(dir, 'agents', agent.id);
        mkdirSync(stateDir, { recursive: true });
        const { signer: agentSigner } = loadOrCreateAgentKey(join(stateDir, 'agent-key.pem'));
        return {
          pem: agentSigner.publicKeyPem,
          config: {
            id: agent.id,
            labels: agent.labels,
            nats: { servers: [server.url] },
            trustedKeys: [publicKeyPath],
            stateDir,
            commands: {},
            heartbeatMs: 10_000,
            maxConcurrentOrders: 4,
            registerFullFacts: false,
          },
        };
      });
      for (let i = 0; i < configs.length; i += 100)
        await Promise.all(
          configs.slice(i, i + 100).map((c) => enrollAgent(d.agentKeys, c.config.id, c.pem, coordinatorId)),
        );
      for (let i = 0; i < configs.length; i += 50)
        handles.push(
          ...(await Promise.all(
            configs.slice(i, i + 50).map((c) =>
              agentModule.startAgent(agentModule.parseAgentConfig(c.config), {
                logger: agentModule.silentLogger(),
                collectFacts: async () => ({ hostname: c.config.id, summaryOnly: true }),
                steps: steps as unknown as ReadonlyMap<string, StepImplementation>,
              }),
            ),
          )),
        );
      stats.agentsStarted += handles.length;

      const endFaults = model.scheduleFaults(context.faults ?? []);
      const startMs = sim.now;
      const phases: PhaseTiming[] = [];
      const rollback: PhaseTiming[] = [];
      const open = new Map<string, number>();
      const openRollback = new Map<string, number>();
      let failure: ClusterRun['failure'];
      const onEvent = (event: RunEvent) => {
        const phase = event.phase ?? '';
        switch (event.type) {
          case 'phase-started':
            open.set(phase, sim.now);
            break;
          case 'phase-succeeded':
          case 'phase-failed':
            phases.push({ name: phase, startMs: open.get(phase) ?? sim.now, endMs: sim.now });
            break;
          case 'step-failed':
          case 'gate-failed':
            if (failure === undefined)
              failure = { phase, step: event.step ?? '', reason: event.message.replace(/\s+/g, ' ') };
            break;
          case 'step-started': {
            const job = event.jobId ? jobs.get(jobKey(event.jobId)) : undefined;
            if (job) track.job = { id: event.jobId as string, total: job.total, limit: job.limit, done: 0 };
            if (event.jobId && /-r\d+-a\d+$/.test(event.jobId) && !openRollback.has(phase))
              openRollback.set(phase, sim.now);
            break;
          }
          case 'phase-rolled-back':
          case 'rollback-failed':
            if (openRollback.has(phase) || event.type === 'phase-rolled-back') {
              rollback.push({ name: phase, startMs: openRollback.get(phase) ?? sim.now, endMs: sim.now });
              openRollback.delete(phase);
            }
            break;
        }
        notify();
      };
      const onTarget = (run: RunRecord, _step: string, progress: { done: number; total: number }) => {
        if (track.job?.id === run.jobId) {
          track.job.done = progress.done;
          if (progress.total > 0) track.job.total = progress.total;
        }
        notify();
      };
      const plan = prepared.plan;
      const digest = createHash('sha256').update(JSON.stringify(plan)).digest('hex');
      const run = newRun({ file: `rehearsal:${cluster.name}`, plan, digest }, coordinatorId);
      await createRun(store, run, plan);
      stats.runs++;
      // The runner is handed the plan it would read back: a big Cassandra cluster's plan (tens of MB
      // of ranges as objects) is held once in this process, not twice.
      const drive = { coordinatorId, signer, autoApprove: true, onEvent, onTarget, leaseWait: false, plan };
      let final: PlanRun = await driveRun(d, store, run.id, drive);
      let outcome: ClusterOutcome = 'succeeded';
      if (final.state === 'failed') {
        final = await rollbackRun(d, store, run.id, drive);
        outcome = final.state === 'rolled-back' ? 'rolled-back' : 'rollback-failed';
      } else if (final.state !== 'succeeded') {
        throw new RehearsalNatsError(
          `${cluster.name}: run ${run.id} ended ${final.state}${final.message ? `: ${final.message}` : ''}`,
        );
      }
      endFaults();
      return clusterRun(prepared, model, sim, { outcome, failure, rollback, startMs, phases });
    } finally {
      // The cluster is over: nothing of it holds the clock any more, and its agents stop in the
      // background (the slot's next cluster starts at this simulated moment, not after the stops).
      tracks.delete(cluster.name);
      for (const agent of agents) {
        trackOfAgent.delete(agent.id);
        placements.delete(agent.id);
      }
      notify();
      stopping.push(
        Promise.allSettled(handles.map((h) => h.stop())).then(async () => {
          // The cluster's nodes are gone, as decommissioned ones are: out of the registry and the
          // enrolled keys, so later jobs see only the agents migrating now.
          await Promise.allSettled(
            agents.flatMap((agent) => [d.agents.delete(agentKey(agent.id)), d.agentKeys.delete(agent.id)]),
          );
          for (const agent of agents) rmSync(join(dir, 'agents', agent.id), { recursive: true, force: true });
        }),
      );
    }
  }

  return {
    execute,
    gate,
    stats: () => ({ ...stats, forcedAdvances: sim.forcedAdvances }),
    async close() {
      await Promise.all(stopping);
      await d.close().catch(() => undefined);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `p<phase>-<s|r><index>` of a plan job id (its run and attempt left out). */
function jobKey(jobId: string): string {
  const match = /-(p\d+-[sr]\d+)-a\d+$/.exec(jobId);
  return match ? (match[1] as string) : jobId;
}

/** Every step's target count and concurrency, by jobKey. */
function jobTable(plan: ResolvedPlan, agents: ClusterPlan['agents']): Map<string, { total: number; limit: number }> {
  const table = new Map<string, { total: number; limit: number }>();
  const add = (key: string, step: ResolvedStep) => {
    const total =
      'agents' in step.target
        ? step.target.agents.length
        : agents.filter((a) => matchesSelector(parseSelector((step.target as { selector: string }).selector), a.labels))
            .length;
    const limit =
      'count' in step.options.concurrency
        ? Math.max(1, step.options.concurrency.count)
        : Math.max(1, Math.ceil((total * step.options.concurrency.percent) / 100));
    table.set(key, { total, limit });
  };
  for (const [p, phase] of plan.phases.entries()) {
    for (const [i, step] of [...phase.steps, ...phase.gate].entries()) add(`p${p}-s${i}`, step);
    for (const [i, step] of phase.rollback.entries()) add(`p${p}-r${i}`, step);
  }
  return table;
}

function defaultNatsServer(): string {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, 'nats-server');
    if (existsSync(candidate)) return candidate;
  }
  return '/usr/sbin/nats-server';
}

interface RehearsalServer {
  url: string;
  version: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A private nats-server with JetStream on a free loopback port, its store under `dir`. */
function startServer(binary: string, dir: string): Promise<RehearsalServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', join(dir, 'jetstream')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    let version = 'unknown';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new RehearsalNatsError(`the rehearsal's nats-server (${binary}) ${why}${log ? `: ${log.slice(-400)}` : ''}`),
      );
    };
    const timer = setTimeout(() => fail('did not listen within 20 s'), 20_000);
    child.once('error', (error) => fail(`could not start (${error.message}); give one with --nats-server`));
    const onExit = (code: number | null) => fail(`exited with code ${code}`);
    child.once('exit', onExit);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (log.length < 20_000) log += chunk;
      version = /Version:\s+(\S+)/.exec(log)?.[1] ?? version;
      const listening = /Listening for client connections on (127\.0\.0\.1:\d+)/.exec(log);
      if (listening && /Server is ready/.test(log)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve({
          url: `nats://${listening[1]}`,
          version,
          process: child,
          async stop() {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(killer);
          },
        });
      }
    });
  });
}
