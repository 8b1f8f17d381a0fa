// Reading the audit trail of a run or a job for the page: every DROVER_AUDIT record about the run
// (`drover.audit.run.<run>`) and about each of its jobs (`drover.audit.*.<job>`: orders, verdicts,
// job records), oldest first. One ordered consumer per id with a single filter (servers before
// 2.10 take no filter list), read to the end and deleted.
import { auditFilter, STREAM_AUDIT } from '@drover/shared';
import type { Drover } from '../engine/nats.ts';

export interface AuditLine {
  seq: number;
  /** The stream's timestamp, ms. */
  at: number;
  subject: string;
  /** The record, as JSON text cut at 4 KiB (the page shows it as text). */
  text: string;
}

/** Records per page load, in all. */
const MAX_LINES = 2000;
const MAX_TEXT = 4096;

export async function readAuditTrail(d: Drover, ids: readonly string[]): Promise<AuditLine[]> {
  const lines: AuditLine[] = [];
  for (const id of ids) {
    if (lines.length >= MAX_LINES) break;
    const filter = auditFilter(id);
    const info = await d.jsm.streams.info(STREAM_AUDIT, { subjects_filter: filter });
    const count = Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
    if (count === 0) continue;
    const consumer = await d.js.consumers.get(STREAM_AUDIT, { filter_subjects: filter });
    const want = Math.min(count, MAX_LINES - lines.length);
    const messages = await consumer.fetch({ max_messages: want, expires: 3000 });
    let got = 0;
    for await (const m of messages) {
      lines.push({
        seq: m.seq,
        at: Math.round(m.info.timestampNanos / 1e6),
        subject: m.subject,
        text: m.string().slice(0, MAX_TEXT),
      });
      if (++got >= want || m.info.pending === 0) {
        messages.stop();
        break;
      }
    }
    await consumer.delete().catch(() => {});
  }
  return lines.sort((a, b) => a.seq - b.seq);
}
