import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Journal } from '../src/journal.ts';

const result = (orderId: string) =>
  ({
    orderId,
    jobId: 'j',
    agentId: 'a',
    step: 'sleep',
    status: 'succeeded',
    finishedAt: 2,
    output: { sleptMs: 1 },
  }) as const;

test('a journal reopened after a crash knows started and finished orders, and tolerates a torn last line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const journal = await Journal.open(dir);
  await journal.begin({ orderId: 'o1', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: Date.now() + 1000 });
  await journal.finish(result('o1'));
  await journal.begin({ orderId: 'o2', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: Date.now() + 1000 });
  await journal.close();
  appendFileSync(join(dir, 'journal.jsonl'), '{"t":"start","orderId":"o3"'); // crash mid-write

  const reopened = await Journal.open(dir);
  assert.equal(reopened.get('o1')?.result?.status, 'succeeded');
  assert.ok(reopened.get('o2'), 'o2 started');
  assert.equal(reopened.get('o2')?.result, undefined, 'o2 never finished');
  assert.equal(reopened.get('o3'), undefined);
  await reopened.close();
});

test('entries far past their expiry are compacted away on open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const journal = await Journal.open(dir);
  await journal.begin({ orderId: 'old', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: 1 });
  await journal.finish(result('old'));
  await journal.begin({ orderId: 'new', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: Date.now() });
  await journal.finish(result('new'));
  await journal.close();
  const reopened = await Journal.open(dir);
  assert.equal(reopened.get('old'), undefined);
  assert.ok(reopened.get('new'));
  await reopened.close();
  assert.doesNotMatch(readFileSync(join(dir, 'journal.jsonl'), 'utf8'), /"old"/);
});

test('any JSON on a line (null, a number, a half record) is skipped, never a crash; good records survive', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const journal = await Journal.open(dir);
  await journal.begin({ orderId: 'o1', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: Date.now() + 1000 });
  await journal.close();
  appendFileSync(
    join(dir, 'journal.jsonl'),
    'null\n42\n"text"\n{"t":"start"}\n{"t":"end","orderId":"o1","result":null}\n[]\n',
  );
  const reopened = await Journal.open(dir);
  assert.ok(reopened.get('o1'), 'the good record is kept');
  assert.equal(reopened.get('o1')?.result, undefined, 'a malformed end line is not a result');
  assert.equal(reopened.size, 1);
  await reopened.close();
  const text = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
  assert.ok(!text.includes('null\n42'), 'the bad lines were compacted away');
});

test('the orders cursor, cancels of orders not started and reported results survive a reopen and a compaction', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const journal = await Journal.open(dir);
  assert.equal(journal.cursor, 0);
  await journal.begin({ orderId: 'done', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: Date.now() + 1000 });
  await journal.finish(result('done'));
  await journal.markReported('done');
  await journal.begin({ orderId: 'owed', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: Date.now() + 1000 });
  await journal.finish(result('owed'));
  await journal.begin({ orderId: 'cut', jobId: 'j', step: 'sleep', startedAt: 1, expiresAt: Date.now() + 1000 });
  await journal.cancel({ orderId: 'later', jobId: 'j', at: Date.now(), reason: 'operator' });
  await journal.advanceCursor(7);
  await journal.advanceCursor(5); // never backwards...
  assert.equal(journal.cursor, 7);
  await journal.advanceCursor(12);
  await journal.close();
  // A torn line makes the next open compact the file: what it keeps must be the same.
  appendFileSync(join(dir, 'journal.jsonl'), '{"t":"cursor"');

  for (let i = 0; i < 2; i++) {
    const reopened = await Journal.open(dir);
    assert.equal(reopened.cursor, 12);
    assert.equal(reopened.cancelOf('later')?.reason, 'operator');
    assert.deepEqual(
      reopened.unreported().map((e) => e.orderId),
      ['owed'],
      'only the result never acknowledged is owed',
    );
    assert.deepEqual(
      reopened.unfinished().map((e) => e.orderId),
      ['cut'],
    );
    await reopened.close();
  }
  assert.equal(
    readFileSync(join(dir, 'journal.jsonl'), 'utf8').match(/"t":"cursor"/g)?.length,
    1,
    'compacted to one cursor line',
  );

  // ...except to 0: the stream was made again and its sequences restarted.
  const again = await Journal.open(dir);
  await again.advanceCursor(0);
  await again.close();
  const reset = await Journal.open(dir);
  assert.equal(reset.cursor, 0);
  await reset.close();
});
