// Pages of the journal for `drover reconcile`: every entry once across pages, a page within its byte
// budget, big outputs left out and marked, running orders told apart from interrupted ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JournalPageSchema } from '@drover/shared';
import type { CancelEntry, JournalEntry } from '../src/journal.ts';
import { journalPage } from '../src/journal-page.ts';

function journalOf(entries: JournalEntry[], cancels: CancelEntry[] = []) {
  return { all: () => entries, allCancels: () => cancels };
}

function entry(i: number, output?: unknown, finished = true): JournalEntry {
  const orderId = `j-${i % 3}-o${i}`;
  return {
    orderId,
    jobId: `j-${i % 3}`,
    step: 'ping',
    startedAt: i,
    expiresAt: i + 1000,
    ...(finished
      ? {
          result: {
            orderId,
            jobId: `j-${i % 3}`,
            agentId: 'a',
            step: 'ping',
            status: 'succeeded' as const,
            finishedAt: i + 1,
            ...(output === undefined ? {} : { output }),
          },
        }
      : {}),
  };
}

test('pages cover every entry once, in order, each within its limit', () => {
  const entries = Array.from({ length: 45 }, (_, i) => entry(i, { n: i }));
  const seen: string[] = [];
  let offset: number | undefined = 0;
  let pages = 0;
  while (offset !== undefined) {
    const page = journalPage(journalOf(entries), { offset, limit: 10 }, 'a', () => false, 5);
    assert.ok(JournalPageSchema.safeParse(page).success, 'the page has the wire shape');
    assert.ok(page.records.length <= 10);
    assert.equal(page.total, 45);
    seen.push(...page.records.map((r) => r.orderId));
    offset = page.next;
    pages++;
  }
  assert.equal(pages, 5);
  assert.deepEqual(
    seen,
    entries.map((e) => e.orderId),
  );
});

test('a job prefix narrows the entries and the cancels; cancels come with the first page only', () => {
  const entries = Array.from({ length: 9 }, (_, i) => entry(i));
  const cancels = [
    { orderId: 'j-1-x', jobId: 'j-1', at: 1, reason: 'job cancelled' },
    { orderId: 'j-2-x', jobId: 'j-2', at: 1, reason: 'job cancelled' },
  ];
  const first = journalPage(journalOf(entries, cancels), { offset: 0, limit: 2, jobPrefix: 'j-1' }, 'a', () => false);
  assert.equal(first.total, 3);
  assert.ok(first.records.every((r) => r.jobId === 'j-1'));
  assert.deepEqual(
    first.cancels.map((c) => c.orderId),
    ['j-1-x'],
  );
  const second = journalPage(journalOf(entries, cancels), { offset: 2, limit: 2, jobPrefix: 'j-1' }, 'a', () => false);
  assert.equal(second.records.length, 1);
  assert.equal(second.cancels.length, 0);
  assert.equal(second.next, undefined);
});

test('outputs over 16 KB are left out and marked; a page stops at about 256 KB', () => {
  const big = 'x'.repeat(20_000);
  const medium = 'y'.repeat(15_000);
  const entries = [entry(0, big), ...Array.from({ length: 40 }, (_, i) => entry(i + 1, medium))];
  const page = journalPage(journalOf(entries), { offset: 0, limit: 1000 }, 'a', () => false);
  assert.equal(page.records[0]?.outputOmitted, true);
  assert.equal(page.records[0]?.result?.output, undefined);
  assert.equal(page.records[0]?.result?.status, 'succeeded', 'the status is always there');
  assert.equal(page.records[1]?.result?.output, medium, 'a smaller output is kept');
  assert.ok(Buffer.byteLength(JSON.stringify(page)) < 300 * 1024, 'within the page budget');
  assert.ok(page.next !== undefined && page.next < entries.length, 'the rest is on the next page');
});

test('an entry with no result is running only if the agent runs it now', () => {
  const entries = [entry(0, undefined, false), entry(1, undefined, false)];
  const page = journalPage(journalOf(entries), { offset: 0, limit: 10 }, 'a', (id) => id === entries[0]?.orderId);
  assert.deepEqual(
    page.records.map((r) => r.running),
    [true, false],
  );
});
