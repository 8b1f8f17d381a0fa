// Compare-and-set on one KV record, written once for jobs and plan runs: read the record and its
// revision, let `change` decide the next value (or undefined: leave it), write it only if nobody
// wrote in between, and on a lost race read again and retry. Two coordinators (or a coordinator
// and an operator's cancel or approve) therefore never overwrite each other's writes.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';

/** A compare-and-set (KV update or create) lost to another writer. */
export function isWrongRevision(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

export interface Revisioned<T> {
  value: T;
  revision: number;
}

export async function updateWithCas<T>(
  kv: KV,
  key: string,
  read: () => Promise<Revisioned<T>>,
  change: (value: T) => T | undefined,
  onTooManyRaces: () => Error,
  attempts = 50,
): Promise<Revisioned<T>> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await read();
    const next = change(structuredClone(current.value));
    if (!next) return current;
    try {
      return { value: next, revision: await kv.update(key, JSON.stringify(next), current.revision) };
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
    }
  }
  throw onTooManyRaces();
}
