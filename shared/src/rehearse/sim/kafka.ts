// A Kafka cluster's data plane in simulated time: partitions with replicas, ISR and leaders, the
// brokers' replication throttles, and what a reassignment does to them. The effects the plan's
// kafka.reassign batches have on a real cluster, with the same semantics (coordinator/src/kafka/README.md):
// a new replica copies the partition from its leader, through the leader's
// `leader.replication.throttled.rate` and the follower's `follower.replication.throttled.rate`
// (each shared by every throttled copy crossing that broker) and the link between their regions,
// while the partition keeps receiving its inbound records; it joins the ISR `isrJoinMs` after it
// caught up; the reassignment ends when every target replica is in the ISR; replicas left out are
// dropped, and a leader left out hands leadership to the first target replica in the ISR.
// Preferred elections make replicas[0] the leader when it is in the ISR.
//
// Faults (`drover rehearse run --fail`): a broker that goes DOWN leaves every ISR, hands the
// leadership of its partitions to the first other ISR replica (copies from it carry on from that
// leader with the bytes they still lack), stalls every copy toward it, and makes the controller
// refuse a reassignment naming it ("not alive"); a stalled move stays in flight (as on a real
// cluster after the step gave up) until a reassignment with `cancelInFlight` cancels it. A SLOW
// broker moves its replication N times slower (its throttles and its unthrottled rate divided by N).
import type { ConfigOp, Election, Reassignment } from '../../kafka/shapes.ts';
import type { SimCosts } from './costs.ts';
import type { Flow, Resource } from './network.ts';
import type { Simulation } from './simulation.ts';

export interface SimPartition {
  topic: string;
  partition: number;
  replicas: number[];
  isr: number[];
  leader: number;
  sizeBytes: number;
  inboundBytesPerSec: number;
}

export interface SimBroker {
  id: number;
  region: string;
  up: boolean;
  /** How many times slower than its rates it replicates (a fault; 1 normally). */
  slow: number;
  /** The configured `leader/follower.replication.throttled.rate` (the unthrottled rate when none). */
  leaderRate: number;
  followerRate: number;
  /** Outbound throttled replication (leader side). */
  leaderOut: Resource;
  /** Inbound throttled replication (follower side). */
  followerIn: Resource;
}

export interface SimKafkaClusterOptions {
  name: string;
  brokers: { id: number; region: string }[];
  partitions: Omit<SimPartition, 'isr' | 'leader'>[];
  /** The resource of the link between two regions (shared across clusters). */
  link: (from: string, to: string) => Resource;
  costs: SimCosts;
}

/** The controller refuses a reassignment to a broker that is down. */
export class BrokerNotAliveError extends Error {
  constructor(cluster: string, broker: number, partition: string) {
    super(`${cluster}: broker ${broker} is not alive, so the reassignment of ${partition} is refused`);
    this.name = 'BrokerNotAliveError';
  }
}

/** A copy's leader went down: it carries on from the new leader. */
class LeaderMovedError extends Error {}
/** A copy toward a broker that went down: it waits for the broker. */
class FollowerDownError extends Error {}
/** A move in flight cancelled by a reassignment with `cancelInFlight`. */
class MoveCancelledError extends Error {}

interface Move {
  original: number[];
  flows: Map<Flow, { leader: number; follower: number }>;
  /** Rejects the move's waits for a broker that is down (on cancel). */
  waiting: Set<(error: Error) => void>;
}

export class SimKafkaCluster {
  readonly name: string;
  readonly brokers = new Map<number, SimBroker>();
  readonly partitions = new Map<string, SimPartition>();
  /** Throttled-replica entries per topic (what `leader/follower.replication.throttled.replicas` hold). */
  readonly throttledReplicas = new Map<string, Set<string>>();
  private readonly sim: Simulation;
  private readonly options: SimKafkaClusterOptions;
  /** Bytes copied to new replicas so far. */
  bytesCopied = 0;
  /** Moves in flight, by `topic/partition`. */
  private readonly moves = new Map<string, Move>();

  constructor(sim: Simulation, options: SimKafkaClusterOptions) {
    this.sim = sim;
    this.options = options;
    this.name = options.name;
    const open = options.costs.unthrottledBytesPerSec;
    for (const b of options.brokers)
      this.brokers.set(b.id, {
        id: b.id,
        region: b.region,
        up: true,
        slow: 1,
        leaderRate: open,
        followerRate: open,
        leaderOut: sim.resource(`${options.name}/broker-${b.id}/leader-out`, open),
        followerIn: sim.resource(`${options.name}/broker-${b.id}/follower-in`, open),
      });
    for (const p of options.partitions)
      this.partitions.set(`${p.topic}/${p.partition}`, { ...p, isr: [...p.replicas], leader: p.replicas[0] ?? -1 });
  }

  private broker(id: number): SimBroker {
    const broker = this.brokers.get(id);
    if (broker === undefined) throw new Error(`${this.name}: broker ${id} is not in the cluster`);
    return broker;
  }

  private partition(topic: string, partition: number): SimPartition {
    const found = this.partitions.get(`${topic}/${partition}`);
    if (found === undefined) throw new Error(`${this.name}: no partition ${topic}/${partition}`);
    return found;
  }

  /** IncrementalAlterConfigs: rates change the throttle resources from now on; lists are kept for checks. */
  async alterConfigs(ops: readonly ConfigOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.sim.sleep(this.options.costs.kafkaAdminMs);
    for (const op of ops) {
      const [kind, name] = splitResource(op.resource);
      if (kind === 'broker') {
        const broker = this.broker(Number(name));
        const rate = op.op === 'SET' ? Number(op.value) : this.options.costs.unthrottledBytesPerSec;
        if (op.key === 'leader.replication.throttled.rate') broker.leaderRate = rate;
        else if (op.key === 'follower.replication.throttled.rate') broker.followerRate = rate;
        else continue;
        this.applyRates(broker);
      } else {
        const entries = this.throttledReplicas.get(name) ?? new Set<string>();
        const values = (op.value ?? '').split(',').filter((v) => v !== '');
        if (op.op === 'APPEND' || op.op === 'SET') for (const v of values) entries.add(`${op.key}=${v}`);
        else if (op.op === 'SUBTRACT') for (const v of values) entries.delete(`${op.key}=${v}`);
        else for (const e of [...entries]) if (e.startsWith(`${op.key}=`)) entries.delete(e);
        this.throttledReplicas.set(name, entries);
      }
    }
  }

  private applyRates(broker: SimBroker): void {
    this.sim.network.setCapacity(broker.leaderOut, broker.leaderRate / broker.slow);
    this.sim.network.setCapacity(broker.followerIn, broker.followerRate / broker.slow);
  }

  /**
   * AlterPartitionReassignments, then wait until every partition is on its targets with a full ISR.
   * Refused as a whole (nothing submitted) when a target replica is on a broker that is down.
   */
  async reassign(reassignments: readonly Reassignment[]): Promise<void> {
    if (reassignments.length === 0) return;
    await this.sim.sleep(this.options.costs.kafkaAdminMs);
    for (const r of reassignments)
      for (const id of r.replicas)
        if (!this.broker(id).up) throw new BrokerNotAliveError(this.name, id, `${r.topic}/${r.partition}`);
    await Promise.all(reassignments.map((r) => this.moveOne(r)));
  }

  private async moveOne(r: Reassignment): Promise<void> {
    const key = `${r.topic}/${r.partition}`;
    const p = this.partition(r.topic, r.partition);
    for (const id of r.replicas) this.broker(id);
    const adding = r.replicas.filter((id) => !p.replicas.includes(id));
    const move: Move = { original: [...p.replicas], flows: new Map(), waiting: new Set() };
    this.moves.set(key, move);
    // During the move the replica set is the union (Kafka's adding replicas).
    p.replicas = [...new Set([...r.replicas, ...p.replicas])];
    try {
      await Promise.all(adding.map((id) => this.copy(p, id, move)));
    } catch (error) {
      if (error instanceof MoveCancelledError) return;
      throw error;
    } finally {
      if (this.moves.get(key) === move) this.moves.delete(key);
    }
    const dropping = p.replicas.some((id) => !r.replicas.includes(id));
    if (dropping) await this.sim.sleep(this.options.costs.replicaDeleteMs);
    p.replicas = [...r.replicas];
    p.isr = p.isr.filter((id) => r.replicas.includes(id));
    if (!r.replicas.includes(p.leader)) p.leader = r.replicas.find((id) => p.isr.includes(id)) ?? -1;
  }

  /** One new replica catching up from the leader (whichever broker leads as it goes), then joining the ISR. */
  private async copy(p: SimPartition, id: number, move: Move): Promise<void> {
    let bytes = p.sizeBytes;
    for (;;) {
      const follower = this.broker(id);
      if (!follower.up || p.leader < 0) {
        // A down follower, or a partition with no leader: it waits (for a return not modelled).
        await new Promise<never>((_, reject) => move.waiting.add(reject));
      }
      const leader = this.broker(p.leader);
      const flow = this.sim.flow({
        label: `${this.name} ${p.topic}/${p.partition} -> ${id}`,
        bytes,
        resources: [leader.leaderOut, follower.followerIn, this.options.link(leader.region, follower.region)],
        growthBytesPerSec: p.inboundBytesPerSec,
      });
      move.flows.set(flow, { leader: leader.id, follower: id });
      try {
        await flow.finished;
        break;
      } catch (error) {
        if (!(error instanceof LeaderMovedError || error instanceof FollowerDownError)) throw error;
        bytes = flow.remaining;
      } finally {
        move.flows.delete(flow);
      }
    }
    this.bytesCopied += p.sizeBytes;
    await this.sim.sleep(this.options.costs.isrJoinMs);
    p.isr.push(id);
  }

  /**
   * A reassignment with null target replicas for every move in flight (kafka.reassign's
   * `cancelInFlight`): each partition is back on its replicas from before the move. Returns how many.
   */
  cancelInFlight(): number {
    const cancelled = [...this.moves];
    this.moves.clear();
    for (const [key, move] of cancelled) {
      const p = this.partitions.get(key) as SimPartition;
      for (const flow of move.flows.keys()) this.sim.network.cancel(flow, new MoveCancelledError(key));
      for (const reject of move.waiting) reject(new MoveCancelledError(key));
      p.replicas = [...move.original];
      p.isr = p.isr.filter((id) => move.original.includes(id));
      if (!move.original.includes(p.leader)) p.leader = p.isr[0] ?? -1;
    }
    return cancelled.length;
  }

  /** A broker goes down (see the file's comment). */
  down(id: number): void {
    const broker = this.broker(id);
    broker.up = false;
    for (const p of this.partitions.values()) {
      p.isr = p.isr.filter((replica) => replica !== id);
      if (p.leader === id) p.leader = p.isr.find((replica) => this.broker(replica).up) ?? -1;
    }
    for (const move of this.moves.values())
      for (const [flow, ends] of move.flows) {
        if (ends.follower === id) this.sim.network.cancel(flow, new FollowerDownError());
        else if (ends.leader === id) this.sim.network.cancel(flow, new LeaderMovedError());
      }
  }

  /** A broker replicates `factor` times slower from now on. */
  slowDown(id: number, factor: number): void {
    const broker = this.broker(id);
    broker.slow = factor;
    this.applyRates(broker);
  }

  /** ElectLeaders(PREFERRED): replicas[0] leads when it is in the ISR (else the election is not possible). */
  async elect(elections: readonly Election[]): Promise<number> {
    if (elections.length === 0) return 0;
    await this.sim.sleep(this.options.costs.electionMs);
    let elected = 0;
    for (const e of elections) {
      const p = this.partition(e.topic, e.partition);
      const preferred = p.replicas[0] as number;
      if (p.isr.includes(preferred) && p.leader !== preferred) {
        p.leader = preferred;
        elected++;
      }
    }
    return elected;
  }

  /** What kafka.verify checks, on the simulated state. */
  verify(check: { fullIsr?: boolean; leadersPreferred?: boolean; onlyBrokers?: number[]; noThrottles?: boolean }): {
    ok: boolean;
    problems: string[];
  } {
    const problems: string[] = [];
    const only = check.onlyBrokers ? new Set(check.onlyBrokers) : undefined;
    for (const p of this.partitions.values()) {
      const key = `${p.topic}/${p.partition}`;
      if (check.fullIsr && p.isr.length < p.replicas.length) problems.push(`${key}: ISR ${p.isr} of ${p.replicas}`);
      if (check.leadersPreferred && p.leader !== p.replicas[0])
        problems.push(`${key}: leader ${p.leader}, preferred ${p.replicas[0]}`);
      if (only && p.replicas.some((id) => !only.has(id)))
        problems.push(`${key}: replicas ${p.replicas} outside ${[...only]}`);
    }
    if (check.noThrottles) {
      for (const b of this.brokers.values())
        if (
          b.leaderRate !== this.options.costs.unthrottledBytesPerSec ||
          b.followerRate !== this.options.costs.unthrottledBytesPerSec
        )
          problems.push(`broker ${b.id}: throttle still set`);
      for (const [topic, entries] of this.throttledReplicas)
        if (entries.size > 0) problems.push(`topic ${topic}: throttled replicas still listed`);
    }
    return { ok: problems.length === 0, problems };
  }
}

function splitResource(resource: string): ['broker' | 'topic', string] {
  const colon = resource.indexOf(':');
  const kind = resource.slice(0, colon);
  if (kind !== 'broker' && kind !== 'topic')
    throw new Error(`config resource ${resource}: expected broker:ID or topic:NAME`);
  return [kind, resource.slice(colon + 1)];
}
