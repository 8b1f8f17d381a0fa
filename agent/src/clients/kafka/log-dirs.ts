// Replica sizes per (broker, topic, partition) from DescribeLogDirs, asked of each broker itself: how
// far a move has copied, for progress reports. A log dir the broker reports as failed (offline disk)
// fails the call rather than passing for "0 bytes".
import { describeLogDirsV1, describeLogDirsV2, describeLogDirsV3, describeLogDirsV4 } from '@platformatic/kafka';
import { KAFKA_ERROR_CODES, KafkaRequestError } from '../kafka-protocol/index.ts';
import { topicName } from './cluster.ts';
import type { KafkaSession } from './session.ts';
import type { DescribeLogDirsOptions, ReplicaSize } from './types.ts';

type DescribeLogDirsApi = typeof describeLogDirsV4.api;
const LOG_DIRS_APIS: Readonly<Record<number, DescribeLogDirsApi>> = {
  1: describeLogDirsV1.api as unknown as DescribeLogDirsApi,
  2: describeLogDirsV2.api,
  3: describeLogDirsV3.api,
  4: describeLogDirsV4.api,
};

export async function describeLogDirs(
  session: KafkaSession,
  options: DescribeLogDirsOptions = {},
): Promise<ReplicaSize[]> {
  const api = 'DescribeLogDirs';
  let topics: describeLogDirsV4.DescribeLogDirsRequestTopic[] | null = null;
  let brokers: number[];
  if (options.topics !== undefined) {
    if (options.topics.length === 0) return [];
    const metadata = await session.metadata(options.topics);
    topics = metadata.topics.map((t) => ({
      name: topicName(t),
      partitions: t.partitions.map((p) => p.partitionIndex),
    }));
    brokers = options.brokers ?? metadata.brokers.map((b) => b.nodeId);
  } else {
    brokers = options.brokers ?? (await session.metadata([])).brokers.map((b) => b.nodeId);
  }
  const sizes: ReplicaSize[] = [];
  for (const broker of [...brokers].sort((a, b) => a - b)) {
    const connection = await session.brokerConnection(broker, api);
    const version = await session.version(connection, api, [1, 2, 3, 4]);
    const response = await session.send(connection, api, LOG_DIRS_APIS[version]!, topics);
    if (response.errorCode !== KAFKA_ERROR_CODES.NONE) {
      throw new KafkaRequestError(api, response.errorCode, null, `broker ${broker}`);
    }
    for (const dir of response.results) {
      if (dir.errorCode !== KAFKA_ERROR_CODES.NONE) {
        throw new KafkaRequestError(api, dir.errorCode, null, `broker ${broker} log dir ${dir.logDir}`);
      }
      for (const t of dir.topics) {
        for (const p of t.partitions) {
          sizes.push({
            broker,
            topic: t.name,
            partition: p.partitionIndex,
            logDir: dir.logDir,
            sizeBytes: Number(p.partitionSize),
            offsetLag: Number(p.offsetLag),
            future: p.isFutureKey,
          });
        }
      }
    }
  }
  return sizes.sort(
    (a, b) => a.broker - b.broker || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition),
  );
}
