// Which replication throttles are set right now, on every broker and every topic (internal ones
// included): what a clean-up is verified against ("no throttle remains") and what a pre-flight reports
// (throttles set before the migration, dynamic or static). DescribeConfigs of a broker goes to that
// broker, which reports its effective value and where it comes from; topics go to the local broker.
import {
  ConfigResourceTypes,
  ConfigSources,
  type Connection,
  describeConfigsV1,
  describeConfigsV2,
  describeConfigsV3,
  describeConfigsV4,
} from '@platformatic/kafka';
import { KAFKA_ERROR_CODES, KafkaResourceError } from '../kafka-protocol/index.ts';
import { resourceLabel, throttleKeysOf } from './configs.ts';
import type { KafkaSession } from './session.ts';
import type { ConfigSourceName, ThrottleSetting } from './types.ts';

type DescribeConfigsApi = typeof describeConfigsV4.api;
const DESCRIBE_APIS: Readonly<Record<number, DescribeConfigsApi>> = {
  1: describeConfigsV1.api,
  2: describeConfigsV2.api,
  3: describeConfigsV3.api,
  4: describeConfigsV4.api,
};
type Resource = Parameters<DescribeConfigsApi['async']>[1][number];

/** Topics per DescribeConfigs request. */
const TOPICS_PER_REQUEST = 500;

const SOURCE_NAMES: ReadonlyMap<number, ConfigSourceName> = new Map([
  [ConfigSources.DYNAMIC_TOPIC_CONFIG, 'DYNAMIC_TOPIC_CONFIG'],
  [ConfigSources.DYNAMIC_BROKER_CONFIG, 'DYNAMIC_BROKER_CONFIG'],
  [ConfigSources.DYNAMIC_DEFAULT_BROKER_CONFIG, 'DYNAMIC_DEFAULT_BROKER_CONFIG'],
  [ConfigSources.STATIC_BROKER_CONFIG, 'STATIC_BROKER_CONFIG'],
  [ConfigSources.DEFAULT_CONFIG, 'DEFAULT_CONFIG'],
  [ConfigSources.DYNAMIC_BROKER_LOGGER_CONFIG, 'DYNAMIC_BROKER_LOGGER_CONFIG'],
]);

async function describe(
  session: KafkaSession,
  connection: Connection,
  resources: Resource[],
): Promise<ThrottleSetting[]> {
  const api = 'DescribeConfigs';
  const version = await session.version(connection, api, [1, 2, 3, 4]);
  const response = await session.send(connection, api, DESCRIBE_APIS[version]!, resources, false, false);
  const settings: ThrottleSetting[] = [];
  for (const result of response.results) {
    const resource = resourceLabel(result.resourceType, result.resourceName);
    if (result.errorCode !== KAFKA_ERROR_CODES.NONE) {
      // A topic deleted since Metadata was read has no throttle left: nothing to report.
      const deleted =
        result.resourceType === ConfigResourceTypes.TOPIC &&
        result.errorCode === KAFKA_ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION;
      if (deleted) continue;
      throw new KafkaResourceError(api, resource, result.errorCode, result.errorMessage);
    }
    for (const config of result.configs) {
      if (
        config.value === null ||
        config.value === undefined ||
        config.value === '' ||
        config.configSource === ConfigSources.DEFAULT_CONFIG
      )
        continue;
      const source = SOURCE_NAMES.get(config.configSource) ?? 'UNKNOWN';
      settings.push({ resource, key: config.name, value: config.value, source });
    }
  }
  return settings;
}

/** Every throttle key set on a broker or topic, sorted by resource then key. */
export async function describeThrottles(session: KafkaSession): Promise<ThrottleSetting[]> {
  const metadata = await session.metadata(null);
  const settings: ThrottleSetting[] = [];
  const brokerKeys = throttleKeysOf('broker');
  for (const broker of [...metadata.brokers].sort((a, b) => a.nodeId - b.nodeId)) {
    const connection = await session.brokerConnection(broker.nodeId, 'DescribeConfigs');
    const resource = {
      resourceType: ConfigResourceTypes.BROKER,
      resourceName: String(broker.nodeId),
      configurationKeys: brokerKeys,
    };
    settings.push(...(await describe(session, connection, [resource])));
  }
  const topicKeys = throttleKeysOf('topic');
  const topics = metadata.topics.flatMap((t) => (t.name === null ? [] : [t.name])).sort();
  for (let i = 0; i < topics.length; i += TOPICS_PER_REQUEST) {
    const connection = await session.bootstrapConnection('DescribeConfigs');
    const resources = topics
      .slice(i, i + TOPICS_PER_REQUEST)
      .map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: topicKeys }));
    settings.push(...(await describe(session, connection, resources)));
  }
  return settings.sort((a, b) =>
    a.resource === b.resource ? (a.key < b.key ? -1 : 1) : a.resource < b.resource ? -1 : 1,
  );
}
