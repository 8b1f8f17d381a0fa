// A Cassandra cluster's data plane in simulated time: nodes in two DCs, how many bytes each token
// range of a keyspace holds, and what `nodetool rebuild -ks K -ts RANGES -s SOURCE` does: one rebuild
// per node at a time (a second is refused, "Node is still rebuilding"), one stream session from the
// source through its outbound stream throughput (`stream_throughput_outbound`, shared by every
// session it serves) and the link between the regions, ranges recorded as available once it ends
// (and skipped when asked again, as with -Dcassandra.reset_bootstrap_progress=false).
//
// Bytes of a range: a keyspace holds `bytesPerNode` on each of the source DC's N nodes with RF
// replicas, so U = bytesPerNode × N / RF distinct bytes, spread evenly over the token ring; a
// range (s, e] holds U × ((e − s) mod 2^64) / 2^64. Example: 6 nodes, RF 3, 100 GB per node: U =
// 200 GB, and a range covering 1/96 of the ring holds 2.08 GB.
import type { SimCosts } from './costs.ts';
import type { Flow, Resource } from './network.ts';
import type { Simulation } from './simulation.ts';

const RING = 2n ** 64n;

export interface SimCassandraNode {
  address: string;
  dc: string;
  region: string;
  up: boolean;
  running: boolean;
  rebuilding: boolean;
  /** Outbound stream throughput of this node as a source. */
  streamOut: Resource;
  /** `keyspace|start|end` of every range recorded as available. */
  available: Set<string>;
}

export interface SimCassandraClusterOptions {
  name: string;
  nodes: { address: string; dc: string; region: string; running: boolean }[];
  /** Distinct bytes of each keyspace (all replicas of one DC counted once). */
  keyspaceBytes: ReadonlyMap<string, number>;
  streamThroughputBytesPerSec: number;
  link: (from: string, to: string) => Resource;
  costs: SimCosts;
}

/** A node that is down: a rebuild on it or from it fails, and so does a session streaming when it goes. */
export class NodeDownError extends Error {
  readonly node: string;
  constructor(node: string) {
    super(`${node} is down`);
    this.name = 'NodeDownError';
    this.node = node;
  }
}

/** A stream session that failed (a fault): the rebuild fails, and a retry streams its ranges again. */
export class StreamSessionFailedError extends Error {
  constructor(label: string) {
    super(`stream session failed: ${label}`);
    this.name = 'StreamSessionFailedError';
  }
}

export class StillRebuildingError extends Error {
  constructor(node: string) {
    super(`${node}: Node is still rebuilding`);
    this.name = 'StillRebuildingError';
  }
}

/** The share of the ring a range (start, end] covers; start === end is the whole ring. */
export function rangeFraction(start: string, end: string): number {
  const width = (((BigInt(end) - BigInt(start)) % RING) + RING) % RING;
  return width === 0n ? 1 : Number(width) / Number(RING);
}

export class SimCassandraCluster {
  readonly name: string;
  readonly nodes = new Map<string, SimCassandraNode>();
  bytesStreamed = 0;
  /** Stream sessions in flight, by the addresses they involve (for a node that goes down). */
  private readonly sessions = new Set<{ node: string; source: string; flow: Flow }>();
  /** Nodes whose next stream session fails (a fault armed while none was in flight). */
  private readonly failNextSession = new Set<string>();
  private readonly sim: Simulation;
  private readonly options: SimCassandraClusterOptions;

  constructor(sim: Simulation, options: SimCassandraClusterOptions) {
    this.sim = sim;
    this.options = options;
    this.name = options.name;
    for (const n of options.nodes)
      this.nodes.set(n.address, {
        ...n,
        up: true,
        rebuilding: false,
        streamOut: sim.resource(`${options.name}/${n.address}/stream-out`, options.streamThroughputBytesPerSec),
        available: new Set(),
      });
  }

  node(address: string): SimCassandraNode {
    const node = this.nodes.get(address);
    if (node === undefined) throw new Error(`${this.name}: no node ${address}`);
    return node;
  }

  /** Bytes of `ranges` of `keyspace` (see the file's comment). */
  bytesOf(keyspace: string, ranges: readonly (readonly [string, string])[]): number {
    const total = this.options.keyspaceBytes.get(keyspace);
    if (total === undefined) throw new Error(`${this.name}: no keyspace ${keyspace}`);
    let fraction = 0;
    for (const [start, end] of ranges) fraction += rangeFraction(start, end);
    return total * fraction;
  }

  /** A node (re)started: the JVM, commit log replay, gossip. */
  async start(address: string): Promise<void> {
    const node = this.node(address);
    if (!node.running) await this.sim.sleep(this.options.costs.cassandraStartMs);
    node.running = true;
  }

  /** One `nodetool rebuild` of `ranges` from `source`; returns the bytes streamed. */
  async rebuild(
    address: string,
    keyspace: string,
    source: string,
    ranges: readonly (readonly [string, string])[],
  ): Promise<number> {
    const node = this.node(address);
    const from = this.node(source);
    if (!node.up) throw new NodeDownError(address);
    if (!from.up) throw new NodeDownError(source);
    if (!node.running) throw new Error(`${address}: Cassandra is not running`);
    if (node.rebuilding) throw new StillRebuildingError(address);
    node.rebuilding = true;
    try {
      await this.sim.sleep(this.options.costs.rebuildStartMs);
      const wanted = ranges.filter(([s, e]) => !node.available.has(`${keyspace}|${s}|${e}`));
      const bytes = this.bytesOf(keyspace, wanted);
      const flow = this.sim.flow({
        label: `${this.name} rebuild ${address} ${keyspace} <- ${source}`,
        bytes,
        resources: [from.streamOut, this.options.link(from.region, node.region)],
      });
      const session = { node: address, source, flow };
      this.sessions.add(session);
      for (const armed of [address, source])
        if (this.failNextSession.delete(armed)) this.sim.network.cancel(flow, new StreamSessionFailedError(flow.label));
      try {
        await flow.finished;
      } finally {
        this.sessions.delete(session);
      }
      for (const [s, e] of wanted) node.available.add(`${keyspace}|${s}|${e}`);
      this.bytesStreamed += bytes;
      return bytes;
    } finally {
      node.rebuilding = false;
    }
  }

  /**
   * `cassandra.node-wipe`: drained, stopped, its rebuilt data and records removed, started again.
   * A node that is down cannot be wiped (its agent cannot reach it), nor one still rebuilding.
   */
  async wipe(address: string): Promise<void> {
    const node = this.node(address);
    if (!node.up) throw new NodeDownError(address);
    if (node.rebuilding) throw new StillRebuildingError(address);
    const { checkMs, serviceStopMs, cassandraStartMs } = this.options.costs;
    await this.sim.sleep(checkMs + serviceStopMs + cassandraStartMs);
    node.available.clear();
    node.running = true;
  }

  /** The node goes down: sessions to or from it fail now, and every later rebuild touching it. */
  down(address: string): void {
    const node = this.node(address);
    node.up = false;
    for (const session of [...this.sessions])
      if (session.node === address || session.source === address)
        this.sim.network.cancel(session.flow, new NodeDownError(address));
  }

  /**
   * The stream session in flight to or from `address` fails now (the first one, if several); with
   * none in flight, the next one to start fails. Its bytes are lost: the retry streams them again.
   */
  failSession(address: string): void {
    this.node(address);
    for (const session of this.sessions)
      if (session.node === address || session.source === address) {
        this.sim.network.cancel(session.flow, new StreamSessionFailedError(session.flow.label));
        return;
      }
    this.failNextSession.add(address);
  }

  /** A node streams out `factor` times slower from now on (a slow disk or link as a source). */
  slowDown(address: string, factor: number): void {
    const node = this.node(address);
    this.sim.network.setCapacity(node.streamOut, this.options.streamThroughputBytesPerSec / factor);
  }

  /** Ranges of `expected` not recorded as available on `address`. */
  missing(address: string, keyspace: string, expected: readonly (readonly [string, string])[]): number {
    const node = this.node(address);
    return expected.filter(([s, e]) => !node.available.has(`${keyspace}|${s}|${e}`)).length;
  }
}
