// Bytes moving through shared capacity, in simulated time: the fluid model a rehearsal's data plane
// stands on. A flow (one replica copy, one stream session) crosses resources (a broker's replication
// throttle, a source node's stream throughput, the link between two regions); each resource's
// capacity is shared max-min fairly among the flows crossing it (progressive filling), which is
// what TCP streams through a shared bottleneck and Kafka's per-broker throttle quotas do on average.
//
// Worked example: one partition of B bytes copied through a broker throttled at T takes B/T; two
// partitions through the same throttle get T/2 each and both finish at 2B/T; a flow that also gains
// `growthBytesPerSec` (records produced while it copies) finishes at B/(rate - growth), and never
// when its rate does not beat the growth (the forecast then says which flow stalled).
//
// Units: bytes, bytes per second, milliseconds of simulated time.

/** A capacity flows share: `capacity` bytes/s, Infinity for none. */
export class Resource {
  readonly name: string;
  capacity: number;
  /** Bytes carried so far. */
  bytes = 0;
  /** Simulated ms during which flows used (almost) all of the capacity. */
  saturatedMs = 0;
  /** Flows crossing it now. */
  readonly flows = new Set<Flow>();
  // Scratch of the rate computation.
  left = 0;
  unfrozen = 0;
  constructor(name: string, capacity: number) {
    this.name = name;
    this.capacity = capacity;
  }
}

export interface FlowSpec {
  /** What it is, for errors and reports: `kafka-001 orders/3 -> 104`. */
  label: string;
  bytes: number;
  resources: readonly Resource[];
  /** Bytes/s added to what is left while it runs (a partition's inbound records). @default 0 */
  growthBytesPerSec?: number;
}

export class Flow {
  readonly label: string;
  readonly bytes: number;
  readonly resources: readonly Resource[];
  readonly growth: number;
  remaining: number;
  /** Bytes/s given by the last rate computation; -1 while being computed. */
  rate = 0;
  readonly finished: Promise<void>;
  resolve!: () => void;
  reject!: (error: Error) => void;
  constructor(spec: FlowSpec) {
    this.label = spec.label;
    this.bytes = spec.bytes;
    this.resources = spec.resources;
    this.growth = spec.growthBytesPerSec ?? 0;
    this.remaining = spec.bytes;
    this.finished = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** A flow that cannot finish: nothing else will happen and its rate does not beat its growth. */
export class StalledFlowError extends Error {
  readonly label: string;
  readonly rateBytesPerSec: number;
  readonly growthBytesPerSec: number;
  constructor(flow: Flow) {
    super(
      `${flow.label} never finishes: it copies at ${Math.round(flow.rate)} bytes/s while ${Math.round(flow.growth)} bytes/s arrive (raise the throttle above the inbound rate)`,
    );
    this.name = 'StalledFlowError';
    this.label = flow.label;
    this.rateBytesPerSec = flow.rate;
    this.growthBytesPerSec = flow.growth;
  }
}

/** Below this many bytes a flow counts as done (float rounding of rate × time). */
const DONE_BYTES = 1e-3;

export class FluidNetwork {
  private readonly flows = new Set<Flow>();
  private dirty = false;

  get activeFlows(): number {
    return this.flows.size;
  }

  /** Starts a flow; its `finished` settles when the last byte arrives. */
  start(spec: FlowSpec): Flow {
    const flow = new Flow(spec);
    if (!(flow.bytes >= 0)) throw new RangeError(`${flow.label}: bytes must be >= 0, got ${flow.bytes}`);
    this.flows.add(flow);
    for (const resource of flow.resources) resource.flows.add(flow);
    this.dirty = true;
    return flow;
  }

  /** Changes a resource's capacity (a throttle set or removed) from now on. */
  setCapacity(resource: Resource, capacity: number): void {
    if (resource.capacity === capacity) return;
    resource.capacity = capacity;
    if (resource.flows.size > 0) this.dirty = true;
  }

  /** Max-min fair rates by progressive filling: the tightest resource fixes its flows' share first. */
  private computeRates(): void {
    this.dirty = false;
    const active = new Set<Resource>();
    for (const flow of this.flows) {
      flow.rate = -1;
      for (const resource of flow.resources) active.add(resource);
    }
    for (const resource of active) {
      resource.left = resource.capacity;
      resource.unfrozen = resource.flows.size;
    }
    for (const flow of this.flows) if (flow.resources.length === 0) flow.rate = Number.POSITIVE_INFINITY;
    while (active.size > 0) {
      let tightest: Resource | undefined;
      let share = Number.POSITIVE_INFINITY;
      for (const resource of active) {
        if (resource.unfrozen === 0) {
          active.delete(resource);
          continue;
        }
        const fair = Math.max(0, resource.left) / resource.unfrozen;
        if (fair < share) {
          share = fair;
          tightest = resource;
        }
      }
      if (tightest === undefined) break;
      for (const flow of tightest.flows) {
        if (flow.rate !== -1) continue;
        flow.rate = share;
        for (const resource of flow.resources) {
          resource.left -= share;
          resource.unfrozen--;
        }
      }
      active.delete(tightest);
    }
  }

  /** Simulated ms from now until the next flow finishes; Infinity when none can. */
  nextCompletionMs(): number {
    if (this.dirty) this.computeRates();
    let soonest = Number.POSITIVE_INFINITY;
    for (const flow of this.flows) {
      if (flow.remaining <= DONE_BYTES) return 0;
      const net = flow.rate - flow.growth;
      if (net > 0) soonest = Math.min(soonest, (flow.remaining / net) * 1000);
    }
    return soonest;
  }

  /** Moves every flow forward by `ms` at its current rate. */
  advance(ms: number): void {
    if (ms <= 0) return;
    if (this.dirty) this.computeRates();
    const seconds = ms / 1000;
    const touched = new Set<Resource>();
    for (const flow of this.flows) {
      if (!Number.isFinite(flow.rate)) continue;
      flow.remaining = Math.max(0, flow.remaining - (flow.rate - flow.growth) * seconds);
      for (const resource of flow.resources) {
        resource.bytes += flow.rate * seconds;
        touched.add(resource);
      }
    }
    for (const resource of touched) {
      let used = 0;
      for (const flow of resource.flows) used += flow.rate;
      if (used >= resource.capacity * 0.999) resource.saturatedMs += ms;
    }
  }

  /** Finishes every flow with nothing left (or an unlimited rate); returns how many. */
  settleFinished(): number {
    let count = 0;
    for (const flow of this.flows) {
      if (flow.remaining > DONE_BYTES && Number.isFinite(flow.rate)) continue;
      if (!Number.isFinite(flow.rate)) for (const resource of flow.resources) resource.bytes += flow.remaining;
      flow.remaining = 0;
      this.remove(flow);
      flow.resolve();
      count++;
    }
    return count;
  }

  /** Ends a flow before its last byte (a node went down mid-stream): `finished` rejects with `error`. */
  cancel(flow: Flow, error: Error): void {
    if (!this.flows.has(flow)) return;
    this.remove(flow);
    flow.reject(error);
  }

  /** Fails every flow that cannot finish (called when nothing else is left to happen). */
  failStalled(): number {
    const stalled = [...this.flows];
    for (const flow of stalled) {
      this.remove(flow);
      flow.reject(new StalledFlowError(flow));
    }
    return stalled.length;
  }

  private remove(flow: Flow): void {
    this.flows.delete(flow);
    for (const resource of flow.resources) resource.flows.delete(flow);
    this.dirty = true;
  }
}
