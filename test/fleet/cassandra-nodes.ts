// Drover agents on the nodes of a harness Cassandra cluster, as in a Cassandra migration: the source
// nodes the harness runs, each with an agent that knows its node (CQL address, nodetool argv, JVM
// options file, data dir), and the nodes of a NEW datacenter that the harness only stages and their
// agents run as a `cassandra` service (bin/cassandra, what systemd runs in production), so a plan
// step starts them, and another can add a JVM option and restart them. Paths and argv come from the
// agents' LOCAL config, never from an order. Agents wait for the fleet's KV buckets: create them first
// (`await (await connect(fleet)).close()` from ./jobs.ts, as the Kafka tests do).
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CassandraCluster, CassandraNode, StagedCassandraNode } from '../harness/cassandra.ts';
import { freePort } from '../harness/process.ts';
import type { AgentSpec, Fleet } from './fleet.ts';

export interface CassandraSourceAgents {
  /** `<cluster>-<node name>`, in the order of the cluster's nodes. */
  agentIds: string[];
  /** Stops the agents (the nodes keep running: the harness owns them). */
  stop(): Promise<void>;
}

export interface CassandraDestinationNodes {
  /** The staged nodes, not started: a `service` step (name cassandra, action start) starts each. */
  nodes: StagedCassandraNode[];
  /** `<cluster>-<node name>`, in the order of `nodes`. */
  agentIds: string[];
  /** Each agent's node-status HTTP port (GET http://127.0.0.1:<port>/v1/cluster/status), in the order of `nodes`. */
  statusPorts: number[];
  /**
   * Stops the agents gracefully (which stops the nodes they run), then makes sure no JVM of these
   * nodes is left: the agents run them detached in their own process groups, out of the harness's reach.
   */
  stop(): Promise<void>;
  /** SIGKILL of the agent host (every destination agent at once); the nodes they run keep running. */
  killAgents(): Promise<void>;
  /** Starts the agents again (same ids, config and state dirs): they find the nodes they run. */
  restartAgents(): Promise<void>;
}

/** How long an agent host may take to stop: each agent stops its node (SIGTERM, 30 s, SIGKILL) first. */
const AGENT_STOP_GRACE_MS = 90_000;
/** How long a leftover node JVM gets after SIGTERM before SIGKILL. */
const NODE_STOP_GRACE_MS = 30_000;

type NodeFacts = Pick<StagedCassandraNode, 'address' | 'nativePort' | 'nodetoolArgv' | 'jvmOptionsFile' | 'dataDir'>;

/** The agent config's `cassandra` section for one node. */
function cassandraSection(
  node: NodeFacts,
  statusPort?: number,
): NonNullable<NonNullable<AgentSpec['node']>['cassandra']> {
  return {
    ...(statusPort === undefined ? {} : { statusPort }),
    cql: { host: node.address, port: node.nativePort },
    nodetoolArgv: node.nodetoolArgv,
    jvmOptionsFile: node.jvmOptionsFile,
    dataDirs: [node.dataDir],
    service: 'cassandra',
  };
}

/**
 * One agent per running harness node (all in one agent host process), labelled
 * `{cluster, dc, rack, role: source}`. No `services`: the harness runs the source nodes.
 */
export async function startCassandraSourceAgents(
  fleet: Fleet,
  cluster: CassandraCluster,
  options: { cluster: string },
): Promise<CassandraSourceAgents> {
  const running = cluster.nodes.filter((n: CassandraNode) => n.running);
  const specs: AgentSpec[] = running.map((node) => ({
    id: `${options.cluster}-${node.name}`,
    labels: { cluster: options.cluster, dc: node.datacenter, rack: node.rack, role: 'source' },
    node: { cassandra: cassandraSection(node) },
  }));
  const host = await fleet.startHost(`${options.cluster}-source`, specs);
  return {
    agentIds: specs.map((s) => s.id),
    stop: async () => {
      await host.stop('SIGTERM', AGENT_STOP_GRACE_MS);
    },
  };
}

/**
 * Stages a new datacenter of `nodes` nodes (auto_bootstrap: false, the running cluster's seeds) and
 * starts one agent per node (all in one agent host process), labelled `{cluster, dc, rack, role:
 * destination}`, whose `cassandra` service runs the node's bin/cassandra. The nodes are NOT started.
 */
export async function startCassandraDestinationNodes(
  fleet: Fleet,
  cluster: CassandraCluster,
  options: { cluster: string; datacenter: string; racks?: string[]; nodes: number },
): Promise<CassandraDestinationNodes> {
  const nodes = await cluster.stageDatacenter({
    name: options.datacenter,
    nodes: options.nodes,
    ...(options.racks ? { racks: options.racks } : {}),
  });
  const statusPorts: number[] = [];
  for (const _ of nodes) statusPorts.push(await freePort());
  const specs: AgentSpec[] = nodes.map((node, i) => ({
    id: `${options.cluster}-${node.name}`,
    labels: { cluster: options.cluster, dc: node.datacenter, rack: node.rack, role: 'destination' },
    node: {
      cassandra: cassandraSection(node, statusPorts[i]),
      services: {
        cassandra: {
          manager: 'process',
          argv: [node.launcher],
          cwd: node.dir,
          logFile: node.logFile,
          readyPort: { host: node.address, port: node.nativePort },
          readyTimeoutMs: 240_000,
          stopTimeoutMs: 30_000,
        },
      },
    },
  }));
  // Registered before the agents start: from then on a node JVM may exist that only this hook reaches
  // when the test process exits without calling stop().
  const killAtExit = () => {
    for (const pid of nodeJvms(nodes)) signal(pid, 'SIGKILL');
  };
  process.on('exit', killAtExit);
  let host: Awaited<ReturnType<Fleet['startHost']>>;
  try {
    host = await fleet.startHost(`${options.cluster}-${options.datacenter}`, specs);
  } catch (error) {
    process.off('exit', killAtExit);
    throw error;
  }
  const hostName = `${options.cluster}-${options.datacenter}`;
  return {
    nodes,
    agentIds: specs.map((s) => s.id),
    statusPorts,
    killAgents: async () => {
      await host.kill();
    },
    restartAgents: async () => {
      host = await fleet.startHost(hostName, specs);
    },
    stop: async () => {
      try {
        await host.stop('SIGTERM', AGENT_STOP_GRACE_MS);
        await stopLeftovers(nodes);
      } finally {
        process.off('exit', killAtExit);
      }
    },
  };
}

/**
 * Pids of the JVMs of these nodes still alive, found by the `-Dcassandra.config=file://<their yaml>`
 * argument bin/cassandra gives java (each node's yaml lives in its own temp dir, so nothing else matches).
 */
function nodeJvms(nodes: StagedCassandraNode[]): number[] {
  const wanted = new Set(nodes.map((n) => `-Dcassandra.config=file://${n.configFile}`));
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(path.join('/proc', entry, 'cmdline'), 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    if (argv.some((arg) => wanted.has(arg))) pids.push(Number(entry));
  }
  return pids;
}

/** SIGTERM to every leftover JVM of these nodes, SIGKILL to those still there after the grace. */
async function stopLeftovers(nodes: StagedCassandraNode[]): Promise<void> {
  const leftovers = nodeJvms(nodes);
  if (leftovers.length === 0) return;
  for (const pid of leftovers) signal(pid, 'SIGTERM');
  const deadline = Date.now() + NODE_STOP_GRACE_MS;
  while (Date.now() < deadline && nodeJvms(nodes).length > 0) await sleep(250);
  for (const pid of nodeJvms(nodes)) signal(pid, 'SIGKILL');
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // ESRCH: it ended between the scan and the signal, which is what was wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The argv of `drover cassandra migrate` from DC `old` for a test fleet; `extra` flags appended. */
export function cassandraMigrateArgs(options: {
  cluster: string;
  delegate: string;
  destDc: string;
  out: string;
  extra?: string[];
}): string[] {
  return [
    'cassandra',
    'migrate',
    '--cluster',
    options.cluster,
    '--delegate',
    options.delegate,
    '--source-dc',
    'old',
    '--dest-dc',
    options.destDc,
    '-o',
    options.out,
    ...(options.extra ?? []),
  ];
}
