// The coordinator side of log shipping: the DROVER_AUDIT stream, in sequence order, to the
// customer's bucket. One object per batch of messages, keyed by its first and last sequence; the
// batch is recorded (KV drover-shipping-status, compare-and-set) before its upload and the cursor
// moved past it only after S3 confirmed it, so a shipper that dies mid-upload sends exactly the
// same batch to the same key when it starts again. Two shippers at once lose the compare-and-set
// and the second one stops.
import {
  auditObjectKey,
  COORDINATOR_SHIPPER_KEY,
  describeBucketError,
  KV_SHIPPING_STATUS,
  type ShippingStatus,
  STREAM_AUDIT,
} from '@drover/shared';
import type { Bucket } from '@drover/shared/bucket';
import { type KV, Kvm } from '@nats-io/kv';
import type { Drover } from '../engine/nats.ts';

export const AUDIT_CHECKPOINT_KEY = `${COORDINATOR_SHIPPER_KEY}.checkpoint`;
/** At most this many messages in one object. */
const MAX_BATCH_MESSAGES = 10_000;

interface AuditCheckpoint {
  /** The last sequence confirmed in the bucket (0: none). */
  shipped: number;
  pending?: { first: number; last: number } | undefined;
  /** Messages the stream dropped (limits) before they were shipped. */
  lost: number;
}

export class ShipperConflictError extends Error {
  constructor() {
    super('another audit shipper moved the checkpoint (only one may run): stopping');
    this.name = 'ShipperConflictError';
  }
}

export interface AuditPass {
  uploaded: number;
  messages: number;
  behind: number;
  shipped: number;
  lost: number;
}

export class AuditShipper {
  private readonly d: Drover;
  private readonly bucket: Bucket;
  private kv: KV | undefined;
  private revision = 0;
  private checkpoint: AuditCheckpoint = { shipped: 0, lost: 0 };
  private counters = { uploads: 0, uploadedBytes: 0, lastUploadAt: undefined as number | undefined };
  private lastError: { message: string; at: number } | undefined;
  private behind = 0;
  private behindSince: number | undefined;

  constructor(d: Drover, bucket: Bucket) {
    this.d = d;
    this.bucket = bucket;
  }

  private async open(): Promise<KV> {
    this.kv ??= await new Kvm(this.d.nc).open(KV_SHIPPING_STATUS);
    const entry = await this.kv.get(AUDIT_CHECKPOINT_KEY);
    if (entry?.operation === 'PUT') {
      this.checkpoint = entry.json<AuditCheckpoint>();
      this.revision = entry.revision;
    }
    return this.kv;
  }

  private async save(kv: KV): Promise<void> {
    try {
      this.revision = this.revision
        ? await kv.update(AUDIT_CHECKPOINT_KEY, JSON.stringify(this.checkpoint), this.revision)
        : await kv.create(AUDIT_CHECKPOINT_KEY, JSON.stringify(this.checkpoint));
    } catch (error) {
      if (/wrong last sequence|key exists/i.test((error as Error).message)) throw new ShipperConflictError();
      throw error;
    }
  }

  /** Ships everything the stream holds now, batch by batch. */
  async pass(signal?: AbortSignal): Promise<AuditPass> {
    const kv = await this.open();
    let uploaded = 0;
    let messages = 0;
    try {
      if (this.checkpoint.pending) {
        const { first, last } = this.checkpoint.pending;
        const batch = await this.read(first, last - first + 1);
        if (batch.length > 0 && batch[batch.length - 1]!.seq === last) {
          await this.upload(kv, first, last, batch, true);
          uploaded++;
          messages += batch.length;
        } else {
          this.checkpoint.pending = undefined;
        }
      }
      for (;;) {
        signal?.throwIfAborted();
        const info = await this.d.jsm.streams.info(STREAM_AUDIT);
        const { first_seq: firstSeq, last_seq: lastSeq } = info.state;
        if (firstSeq > this.checkpoint.shipped + 1 && lastSeq >= firstSeq) {
          // The stream let messages go (age or size limits) before they were shipped.
          this.checkpoint.lost += firstSeq - (this.checkpoint.shipped + 1);
          this.checkpoint.shipped = firstSeq - 1;
        }
        this.behind = Math.max(0, lastSeq - this.checkpoint.shipped);
        if (this.behind === 0) {
          this.behindSince = undefined;
          break;
        }
        this.behindSince ??= Date.now();
        const batch = await this.read(this.checkpoint.shipped + 1, Math.min(MAX_BATCH_MESSAGES, this.behind));
        if (batch.length === 0) break;
        await this.upload(kv, batch[0]!.seq, batch[batch.length - 1]!.seq, batch, false);
        uploaded++;
        messages += batch.length;
      }
      this.lastError = undefined;
    } catch (error) {
      if (error instanceof ShipperConflictError) throw error;
      this.lastError = { message: describeBucketError(error), at: Date.now() };
      throw error;
    }
    return { uploaded, messages, behind: this.behind, shipped: this.checkpoint.shipped, lost: this.checkpoint.lost };
  }

  /** Messages from `first`, at most `max` and at most the bucket's object size. */
  private async read(first: number, max: number): Promise<Array<{ seq: number; line: string }>> {
    const consumer = await this.d.js.consumers.get(STREAM_AUDIT, {
      deliver_policy: 'by_start_sequence',
      opt_start_seq: first,
    });
    const out: Array<{ seq: number; line: string }> = [];
    let bytes = 0;
    const iterator = await consumer.fetch({ max_messages: max, expires: 5_000 });
    for await (const m of iterator) {
      let data: unknown;
      try {
        data = m.json();
      } catch {
        data = m.string();
      }
      const line = `${JSON.stringify({ seq: m.seq, subject: m.subject, time: m.info.timestampNanos, data })}\n`;
      if (out.length > 0 && bytes + line.length > this.bucket.settings.maxObjectBytes) {
        iterator.stop();
        break;
      }
      out.push({ seq: m.seq, line });
      bytes += line.length;
      if (out.length >= max) {
        iterator.stop();
        break;
      }
    }
    await consumer.delete().catch(() => {});
    return out;
  }

  private async upload(
    kv: KV,
    first: number,
    last: number,
    batch: Array<{ seq: number; line: string }>,
    again: boolean,
  ): Promise<void> {
    if (!again) {
      this.checkpoint.pending = { first, last };
      await this.save(kv);
    }
    const body = Buffer.from(batch.map((m) => m.line).join(''));
    await this.bucket.put(auditObjectKey(this.bucket.settings.prefix, first, last), body, 'application/x-ndjson');
    this.checkpoint.shipped = last;
    this.checkpoint.pending = undefined;
    await this.save(kv);
    this.counters.uploads++;
    this.counters.uploadedBytes += body.length;
    this.counters.lastUploadAt = Date.now();
  }

  status(): ShippingStatus {
    const now = Date.now();
    const settings = this.bucket.settings;
    return {
      id: COORDINATOR_SHIPPER_KEY,
      state: this.lastError ? 'error' : this.behind > 0 ? 'behind' : 'caught-up',
      configuredBy: 'flags',
      bucket: settings.bucket,
      prefix: settings.prefix,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      sources: [
        {
          name: 'audit',
          shipped: this.checkpoint.shipped,
          behind: this.behind,
          unit: 'messages',
          lagMs: this.behindSince ? now - this.behindSince : 0,
          lostBytes: 0,
        },
      ],
      uploads: this.counters.uploads,
      uploadedBytes: this.counters.uploadedBytes,
      ...(this.counters.lastUploadAt ? { lastUploadAt: this.counters.lastUploadAt } : {}),
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      at: now,
    };
  }

  async publishStatus(): Promise<void> {
    const kv = this.kv ?? (await this.open());
    await kv.put(COORDINATOR_SHIPPER_KEY, JSON.stringify(this.status()));
  }
}
