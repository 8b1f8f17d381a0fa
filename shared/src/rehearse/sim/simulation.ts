// Simulated time for a rehearsal: a discrete-event loop over timers and the fluid network. Code
// under simulation is ordinary async code that awaits `sleep(ms)` and `transfer(spec)`; the loop
// lets every continuation run (a setImmediate turn drains the promise jobs), then jumps the clock
// to the next timer or flow completion. Nothing waits in real time, so months of migration
// compute in seconds; `ScaledClock` (clock.ts) is for watching it at a chosen speed.
import { type Flow, type FlowSpec, FluidNetwork, Resource } from './network.ts';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  /** Cancelled timers stay in the heap until they reach its top, and are dropped there. */
  cancelled?: boolean;
}

/** A binary min-heap of timers by (time, creation order): equal times fire in the order set. */
class TimerHeap {
  private readonly items: Timer[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Timer | undefined {
    return this.items[0];
  }
  push(timer: Timer): void {
    const items = this.items;
    items.push(timer);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Timer, items[parent] as Timer)) break;
      [items[i], items[parent]] = [items[parent] as Timer, items[i] as Timer];
      i = parent;
    }
  }
  pop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && before(items[left] as Timer, items[smallest] as Timer)) smallest = left;
        if (right < items.length && before(items[right] as Timer, items[smallest] as Timer)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as Timer, items[i] as Timer];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

const noop = () => undefined;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Simulation {
  /** Simulated ms since the start. */
  now = 0;
  readonly network = new FluidNetwork();
  private readonly timers = new TimerHeap();
  private seq = 0;
  private readonly resources = new Map<string, Resource>();

  /** Resolves `ms` simulated milliseconds from now. */
  sleep(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`sleep: ms must be >= 0, got ${ms}`);
    return new Promise<void>((resolve) => this.timers.push({ at: this.now + ms, seq: this.seq++, resolve }));
  }

  /**
   * A sleep that can be called off (a step's timeout once the step is over): `cancel` drops it, so
   * it neither resolves nor holds the clock (a cancelled timer is no pending work).
   */
  timer(ms: number): { elapsed: Promise<void>; cancel: () => void } {
    if (!(ms >= 0)) throw new RangeError(`timer: ms must be >= 0, got ${ms}`);
    let timer: Timer | undefined;
    const elapsed = new Promise<void>((resolve) => {
      timer = { at: this.now + ms, seq: this.seq++, resolve };
      this.timers.push(timer);
    });
    return {
      elapsed,
      cancel: () => {
        if (timer === undefined) return;
        timer.cancelled = true;
        // The timer stays in the heap until it reaches the top: it must not keep its promise's
        // reactions (and what they hold: a step's params) alive until then.
        timer.resolve = noop;
      },
    };
  }

  /** The earliest timer still wanted (cancelled ones at the top are dropped). */
  private nextTimer(): Timer | undefined {
    while (this.timers.peek()?.cancelled) this.timers.pop();
    return this.timers.peek();
  }

  /** Moves bytes through resources; resolves when the last byte arrives. */
  transfer(spec: FlowSpec): Promise<void> {
    return this.flow(spec).finished;
  }

  flow(spec: FlowSpec): Flow {
    return this.network.start(spec);
  }

  /** The resource of that name, made on first use with `capacity` bytes/s. */
  resource(name: string, capacity: number): Resource {
    let resource = this.resources.get(name);
    if (resource === undefined) {
      resource = new Resource(name, capacity);
      this.resources.set(name, resource);
    }
    return resource;
  }

  allResources(): Resource[] {
    return [...this.resources.values()];
  }

  /**
   * Runs `main` to its end in simulated time and returns its value. Flows that can never finish
   * once nothing else is pending are failed (StalledFlowError), so a bad throttle ends the run
   * with a reason instead of hanging.
   *
   * With a `gate`, code under simulation also does real work between its simulated waits (the
   * rehearsal through NATS: orders, results, the plan runner's records): the clock moves only while
   * the gate says everything is waiting on simulated time, so real latency never becomes
   * simulated time. A gate that stays unsettled for its whole patience lets the clock move anyway
   * (counted in `forcedAdvances`), so a wait the gate cannot see never hangs the rehearsal.
   */
  async run<T>(main: () => Promise<T>, gate?: SimGate): Promise<T> {
    let settled = false;
    const result = main().finally(() => {
      settled = true;
    });
    result.catch(() => undefined);
    let paced = false;
    for (;;) {
      await turn();
      if (settled) break;
      if (gate !== undefined && !gate.settled()) {
        paced = false;
        const why = await gate.changed();
        if (why === 'change' || settled || !this.pending()) continue;
        this.forcedAdvances++;
      }
      const timer = this.nextTimer();
      const timerIn = timer === undefined ? Number.POSITIVE_INFINITY : timer.at - this.now;
      const flowIn = this.network.nextCompletionMs();
      const step = Math.min(timerIn, flowIn);
      if (step === Number.POSITIVE_INFINITY) {
        if (this.network.activeFlows > 0 && this.network.failStalled() > 0) continue;
        if (gate !== undefined) {
          // Settled with nothing pending: real work may still be on its way (a result, a new job).
          await gate.changed();
          continue;
        }
        throw new Error('simulation deadlock: the code under simulation waits on something that never happens');
      }
      if (gate?.pace !== undefined && !paced) {
        // Watched at a chosen speed: the clock may not run ahead of real time times the speed.
        await gate.pace(this.now + step);
        paced = true;
        continue;
      }
      paced = false;
      this.network.advance(step);
      this.now += step;
      this.network.settleFinished();
      for (let next = this.nextTimer(); next !== undefined && next.at <= this.now; next = this.nextTimer())
        (this.timers.pop() as Timer).resolve();
    }
    return result;
  }

  /** Clock moves made while the gate was not settled (see run). */
  forcedAdvances = 0;

  /** Whether any timer or flow is waiting for the clock. */
  pending(): boolean {
    return this.nextTimer() !== undefined || this.network.activeFlows > 0;
  }
}

/** What lets the clock of a run with real work in it move (see Simulation.run). */
export interface SimGate {
  /** Everything under simulation waits on simulated time now. */
  settled(): boolean;
  /** Resolves at the next change that may settle it ('change'), or when patience runs out ('timeout'). */
  changed(): Promise<'change' | 'timeout'>;
  /** Resolves when the clock may move to `at` (simulated ms): a run watched at a chosen speed. */
  pace?(at: number): Promise<void>;
}
