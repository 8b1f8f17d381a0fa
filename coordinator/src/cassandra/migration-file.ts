// Turns a live Cassandra cluster (what each agent's `cassandra.describe` returned) into the migration
// as a Drover plan file: add the destination datacenter and rebuild it consistently.
//
//   prepare        each destination node: -Dcassandra.reset_bootstrap_progress=false, (re)started
//                  gate: every destination node reports the property as the running JVM sees it
//   extend         every keyspace (+ system_auth/distributed/traces) gets the destination DC   rollback: removed
//   rebuild        the planner's waves: one cassandra.rebuild step per wave, targets = the wave's
//                  nodes (one rebuild per node at a time, at most N streams per source)
//   verify         gate: every planned range recorded as available on its node
//   move-clients   (approval) clients move to the destination DC; gate: every destination node available
//   drop-source-dc (optional, approval) the source DC removed from replication   rollback: added back
//
// The planner needs the destination DC in every keyspace's replication; before `extend` runs it is not
// there yet, so the topology is extended here exactly as the extend step will do it.
import type { PlanInput } from '@drover/shared';
import { chunk } from '../plan/writing.ts';
import { REPLICATED_SYSTEM_KEYSPACES } from './keyspaces.ts';
import type { RebuildPlan, Topology } from './types.ts';

type StepInput = PlanInput['phases'][number]['steps'] extends (infer S)[] | undefined ? S : never;
type PhaseInput = PlanInput['phases'][number];

export interface CassandraMigrationOptions {
  name: string;
  cluster: string;
  /** The agent that runs cluster-wide steps (keyspaces-extend). */
  delegate: string;
  sourceDc: string;
  destDc: string;
  /** Replicas per keyspace in the destination DC. */
  replicationFactor: number;
  /** Agent id of each node, by address (nodes without an agent cannot be rebuilt). */
  agentOf: ReadonlyMap<string, string>;
  /** Add a phase removing the source DC from replication. */
  dropSourceDc?: boolean;
  /** Largest JSON size of one step's params. @default 150000 */
  maxParamsBytes?: number;
}

const LOCAL_ONLY = /LocalStrategy|EverywhereStrategy|MetaStrategy/;
const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy';

/** The keyspaces the extend step changes, with the replication they will have afterwards. */
export function extendedTopology(topology: Topology, sourceDc: string, destDc: string, rf: number): Topology {
  return {
    ...topology,
    keyspaces: topology.keyspaces.map((k) => {
      const cls = k.replication.class ?? '';
      const migrated =
        (!k.name.startsWith('system') || (REPLICATED_SYSTEM_KEYSPACES as readonly string[]).includes(k.name)) &&
        !LOCAL_ONLY.test(cls);
      if (!migrated) return k;
      if (/SimpleStrategy/.test(cls))
        return {
          name: k.name,
          replication: { class: NTS, [sourceDc]: k.replication.replication_factor ?? '1', [destDc]: String(rf) },
        };
      return { name: k.name, replication: { ...k.replication, [destDc]: String(rf) } };
    }),
  };
}

/** The highest RF a keyspace has in `dc` (for the rollback that adds the source DC back). */
function sourceFactor(topology: Topology, dc: string): number {
  let rf = 1;
  for (const k of topology.keyspaces) {
    const n = Number(
      k.replication[dc] ?? (/SimpleStrategy/.test(k.replication.class ?? '') ? k.replication.replication_factor : 0),
    );
    if (Number.isInteger(n) && n > rf) rf = n;
  }
  return rf;
}

export function cassandraMigrationPlanFile(
  topology: Topology,
  plan: RebuildPlan,
  options: CassandraMigrationOptions,
): PlanInput {
  const maxBytes = options.maxParamsBytes ?? 150_000;
  const agent = (address: string): string => {
    const id = options.agentOf.get(address);
    if (!id) throw new Error(`no agent runs node ${address}`);
    return id;
  };
  const destNodes = topology.nodes.filter((n) => n.dc === options.destDc).map((n) => n.address);
  const destAgents = destNodes.map(agent);
  const byKey = new Map<string, { ranges: [string, string][] }>();
  for (const ks of plan.keyspaces)
    for (const r of ks.rebuilds)
      byKey.set(`${r.node}|${ks.name}|${r.source}|${r.part ?? 0}`, { ranges: r.ranges as [string, string][] });

  const waves: StepInput[] = plan.order.flatMap((wave, w) => {
    const items = wave.map((o) => ({
      agent: agent(o.node),
      node: o.node,
      keyspace: o.keyspace,
      source: o.source,
      ranges: byKey.get(`${o.node}|${o.keyspace}|${o.source}|${o.part ?? 0}`)?.ranges ?? [],
      ...(o.part === undefined ? {} : { part: o.part }),
    }));
    return chunk(items, maxBytes).map((part, i, all) => {
      const targets = [...new Set(part.map((p) => p.agent))];
      return {
        name: all.length > 1 ? `wave-${w + 1}-${i + 1}-of-${all.length}` : `wave-${w + 1}`,
        step: 'cassandra.rebuild',
        target: targets,
        params: { sourceDc: options.sourceDc, rebuilds: part },
        concurrency: targets.length,
      } satisfies StepInput;
    });
  });

  const expected = new Map<string, { agent: string; node: string; keyspace: string; ranges: [string, string][] }>();
  for (const ks of plan.keyspaces)
    for (const r of ks.rebuilds) {
      const key = `${r.node}|${ks.name}`;
      const entry = expected.get(key) ?? { agent: agent(r.node), node: r.node, keyspace: ks.name, ranges: [] };
      entry.ranges.push(...(r.ranges as [string, string][]));
      expected.set(key, entry);
    }
  const verifySteps = chunk([...expected.values()], maxBytes).map((part, i, all) => ({
    name: all.length > 1 ? `ranges-available-${i + 1}` : 'ranges-available',
    step: 'cassandra.rebuild-verify',
    target: [...new Set(part.map((p) => p.agent))],
    params: { expected: part },
    expect: { field: 'ok', equals: true },
  }));

  const extend = (action: 'add' | 'remove', datacenter: string, rf?: number) => ({
    name: `${action}-${datacenter}`,
    step: 'cassandra.keyspaces-extend',
    target: [options.delegate],
    params: {
      action,
      datacenter,
      ...(rf === undefined ? {} : { replicationFactor: rf }),
      ...(action === 'add'
        ? { sourceDatacenter: options.sourceDc, allowPlacementChange: [...REPLICATED_SYSTEM_KEYSPACES] }
        : {}),
    },
  });

  const phases: PhaseInput[] = [
    {
      name: 'prepare',
      description: `Each ${options.destDc} node runs with -Dcassandra.reset_bootstrap_progress=false (a second rebuild of a keyspace would abort without it), started or restarted one at a time.`,
      steps: [{ name: 'node-prepare', step: 'cassandra.node-prepare', target: destAgents, params: {}, concurrency: 1 }],
      gate: [
        {
          name: 'resumable',
          step: 'cassandra.node-prepare',
          target: destAgents,
          params: { start: false, restart: false },
          expect: { field: 'resumable', equals: true },
        },
      ],
    },
    {
      name: 'extend',
      description: `Every keyspace gets ${options.destDc} at RF ${options.replicationFactor} (SimpleStrategy ones become NetworkTopologyStrategy first).`,
      steps: [extend('add', options.destDc, options.replicationFactor)],
      rollback: [extend('remove', options.destDc)],
    },
    {
      name: 'rebuild',
      description: `${plan.order.length} wave(s): each ${options.destDc} replica streams from a distinct ${options.sourceDc} replica; one rebuild per node at a time, at most ${plan.maxStreamsPerSource} per source.`,
      steps: waves,
    },
    {
      name: 'verify',
      description: 'Every planned range is recorded as available on its node.',
      gate: verifySteps,
    },
    {
      name: 'move-clients',
      description: `Clients move to ${options.destDc} (LOCAL_* consistency, DC-aware policy). Approve once they have.`,
      approval: true,
      gate: [
        {
          name: 'destination-available',
          step: 'cassandra.status',
          target: destAgents,
          params: {},
          expect: { field: 'available', equals: true },
        },
      ],
    },
  ];
  if (options.dropSourceDc)
    phases.push({
      name: 'drop-source-dc',
      description: `${options.sourceDc} removed from every keyspace's replication (decommission its nodes afterwards).`,
      approval: true,
      steps: [extend('remove', options.sourceDc)],
      rollback: [extend('add', options.sourceDc, sourceFactor(topology, options.sourceDc))],
    });
  return {
    apiVersion: 'drover/v1',
    kind: 'Plan',
    metadata: {
      name: options.name,
      cluster: options.cluster,
      description: `Add ${options.destDc} to Cassandra cluster ${options.cluster} and rebuild it consistently from ${options.sourceDc}.`,
    },
    phases,
  } as PlanInput;
}
