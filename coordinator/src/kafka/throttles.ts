// Replication throttles, as IncrementalAlterConfigs operations (never legacy AlterConfigs, which
// replaces a resource's whole config). During expand each batch throttles exactly its own moves:
//   topic:  APPEND leader.replication.throttled.replicas   += p:s for every source replica s
//           APPEND follower.replication.throttled.replicas += p:d for every new replica d (d not in source)
//   broker: SET leader/follower.replication.throttled.rate on every broker of the batch's moves.
// Batches run one after another, so when batch i starts every move of batch i-1 has finished: batch
// i first SUBTRACTs batch i-1's entries and DELETEs the rates of brokers that have no move in batch
// i (a broker still moving keeps its rate). A closing batch after the last does the same for it.
// Clean-up then DELETEs every throttle key on every touched topic and broker (as `--verify` does).
// (The agent's kafka.reassign releases a batch's entries and rates earlier still, as each move ends.)

import { Buffer } from 'node:buffer';
import { BrokerSlots } from './batching.ts';
import type { Broker, Cluster } from './model.ts';
import { BROKER_THROTTLE_KEYS, type ConfigOp, type ConfigOpKind, THROTTLE_KEYS, TOPIC_THROTTLE_KEYS } from './types.ts';

/**
 * Expand's moves flattened in expand order (by size). The partitions' own objects sit in plan order
 * in memory; every later step reads these arrays front to back instead of chasing those objects in
 * size order (a cache miss per object, which dominated planning time).
 */
export interface MoveTable {
  /** Topic names sorted; `topic[i]` is an index into it, so comparing indices compares names. */
  topicNames: string[];
  topic: Int32Array;
  partition: Int32Array;
  /** Move i's brokers are `brokers[offsets[i] .. offsets[i + 1])`: dedupe(S ++ D), the first `sourceCount[i]` being S. */
  offsets: Int32Array;
  sourceCount: Int32Array;
  brokers: Int32Array;
  /** Dense slot of each entry of `brokers` (see BrokerSlots), and the broker id of each slot. */
  slots: Int32Array;
  slotIds: number[];
}

/** What a MoveTable needs of a move (PartitionTargets has it). */
export interface Move {
  topic: string;
  partition: number;
  source: readonly number[];
  /** dedupe(source ++ destination): the sources, then the new destinations. */
  expand: readonly number[];
}

/**
 * Flattens `moves` taken in `order` (positions into `moves`). The objects are read once in their
 * own (memory) order into flat arrays, which are then permuted: random access into small flat
 * arrays is cheap where random access into the objects is not.
 */
export function moveTable(moves: readonly Move[], order: ArrayLike<number>): MoveTable {
  const n = moves.length;
  const topicNames = [...new Set(moves.map((m) => m.topic))].sort();
  const topicIndex = new Map(topicNames.map((name, i) => [name, i]));
  const startOf = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) startOf[i + 1] = startOf[i]! + moves[i]!.expand.length;
  const topicOf = new Int32Array(n);
  const partitionOf = new Int32Array(n);
  const sourceCountOf = new Int32Array(n);
  const flat = new Int32Array(startOf[n]!);
  for (let i = 0; i < n; i++) {
    const m = moves[i]!;
    topicOf[i] = topicIndex.get(m.topic)!;
    partitionOf[i] = m.partition;
    sourceCountOf[i] = m.source.length;
    flat.set(m.expand, startOf[i]!);
  }
  const table: MoveTable = {
    topicNames,
    topic: new Int32Array(order.length),
    partition: new Int32Array(order.length),
    offsets: new Int32Array(order.length + 1),
    sourceCount: new Int32Array(order.length),
    brokers: new Int32Array(flat.length),
    slots: new Int32Array(flat.length),
    slotIds: [],
  };
  const brokerSlots = new BrokerSlots();
  let at = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    table.topic[k] = topicOf[i]!;
    table.partition[k] = partitionOf[i]!;
    table.sourceCount[k] = sourceCountOf[i]!;
    for (let j = startOf[i]!; j < startOf[i + 1]!; j++) {
      table.brokers[at] = flat[j]!;
      table.slots[at++] = brokerSlots.slotOf(flat[j]!);
    }
    table.offsets[k + 1] = at;
  }
  table.slotIds = brokerSlots.ids;
  return table;
}

export function topicResource(topic: string): string {
  return `topic:${topic}`;
}

export function brokerResource(id: number): string {
  return `broker:${id}`;
}

/**
 * Config ops for each expand batch (`batches[b]` = indices into `table`), plus one more list for the
 * closing batch; the result has `batches.length + 1` entries (or none when there are no batches).
 * Identical ops (a broker's SET and DELETE) are one shared object: treat the ops as immutable.
 */
export function expandConfigOps(
  table: MoveTable,
  batches: readonly (readonly number[])[],
  rateBytesPerSec: number,
): ConfigOp[][] {
  if (batches.length === 0) return [];
  const rate = String(rateBytesPerSec);
  const sets = new Map<number, [ConfigOp, ConfigOp]>();
  const deletes = new Map<number, [ConfigOp, ConfigOp]>();
  const pair = (cache: Map<number, [ConfigOp, ConfigOp]>, id: number, op: 'SET' | 'DELETE'): [ConfigOp, ConfigOp] => {
    let ops = cache.get(id);
    if (!ops) {
      const value = op === 'SET' ? rate : null;
      ops = [brokerOp(id, op, THROTTLE_KEYS.leaderRate, value), brokerOp(id, op, THROTTLE_KEYS.followerRate, value)];
      cache.set(id, ops);
    }
    return ops;
  };
  const brokersOf = brokerCollector(table);
  const writer = new EntryListWriter();
  const result: ConfigOp[][] = [];
  let previousSubtracts: ConfigOp[] = [];
  let previousBrokers: number[] = [];
  for (let b = 0; b <= batches.length; b++) {
    const batch = batches[b] ?? [];
    const brokers = brokersOf(batch);
    const ops = previousSubtracts.slice();
    // Both lists are sorted: walk them together to find brokers with no move left.
    let j = 0;
    for (const id of previousBrokers) {
      while (j < brokers.length && brokers[j]! < id) j++;
      if (brokers[j] === id) continue;
      const [leader, follower] = pair(deletes, id, 'DELETE');
      ops.push(leader, follower);
    }
    const { appends, subtracts } = topicOps(table, batch, writer);
    for (const op of appends) ops.push(op);
    for (const id of brokers) {
      const [leader, follower] = pair(sets, id, 'SET');
      ops.push(leader, follower);
    }
    result.push(ops);
    previousSubtracts = subtracts;
    previousBrokers = brokers;
  }
  return result;
}

/**
 * The replica entries of one batch per topic (topics by name, entries in move order), as the
 * comma-separated values of the two list keys: leader = `p:s` for every source replica, follower
 * = `p:d` for every destination replica not already a source (the replicas that copy data).
 */
export function throttleEntries(
  table: MoveTable,
  moves: readonly number[],
  writer = new EntryListWriter(),
): Map<string, { leader: string; follower: string }> {
  // Topic indices follow name order: sorting by index groups a batch's moves by topic, by name.
  const sorted = [...moves].sort((a, b) => table.topic[a]! - table.topic[b]! || a - b);
  writer.reset();
  const entries = new Map<string, { leader: string; follower: string }>();
  for (let from = 0; from < sorted.length; ) {
    const topic = table.topic[sorted[from]!]!;
    let to = from;
    while (to < sorted.length && table.topic[sorted[to]!] === topic) to++;
    for (let k = from; k < to; k++) {
      const i = sorted[k]!;
      for (let j = table.offsets[i]!; j < table.offsets[i]! + table.sourceCount[i]!; j++)
        writer.add(table.partition[i]!, table.brokers[j]!);
    }
    const leader = writer.take();
    for (let k = from; k < to; k++) {
      const i = sorted[k]!;
      for (let j = table.offsets[i]! + table.sourceCount[i]!; j < table.offsets[i + 1]!; j++)
        writer.add(table.partition[i]!, table.brokers[j]!);
    }
    entries.set(table.topicNames[topic]!, { leader, follower: writer.take() });
    from = to;
  }
  return entries;
}

/**
 * Writes `p:b,p:b,…` lists as ASCII bytes and makes one string per list: a plan holds hundreds of
 * thousands of entries, and a string per entry plus a join costs several times more.
 */
export class EntryListWriter {
  #bytes = Buffer.allocUnsafe(4096);
  #length = 0;
  #start = 0;

  /** Appends `partition:broker` to the current list (both non-negative safe integers). */
  add(partition: number, broker: number): void {
    if (this.#length + 34 > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(this.#bytes.length * 2);
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    if (this.#length > this.#start) this.#bytes[this.#length++] = 0x2c; // ','
    this.#digits(partition);
    this.#bytes[this.#length++] = 0x3a; // ':'
    this.#digits(broker);
  }

  /** Ends the current list and returns it ('' when nothing was added). */
  take(): string {
    const text = this.#bytes.toString('latin1', this.#start, this.#length);
    this.#start = this.#length;
    return text;
  }

  /** Forgets everything written (taken strings are copies). */
  reset(): void {
    this.#length = 0;
    this.#start = 0;
  }

  #digits(n: number): void {
    let count = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) count++;
    let at = this.#length + count;
    this.#length = at;
    let x = n;
    do {
      this.#bytes[--at] = 48 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
  }
}

/** A batch's APPENDs, and the SUBTRACTs that undo them once its moves have finished. */
interface TopicOps {
  appends: ConfigOp[];
  subtracts: ConfigOp[];
}

function topicOps(table: MoveTable, moves: readonly number[], writer: EntryListWriter): TopicOps {
  const appends: ConfigOp[] = [];
  const subtracts: ConfigOp[] = [];
  const add = (resource: string, key: string, value: string) => {
    if (value === '') return;
    appends.push({ resource, op: 'APPEND', key, value });
    subtracts.push({ resource, op: 'SUBTRACT', key, value });
  };
  for (const [topic, { leader, follower }] of throttleEntries(table, moves, writer)) {
    const resource = topicResource(topic);
    add(resource, THROTTLE_KEYS.leaderReplicas, leader);
    add(resource, THROTTLE_KEYS.followerReplicas, follower);
  }
  return { appends, subtracts };
}

function brokerOp(id: number, op: ConfigOpKind, key: string, value: string | null): ConfigOp {
  return { resource: brokerResource(id), op, key, value };
}

/**
 * Returns a function giving the sorted, distinct brokers of a batch's moves without sorting per
 * batch: slots are put in id order once, and a batch marks the slots it uses.
 */
function brokerCollector(table: MoveTable): (moves: readonly number[]) => number[] {
  const ids = table.slotIds;
  const inOrder = Array.from(ids.keys()).sort((a, b) => ids[a]! - ids[b]!);
  const mark = new Int32Array(ids.length);
  let stamp = 0;
  return (moves) => {
    stamp++;
    for (const i of moves)
      for (let k = table.offsets[i]!; k < table.offsets[i + 1]!; k++) mark[table.slots[k]!] = stamp;
    const out: number[] = [];
    for (const slot of inOrder) if (mark[slot] === stamp) out.push(ids[slot]!);
    return out;
  };
}

/** Dynamic throttles found on the cluster before the plan (static and default ones cannot be deleted per resource). */
export function preexistingThrottles(cluster: Cluster): { topics: string[]; brokers: number[] } {
  const dynamic = (t: { throttles: Broker['throttles'] }) =>
    t.throttles.some((c) => c.source === 'DYNAMIC_TOPIC_CONFIG' || c.source === 'DYNAMIC_BROKER_CONFIG');
  return {
    topics: cluster.topics.filter(dynamic).map((t) => t.name),
    brokers: cluster.brokers.filter(dynamic).map((b) => b.id),
  };
}

/** Clean-up: DELETE every throttle key on each topic and broker given (sorted, each once). */
export function cleanupConfigOps(topics: Iterable<string>, brokers: Iterable<number>): ConfigOp[] {
  const ops: ConfigOp[] = [];
  for (const topic of [...new Set(topics)].sort()) {
    for (const key of TOPIC_THROTTLE_KEYS) ops.push({ resource: topicResource(topic), op: 'DELETE', key, value: null });
  }
  for (const id of [...new Set(brokers)].sort((a, b) => a - b)) {
    for (const key of BROKER_THROTTLE_KEYS) ops.push(brokerOp(id, 'DELETE', key, null));
  }
  return ops;
}
