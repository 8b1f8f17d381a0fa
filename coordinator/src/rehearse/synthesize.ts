// From a fleet cluster's description to what the real planners read: a Kafka cluster model (brokers
// and every partition's replicas, sizes and inbound rates) or a Cassandra topology (nodes, tokens,
// keyspaces), plus the simulated agents that would run on its nodes. Then the real planners and
// plan-file generators make the cluster's migration plan, which is read back through the real plan
// loader (schema, every step's params checked against the step catalog), so a rehearsal runs the
// same plan `drover kafka migrate` / `drover cassandra migrate` + `drover apply` would run.
//
// Layout choices (the description does not say them, production clusters differ):
// - Kafka: source brokers 1..N on racks round-robin, destination brokers 1001..1000+N mapped one to
//   one (`--map i=1000+i`, what the seed's team did); partition p of a topic on brokers p, p+1, …
//   (mod N), so leaders and replicas are spread evenly, as Kafka's own assignment does.
// - Cassandra: DC `old` (source) and `new`, N nodes each on racks round-robin; each DC's N × vnodes
//   tokens evenly spaced with consecutive tokens on consecutive nodes (what token allocation for a
//   replication factor aims at), the new DC's offset by half a step, so every node owns 1/N of its
//   DC's ring.

import { Buffer } from 'node:buffer';
import {
  type CassandraFleetCluster,
  DroverError,
  type Fleet,
  type FleetCluster,
  InvalidInputError,
  type KafkaFleetCluster,
  type PlanInput,
  PlanSchema,
  type PlanStep,
  topicNames,
  validateStepParams,
} from '@drover/shared';
import { stringify } from 'yaml';
import {
  buildRing,
  cassandraMigrationPlanFile,
  extendedTopology,
  planRebuild,
  REPLICATED_SYSTEM_KEYSPACES,
  type Topology,
} from '../cassandra/index.ts';
import { MAX_PARAMS_BYTES, parseCountOrPercent, parseDurationMs } from '../engine/index.ts';
import { type Cluster, migrationPlanFile, parseCluster, planMigration } from '../kafka/index.ts';
import { parsePlanText } from '../plan/index.ts';
import type { ResolvedPlan, ResolvedStep } from '../plan/types.ts';

export interface SimAgent {
  id: string;
  labels: Record<string, string>;
  /** What the agent's node runs, for the steps that act on it. */
  role: 'source' | 'destination' | 'zookeeper';
  region: string;
  /** Kafka broker id, or Cassandra node address. */
  node: string;
}

export interface ClusterPlan {
  cluster: FleetCluster;
  agents: SimAgent[];
  plan: ResolvedPlan;
  /** Kafka: the model the planner read. */
  kafka?: Cluster;
  /** Cassandra: the extended topology the planner read, and each keyspace's distinct bytes. */
  cassandra?: { topology: Topology; keyspaceBytes: Map<string, number> };
  /** Real ms spent planning (planner, plan file, loader). */
  planningMs: number;
}

export const DESTINATION_BROKER_OFFSET = 1000;

/** The real planner found errors in a cluster's migration (the plan would not be written for real either). */
export class PlannerRefusedError extends DroverError {
  readonly cluster: string;
  readonly findings: string[];
  constructor(cluster: string, planner: string, findings: { message: string }[]) {
    const distinct = [...new Set(findings.map((f) => f.message))];
    super(
      `${cluster}: the ${planner} planner found errors (${findings.length}): ${distinct.slice(0, 3).join('; ')}${distinct.length > 3 ? `; and ${distinct.length - 3} more kinds` : ''}`,
    );
    this.name = 'PlannerRefusedError';
    this.cluster = cluster;
    this.findings = findings.map((f) => f.message);
  }
}
/** Distinct bytes of each replicated system keyspace (auth, distributed, traces: small; the bench's hold kilobytes). */
const SYSTEM_KEYSPACE_BYTES = 1_000_000;

export function planCluster(fleet: Fleet, cluster: FleetCluster, loading: PlanLoading = 'object'): ClusterPlan {
  const started = performance.now();
  const result = cluster.kind === 'kafka' ? planKafka(fleet, cluster, loading) : planCassandra(fleet, cluster, loading);
  return { ...result, planningMs: performance.now() - started };
}

function destinationRegion(cluster: FleetCluster): string {
  return cluster.destinationRegion ?? cluster.region;
}

function agent(cluster: FleetCluster, id: string, role: SimAgent['role'], node: string): SimAgent {
  const region = role === 'source' ? cluster.region : destinationRegion(cluster);
  return { id, labels: { cluster: cluster.name, role, region, kind: cluster.kind }, role, region, node };
}

/**
 * How a generated plan becomes the plan the rehearsal runs. `file`: written as YAML and read back
 * through the real loader (`drover apply`'s path: YAML, plan schema, every step's params against
 * the catalog). `object`: the same plan schema and step schemas on the object, without the YAML
 * round trip, which costs seconds per big Cassandra plan (hundreds of thousands of ranges) and
 * would dominate a 212-cluster rehearsal. A test checks both give the same plan.
 */
export type PlanLoading = 'file' | 'object';

function loadGenerated(document: PlanInput, name: string, loading: PlanLoading): ResolvedPlan {
  if (loading === 'file')
    return parsePlanText(stringify(document, { lineWidth: 0, aliasDuplicateObjects: false }), `${name}.plan.yaml`).plan;
  const plan = PlanSchema.parse(document);
  const resolve = (step: PlanStep): ResolvedStep => {
    const bytes = Buffer.byteLength(JSON.stringify(step.params));
    if (bytes > MAX_PARAMS_BYTES)
      throw new InvalidInputError(
        `${name} step ${step.name} params`,
        `${bytes} bytes of JSON`,
        `at most ${MAX_PARAMS_BYTES} bytes`,
      );
    return resolveChecked(step);
  };
  const resolveChecked = (step: PlanStep): ResolvedStep => ({
    name: step.name,
    step: step.step,
    target: typeof step.target === 'string' ? { selector: step.target.trim() } : { agents: step.target },
    params: validateStepParams(step.step, step.params),
    options: {
      concurrency: parseCountOrPercent('concurrency', String(step.concurrency)),
      maxErrors: parseCountOrPercent('maxErrors', String(step.maxErrors)),
      ...(step.serialBy ? { serialBy: step.serialBy } : {}),
      ...(step.timeout === undefined ? {} : { timeoutMs: parseDurationMs('timeout', String(step.timeout)) }),
      ...(step.deliveryTimeout === undefined
        ? {}
        : { deliveryTimeoutMs: parseDurationMs('deliveryTimeout', String(step.deliveryTimeout)) }),
    },
  });
  return {
    apiVersion: plan.apiVersion,
    kind: plan.kind,
    metadata: plan.metadata,
    vars: plan.vars,
    phases: plan.phases.map((phase) => ({
      name: phase.name,
      ...(phase.description ? { description: phase.description } : {}),
      approval: phase.approval,
      steps: phase.steps.map(resolve),
      gate: phase.gate.map((check) => ({
        ...resolve(check),
        expect: Array.isArray(check.expect) ? check.expect : [check.expect],
      })),
      rollback: phase.rollback.map(resolve),
    })),
  };
}

export function kafkaClusterModel(cluster: KafkaFleetCluster): Cluster {
  const n = cluster.nodes;
  const rack = (i: number) => `${cluster.name}-rack-${(i % cluster.racks) + 1}`;
  const brokers = [
    ...Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      host: `${cluster.name}-s${i + 1}`,
      rack: rack(i),
      role: 'source',
    })),
    ...Array.from({ length: n }, (_, i) => ({
      id: DESTINATION_BROKER_OFFSET + i + 1,
      host: `${cluster.name}-d${i + 1}`,
      rack: rack(i),
      role: 'destination',
    })),
  ];
  let offset = 0;
  const topics = cluster.topics.flatMap((group) =>
    topicNames(group).map((name) => {
      const partitions = Array.from({ length: group.partitions }, (_, p) => {
        const replicas = Array.from({ length: group.replication }, (_, k) => ((offset + p + k) % n) + 1);
        return {
          partition: p,
          replicas,
          leader: replicas[0],
          isr: replicas,
          sizeBytes: group.bytesPerPartition,
          bytesInPerSec: group.inboundRate,
        };
      });
      offset += group.partitions;
      return { name, partitions };
    }),
  );
  return parseCluster({ brokers, topics }, `fleet cluster ${cluster.name}`);
}

function planKafka(fleet: Fleet, cluster: KafkaFleetCluster, loading: PlanLoading) {
  const model = kafkaClusterModel(cluster);
  const n = cluster.nodes;
  const map = new Map(Array.from({ length: n }, (_, i) => [i + 1, DESTINATION_BROKER_OFFSET + i + 1] as const));
  const migration = planMigration(model, {
    placement: { mode: 'map', map },
    perBrokerMoves: fleet.migration.kafka.perBrokerMoves,
    throttleBytesPerSec: fleet.migration.kafka.throttle,
  });
  const errors = migration.findings.filter((f) => f.severity === 'error');
  if (errors.length > 0) throw new PlannerRefusedError(cluster.name, 'Kafka', errors);
  const agents: SimAgent[] = [
    ...Array.from({ length: n }, (_, i) => agent(cluster, `${cluster.name}-s${i + 1}`, 'source', String(i + 1))),
    ...Array.from({ length: n }, (_, i) =>
      agent(cluster, `${cluster.name}-d${i + 1}`, 'destination', String(DESTINATION_BROKER_OFFSET + i + 1)),
    ),
  ];
  const zookeeper = cluster.zookeeper;
  if (zookeeper)
    for (let j = 1; j <= zookeeper.observers; j++)
      agents.push(agent(cluster, `${cluster.name}-zk${j}`, 'zookeeper', `zk${j}`));
  const document = migrationPlanFile(migration, {
    name: `${cluster.name}-migration`,
    cluster: cluster.name,
    delegate: `${cluster.name}-d1`,
    destinationBrokers: [...map.values()],
    sourceAgents: `cluster=${cluster.name},role=source`,
    destinationAgents: `cluster=${cluster.name},role=destination`,
    ...(zookeeper
      ? {
          observers: {
            agents: `cluster=${cluster.name},role=zookeeper`,
            ensemble: Array.from({ length: zookeeper.voters }, (_, v) => ({
              id: v + 1,
              host: `${cluster.name}-zk-voter-${v + 1}`,
              quorumPort: 2888,
              electionPort: 3888,
              clientPort: 2181,
            })),
          },
        }
      : {}),
  });
  return { cluster, agents, plan: loadGenerated(document, cluster.name, loading), kafka: model };
}

const RING_BITS = 2n ** 64n;
const MIN_TOKEN = -(2n ** 63n);

/** Node i of a DC at `index`: addresses 10.<dc>.<hi>.<lo>. */
function address(dcIndex: number, i: number): string {
  return `10.${dcIndex}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export function cassandraTopology(cluster: CassandraFleetCluster): Topology {
  const n = cluster.nodes;
  const count = BigInt(n * cluster.vnodes);
  const step = RING_BITS / count;
  const nodes = ['old', 'new'].flatMap((dc, d) =>
    Array.from({ length: n }, (_, i) => ({
      address: address(d + 1, i),
      dc,
      rack: `rack${(i % cluster.racks) + 1}`,
      tokens: Array.from({ length: cluster.vnodes }, (_, v) =>
        (MIN_TOKEN + BigInt(v * n + i) * step + (d === 1 ? step / 2n : 0n)).toString(),
      ),
    })),
  );
  const nts = (rf: number) => ({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', old: String(rf) });
  return {
    partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
    nodes,
    keyspaces: [
      ...cluster.keyspaces.map((k) => ({ name: k.name, replication: nts(k.replication) })),
      ...REPLICATED_SYSTEM_KEYSPACES.map((name) => ({ name, replication: nts(Math.min(3, n)) })),
    ],
  };
}

function planCassandra(fleet: Fleet, cluster: CassandraFleetCluster, loading: PlanLoading) {
  const rf = Math.max(...cluster.keyspaces.map((k) => k.replication));
  const topology = extendedTopology(cassandraTopology(cluster), 'old', 'new', rf);
  // The destination keeps each keyspace's own RF (extendedTopology gives every keyspace `rf`).
  for (const keyspace of topology.keyspaces) {
    const own = cluster.keyspaces.find((k) => k.name === keyspace.name);
    if (own && keyspace.replication.new !== undefined) keyspace.replication.new = String(own.replication);
  }
  const ring = buildRing(topology);
  const plan = planRebuild(topology, ring, {
    sourceDc: 'old',
    destDc: 'new',
    maxStreamsPerSource: fleet.migration.cassandra.maxStreamsPerSource,
  });
  const errors = plan.findings.filter((f) => f.severity === 'error');
  if (errors.length > 0) throw new PlannerRefusedError(cluster.name, 'Cassandra', errors);
  const agents = topology.nodes.map((node, i) =>
    agent(
      cluster,
      `${cluster.name}-${node.dc === 'old' ? 's' : 'd'}${(i % cluster.nodes) + 1}`,
      node.dc === 'old' ? 'source' : 'destination',
      node.address,
    ),
  );
  const agentOf = new Map(agents.map((a) => [a.node, a.id]));
  const document = cassandraMigrationPlanFile(topology, plan, {
    name: `${cluster.name}-migration`,
    cluster: cluster.name,
    delegate: `${cluster.name}-d1`,
    sourceDc: 'old',
    destDc: 'new',
    replicationFactor: rf,
    agentOf,
  });
  const keyspaceBytes = new Map<string, number>(
    cluster.keyspaces.map((k) => [k.name, (k.bytesPerNode * cluster.nodes) / Math.min(k.replication, cluster.nodes)]),
  );
  for (const name of REPLICATED_SYSTEM_KEYSPACES) keyspaceBytes.set(name, SYSTEM_KEYSPACE_BYTES);
  return {
    cluster,
    agents,
    plan: loadGenerated(document, cluster.name, loading),
    cassandra: { topology, keyspaceBytes },
  };
}
