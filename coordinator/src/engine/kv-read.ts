// Reads every value under a key filter of a KV bucket. One pass of an ordered consumer over the
// bucket's stream delivers the last value of every key (no request per key); a keys listing taken
// after it is merged in, and a key the pass did not deliver is fetched alone: a listing taken while
// the bucket is written (heartbeats, run records) was seen to come back without a key that exists,
// so two independent reads are kept.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';

export async function readAll<T>(
  kv: KV,
  filter = '>',
  parse: (value: unknown) => T | undefined,
): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  const delivered = new Set<string>();
  const add = (key: string, value: () => unknown) => {
    let parsed: T | undefined;
    try {
      parsed = parse(value());
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) out.set(key, parsed);
  };
  const stream = bucketStream(kv);
  if (stream)
    await lastValues(stream, filter, (key, deleted, json) => {
      delivered.add(key);
      if (!deleted) add(key, json);
    });
  const keys = new Set<string>();
  for (let listing = stream ? 1 : 0; listing < 2; listing++)
    for await (const key of await kv.keys(filter)) keys.add(key);
  const missing = [...keys].filter((key) => !delivered.has(key));
  const BATCH = 500;
  for (let i = 0; i < missing.length; i += BATCH) {
    const entries = await Promise.all(missing.slice(i, i + BATCH).map((k) => kv.get(k)));
    for (const entry of entries) if (entry?.operation === 'PUT') add(entry.key, () => entry.json());
  }
  return out;
}

/**
 * A key's last value as the bucket's stream LEADER has it: undefined when the key has none (never
 * written, deleted or purged). A plain get of a bucket that allows direct gets (nats.js makes every
 * bucket so) may be answered by a replica that has not yet stored the last write: in a cluster where
 * a server was just restarted, a job record the same process had just written was read back as
 * missing (chaos suite). Costs one request to the leader; for a bucket this cannot reach, undefined.
 */
export async function leaderValue(kv: KV, key: string): Promise<{ value: unknown; revision: number } | undefined> {
  const stream = bucketStream(kv);
  if (!stream) return undefined;
  const stored = await stream.jsm.streams.getMessage(stream.name, { last_by_subj: `${stream.prefix}.${key}` });
  if (!stored) return undefined;
  const op = stored.header?.get('KV-Operation');
  if (op === 'DEL' || op === 'PURGE') return undefined;
  return { value: stored.json(), revision: stored.seq };
}

/**
 * The stream behind a KV bucket of @nats-io/kv (its Bucket class keeps these public), once the bucket
 * is opened and is a plain one (not a mirror); otherwise undefined and every value is fetched alone.
 */
function bucketStream(
  kv: KV,
): { js: JetStreamClient; jsm: JetStreamManager; name: string; prefix: string } | undefined {
  const b = kv as unknown as {
    js?: JetStreamClient;
    jsm?: JetStreamManager;
    stream?: unknown;
    prefix?: unknown;
    bucket?: unknown;
  };
  return b.js && b.jsm && typeof b.stream === 'string' && typeof b.bucket === 'string' && b.prefix === `$KV.${b.bucket}`
    ? { js: b.js, jsm: b.jsm, name: b.stream, prefix: b.prefix }
    : undefined;
}

/** The last message of every key under `filter`, once each, through one ordered consumer. */
async function lastValues(
  stream: { js: JetStreamClient; name: string; prefix: string },
  filter: string,
  onEntry: (key: string, deleted: boolean, json: () => unknown) => void,
): Promise<void> {
  const consumer = await stream.js.consumers.get(stream.name, {
    filter_subjects: `${stream.prefix}.${filter}`,
    deliver_policy: 'last_per_subject',
  });
  const messages = await consumer.consume({ max_messages: 1000, expires: 5000 });
  try {
    // Made on the server by consume(): nothing pending and nothing delivered means an empty filter.
    const info = await consumer.info();
    if (info.num_pending === 0 && info.delivered.consumer_seq === 0) return;
    for await (const m of messages) {
      const op = m.headers?.get('KV-Operation');
      onEntry(m.subject.slice(stream.prefix.length + 1), op === 'DEL' || op === 'PURGE', () => m.json());
      if (m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => {});
  }
}
