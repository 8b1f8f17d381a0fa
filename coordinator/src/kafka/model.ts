// The cluster model the planner works from: what Metadata, DescribeConfigs and
// ListPartitionReassignments return, as read from a cluster file. parseCluster validates the whole
// file and reports every problem at once (InvalidInputErrors), each naming its JSON path.

import { InvalidInputError, InvalidInputErrors, textOf } from '@drover/shared';
import { BROKER_THROTTLE_KEYS, TOPIC_THROTTLE_KEYS } from './types.ts';

/** `both`: a broker that stays — it holds replicas now and is a placement target too. */
export type BrokerRole = 'source' | 'destination' | 'both';

/** Where a config value comes from, as DescribeConfigs reports it (configSource). */
export type ConfigSource =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG'
  | 'UNKNOWN';

const CONFIG_SOURCES: readonly string[] = [
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'UNKNOWN',
];

/** A throttle config already set (only throttle keys are kept from the file). */
export interface ThrottleConfig {
  name: string;
  value: string;
  source: ConfigSource;
}

export interface Broker {
  id: number;
  host: string;
  /** null when the broker has no `broker.rack`. */
  rack: string | null;
  role: BrokerRole;
  /** Listener names the broker exposes; null when not given (the listener check is then skipped). */
  listeners: string[] | null;
  /** Observed inbound bytes/s (BytesInPerSec); null when not given. */
  bytesInPerSec: number | null;
  throttles: ThrottleConfig[];
}

export interface Partition {
  topic: string;
  partition: number;
  /** In order: the first is the preferred leader. */
  replicas: number[];
  /** -1 when the partition has no leader (offline). */
  leader: number;
  isr: number[];
  offlineReplicas: number[];
  /** A reassignment in flight (ListPartitionReassignments): replicas being added / removed. */
  addingReplicas: number[];
  removingReplicas: number[];
  /** Log size (bytes) of one replica: `sizeBytes`, else the largest of `replicaSizeBytes`; null when unknown. */
  sizeBytes: number | null;
  /** Observed inbound bytes/s to this partition; null when not given. */
  bytesInPerSec: number | null;
}

export interface Topic {
  name: string;
  internal: boolean;
  partitions: Partition[];
  throttles: ThrottleConfig[];
}

export interface Cluster {
  brokers: Broker[];
  topics: Topic[];
  /** Client-facing listener names every destination must expose; default: every source broker's listeners. */
  clientListeners: string[] | null;
}

/** Topics Kafka itself owns; they move like any other (Metadata may also flag others internal). */
export const INTERNAL_TOPICS: readonly string[] = ['__consumer_offsets', '__transaction_state'];

const ROLES: readonly string[] = ['source', 'destination', 'both'];
/** Kafka broker ids and partition numbers are int32. */
const INT32_MAX = 2 ** 31 - 1;
const THROTTLE_KEY_SET = new Set([...TOPIC_THROTTLE_KEYS, ...BROKER_THROTTLE_KEYS]);

/** Parses and validates a cluster file's text; throws InvalidInputErrors listing every problem. */
export function parseClusterFile(text: string, field = 'cluster'): Cluster {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(field, `${text.slice(0, 40)}`, 'a JSON document', { cause });
  }
  return parseCluster(json, field);
}

/** Validates a parsed cluster document (see the cluster file format). */
export function parseCluster(json: unknown, field = 'cluster'): Cluster {
  const v = new Validator();
  if (!isObject(json)) throw new InvalidInputErrors([new InvalidInputError(field, json, 'a JSON object')]);
  const brokers = v.array(json.brokers, `${field}.brokers`).map((b, i) => parseBroker(v, b, `${field}.brokers[${i}]`));
  const brokerIds = new Set<number>();
  for (const [i, b] of brokers.entries()) {
    if (brokerIds.has(b.id)) v.fail(`${field}.brokers[${i}].id`, b.id, 'a broker id not used by another broker');
    brokerIds.add(b.id);
  }
  if (brokers.length > 0 && !brokers.some((b) => b.role !== 'source')) {
    v.fail(`${field}.brokers`, `${brokers.length} brokers`, 'at least one broker with role "destination" or "both"');
  }
  const topicNames = new Set<string>();
  const topics = v.array(json.topics, `${field}.topics`).map((t, i) => {
    const topic = parseTopic(v, t, `${field}.topics[${i}]`, brokerIds);
    if (topicNames.has(topic.name)) v.fail(`${field}.topics[${i}].name`, topic.name, 'a topic name used once');
    topicNames.add(topic.name);
    return topic;
  });
  const clientListeners =
    json.clientListeners === undefined ? null : v.strings(json.clientListeners, `${field}.clientListeners`);
  v.throwIfAny();
  return { brokers, topics, clientListeners };
}

function parseBroker(v: Validator, b: unknown, at: string): Broker {
  if (!isObject(b)) {
    v.fail(at, b, 'an object { id, host, rack, role }');
    return { id: -1, host: '', rack: null, role: 'source', listeners: null, bytesInPerSec: null, throttles: [] };
  }
  const role = ROLES.includes(b.role as string) ? (b.role as BrokerRole) : null;
  if (role === null) v.fail(`${at}.role`, b.role, 'one of "source", "destination", "both"');
  return {
    id: v.int(b.id, `${at}.id`, 0, INT32_MAX),
    host: v.string(b.host, `${at}.host`),
    rack: b.rack === undefined || b.rack === null ? null : v.string(b.rack, `${at}.rack`),
    role: role ?? 'source',
    listeners: b.listeners === undefined ? null : v.strings(b.listeners, `${at}.listeners`),
    bytesInPerSec: v.optionalNumber(b.bytesInPerSec, `${at}.bytesInPerSec`),
    throttles: parseThrottles(v, b.configs, `${at}.configs`, 'DYNAMIC_BROKER_CONFIG'),
  };
}

function parseTopic(v: Validator, t: unknown, at: string, brokerIds: ReadonlySet<number>): Topic {
  if (!isObject(t)) {
    v.fail(at, t, 'an object { name, partitions }');
    return { name: '', internal: false, partitions: [], throttles: [] };
  }
  const name = v.string(t.name, `${at}.name`);
  if (name.includes('/')) v.fail(`${at}.name`, name, 'a Kafka topic name (no "/")');
  const internal = t.internal === undefined ? INTERNAL_TOPICS.includes(name) : t.internal === true;
  const seen = new Set<number>();
  const partitions = v.array(t.partitions, `${at}.partitions`).map((p, i) => {
    const part = parsePartition(v, p, `${at}.partitions[${i}]`, name, brokerIds);
    if (seen.has(part.partition))
      v.fail(`${at}.partitions[${i}].partition`, part.partition, 'a partition number used once');
    seen.add(part.partition);
    return part;
  });
  partitions.sort((a, b) => a.partition - b.partition);
  return {
    name,
    internal,
    partitions,
    throttles: parseThrottles(v, t.configs, `${at}.configs`, 'DYNAMIC_TOPIC_CONFIG'),
  };
}

function parsePartition(
  v: Validator,
  p: unknown,
  at: string,
  topic: string,
  brokerIds: ReadonlySet<number>,
): Partition {
  const empty: Partition = {
    topic,
    partition: -1,
    replicas: [],
    leader: -1,
    isr: [],
    offlineReplicas: [],
    addingReplicas: [],
    removingReplicas: [],
    sizeBytes: null,
    bytesInPerSec: null,
  };
  if (!isObject(p)) {
    v.fail(at, p, 'an object { partition, replicas, leader, isr }');
    return empty;
  }
  const replicas = v.brokerList(p.replicas, `${at}.replicas`, brokerIds);
  if (replicas.length === 0) v.fail(`${at}.replicas`, p.replicas, 'at least one replica');
  const inReplicas = (list: number[], name: string): number[] => {
    for (const id of list)
      if (!replicas.includes(id)) v.fail(`${at}.${name}`, list, `brokers among replicas ${JSON.stringify(replicas)}`);
    return list;
  };
  // A hand-written file may omit leader and isr: the preferred leader and a full ISR are assumed.
  // An explicit -1 or null is a partition without a leader (offline).
  const leader =
    p.leader === undefined ? (replicas[0] ?? -1) : p.leader === null ? -1 : v.int(p.leader, `${at}.leader`, -1);
  if (leader !== -1 && !replicas.includes(leader))
    v.fail(`${at}.leader`, leader, `-1 or one of replicas ${JSON.stringify(replicas)}`);
  const optList = (value: unknown, name: string) =>
    value === undefined ? [] : inReplicas(v.brokerList(value, `${at}.${name}`, brokerIds), name);
  let sizeBytes = v.optionalNumber(p.sizeBytes, `${at}.sizeBytes`);
  if (sizeBytes === null && p.replicaSizeBytes !== undefined) {
    if (!isObject(p.replicaSizeBytes))
      v.fail(`${at}.replicaSizeBytes`, p.replicaSizeBytes, 'an object { "<broker id>": bytes }');
    else
      for (const [id, size] of Object.entries(p.replicaSizeBytes))
        sizeBytes = Math.max(sizeBytes ?? 0, v.optionalNumber(size, `${at}.replicaSizeBytes.${id}`) ?? 0);
  }
  return {
    topic,
    partition: v.int(p.partition, `${at}.partition`, 0, INT32_MAX),
    replicas,
    leader,
    isr: p.isr === undefined ? [...replicas] : inReplicas(v.brokerList(p.isr, `${at}.isr`, brokerIds), 'isr'),
    offlineReplicas: optList(p.offlineReplicas, 'offlineReplicas'),
    addingReplicas: optList(p.addingReplicas, 'addingReplicas'),
    removingReplicas: optList(p.removingReplicas, 'removingReplicas'),
    sizeBytes,
    bytesInPerSec: v.optionalNumber(p.bytesInPerSec, `${at}.bytesInPerSec`),
  };
}

/** Accepts DescribeConfigs entries `[{ name, value, source }]` or a `{ name: value }` map (dynamic). */
function parseThrottles(v: Validator, configs: unknown, at: string, dynamicSource: ConfigSource): ThrottleConfig[] {
  if (configs === undefined) return [];
  const entries: ThrottleConfig[] = [];
  if (Array.isArray(configs)) {
    configs.forEach((c, i) => {
      if (!isObject(c)) {
        v.fail(`${at}[${i}]`, c, 'an object { name, value, source }');
        return;
      }
      const source = c.source === undefined ? dynamicSource : c.source;
      if (!CONFIG_SOURCES.includes(source as string))
        v.fail(`${at}[${i}].source`, c.source, `one of ${CONFIG_SOURCES.join(', ')}`);
      entries.push({
        name: v.string(c.name, `${at}[${i}].name`),
        value: textOf(c.value),
        source: source as ConfigSource,
      });
    });
  } else if (isObject(configs)) {
    for (const [name, value] of Object.entries(configs))
      entries.push({ name, value: textOf(value), source: dynamicSource });
  } else {
    v.fail(at, configs, 'an array of { name, value, source } or an object { name: value }');
  }
  // DEFAULT_CONFIG is Kafka's built-in default, not something set; empty values mean "not set".
  return entries.filter((e) => THROTTLE_KEY_SET.has(e.name) && e.source !== 'DEFAULT_CONFIG' && e.value !== '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems instead of stopping at the first, so the operator sees every one. */
class Validator {
  readonly problems: InvalidInputError[] = [];

  fail(field: string, value: unknown, expected: string): void {
    if (this.problems.length < 100) this.problems.push(new InvalidInputError(field, value, expected));
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new InvalidInputErrors(this.problems);
  }

  int(value: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
    this.fail(
      field,
      value,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
    );
    return -1;
  }

  string(value: unknown, field: string): string {
    if (typeof value === 'string' && value.length > 0) return value;
    this.fail(field, value, 'a non-empty string');
    return '';
  }

  strings(value: unknown, field: string): string[] {
    if (Array.isArray(value) && value.every((s) => typeof s === 'string')) return value as string[];
    this.fail(field, value, 'an array of strings');
    return [];
  }

  optionalNumber(value: unknown, field: string): number | null {
    if (value === undefined || value === null) return null;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    this.fail(field, value, 'a number >= 0');
    return null;
  }

  array(value: unknown, field: string): unknown[] {
    if (Array.isArray(value)) return value;
    this.fail(field, value, 'an array');
    return [];
  }

  /** Distinct ids of brokers listed in the file. */
  brokerList(value: unknown, field: string, brokerIds: ReadonlySet<number>): number[] {
    if (!Array.isArray(value)) {
      this.fail(field, value, 'an array of broker ids');
      return [];
    }
    for (const id of value) {
      if (!brokerIds.has(id as number))
        this.fail(field, value, `broker ids from "brokers" (unknown: ${JSON.stringify(id)})`);
    }
    if (new Set(value).size !== value.length) this.fail(field, value, 'distinct broker ids');
    return value as number[];
  }
}
