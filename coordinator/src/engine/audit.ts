// The audit trail: every order issued, every verdict, every job created and finished, on the
// DROVER_AUDIT stream (deny delete, deny purge). Records carry redacted parameters only.
import { createHash } from 'node:crypto';
import { type AuditKind, auditSubject } from '@drover/shared';
import type { Drover } from './nats.ts';
import { retrying } from './retry.ts';

export function audit(d: Drover, kind: AuditKind, id: string, record: Record<string, unknown>): Promise<unknown> {
  const subject = auditSubject(kind, id);
  const text = JSON.stringify(fitRecord(record));
  return retrying(() => d.js.publish(subject, text), {
    onGiveUp: (error) => process.emitWarning(`audit record ${subject} not written: ${(error as Error).message}`),
  });
}

/**
 * Collects a job's order and verdict records and writes them in batches (one message per kind per
 * 100 records): at fleet scale one audit message per order would double the stream writes a job costs.
 */
export class AuditBatch {
  private readonly pending = new Map<AuditKind, Array<Record<string, unknown>>>();
  private readonly d: Drover;
  private readonly jobId: string;
  constructor(d: Drover, jobId: string) {
    this.d = d;
    this.jobId = jobId;
  }

  /** The writes started by flushSoon, in order (each resolves; a record given up on is warned about). */
  private writing: Promise<void> = Promise.resolve();

  /**
   * Starts writing what is pending without waiting for it: the job loop must never wait on the audit
   * stream (a slow or full one would hold every dispatch and result behind its retries).
   */
  flushSoon(): void {
    if (this.pending.size === 0) return;
    const next = this.writing.then(() => this.flush());
    this.writing = next.catch((error: Error) => process.emitWarning(`audit batch not written: ${error.message}`));
  }

  /** Writes what is pending and waits for every write started before (the job's end). */
  async settled(): Promise<void> {
    this.flushSoon();
    await this.writing;
  }

  add(kind: AuditKind, record: Record<string, unknown>): void {
    const list = this.pending.get(kind) ?? [];
    list.push(fitRecord(record));
    this.pending.set(kind, list);
  }

  async flush(): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const [kind, records] of this.pending) {
      for (const batch of batchesUnder(records, MAX_RECORDS, MAX_BATCH_BYTES)) {
        writes.push(audit(this.d, kind, this.jobId, { type: `${kind}s`, jobId: this.jobId, records: batch }));
      }
    }
    this.pending.clear();
    await Promise.all(writes);
  }
}

/** Largest audit record kept whole; bigger params are audited by digest (the job record in KV has them). */
const MAX_RECORD_BYTES = 16 * 1024;

function fitRecord(record: Record<string, unknown>): Record<string, unknown> {
  if (Buffer.byteLength(JSON.stringify(record)) <= MAX_RECORD_BYTES || record.params === undefined) return record;
  const text = JSON.stringify(record.params);
  return {
    ...record,
    params: {
      sha256: createHash('sha256').update(text).digest('hex'),
      bytes: Buffer.byteLength(text),
      whole: 'in the job record (KV drover-jobs)',
    },
  };
}

/** At most this many records per audit message. */
const MAX_RECORDS = 100;
/**
 * At most this many bytes of records per audit message: the audit stream takes 64 KiB messages, and
 * an order record carries its (redacted) params, which can be large; an oversized batch would be
 * refused by the stream and lost.
 */
const MAX_BATCH_BYTES = 48 * 1024;

/** Consecutive groups of records, each within both limits (a record alone over the byte limit goes alone). */
export function batchesUnder<T>(records: readonly T[], maxRecords: number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = Buffer.byteLength(JSON.stringify(record)) + 1;
    if (current.length > 0 && (current.length >= maxRecords || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
