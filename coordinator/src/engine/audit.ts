// The audit trail: every order issued, every verdict, every job created and finished, on the
// DROVER_AUDIT stream (deny delete, deny purge). Records carry redacted parameters only.
import { type AuditKind, auditSubject } from '@drover/shared';
import type { Drover } from './nats.ts';
import { retrying } from './retry.ts';

export function audit(d: Drover, kind: AuditKind, id: string, record: Record<string, unknown>): Promise<unknown> {
  const subject = auditSubject(kind, id);
  return retrying(() => d.js.publish(subject, JSON.stringify(record)), {
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

  add(kind: AuditKind, record: Record<string, unknown>): void {
    const list = this.pending.get(kind) ?? [];
    list.push(record);
    this.pending.set(kind, list);
  }

  async flush(): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const [kind, records] of this.pending) {
      for (let i = 0; i < records.length; i += 100) {
        writes.push(
          audit(this.d, kind, this.jobId, { type: `${kind}s`, jobId: this.jobId, records: records.slice(i, i + 100) }),
        );
      }
    }
    this.pending.clear();
    await Promise.all(writes);
  }
}
