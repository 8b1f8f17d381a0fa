// The source ZooKeeper ensemble's data plane in simulated time, as the destination's observers see
// it: an observer starts (its own server), joins by `reconfig -add` through a voter, then syncs the
// leader's snapshot (`dataBytes`) over the link between their regions before it is in sync (same
// zxid as the leader), which is what zookeeper.observer-verify checks.
import type { SimCosts } from './costs.ts';
import type { Resource } from './network.ts';
import type { Simulation } from './simulation.ts';

export interface SimZooKeeperOptions {
  name: string;
  region: string;
  dataBytes: number;
  link: (from: string, to: string) => Resource;
  costs: SimCosts;
}

export class SimZooKeeper {
  readonly name: string;
  /** Observers in sync with the leader, by agent id. */
  readonly synced = new Set<string>();
  private readonly sim: Simulation;
  private readonly options: SimZooKeeperOptions;

  constructor(sim: Simulation, options: SimZooKeeperOptions) {
    this.sim = sim;
    this.options = options;
    this.name = options.name;
  }

  /** zookeeper.observer-join on `observer` (an agent in `region`). */
  async observerJoin(observer: string, region: string): Promise<void> {
    if (this.synced.has(observer)) return;
    const { costs } = this.options;
    await this.sim.sleep(costs.zookeeperStartMs + costs.zookeeperReconfigMs);
    await this.sim.transfer({
      label: `${this.name} snapshot -> observer ${observer}`,
      bytes: this.options.dataBytes,
      resources: [this.options.link(this.options.region, region)],
    });
    this.synced.add(observer);
  }

  /** Observers of `observers` not in sync. */
  notSynced(observers: readonly string[]): string[] {
    return observers.filter((o) => !this.synced.has(o));
  }
}
