// releaseStartupMemory runs a collection without leaving V8's gc() reachable to other code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { releaseStartupMemory } from '../src/memory.ts';

test('releases start-up memory and leaves no gc() behind, here or in a new context', () => {
  const kept = Array.from({ length: 1000 }, (_, i) => ({ i }));
  releaseStartupMemory();
  releaseStartupMemory(); // twice: the flag dance must not break on repeat
  assert.equal(kept.length, 1000);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  assert.equal(runInNewContext('typeof gc'), 'undefined');
});
