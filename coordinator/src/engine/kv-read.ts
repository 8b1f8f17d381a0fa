// Reads every value under a key filter of a KV bucket: the keys first (the client's keys() ends
// cleanly on an empty bucket), then the values, fetched concurrently.
import type { KV } from '@nats-io/kv';

export async function readAll<T>(
  kv: KV,
  filter = '>',
  parse: (value: unknown) => T | undefined,
): Promise<Map<string, T>> {
  // Two listings, merged: a listing taken while the bucket is written (heartbeats, run records) was
  // seen to come back without a key that exists.
  const keys = new Set<string>();
  for (let listing = 0; listing < 2; listing++) for await (const key of await kv.keys(filter)) keys.add(key);
  const out = new Map<string, T>();
  const BATCH = 500;
  const all = [...keys];
  for (let i = 0; i < all.length; i += BATCH) {
    const entries = await Promise.all(all.slice(i, i + BATCH).map((k) => kv.get(k)));
    for (const entry of entries) {
      if (entry?.operation !== 'PUT') continue;
      let value: T | undefined;
      try {
        value = parse(entry.json());
      } catch {
        value = undefined;
      }
      if (value !== undefined) out.set(entry.key, value);
    }
  }
  return out;
}
