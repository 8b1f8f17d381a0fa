// The wait the Cassandra steps do after starting their node: reads that fail because the node stops
// answering (a freshly started node dropping its first connection) are asked again until the
// deadline; any other failure, and a node that never answers, end the step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CassandraUnreachableError, type CqlSession } from '../../../src/clients/cassandra/index.ts';
import { whenCqlAnswers } from '../../../src/steps/cassandra/node.ts';
import type { StepContext } from '../../../src/steps/context.ts';

const row = { get: (column: string) => (column === 'tokens' ? [] : 'x') };

/** A session whose system.local read answers while `up()` says so. */
function session(up: () => boolean): CqlSession {
  return {
    address: '127.0.0.9:9042',
    execute: async () => {
      if (!up()) throw new CassandraUnreachableError('127.0.0.9:9042', 'SELECT broadcast_address');
      return [row];
    },
  } as unknown as CqlSession;
}

function context(progress: string[]): StepContext {
  return { signal: new AbortController().signal, progress: (m: string) => progress.push(m) } as unknown as StepContext;
}

test('a read that meets a dropped connection right after the node answered is asked again', async () => {
  const progress: string[] = [];
  let calls = 0;
  const value = await whenCqlAnswers(
    context(progress),
    session(() => true),
    Date.now() + 10_000,
    'node start',
    async () => {
      calls++;
      if (calls === 1)
        throw new CassandraUnreachableError('127.0.0.9:9042', 'SELECT full_ranges FROM system.available_ranges_v2', {
          cause: new Error('No connection available'),
        });
      return 'read';
    },
  );
  assert.equal(value, 'read');
  assert.equal(calls, 2);
  assert.match(
    progress.join('\n'),
    /node start: 127\.0\.0\.9:9042 stopped answering .*No connection available.*; asking again once it answers/,
  );
});

test('any failure while the node does not answer (a restart under the step) is asked again once it answers', async () => {
  let up = true;
  let calls = 0;
  const value = await whenCqlAnswers(
    context([]),
    session(() => up),
    Date.now() + 10_000,
    'rebuild',
    async () => {
      calls++;
      if (calls === 1) {
        up = false; // the node goes down mid-read: the read fails with the driver's own error
        setTimeout(() => {
          up = true;
        }, 1500);
        throw new Error('socket hang up');
      }
      return 'read';
    },
  );
  assert.equal(value, 'read');
  assert.equal(calls, 2);
});

test('a failure that is not the node going away ends at once', async () => {
  let calls = 0;
  await assert.rejects(
    whenCqlAnswers(
      context([]),
      session(() => true),
      Date.now() + 10_000,
      'node start',
      async () => {
        calls++;
        throw new Error('keyspace shop does not exist');
      },
    ),
    /keyspace shop does not exist/,
  );
  assert.equal(calls, 1);
});

test('a node that never answers ends the wait at the deadline with a retryable error', async () => {
  let calls = 0;
  const error = await whenCqlAnswers(
    context([]),
    session(() => false),
    Date.now() + 50,
    'node start after the wipe',
    async () => {
      calls++;
    },
  ).catch((e: unknown) => e as Error & { retryable?: boolean });
  assert.match(
    String((error as Error).message),
    /node start after the wipe: node 127\.0\.0\.9:9042 did not answer CQL by the deadline/,
  );
  assert.equal((error as { retryable?: boolean }).retryable, true);
  assert.equal(calls, 0);
});
