// Throttles released as a batch's moves finish, not when the whole batch has (pure bookkeeping; the
// step sends the ops). A batch's config ops APPEND `p:b` entries to a topic's
// `leader/follower.replication.throttled.replicas` and SET `leader/follower.replication.throttled.rate`
// on the brokers of its moves. As soon as a partition's move is done (it left
// ListPartitionReassignments with every target replica in its ISR) its own entries are SUBTRACTed;
// as soon as a broker takes part in no move in flight any more its rates are DELETEd. Only what the
// batch itself APPENDed or SET is released (other entries, and throttles set before the migration,
// are left to the plan's clean-up). Each partition and broker is released once per batch run; a new
// attempt (agent restart) re-applies the batch's ops and releases again what is done by then, so no
// throttle of a finished move outlives the step.
import type { ConfigOp } from '@drover/shared';
import { partitionKey } from './admin.ts';

const LIST_KEYS = new Set(['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas']);
const RATE_KEYS = new Set(['leader.replication.throttled.rate', 'follower.replication.throttled.rate']);
type ConfigKey = ConfigOp['key'];

export interface Released {
  ops: ConfigOp[];
  /** `topic/partition` of the partitions whose entries these ops remove. */
  partitions: string[];
  brokers: number[];
}

export class ThrottleRelease {
  /** `topic/partition` → topic resource → key → entries this batch appended. */
  readonly #entries = new Map<string, { resource: string; key: ConfigKey; entries: string[] }[]>();
  /** broker id → rate keys this batch set. */
  readonly #rates = new Map<number, ConfigKey[]>();
  readonly #releasedPartitions = new Set<string>();
  readonly #releasedBrokers = new Set<number>();

  constructor(configOps: readonly ConfigOp[]) {
    for (const op of configOps) {
      if (op.op === 'APPEND' && op.resource.startsWith('topic:') && LIST_KEYS.has(op.key) && op.value) {
        const topic = op.resource.slice('topic:'.length);
        for (const entry of op.value.split(',')) {
          const match = /^(\d+):(\d+)$/.exec(entry.trim());
          if (!match) continue; // `*` or anything else: left to the clean-up
          const key = partitionKey(topic, Number(match[1]));
          const lists = this.#entries.get(key) ?? [];
          let list = lists.find((l) => l.resource === op.resource && l.key === op.key);
          if (!list) {
            list = { resource: op.resource, key: op.key, entries: [] };
            lists.push(list);
          }
          if (!list.entries.includes(entry.trim())) list.entries.push(entry.trim());
          this.#entries.set(key, lists);
        }
      } else if (op.op === 'SET' && op.resource.startsWith('broker:') && RATE_KEYS.has(op.key)) {
        const id = Number(op.resource.slice('broker:'.length));
        const keys = this.#rates.get(id) ?? [];
        if (!keys.includes(op.key)) keys.push(op.key);
        this.#rates.set(id, keys);
      }
    }
  }

  /** Whether the batch set anything this can release. */
  get empty(): boolean {
    return this.#entries.size === 0 && this.#rates.size === 0;
  }

  /**
   * The ops releasing the throttles of `done` partitions (`topic/partition` keys) and of every broker
   * the batch rated that is not in `busy` (brokers of any move still in flight), not released before.
   * One SUBTRACT per (topic, key) carrying all of its newly done entries.
   */
  release(done: Iterable<string>, busy: ReadonlySet<number>): Released {
    const subtract = new Map<string, ConfigOp & { value: string }>();
    const partitions: string[] = [];
    for (const key of done) {
      if (this.#releasedPartitions.has(key)) continue;
      const lists = this.#entries.get(key);
      if (!lists) continue;
      this.#releasedPartitions.add(key);
      partitions.push(key);
      for (const list of lists) {
        const id = `${list.resource}\u0000${list.key}`;
        const op = subtract.get(id);
        if (op) op.value = `${op.value},${list.entries.join(',')}`;
        else
          subtract.set(id, { resource: list.resource, op: 'SUBTRACT', key: list.key, value: list.entries.join(',') });
      }
    }
    const ops: ConfigOp[] = [...subtract.values()];
    const brokers: number[] = [];
    for (const [id, keys] of [...this.#rates].sort((a, b) => a[0] - b[0])) {
      if (busy.has(id) || this.#releasedBrokers.has(id)) continue;
      this.#releasedBrokers.add(id);
      brokers.push(id);
      for (const key of keys) ops.push({ resource: `broker:${id}`, op: 'DELETE', key, value: null });
    }
    return { ops, partitions, brokers };
  }
}
