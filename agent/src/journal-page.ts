// A page of the journal for `drover reconcile`: after NATS lost its state, the agents' journals are
// the ground truth of what ran, and the coordinator rebuilds its records from these pages. Pages stop
// at a count and at about 256 KB so each reply fits a NATS message; a result's output over 16 KB is
// left out (marked), its status, error and times are always there.
import type { JournalPage, JournalQuery, JournalRecord } from '@drover/shared';
import type { Journal } from './journal.ts';

const PAGE_BYTES = 256 * 1024;
const OUTPUT_BYTES = 16 * 1024;

export function journalPage(
  journal: Pick<Journal, 'all' | 'allCancels'>,
  query: JournalQuery,
  agentId: string,
  isRunning: (orderId: string) => boolean,
  now = Date.now(),
): Omit<JournalPage, 'keyId' | 'signature'> {
  const prefix = query.jobPrefix ?? '';
  const matching = journal.all().filter((e) => e.jobId.startsWith(prefix));
  const records: JournalRecord[] = [];
  let bytes = 0;
  let index = query.offset;
  for (; index < matching.length && records.length < query.limit; index++) {
    const entry = matching[index];
    if (!entry) break;
    const record: JournalRecord = {
      orderId: entry.orderId,
      jobId: entry.jobId,
      step: entry.step,
      startedAt: entry.startedAt,
      expiresAt: entry.expiresAt,
      running: !entry.result && isRunning(entry.orderId),
    };
    if (entry.result) {
      const { output, ...rest } = entry.result;
      const outputBytes = output === undefined ? 0 : Buffer.byteLength(JSON.stringify(output));
      record.result = outputBytes > OUTPUT_BYTES ? rest : entry.result;
      if (outputBytes > OUTPUT_BYTES) record.outputOmitted = true;
    }
    const size = Buffer.byteLength(JSON.stringify(record));
    if (records.length > 0 && bytes + size > PAGE_BYTES) break;
    records.push(record);
    bytes += size;
  }
  // Cancels are few (orders cancelled before they started): they come with the first page.
  const cancels =
    query.offset === 0
      ? journal
          .allCancels()
          .filter((c) => c.jobId.startsWith(prefix))
          .map((c) => ({ orderId: c.orderId, jobId: c.jobId, at: c.at, reason: c.reason }))
      : [];
  return {
    agentId,
    at: now,
    total: matching.length,
    records,
    cancels,
    ...(index < matching.length ? { next: index } : {}),
  };
}
