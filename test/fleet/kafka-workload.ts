// A client workload that runs through a Kafka migration and proves it lost and reordered nothing:
// an idempotent producer (acks=all) writes keyed records `key:seq` with a per-key sequence, a
// consumer group reads and commits throughout; at the end the whole topic is read back from the
// earliest offsets and every acknowledged record must be there, in sequence order per key (a key
// lives in one partition, so per-key order is per-partition order). Shared by the e2e test, the demo
// and the benchmark.
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';

export interface WorkloadOptions {
  bootstrap: string[];
  topic: string;
  keys?: number;
  /** Records per send call. @default 20 */
  batch?: number;
  /** Pause between sends. @default 20 */
  intervalMs?: number;
  groupId?: string;
}

export interface Verification {
  produced: number;
  acknowledged: number;
  /** Acknowledged records not found in the topic. */
  lost: number;
  /** Records found after a record of the same key with a higher sequence. */
  reordered: number;
  /** Records found more than once. */
  duplicated: number;
  consumedByGroup: number;
  readBack: number;
}

export class KafkaWorkload {
  readonly options: Required<WorkloadOptions>;
  private readonly producer: Producer<string, string, string, string>;
  /** Acknowledged sequence numbers per key, and the highest. */
  private readonly acked = new Map<string, Set<number>>();
  private readonly lastAcked = new Map<string, number>();
  private readonly sent = new Map<string, number>();
  private produced = 0;
  private acknowledged = 0;
  private consumed = 0;
  private stopping = false;
  private producing: Promise<void> | undefined;
  private consuming: Promise<void> | undefined;
  private consumerClose: (() => Promise<void>) | undefined;
  /** Send errors seen (a broker moving leadership answers some sends with retriable errors). */
  readonly sendErrors: string[] = [];

  constructor(options: WorkloadOptions) {
    this.options = { keys: 12, batch: 20, intervalMs: 20, groupId: 'drover-workload', ...options };
    this.producer = new Producer({
      clientId: 'drover-workload-producer',
      bootstrapBrokers: options.bootstrap,
      serializers: stringSerializers,
      acks: -1,
      idempotent: true,
      retries: 20,
      retryDelay: 250,
    });
  }

  get counts(): { produced: number; acknowledged: number; consumed: number } {
    return { produced: this.produced, acknowledged: this.acknowledged, consumed: this.consumed };
  }

  /** Starts producing and consuming in the background. */
  start(): void {
    this.producing = this.produceLoop();
    this.consuming = this.consumeLoop();
  }

  private async produceLoop(): Promise<void> {
    let round = 0;
    while (!this.stopping) {
      const messages = Array.from({ length: this.options.batch }, (_, i) => {
        const key = `k${(round * this.options.batch + i) % this.options.keys}`;
        const seq = this.sent.get(key) ?? 0;
        this.sent.set(key, seq + 1);
        return { topic: this.options.topic, key, value: `${key}:${seq}` };
      });
      round++;
      this.produced += messages.length;
      try {
        await this.producer.send({ messages });
        for (const m of messages) {
          const seq = Number(m.value.split(':')[1]);
          const set = this.acked.get(m.key) ?? new Set<number>();
          set.add(seq);
          this.acked.set(m.key, set);
          this.lastAcked.set(m.key, Math.max(seq, this.lastAcked.get(m.key) ?? -1));
        }
        this.acknowledged += messages.length;
      } catch (error) {
        // Not acknowledged: these may or may not be in the log; the check only requires acked ones.
        this.sendErrors.push((error as Error).message);
        // The next records of these keys must still come after: keep the sequence going.
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.intervalMs));
    }
  }

  private async consumeLoop(): Promise<void> {
    const consumer = new Consumer({
      clientId: 'drover-workload-consumer',
      groupId: this.options.groupId,
      bootstrapBrokers: this.options.bootstrap,
      deserializers: stringDeserializers,
    });
    this.consumerClose = () => consumer.close(true);
    try {
      const stream = await consumer.consume({
        topics: [this.options.topic],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: 500,
        sessionTimeout: 20_000,
        heartbeatInterval: 1000,
        maxWaitTime: 500,
      });
      for await (const _ of stream) {
        this.consumed++;
        if (this.stopping) break;
      }
      await stream.close().catch(() => undefined);
    } catch (error) {
      if (!this.stopping) this.sendErrors.push(`consumer: ${(error as Error).message}`);
    }
  }

  /** Stops producing and consuming (the group's last offsets are committed). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.producing;
    await this.producer.close();
    await Promise.race([this.consuming, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await this.consumerClose?.().catch(() => undefined);
  }

  /** The group's committed offsets, `partition -> offset`. */
  async committedOffsets(): Promise<Map<number, bigint>> {
    const admin = new Admin({ clientId: 'drover-workload-admin', bootstrapBrokers: this.options.bootstrap });
    try {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [this.options.groupId] });
      const topic = group?.topics.find((t) => t.name === this.options.topic);
      return new Map((topic?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
    } finally {
      await admin.close();
    }
  }

  /** Reads the whole topic back with a fresh group and checks every acknowledged record is there, in order. */
  async verify(timeoutMs = 120_000): Promise<Verification> {
    const consumer = new Consumer({
      clientId: 'drover-workload-verifier',
      groupId: `drover-verify-${Date.now()}`,
      bootstrapBrokers: this.options.bootstrap,
      deserializers: stringDeserializers,
    });
    const seen = new Map<string, number[]>();
    const seenSets = new Map<string, Set<number>>();
    let readBack = 0;
    try {
      const stream = await consumer.consume({
        topics: [this.options.topic],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
        maxWaitTime: 500,
      });
      const deadline = Date.now() + timeoutMs;
      const complete = () =>
        [...this.lastAcked].every(([key, last]) => seenSets.get(key)?.has(last)) || Date.now() > deadline;
      const timer = setInterval(() => complete() && stream.destroy(), 500);
      try {
        for await (const message of stream) {
          readBack++;
          const [key, seq] = message.value.split(':') as [string, string];
          const list = seen.get(key) ?? [];
          list.push(Number(seq));
          seen.set(key, list);
          const set = seenSets.get(key) ?? new Set<number>();
          set.add(Number(seq));
          seenSets.set(key, set);
          if (readBack % 200 === 0 && complete()) break;
        }
      } catch {
        // destroyed by the timer: the check below says what is missing
      } finally {
        clearInterval(timer);
        await stream.close().catch(() => undefined);
      }
    } finally {
      await consumer.close(true);
    }
    let lost = 0;
    let reordered = 0;
    let duplicated = 0;
    for (const [key, acked] of this.acked) {
      const list = seen.get(key) ?? [];
      const present = new Set(list);
      duplicated += list.length - present.size;
      for (const seq of acked) if (!present.has(seq)) lost++;
      for (let i = 1; i < list.length; i++) if ((list[i] ?? 0) < (list[i - 1] ?? 0)) reordered++;
    }
    return {
      produced: this.produced,
      acknowledged: this.acknowledged,
      lost,
      reordered,
      duplicated,
      consumedByGroup: this.consumed,
      readBack,
    };
  }
}
