// The fleet's forecast: every cluster's plan carried out on one simulated data plane, at most
// `clustersAtOnce` clusters migrating at a time (a cluster starts when one ends, in the fleet
// file's order), all of them sharing the links between regions. Out come each cluster's phases,
// the fleet's wall time, the critical path (the chain of clusters, one after another in the same
// slot, that ends last), the busiest links and brokers, and the most agents taking part at once.
import {
  type Fleet,
  InvalidInputError,
  linkBandwidth,
  type Resource,
  resolveSimCosts,
  type SimCosts,
  Simulation,
} from '@drover/shared';
import { parseDurationMs } from '../engine/index.ts';
import { type ClusterRun, executeClusterPlan, type NodeFault } from './execute.ts';
import { type ClusterPlan, type PlanLoading, planCluster } from './synthesize.ts';
import type { NatsRehearsalOptions, NatsRehearsalStats } from './through-nats.ts';

export interface ClusterForecast extends ClusterRun {
  /** The cluster whose end freed the slot this one started in (null: started at once). */
  after: string | null;
  planningMs: number;
}

export interface BusyResource {
  name: string;
  bytes: number;
  /** Share of the fleet's wall time it spent at full capacity. */
  saturatedShare: number;
}

export interface Forecast {
  fleet: string;
  clusters: ClusterForecast[];
  totalMs: number;
  criticalPath: string[];
  busiestLinks: BusyResource[];
  busiestBrokers: BusyResource[];
  /** Most simulated agents (nodes of every migrating cluster, observers included) taking part at once. */
  agentsPeak: number;
  nodes: number;
  /** Real ms: planning every cluster, then simulating. */
  planningMs: number;
  simulationMs: number;
  /** How the plans were carried out: by the model of the runner, or through NATS (and what that took). */
  through: 'model' | 'nats';
  nats?: NatsRehearsalStats;
}

export interface ForecastOptions {
  costs?: Partial<SimCosts>;
  loading?: PlanLoading;
  /** Nodes that go down during their cluster's migration (see parseFault). */
  faults?: readonly NodeFault[];
  /** Called as each cluster ends (simulated ms), for live output. */
  onClusterEnd?: (cluster: ClusterForecast) => void;
  /**
   * Carry the plans out through a private nats-server with the real plan runner, engine and agents
   * (through-nats.ts) instead of modelling the runner in process.
   */
  nats?: NatsRehearsalOptions;
}

export async function forecastFleet(fleet: Fleet, options: ForecastOptions = {}): Promise<Forecast> {
  const costs = resolveSimCosts(options.costs);
  // Each cluster is planned when its slot opens and its plan dropped when it ends, so memory holds
  // `clustersAtOnce` plans, not the fleet's (a big Cassandra plan is hundreds of MB of ranges).
  // Planning takes real time only: the simulated clock does not move while it runs.
  let planningMs = 0;
  const simStarted = performance.now();
  const sim = new Simulation();
  const link = (from: string, to: string): Resource => {
    const [a, b] = [from, to].sort() as [string, string];
    return sim.resource(`link ${a} <-> ${b}`, linkBandwidth(fleet, a, b));
  };
  const rehearsal = options.nats
    ? await (await import('./through-nats.ts')).startNatsRehearsal(sim, costs, options.nats)
    : undefined;
  const execute = rehearsal ? rehearsal.execute : executeClusterPlan;
  const results: ClusterForecast[] = [];
  let active = 0;
  let agentsPeak = 0;
  let next = 0;
  const slot = async () => {
    let previous: string | null = null;
    while (next < fleet.clusters.length) {
      const planStarted = performance.now();
      const cluster: ClusterPlan = planCluster(
        fleet,
        fleet.clusters[next++] as Fleet['clusters'][number],
        options.loading,
      );
      planningMs += performance.now() - planStarted;
      active += cluster.agents.length;
      agentsPeak = Math.max(agentsPeak, active);
      const run = await execute(cluster, {
        sim,
        costs,
        link,
        streamThroughput: fleet.migration.cassandra.streamThroughput,
        faults: options.faults ?? [],
      });
      active -= cluster.agents.length;
      const result: ClusterForecast = { ...run, after: previous, planningMs: cluster.planningMs };
      results.push(result);
      options.onClusterEnd?.(result);
      previous = cluster.cluster.name;
    }
  };
  try {
    await sim.run(
      () => Promise.all(Array.from({ length: Math.min(fleet.migration.clustersAtOnce, fleet.clusters.length) }, slot)),
      rehearsal?.gate,
    );
  } finally {
    await rehearsal?.close();
  }
  const simulationMs = performance.now() - simStarted - planningMs;

  const order = new Map(fleet.clusters.map((c, i) => [c.name, i]));
  results.sort((a, b) => (order.get(a.cluster) ?? 0) - (order.get(b.cluster) ?? 0));
  const totalMs = Math.max(0, ...results.map((r) => r.endMs));
  const byName = new Map(results.map((r) => [r.cluster, r]));
  const criticalPath: string[] = [];
  let last = results.reduce<ClusterForecast | undefined>(
    (a, r) => (a === undefined || r.endMs > a.endMs ? r : a),
    undefined,
  );
  while (last) {
    criticalPath.unshift(last.cluster);
    last = last.after === null ? undefined : byName.get(last.after);
  }
  const busy = (match: (name: string) => boolean): BusyResource[] =>
    sim
      .allResources()
      .filter((r) => match(r.name) && r.bytes > 0)
      .map((r) => ({ name: r.name, bytes: r.bytes, saturatedShare: totalMs > 0 ? r.saturatedMs / totalMs : 0 }))
      .sort((a, b) => b.saturatedShare - a.saturatedShare || b.bytes - a.bytes)
      .slice(0, 5);
  return {
    fleet: fleet.metadata.name,
    clusters: results,
    totalMs,
    criticalPath,
    busiestLinks: busy((name) => name.startsWith('link ')),
    busiestBrokers: busy((name) => name.includes('/broker-') || name.endsWith('/stream-out')),
    agentsPeak,
    nodes: fleet.clusters.reduce((n, c) => n + c.nodes, 0),
    planningMs,
    simulationMs,
    through: rehearsal ? 'nats' : 'model',
    ...(rehearsal ? { nats: rehearsal.stats() } : {}),
  };
}

/**
 * `--fail AGENT@TIME[:KIND]`: TIME after its cluster's migration starts (`90m`, `2h`, `1d`), the
 * node of AGENT (`<cluster>-s<N>` a source node or broker, `<cluster>-d<N>` a destination one):
 * - `down` (the default) goes down, its agent with it;
 * - `session` (Cassandra nodes): the stream session in flight to or from it fails (with none in
 *   flight, its next one), and the rebuild retries;
 * - `slow=N` replicates (a broker) or streams out (a Cassandra node) N times slower from then on.
 */
export function parseFault(fleet: Fleet, text: string): NodeFault {
  const match = /^(([a-z0-9][a-z0-9-]*)-(s|d)(\d+))@([^:]+)(?::(.*))?$/.exec(text.trim());
  const expected =
    "AGENT@TIME[:down|:session|:slow=N] with AGENT a node's agent (<cluster>-s<N> or <cluster>-d<N>), TIME like 90m or 2h, N a factor > 1 like 4";
  if (!match) throw new InvalidInputError('--fail', text, expected);
  const [, agent, clusterName, , index, time, kindText] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const cluster = fleet.clusters.find((c) => c.name === clusterName);
  if (cluster === undefined || Number(index) < 1 || Number(index) > cluster.nodes)
    throw new InvalidInputError('--fail', text, `${expected}; ${agent} is not a node of a cluster of the fleet`);
  const atMs = parseDurationMs('--fail', time);
  const kind = kindText ?? 'down';
  if (kind === 'down') return { agent, atMs, kind };
  if (kind === 'session') {
    if (cluster.kind !== 'cassandra')
      throw new InvalidInputError(
        '--fail',
        text,
        `:session on a Cassandra node (a rebuild's stream session); ${clusterName} is a Kafka cluster (use :down or :slow=N)`,
      );
    return { agent, atMs, kind };
  }
  const slow = /^slow=(\d+(?:\.\d+)?)$/.exec(kind);
  const factor = slow ? Number(slow[1]) : Number.NaN;
  if (!(factor > 1 && factor <= 1000))
    throw new InvalidInputError(
      '--fail',
      text,
      slow ? 'slow=N with N a factor above 1 and at most 1000 (slow=4: four times slower)' : expected,
    );
  return { agent, atMs, kind: 'slow', factor };
}
