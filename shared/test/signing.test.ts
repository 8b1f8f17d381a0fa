import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalJson,
  generateSigningKeyPair,
  orderSignerFromPem,
  trustedKeysFromPems,
  verifyOrderSignature,
} from '@drover/shared';

const base = {
  v: 1 as const,
  jobId: 'j-1',
  orderId: 'j-1-0',
  agentId: 'a1',
  step: 'sleep',
  params: { seconds: 1, nested: { b: 2, a: 1 } },
  issuedAt: 1_700_000_000_000,
  expiresAt: 1_700_000_060_000,
  timeoutMs: 5000,
};

test('canonical JSON sorts keys at every depth and drops undefined', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }),
    '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
  );
});

test('an order signed by a trusted key verifies; any change to any signed field does not', () => {
  const pair = generateSigningKeyPair();
  const order = orderSignerFromPem(pair.privateKeyPem).sign(base);
  const trusted = trustedKeysFromPems([pair.publicKeyPem]);
  assert.deepEqual(verifyOrderSignature(order, trusted), { ok: true });
  const tampered = [
    { ...order, agentId: 'a2' },
    { ...order, expiresAt: order.expiresAt + 1 },
    { ...order, params: { seconds: 2, nested: { a: 1, b: 2 } } },
    { ...order, step: 'command' },
    { ...order, jobId: 'j-2' },
    { ...order, signature: Buffer.alloc(64).toString('base64') },
  ];
  for (const t of tampered) assert.equal(verifyOrderSignature(t, trusted).ok, false);
  // key order inside params does not matter: canonical form
  assert.equal(verifyOrderSignature({ ...order, params: { nested: { a: 1, b: 2 }, seconds: 1 } }, trusted).ok, true);
});

test('an order from an untrusted key is refused by key id', () => {
  const mine = generateSigningKeyPair();
  const rogue = generateSigningKeyPair();
  const order = orderSignerFromPem(rogue.privateKeyPem).sign(base);
  const result = verifyOrderSignature(order, trustedKeysFromPems([mine.publicKeyPem]));
  assert.equal(result.ok, false);
  assert.match((result as { reason: string }).reason, /not a trusted coordinator key/);
  // claiming the trusted key id with a rogue signature fails on the signature itself
  const claimed = { ...order, keyId: orderSignerFromPem(mine.privateKeyPem).keyId };
  assert.match(
    (verifyOrderSignature(claimed, trustedKeysFromPems([mine.publicKeyPem])) as { reason: string }).reason,
    /signature does not match/,
  );
});
