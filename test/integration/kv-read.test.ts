// Reading a whole KV bucket (every job, run, agent and enrolled key the coordinator lists): one
// ordered-consumer pass over the bucket's stream plus a keys listing, on a real nats-server with the
// shipped coordinator identity. Deleted and purged keys stay out, updated keys give their last value,
// a filter reads its keys only, and an empty filter ends at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Drover } from '@drover/coordinator';
import { leaderValue, readAll } from '../../coordinator/src/engine/kv-read.ts';
import { createFleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir } from '../harness/process.ts';

let d: Drover;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  d = await connect(createFleet(makeTempDir('kv-read'), nats.urls, nats.security));
});

after(async () => {
  await d?.close();
});

const asNumber = (value: unknown) =>
  typeof value === 'object' && value !== null ? (value as { n: number }).n : undefined;

test('every live key once with its last value; deleted and purged keys left out; a filter reads its own', async () => {
  const kv = d.runs;
  const keys = Array.from({ length: 1200 }, (_, i) => `kvread-a.k${i}`);
  for (let i = 0; i < keys.length; i += 300)
    await Promise.all(keys.slice(i, i + 300).map((k, j) => kv.put(k, JSON.stringify({ n: i + j }))));
  for (const k of keys.slice(0, 5)) await kv.put(k, JSON.stringify({ n: -1 }));
  for (const k of keys.slice(10, 13)) await kv.delete(k);
  await kv.purge(keys[20] as string);
  await kv.put('kvread-b.other', JSON.stringify({ n: 7 }));
  await kv.put('kvread-a.bad', 'not json');

  // Values come from the one pass over the stream, not a request per key.
  let gets = 0;
  const counted = new Proxy(kv, {
    get(target, prop) {
      if (prop === 'get')
        return (key: string) => {
          gets++;
          return target.get(key);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const all = await readAll(counted, 'kvread-a.>', asNumber);
  assert.equal(gets, 0, 'no value fetched alone');
  assert.equal(all.size, 1200 - 4, 'deleted and purged keys are left out; an unreadable value too');
  for (const k of keys.slice(0, 5)) assert.equal(all.get(k), -1, 'the last value');
  assert.equal(all.get(keys[100] as string), 100);
  assert.ok(!all.has(keys[11] as string) && !all.has(keys[20] as string));
  assert.ok(!all.has('kvread-b.other'), 'only the filter');
  assert.equal((await readAll(kv, 'kvread-b.>', asNumber)).get('kvread-b.other'), 7);
});

test('a filter with no keys ends at once with nothing', async () => {
  const started = Date.now();
  assert.equal((await readAll(d.runs, 'kvread-none.>', asNumber)).size, 0);
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});

test("a key's value as the stream leader has it: the last write, nothing for a deleted or unknown key", async () => {
  const kv = d.runs;
  await kv.put('kvread-c.one', JSON.stringify({ n: 1 }));
  const revision = await kv.put('kvread-c.one', JSON.stringify({ n: 2 }));
  assert.deepEqual(await leaderValue(kv, 'kvread-c.one'), { value: { n: 2 }, revision });
  await kv.delete('kvread-c.one');
  assert.equal(await leaderValue(kv, 'kvread-c.one'), undefined);
  assert.equal(await leaderValue(kv, 'kvread-c.never'), undefined);
});
