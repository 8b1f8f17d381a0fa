// Placement: where each partition's replicas go on the destination brokers — from an explicit
// broker map, or automatically (rack-aware, balanced, deterministic).

import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import { balanceLeaders, balanceReplicas } from './balance.ts';
import type { Broker, Cluster, Partition } from './model.ts';
import type { MapPlacement, ResolvedPlanOptions } from './options.ts';
import { type Finding, partitionKey } from './types.ts';

export interface PlacementResult {
  /** Destination replicas per partition, parallel to the partitions given; first = preferred leader. */
  destinations: number[][];
  findings: Finding[];
}

/** Brokers that can receive replicas (`destination` and `both`), sorted by id. */
export function destinationBrokers(cluster: Cluster): Broker[] {
  return cluster.brokers.filter((b) => b.role !== 'source').sort((a, b) => a.id - b.id);
}

/**
 * Chooses destinations for `partitions` (which must be in plan order: topic name, then partition).
 * Throws InvalidInputErrors when the options cannot be honoured (unknown broker in --map, an RF
 * larger than the destination brokers, …).
 */
export function placeDestinations(
  cluster: Cluster,
  partitions: readonly Partition[],
  options: ResolvedPlanOptions,
): PlacementResult {
  const { placement } = options;
  if (placement.mode === 'map') return placeByMap(cluster, partitions, placement);
  const brokers = destinationBrokers(cluster);
  const problems: InvalidInputError[] = [];
  const findings: Finding[] = [];
  const rf = placement.rf;
  if (rf !== undefined && rf > brokers.length) {
    problems.push(new InvalidInputError('--rf', rf, `at most ${brokers.length} (the destination brokers)`));
  }
  let lowered = 0;
  let maxRf = 0;
  for (const p of partitions) {
    const partitionRf = rf ?? p.replicas.length;
    maxRf = Math.max(maxRf, partitionRf);
    if (partitionRf < p.replicas.length) lowered++;
    if (rf === undefined && partitionRf > brokers.length && problems.length < 20) {
      problems.push(
        new InvalidInputError(
          'cluster.brokers',
          `${brokers.length} destination brokers`,
          `at least ${partitionRf} (the RF of ${partitionKey(p.topic, p.partition)}), or a lower --rf`,
        ),
      );
    }
  }
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  const placer = new AutoPlacer(brokers);
  if (placer.rackCount < maxRf) {
    findings.push({
      severity: 'warning',
      code: 'racks-fewer-than-rf',
      message: `destination brokers span ${placer.rackCount} racks, fewer than RF ${maxRf}: some partitions get two replicas in one rack (spread as evenly as possible)`,
      subject: 'cluster',
    });
  }
  if (lowered > 0) {
    findings.push({
      severity: 'warning',
      code: 'rf-lowered',
      message: `--rf ${rf} lowers the replication factor of ${lowered} partitions: check min.insync.replicas and acks`,
      subject: 'cluster',
    });
  }
  const { destinations, complete } = placer.placeAll(partitions, rf);
  if (!complete) {
    findings.push({
      severity: 'info',
      code: 'balance-incomplete',
      message:
        'automatic placement stopped balancing early (work budget): replica or leader counts may differ by more than 1',
      subject: 'cluster',
    });
  }
  return { destinations, findings };
}

/**
 * Greedy balanced, rack-aware placement; state is the running counts per destination broker.
 * For each partition in order: the leader is the broker with the fewest leaders (ties: fewest
 * replicas, then fewest leaders/replicas of this topic, then lowest id); each follower is the
 * broker with the fewest replicas (ties: this topic's count, then id) on a rack the partition does
 * not use yet — or, when there are fewer racks than RF, on the rack it uses least.
 * With one RF throughout this is level already; mixed RFs can leave a broker 2 above another, so
 * balance.ts then repairs replicas and leaders until max − min <= 1 wherever a placement allows it.
 *
 * Worked example: brokers 101,102 (rack a), 103,104 (rack b), 105,106 (rack c), RF 3.
 * p0: leader 101; followers 103 (rack b, fewest, lowest id), 105 (rack c)  → [101,103,105]
 * p1: leader 102 (no leaders yet, fewest replicas); followers 104, 106     → [102,104,106]
 * p2: leader 103 (0 leaders, 1 replica); followers 101 (a), 105 (c)        → [103,101,105]
 * Counts stay level: after 6 partitions every broker has 1 leader and 3 replicas.
 */
class AutoPlacer {
  readonly rackCount: number;
  readonly #ids: number[];
  readonly #rackOf: Int32Array;
  readonly #leaders: Int32Array;
  readonly #replicas: Int32Array;
  readonly #topicLeaders: Int32Array;
  readonly #topicReplicas: Int32Array;
  readonly #rackUse: Int32Array;
  readonly #taken: Int32Array;
  #serial = 0;
  #topic: string | null = null;

  constructor(brokers: readonly Broker[]) {
    const n = brokers.length;
    this.#ids = brokers.map((b) => b.id);
    const racks = new Map<string, number>();
    // A broker without a rack is a rack of its own: nothing says it shares a failure domain.
    this.#rackOf = Int32Array.from(brokers, (b) => {
      const key = b.rack ?? `\u0000${b.id}`;
      if (!racks.has(key)) racks.set(key, racks.size);
      return racks.get(key)!;
    });
    this.rackCount = racks.size;
    this.#leaders = new Int32Array(n);
    this.#replicas = new Int32Array(n);
    this.#topicLeaders = new Int32Array(n);
    this.#topicReplicas = new Int32Array(n);
    this.#rackUse = new Int32Array(racks.size);
    this.#taken = new Int32Array(n);
  }

  /** Greedy placement of every partition (in plan order), then balance repair; returns broker ids. */
  placeAll(partitions: readonly Partition[], rf: number | undefined): { destinations: number[][]; complete: boolean } {
    const sets = partitions.map((p) => this.#place(p.topic, rf ?? p.replicas.length));
    const replicas = balanceReplicas(sets, this.#rackOf, this.rackCount);
    const leaders = balanceLeaders(sets, this.#ids.length);
    const ids = this.#ids;
    // Indices become ids in place: the arrays are the plan's destination lists.
    for (const set of sets) for (let k = 0; k < set.length; k++) set[k] = ids[set[k]!]!;
    return { destinations: sets, complete: replicas.complete && leaders.complete };
  }

  /** The destination replicas (broker indices) of the next partition, in plan order, of `topic`. */
  #place(topic: string, rf: number): number[] {
    if (topic !== this.#topic) {
      this.#topic = topic;
      this.#topicLeaders.fill(0);
      this.#topicReplicas.fill(0);
    }
    const serial = ++this.#serial;
    const n = this.#ids.length;
    const distinctRacks = this.rackCount >= rf;
    // Locals, not fields, in the loops below: they run brokers × RF times per partition.
    const leaders = this.#leaders;
    const replicas = this.#replicas;
    const topicLeaders = this.#topicLeaders;
    const topicReplicas = this.#topicReplicas;
    const rackOf = this.#rackOf;
    const rackUse = this.#rackUse;
    const taken = this.#taken;
    const take = (i: number) => {
      taken[i] = serial;
      rackUse[rackOf[i]!]!++;
      replicas[i]!++;
      topicReplicas[i]!++;
    };
    let leader = 0;
    for (let i = 1; i < n; i++) {
      const order =
        leaders[i]! - leaders[leader]! ||
        replicas[i]! - replicas[leader]! ||
        topicLeaders[i]! - topicLeaders[leader]! ||
        topicReplicas[i]! - topicReplicas[leader]!;
      if (order < 0) leader = i;
    }
    const chosen = [leader];
    take(leader);
    leaders[leader]!++;
    topicLeaders[leader]!++;
    while (chosen.length < rf) {
      let best = -1;
      for (let i = 0; i < n; i++) {
        if (taken[i] === serial) continue;
        if (distinctRacks && rackUse[rackOf[i]!]! > 0) continue;
        if (best === -1) {
          best = i;
          continue;
        }
        const order =
          (distinctRacks ? 0 : rackUse[rackOf[i]!]! - rackUse[rackOf[best]!]!) ||
          replicas[i]! - replicas[best]! ||
          topicReplicas[i]! - topicReplicas[best]!;
        if (order < 0) best = i;
      }
      chosen.push(best);
      take(best);
    }
    for (const i of chosen) rackUse[rackOf[i]!] = 0;
    return chosen;
  }
}

/**
 * Maps each replica through the operator's map; a replica on a `destination`/`both` broker that the
 * map does not name stays where it is. Checks every entry and reports all problems at once.
 */
function placeByMap(cluster: Cluster, partitions: readonly Partition[], placement: MapPlacement): PlacementResult {
  const byId = new Map(cluster.brokers.map((b) => [b.id, b]));
  const problems: InvalidInputError[] = [];
  const targets = new Map<number, number>();
  for (const [from, to] of placement.map) {
    const entry = `${from}=${to}`;
    const source = byId.get(from);
    const dest = byId.get(to);
    if (!source)
      problems.push(
        new InvalidInputError('--map', entry, `a source broker id from the cluster file (no broker ${from})`),
      );
    else if (source.role === 'destination')
      problems.push(
        new InvalidInputError(
          '--map',
          entry,
          `a broker with role "source" or "both" on the left (${from} is a destination)`,
        ),
      );
    if (!dest)
      problems.push(
        new InvalidInputError('--map', entry, `a destination broker id from the cluster file (no broker ${to})`),
      );
    else if (dest.role === 'source')
      problems.push(
        new InvalidInputError(
          '--map',
          entry,
          `a broker with role "destination" or "both" on the right (${to} is a source)`,
        ),
      );
    const other = targets.get(to);
    if (other !== undefined)
      problems.push(new InvalidInputError('--map', entry, `each destination used once (${other}=${to} too)`));
    targets.set(to, from);
  }
  const unmapped = new Set<number>();
  for (const p of partitions) {
    for (const r of p.replicas) if (!placement.map.has(r) && byId.get(r)?.role === 'source') unmapped.add(r);
  }
  for (const id of [...unmapped].sort((a, b) => a - b)) {
    problems.push(
      new InvalidInputError(
        '--map',
        [...placement.map].map(([a, b]) => `${a}=${b}`).join(','),
        `an entry for source broker ${id} (it holds replicas)`,
      ),
    );
  }
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  const destinations = partitions.map((p) => {
    const dest = p.replicas.map((r) => placement.map.get(r) ?? r);
    if (new Set(dest).size !== dest.length) {
      problems.push(
        new InvalidInputError('--map', dest, `distinct destination replicas for ${partitionKey(p.topic, p.partition)}`),
      );
    }
    return dest;
  });
  if (problems.length > 0) throw new InvalidInputErrors(problems.slice(0, 20));
  return { destinations, findings: rackCollisions(byId, partitions, destinations) };
}

/** A map that puts two replicas of a partition in one rack where its sources used distinct racks. */
function rackCollisions(
  byId: ReadonlyMap<number, Broker>,
  partitions: readonly Partition[],
  destinations: number[][],
): Finding[] {
  const distinctRacks = (ids: number[]) => {
    const racks = ids.map((id) => byId.get(id)?.rack ?? null);
    return !racks.includes(null) && new Set(racks).size === racks.length;
  };
  const hit: string[] = [];
  partitions.forEach((p, i) => {
    if (distinctRacks(p.replicas) && !distinctRacks(destinations[i]!)) hit.push(partitionKey(p.topic, p.partition));
  });
  if (hit.length === 0) return [];
  const sample = hit.slice(0, 5).join(', ') + (hit.length > 5 ? ', …' : '');
  return [
    {
      severity: 'warning',
      code: 'map-rack-collision',
      message: `--map puts two replicas in one rack (or a rack-less broker) for ${hit.length} partitions whose sources used distinct racks: ${sample}`,
      subject: 'cluster',
    },
  ];
}
