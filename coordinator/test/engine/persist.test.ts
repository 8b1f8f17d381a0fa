// RunWriter's batching (pure logic over a KV stand-in that records puts): final records go into one
// value per batch window under a batch key, without the signed order; a target on its way keeps its
// own key; a big batch is cut by size; everything gathered is written by settled().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKeyPair, orderSignerFromPem } from '@drover/shared';
import { signOrder } from '../../src/engine/dispatch.ts';
import type { Drover } from '../../src/engine/nats.ts';
import { RunWriter } from '../../src/engine/persist.ts';
import { type JobRecord, parseRuns, type RunRecord } from '../../src/engine/records.ts';

const job = {
  id: 'j-9',
  step: 'ping',
  params: { pad: 'x'.repeat(2000) },
  options: { timeoutMs: 10_000, deliveryTimeoutMs: 60_000 },
} as unknown as JobRecord;
const signer = orderSignerFromPem(generateSigningKeyPair().privateKeyPem);

function writer() {
  const puts: Array<{ key: string; value: string }> = [];
  const d = {
    runs: {
      put: async (key: string, value: string) => {
        puts.push({ key, value });
        return puts.length;
      },
    },
  } as unknown as Drover;
  return { w: new RunWriter(d, job.id), puts };
}

function run(agentId: string, state: RunRecord['state'], i: number): RunRecord {
  return {
    jobId: job.id,
    agentId,
    group: 'all',
    state,
    order: signOrder(signer, job, agentId, i, 1000),
    ...(state === 'succeeded'
      ? {
          result: {
            orderId: `${job.id}-${i}`,
            jobId: job.id,
            agentId,
            step: 'ping',
            status: 'succeeded' as const,
            finishedAt: 2000,
          },
        }
      : {}),
  };
}

test('final records of a window go in one batch value, without the signed order; others under their own key', async () => {
  const { w, puts } = writer();
  void w.persist(run('a1', 'dispatched', 0));
  for (let i = 0; i < 50; i++) void w.persist(run(`b${i}`, 'succeeded', i));
  // The same target written twice in one window: its last snapshot only.
  void w.persist({ ...run('b0', 'succeeded', 0), late: true });
  await w.settled();
  const own = puts.filter((p) => !p.key.includes('._f-'));
  const batches = puts.filter((p) => p.key.includes('._f-'));
  assert.deepEqual(
    own.map((p) => p.key),
    ['j-9.a1'],
  );
  assert.ok(JSON.parse(own[0]?.value ?? '{}').order, 'a target on its way keeps its signed order');
  assert.equal(batches.length, 1, 'one batch for the window');
  assert.match(batches[0]?.key ?? '', /^j-9\._f-[0-9a-f]{12}-0$/);
  const records = parseRuns(JSON.parse(batches[0]?.value ?? '{}')) ?? [];
  assert.equal(records.length, 50);
  for (const r of records) {
    assert.equal(r.order, undefined, 'no signed order in a final record');
    assert.equal(r.orderId, `j-9-${r.agentId.slice(1)}`);
  }
  assert.equal(records.find((r) => r.agentId === 'b0')?.late, true, 'the last snapshot of a target wins');
});

test('a batch is cut before it passes 256 KiB, a big record goes alone, and batches are written under increasing numbers', async () => {
  const { w, puts } = writer();
  const big = 'y'.repeat(4000);
  for (let i = 0; i < 200; i++) {
    const r = run(`c${i}`, 'succeeded', i);
    void w.persist({ ...r, result: { ...(r.result as NonNullable<RunRecord['result']>), output: big } });
  }
  const huge = run('huge', 'succeeded', 999);
  void w.persist({
    ...huge,
    result: { ...(huge.result as NonNullable<RunRecord['result']>), output: 'z'.repeat(600_000) },
  });
  await w.settled();
  assert.ok(puts.length >= 4, `200 records of ~4 KB and one of 600 KB in ${puts.length} batches`);
  const alone = puts.find((p) => p.value.includes('"agentId":"huge"'));
  assert.equal(parseRuns(JSON.parse(alone?.value ?? '{}'))?.length, 1, 'the big record is alone in its batch');
  assert.deepEqual(
    puts.map((p) => Number(p.key.split('-').at(-1))),
    puts.map((_, i) => i),
  );
  for (const p of puts.filter((q) => q !== alone))
    assert.ok(p.value.length <= 256 * 1024 + 64, `${p.key}: ${p.value.length} bytes`);
  const all = puts.flatMap((p) => parseRuns(JSON.parse(p.value)) ?? []);
  assert.equal(new Set(all.map((r) => r.agentId)).size, 201, 'every record written once');
  assert.equal(all.length, 201);
});
