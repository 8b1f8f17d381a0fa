// Replication throttles through IncrementalAlterConfigs (never the legacy AlterConfigs, which replaces
// a resource's whole config). Only THROTTLE_CONFIG_KEYS may be changed, each on the kind of resource
// it belongs to; anything else is refused before a request is sent. Ops apply in list order, split into
// runs in which no (resource, key) repeats, because Kafka refuses two ops on one key of a resource in
// one request.
import {
  type ConfigOp,
  ConfigOpSchema,
  InvalidInputError,
  InvalidInputErrors,
  THROTTLE_CONFIG_KEYS,
} from '@drover/shared';
import {
  ConfigResourceTypes,
  type Connection,
  IncrementalAlterConfigOperationTypes,
  incrementalAlterConfigsV0,
  incrementalAlterConfigsV1,
} from '@platformatic/kafka';
import { KafkaResourceError } from '../kafka-protocol/index.ts';
import { ConfigKeyNotAllowedError, ConfigOpsFailedError, type RefusedConfigOp } from './errors.ts';
import type { KafkaSession } from './session.ts';
import type { ConfigOpsResult } from './types.ts';
import { validateList } from './validate.ts';

export type ThrottleKey = (typeof THROTTLE_CONFIG_KEYS)[number];

/** Which resource each throttle key lives on: the replica lists on topics, the rates on brokers. */
export const THROTTLE_KEY_RESOURCE: Readonly<Record<ThrottleKey, 'topic' | 'broker'>> = {
  'leader.replication.throttled.replicas': 'topic',
  'follower.replication.throttled.replicas': 'topic',
  'leader.replication.throttled.rate': 'broker',
  'follower.replication.throttled.rate': 'broker',
  'replica.alter.log.dirs.io.max.bytes.per.second': 'broker',
};

export function throttleKeysOf(kind: 'topic' | 'broker'): ThrottleKey[] {
  return THROTTLE_CONFIG_KEYS.filter((k) => THROTTLE_KEY_RESOURCE[k] === kind);
}

/**
 * Checks every op before anything is sent: keys outside THROTTLE_CONFIG_KEYS → ConfigKeyNotAllowedError
 * (all of them named); then the shared schema and key/resource kind → InvalidInputError(s).
 */
export function checkConfigOps(ops: unknown): ConfigOp[] {
  if (!Array.isArray(ops)) throw new InvalidInputError('configOps', ops, 'an array');
  const allowed: readonly string[] = THROTTLE_CONFIG_KEYS;
  const refused: RefusedConfigOp[] = [];
  ops.forEach((op: unknown, index) => {
    const { key, resource } = (op ?? {}) as { key?: unknown; resource?: unknown };
    if (typeof key !== 'string' || !allowed.includes(key)) {
      refused.push({ index, resource: String(resource), key: String(key) });
    }
  });
  if (refused.length > 0) throw new ConfigKeyNotAllowedError(refused);
  const checked = validateList('configOps', ops, ConfigOpSchema);
  const problems: InvalidInputError[] = [];
  checked.forEach((op, i) => {
    const kind = op.resource.startsWith('topic:') ? 'topic' : 'broker';
    if (THROTTLE_KEY_RESOURCE[op.key] !== kind) {
      problems.push(
        new InvalidInputError(`configOps[${i}].key`, op.key, `a ${kind} key (${throttleKeysOf(kind).join(', ')})`),
      );
    }
  });
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new InvalidInputErrors(problems);
  return checked;
}

/**
 * Consecutive runs of `ops` in which no (resource, key) appears twice; a run ends just before the op
 * that would repeat one. Example (L = leader.replication.throttled.replicas, R = leader…rate):
 *   [SUBTRACT topic:a L, DELETE broker:1 R, APPEND topic:a L, SET broker:2 R, SET broker:1 R]
 *   → [[SUBTRACT topic:a L, DELETE broker:1 R], [APPEND topic:a L, SET broker:2 R, SET broker:1 R]]
 * Concatenating the runs gives `ops` back, so list order is kept.
 */
export function splitConfigOps(ops: readonly ConfigOp[]): ConfigOp[][] {
  const runs: ConfigOp[][] = [];
  let run: ConfigOp[] = [];
  let keys = new Set<string>();
  for (const op of ops) {
    const key = `${op.resource}\u0000${op.key}`;
    if (keys.has(key)) {
      runs.push(run);
      run = [];
      keys = new Set();
    }
    run.push(op);
    keys.add(key);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

type IncrementalAlterConfigsApi = typeof incrementalAlterConfigsV1.api;
const ALTER_APIS: Readonly<Record<number, IncrementalAlterConfigsApi>> = {
  0: incrementalAlterConfigsV0.api,
  1: incrementalAlterConfigsV1.api,
};

export function resourceLabel(resourceType: number, resourceName: string): string {
  return resourceType === ConfigResourceTypes.TOPIC ? `topic:${resourceName}` : `broker:${resourceName}`;
}

/** Broker resources go to that broker (as Kafka's Java admin does); topic resources to the local broker. */
function target(op: ConfigOp): number | null {
  return op.resource.startsWith('broker:') ? Number(op.resource.slice('broker:'.length)) : null;
}

async function sendRun(session: KafkaSession, connection: Connection, ops: ConfigOp[]): Promise<KafkaResourceError[]> {
  const api = 'IncrementalAlterConfigs';
  const version = await session.version(connection, api, [0, 1]);
  const resources = new Map<string, Parameters<IncrementalAlterConfigsApi['async']>[1][number]>();
  for (const op of ops) {
    let resource = resources.get(op.resource);
    if (!resource) {
      const colon = op.resource.indexOf(':');
      const resourceType = op.resource.startsWith('topic:') ? ConfigResourceTypes.TOPIC : ConfigResourceTypes.BROKER;
      resource = { resourceType, resourceName: op.resource.slice(colon + 1), configs: [] };
      resources.set(op.resource, resource);
    }
    resource.configs.push(
      op.op === 'DELETE'
        ? { name: op.key, configOperation: IncrementalAlterConfigOperationTypes.DELETE }
        : { name: op.key, configOperation: IncrementalAlterConfigOperationTypes[op.op], value: op.value ?? '' },
    );
  }
  const response = await session.send(connection, api, ALTER_APIS[version]!, [...resources.values()], false);
  return response.responses
    .filter((r) => r.errorCode !== 0)
    .map(
      (r) => new KafkaResourceError(api, resourceLabel(r.resourceType, r.resourceName), r.errorCode, r.errorMessage),
    );
}

/**
 * Applies `ops` in order; throws ConfigOpsFailedError at the first run with a failed resource. Kafka
 * has stored the change when this resolves, but in ZooKeeper mode a broker applies a broker-level
 * value (the rates) when ZooKeeper notifies it, a moment later: DescribeConfigs of that broker shows
 * the old value until then.
 */
export async function incrementalAlterConfigs(session: KafkaSession, ops: ConfigOp[]): Promise<ConfigOpsResult> {
  const checked = checkConfigOps(ops);
  const runs = splitConfigOps(checked);
  let applied = 0;
  let requests = 0;
  for (const [i, run] of runs.entries()) {
    const byTarget = new Map<number | null, ConfigOp[]>();
    for (const op of run) {
      const group = byTarget.get(target(op));
      if (group) group.push(op);
      else byTarget.set(target(op), [op]);
    }
    const failures: KafkaResourceError[] = [];
    for (const [broker, targetOps] of byTarget) {
      const connection =
        broker === null
          ? await session.bootstrapConnection('IncrementalAlterConfigs')
          : await session.brokerConnection(broker, 'IncrementalAlterConfigs');
      failures.push(...(await sendRun(session, connection, targetOps)));
      requests++;
    }
    if (failures.length > 0) throw new ConfigOpsFailedError(failures, applied, i, runs.length);
    applied += run.length;
  }
  return { ops: checked.length, runs: runs.length, requests };
}
