// Plain clients for tests against the harness's Kafka: produce `count` keyed records, and read
// `count` back from the earliest offsets with a fresh consumer group (which also creates
// `__consumer_offsets`). Shared by the engine suites.
import { Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

/** `valueBytes` > 0 pads each value and sends everything to partition 0 (a partition with data to move). */
export async function produce(bootstrap: string[], topic: string, count: number, valueBytes = 0): Promise<void> {
  const producer = new Producer({
    clientId: 'drover-test-producer',
    bootstrapBrokers: bootstrap,
    serializers: stringSerializers,
    acks: -1,
  });
  try {
    const pad = 'x'.repeat(valueBytes);
    for (let start = 0; start < count; start += 100) {
      const messages = Array.from({ length: Math.min(100, count - start) }, (_, i) => ({
        topic,
        key: `k${start + i}`,
        value: `v${start + i}${pad}`,
        partition: valueBytes > 0 ? 0 : undefined,
      }));
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
}

/** Reads `count` messages from the earliest offsets with a fresh group (which also creates `__consumer_offsets`). */
export async function consume(bootstrap: string[], topic: string, count: number, groupId: string): Promise<string[]> {
  const consumer = new Consumer({
    clientId: 'drover-test-consumer',
    groupId,
    bootstrapBrokers: bootstrap,
    deserializers: stringDeserializers,
  });
  const values: string[] = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTime: 500,
    });
    const timer = setTimeout(() => stream.destroy(new Error(`consumed ${values.length}/${count} within 60 s`)), 60_000);
    try {
      for await (const message of stream) {
        values.push(message.value);
        if (values.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => undefined);
    }
  } finally {
    await consumer.close(true);
  }
  return values;
}
