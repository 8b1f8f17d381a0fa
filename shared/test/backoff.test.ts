import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelayMs, InvalidInputError, retry, sleep } from '@drover/shared';

test('backoff doubles from initialMs and stops at maxMs, without overflowing on long retries', () => {
  const delays = [0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, { initialMs: 100, maxMs: 2000 }));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 2000, 2000]);
  assert.equal(backoffDelayMs(100_000, { initialMs: 250, maxMs: 4000 }), 4000);
  assert.equal(backoffDelayMs(100_000, { initialMs: 0, maxMs: 0 }), 0);
  assert.equal(backoffDelayMs(7, { initialMs: 1000, maxMs: 1000 }), 1000);
});

test('retry returns the first success and passes the attempt number', async () => {
  const seen: number[] = [];
  const value = await retry(
    async (attempt) => {
      seen.push(attempt);
      if (attempt < 2) throw new Error(`fail ${attempt}`);
      return 'ok';
    },
    { initialMs: 0, maxMs: 0 },
  );
  assert.equal(value, 'ok');
  assert.deepEqual(seen, [0, 1, 2]);
});

test('retry stops after `attempts` in all: the last error, or what onGiveUp returns', async () => {
  let calls = 0;
  const retried: number[] = [];
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      { attempts: 3, initialMs: 0, maxMs: 0, onRetry: (_error, attempt) => retried.push(attempt) },
    ),
    /fail 3/,
  );
  assert.equal(calls, 3);
  assert.deepEqual(retried, [0, 1]);

  const gaveUp: unknown[] = [];
  const fallback = await retry(
    async () => {
      throw new Error('down');
    },
    {
      attempts: 2,
      initialMs: 0,
      maxMs: 0,
      onGiveUp: (error) => {
        gaveUp.push(error);
        return undefined;
      },
    },
  );
  assert.equal(fallback, undefined);
  assert.equal(gaveUp.length, 1);
  assert.match((gaveUp[0] as Error).message, /down/);
});

test('retry gives up at the first failure after forMs', async () => {
  let calls = 0;
  const started = Date.now();
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new Error('down');
      },
      { forMs: 30, initialMs: 10, maxMs: 10 },
    ),
    /down/,
  );
  assert.ok(Date.now() - started >= 30);
  assert.ok(calls >= 2 && calls <= 5, `${calls} attempts`);
});

test('retry rethrows at once what retryIf rejects, without onGiveUp', async () => {
  let calls = 0;
  let gaveUp = false;
  const fatal = new Error('fatal');
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw fatal;
      },
      {
        initialMs: 0,
        maxMs: 0,
        retryIf: (error) => error !== fatal,
        onGiveUp: () => {
          gaveUp = true;
        },
      },
    ),
    (error) => error === fatal,
  );
  assert.equal(calls, 1);
  assert.equal(gaveUp, false);
});

test('an abort ends retry and sleep with the signal reason', async () => {
  const controller = new AbortController();
  const reason = new Error('stopping');
  const pending = retry(
    async () => {
      throw new Error('down');
    },
    { initialMs: 60_000, maxMs: 60_000, signal: controller.signal },
  );
  setTimeout(() => controller.abort(reason), 10);
  await assert.rejects(pending, (error) => error === reason);
  await assert.rejects(sleep(10, AbortSignal.abort(reason)), (error) => error === reason);
  await sleep(1);
});

test('bad budgets are refused when retry is called', async () => {
  const fn = async () => 1;
  await assert.rejects(retry(fn, { initialMs: -1, maxMs: 10 }), InvalidInputError);
  await assert.rejects(retry(fn, { initialMs: 100, maxMs: 10 }), InvalidInputError);
  await assert.rejects(retry(fn, { initialMs: 0, maxMs: 0, attempts: 0 }), InvalidInputError);
  await assert.rejects(retry(fn, { initialMs: 0, maxMs: 0, forMs: Number.NaN }), InvalidInputError);
});
