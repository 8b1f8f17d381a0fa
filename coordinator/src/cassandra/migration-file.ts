// Turns a live Cassandra cluster (what each agent's `cassandra.describe` returned) into the migration
// as a Drover plan file: add the destination datacenter and rebuild it consistently.
//
//   prepare        each destination node: -Dcassandra.reset_bootstrap_progress=false, (re)started
//                  gate: every destination node reports the property as the running JVM sees it
//   extend         every keyspace (+ system_auth/distributed/traces) gets the destination DC   rollback: removed
//   rebuild        the planner's waves: one cassandra.rebuild step per wave, targets = the wave's
//                  nodes (one rebuild per node at a time, at most N streams per source)
//                  rollback: every destination node wiped (cassandra.node-wipe), for a retry
//   verify         gate: every planned range recorded as available on its node, and sample keys'
//                  replicas (nodetool getendpoints) where the plan puts them
//   move-clients   (approval) clients move to the destination DC; gate: every destination node available
//   drop-source-dc (optional, approval) the source DC removed from replication   rollback: added back
//   decommission-source-dc (optional, approval, after drop-source-dc) each source node decommissioned,
//                  one at a time, its service stopped; no rollback
//
// The planner needs the destination DC in every keyspace's replication; before `extend` runs it is not
// there yet, so the topology is extended here exactly as the extend step will do it.
import { Buffer } from 'node:buffer';
import {
  type CassandraOwnedMask,
  encodeRangeMask,
  InvalidInputError,
  ownedRangesDigest,
  type PlanInput,
} from '@drover/shared';
import { chunk } from '../plan/writing.ts';
import { REPLICATED_SYSTEM_KEYSPACES } from './keyspaces.ts';
import { placeReplicas, replicasInDc, replicasOf } from './placement.ts';
import { parseReplication } from './replication.ts';
import { buildRing, type Ring, rangeAt } from './ring.ts';
import type { RebuildPlan, TokenRange, Topology } from './types.ts';

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
  /**
   * Add a phase after drop-source-dc decommissioning every source node, one at a time (needs
   * `dropSourceDc`: a node leaves only once nothing replicates to its DC).
   */
  decommissionSourceDc?: boolean;
  /**
   * The whole rebuild phase as ONE step: items in wave order, each waiting (`after`) only for the
   * items of the previous wave that stream from its source; a node starts its next rebuild as soon as
   * its source is free instead of when the whole wave is over. Falls back to one step per wave when
   * the phase does not fit one order.
   */
  pipeline?: boolean;
  /** Ranges as masks over each node's replicated ranges even when a wave fits listing them. */
  compactRanges?: boolean;
  /** Largest JSON size of one step's params. @default 150000 */
  maxParamsBytes?: number;
  /**
   * Existing partition keys with their tokens (cassandra.describe's `samples`): the verify phase
   * checks that Cassandra places each where the plan does (`nodetool getendpoints`).
   */
  samples?: ReadonlyArray<{ keyspace: string; table: string; key: string; token: string }>;
}

/** Where the (extended) topology puts every replica of each sample key, across all DCs. */
export function sampleEndpoints(
  topology: Topology,
  samples: ReadonlyArray<{ keyspace: string; table: string; key: string; token: string }>,
  keyspaces: ReadonlySet<string>,
): Array<{ keyspace: string; table: string; key: string; endpoints: string[] }> {
  const wanted = samples.filter((s) => keyspaces.has(s.keyspace) && /^-?\d{1,19}$/.test(s.token)).slice(0, 100);
  if (wanted.length === 0) return [];
  const ring = buildRing(topology);
  const tokens = ring.tokens.map((t) => BigInt(t));
  const placements = new Map<string, ReturnType<typeof placeReplicas>>();
  return wanted.map((sample) => {
    let placement = placements.get(sample.keyspace);
    if (!placement) {
      const ks = topology.keyspaces.find((k) => k.name === sample.keyspace);
      if (!ks) throw new Error(`keyspace ${sample.keyspace} is not in the topology`);
      placement = placeReplicas(ring, parseReplication(`keyspaces.${sample.keyspace}.replication`, ks.replication));
      placements.set(sample.keyspace, placement);
    }
    // The range (tokens[i-1], tokens[i]] holds the token: the first ring token at or above it, or
    // the wrapping range 0 past the last one.
    const token = BigInt(sample.token);
    const at = tokens.findIndex((t) => t >= token);
    const endpoints = replicasOf(placement, at === -1 ? 0 : at).map((id) => ring.nodes[id]!.address);
    return { keyspace: sample.keyspace, table: sample.table, key: sample.key, endpoints };
  });
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

  // A wave is one step: every item lists its ranges when the wave fits the params limit that way
  // (small clusters: the plan reads as it runs), else every item carries them as a mask of the
  // ranges its node replicates (about 1 bit per range). Only a wave that does not fit even so is cut,
  // into parts of equal size (the plan runs a phase's steps one after another).
  const masks = new OwnedMasks(topology, options.destDc);
  const waves: StepInput[] = plan.order.flatMap((wave, w) => {
    const listed = wave.map((o) => ({
      agent: agent(o.node),
      node: o.node,
      keyspace: o.keyspace,
      source: o.source,
      ranges: byKey.get(`${o.node}|${o.keyspace}|${o.source}|${o.part ?? 0}`)?.ranges ?? [],
      ...(o.part === undefined ? {} : { part: o.part }),
    }));
    const size = (items: readonly unknown[]) => JSON.stringify({ sourceDc: options.sourceDc, rebuilds: items }).length;
    const items: Array<{ agent: string; ranges?: TokenRange[]; owned?: CassandraOwnedMask }> =
      size(listed) <= maxBytes && !options.compactRanges
        ? listed
        : listed.map(({ ranges, part, ...rest }) => ({
            ...rest,
            owned: masks.mask(rest.node, rest.keyspace, ranges),
            ...(part === undefined ? {} : { part }),
          }));
    const count = Math.ceil(size(items) / maxBytes);
    const parts = count <= 1 ? [items] : evenParts(items, count, maxBytes);
    return parts.map((part, i, all) => {
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

  const pipelined = options.pipeline ? pipelineStep(waves, options.sourceDc, maxBytes) : undefined;

  const expected = new Map<string, { agent: string; node: string; keyspace: string; ranges: [string, string][] }>();
  for (const ks of plan.keyspaces)
    for (const r of ks.rebuilds) {
      const key = `${r.node}|${ks.name}`;
      const entry = expected.get(key) ?? { agent: agent(r.node), node: r.node, keyspace: ks.name, ranges: [] };
      entry.ranges.push(...(r.ranges as [string, string][]));
      expected.set(key, entry);
    }
  // Sample keys ride on the first verify step: each of its nodes asks Cassandra where they live.
  const samples = sampleEndpoints(topology, options.samples ?? [], new Set(plan.keyspaces.map((k) => k.name)));
  // Listed when they fit one step (small clusters: the plan reads as it runs), else as masks of the
  // ranges each node replicates, as the waves do: a big high-vnode cluster's verify lists millions
  // of tokens (16 MB for 45 nodes x 256 vnodes x 5 keyspaces, 108 steps in a row), its masks fit one.
  const listedExpected = [...expected.values()];
  const verifyItems: Array<{
    agent: string;
    node: string;
    keyspace: string;
    ranges?: TokenRange[];
    owned?: CassandraOwnedMask;
  }> =
    JSON.stringify({ expected: listedExpected }).length <= maxBytes && !options.compactRanges
      ? listedExpected
      : listedExpected.map(({ ranges, ...rest }) => ({ ...rest, owned: masks.mask(rest.node, rest.keyspace, ranges) }));
  const verifySteps = chunk(verifyItems, maxBytes).map((part, i, all) => ({
    name: all.length > 1 ? `ranges-available-${i + 1}` : 'ranges-available',
    step: 'cassandra.rebuild-verify',
    target: [...new Set(part.map((p) => p.agent))],
    params: { expected: part, ...(i === 0 && samples.length > 0 ? { samples } : {}) },
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
      description: `${plan.order.length} wave(s)${pipelined ? ', pipelined in one step (a rebuild starts once its source is free)' : ''}: each ${options.destDc} replica streams from a distinct ${options.sourceDc} replica; one rebuild per node at a time, at most ${plan.maxStreamsPerSource} per source.`,
      steps: pipelined ? [pipelined] : waves,
      // A rebuild that failed or is doubted is retried from scratch: the rollback wipes what it
      // brought (each node drained, its keyspaces' files and available-ranges records removed,
      // restarted), then a new apply streams everything again. Move clients back first if they read
      // from ${options.destDc} already.
      rollback: [
        {
          name: 'wipe-rebuilt-nodes',
          step: 'cassandra.node-wipe',
          target: destAgents,
          params: { datacenter: options.destDc },
          concurrency: 1,
        },
      ],
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
  // Cassandra 5.0 refuses to leave a datacenter with live nodes out of system_auth ("Following
  // datacenters have active nodes and must be present in replication options"): system_auth keeps
  // the source DC until its nodes are gone (cassandra.decommission tolerates it for that reason).
  const dropped = topology.keyspaces
    .filter((k) => k.name !== 'system_auth' && Number.parseInt(k.replication[options.sourceDc] ?? '0', 10) > 0)
    .map((k) => k.name);
  if (options.dropSourceDc)
    phases.push({
      name: 'drop-source-dc',
      description: `${options.sourceDc} removed from every keyspace's replication but system_auth's (Cassandra 5.0 keeps a DC with live nodes there; decommission its nodes afterwards).`,
      approval: true,
      steps: [
        {
          ...extend('remove', options.sourceDc),
          params: {
            action: 'remove',
            datacenter: options.sourceDc,
            ...(dropped.length > 0 ? { keyspaces: dropped } : {}),
          },
        },
      ],
      rollback: [extend('add', options.sourceDc, sourceFactor(topology, options.sourceDc))],
    });
  if (options.decommissionSourceDc) {
    if (!options.dropSourceDc)
      throw new InvalidInputError(
        'decommissionSourceDc',
        true,
        `dropSourceDc too: ${options.sourceDc}'s nodes leave only once no keyspace replicates to it`,
      );
    const sourceAgents = topology.nodes.filter((n) => n.dc === options.sourceDc).map((n) => agent(n.address));
    phases.push({
      name: 'decommission-source-dc',
      description: `Each ${options.sourceDc} node leaves the ring (nodetool decommission; refused while a keyspace still replicates to ${options.sourceDc}), one at a time, and its service is stopped. No rollback: a decommissioned node rejoins only as a new node.`,
      approval: true,
      steps: [
        {
          name: 'decommission',
          step: 'cassandra.decommission',
          target: sourceAgents,
          params: {},
          concurrency: 1,
        },
      ],
    });
  }
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

/** `items` cut into `count` consecutive parts of nearly equal size, more when one would not fit. */
function evenParts<T>(items: readonly T[], count: number, maxBytes: number): T[][] {
  for (let n = count; n < items.length; n++) {
    const per = Math.ceil(items.length / n);
    const parts: T[][] = [];
    for (let i = 0; i < items.length; i += per) parts.push(items.slice(i, i + per));
    if (parts.every((p) => JSON.stringify(p).length + 100 <= maxBytes)) return parts;
  }
  return items.map((item) => [item]);
}

/**
 * The ranges each destination node replicates per keyspace (sorted by end token, as the agent sorts
 * `nodetool describering`), computed once per keyspace, and rebuild ranges as masks over them.
 */
export class OwnedMasks {
  readonly #topology: Topology;
  readonly #destDc: string;
  #ring: Ring | undefined;
  readonly #owned = new Map<string, { ranges: TokenRange[]; index: Map<string, number>; digest: string }>();

  constructor(topology: Topology, destDc: string) {
    this.#topology = topology;
    this.#destDc = destDc;
  }

  /** The ranges `node` replicates for `keyspace`, sorted by end token. */
  owned(node: string, keyspace: string): { ranges: TokenRange[]; index: Map<string, number>; digest: string } {
    const key = `${node}|${keyspace}`;
    const hit = this.#owned.get(key);
    if (hit) return hit;
    this.#ring ??= buildRing(this.#topology);
    const ring = this.#ring;
    const ks = this.#topology.keyspaces.find((k) => k.name === keyspace);
    if (!ks) throw new Error(`keyspace ${keyspace} is not in the topology`);
    const placement = placeReplicas(ring, parseReplication(`keyspaces.${keyspace}.replication`, ks.replication));
    const dc = ring.dcId.get(this.#destDc);
    const byNode = new Map<number, TokenRange[]>();
    if (dc !== undefined)
      for (let p = 0; p < ring.size; p++)
        for (const id of replicasInDc(placement, p, dc)) {
          const list = byNode.get(id) ?? [];
          list.push(rangeAt(ring, p));
          byNode.set(id, list);
        }
    for (const [id, ranges] of byNode) {
      const address = ring.nodes[id]!.address;
      this.#owned.set(`${address}|${keyspace}`, {
        ranges,
        index: new Map(ranges.map((r, i) => [`${r[0]},${r[1]}`, i])),
        digest: ownedRangesDigest(ranges),
      });
    }
    const found = this.#owned.get(key);
    if (!found) throw new Error(`${node} replicates no range of ${keyspace} in ${this.#destDc}`);
    return found;
  }

  /** `ranges` (each one the node replicates) as a mask over the node's replicated ranges. */
  mask(node: string, keyspace: string, ranges: readonly TokenRange[]): CassandraOwnedMask {
    const owned = this.owned(node, keyspace);
    const picked = ranges.map((r) => {
      const i = owned.index.get(`${r[0]},${r[1]}`);
      if (i === undefined) throw new Error(`${node} does not replicate (${r[0]},${r[1]}] of ${keyspace}`);
      return i;
    });
    return { count: owned.ranges.length, digest: owned.digest, mask: encodeRangeMask(owned.ranges.length, picked) };
  }

  /** The ranges a mask selects (the inverse of `mask`, for readers of a plan such as the rehearsal). */
  ranges(node: string, keyspace: string, owned: CassandraOwnedMask): TokenRange[] {
    const list = this.owned(node, keyspace);
    if (list.digest !== owned.digest) throw new Error(`${node} ${keyspace}: mask for another ring`);
    const bytes = Buffer.from(owned.mask, 'base64url');
    const out: TokenRange[] = [];
    for (let i = 0; i < owned.count; i++) if (bytes[i >> 3]! & (1 << (i & 7))) out.push(list.ranges[i]!);
    return out;
  }
}

type Item = { agent: string; source: string; after?: number[] };

/**
 * The waves' steps as one step: items in wave order; each item runs after the items of the latest
 * earlier wave that stream from its source (which ran after theirs: by induction every earlier item
 * of that source), so a source never feeds more than the wave cap at once; an agent runs its own
 * items in order, one at a time. Every `after` points to an earlier item: nothing can wait in a cycle.
 * Undefined when the items do not fit one step.
 */
function pipelineStep(waves: readonly StepInput[], sourceDc: string, maxBytes: number): StepInput | undefined {
  const items: Item[] = [];
  let lastWaveOf = new Map<string, number[]>();
  for (const wave of waves) {
    const next = new Map(lastWaveOf);
    const thisWave = new Map<string, number[]>();
    for (const raw of (wave.params as { rebuilds: Item[] }).rebuilds) {
      const before = lastWaveOf.get(raw.source);
      const index = items.push(before ? { ...raw, after: before } : { ...raw }) - 1;
      thisWave.set(raw.source, [...(thisWave.get(raw.source) ?? []), index]);
    }
    for (const [source, indexes] of thisWave) next.set(source, indexes);
    lastWaveOf = next;
  }
  const params = { sourceDc, rebuilds: items };
  if (JSON.stringify(params).length > maxBytes) return undefined;
  const targets = [...new Set(items.map((i) => i.agent))];
  return { name: 'rebuild', step: 'cassandra.rebuild', target: targets, params, concurrency: targets.length };
}
