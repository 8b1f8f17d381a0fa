import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalJson,
  generateSigningKeyPair,
  MAX_WAVE_TARGETS,
  type Order,
  OrderSchema,
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

test('a wave signed once: every target of every size verifies, each copy carries a proof of at most log2(N) hashes', () => {
  const pair = generateSigningKeyPair();
  const signer = orderSignerFromPem(pair.privateKeyPem);
  const trusted = trustedKeysFromPems([pair.publicKeyPem]);
  const { orderId: _o, agentId: _a, ...header } = base;
  for (const n of [1, 2, 3, 5, 8, 13, 64, 129]) {
    const targets = Array.from({ length: n }, (_, i) => ({ agentId: `a${i}`, orderId: `j-1-${i + 7}` }));
    const orders = signer.signWave(header, targets);
    assert.equal(orders.length, n);
    const signatures = new Set(orders.map((o) => o.signature));
    assert.equal(signatures.size, 1, 'one signature for the whole wave');
    orders.forEach((order, i) => {
      assert.equal(order.agentId, `a${i}`);
      assert.equal(order.orderId, `j-1-${i + 7}`);
      assert.ok((order.wave?.proof.length ?? 99) <= Math.ceil(Math.log2(n)), `proof of ${n}`);
      assert.deepEqual(verifyOrderSignature(OrderSchema.parse(JSON.parse(JSON.stringify(order))), trusted), {
        ok: true,
      });
    });
  }
});

test('a wave copy altered in any field, moved to another target or index, or stripped of its wave is refused', () => {
  const pair = generateSigningKeyPair();
  const signer = orderSignerFromPem(pair.privateKeyPem);
  const trusted = trustedKeysFromPems([pair.publicKeyPem]);
  const { orderId: _o, agentId: _a, ...header } = base;
  const orders = signer.signWave(
    header,
    Array.from({ length: 6 }, (_, i) => ({ agentId: `a${i}`, orderId: `j-1-${i}` })),
  );
  const [first, second] = orders as [Order, Order];
  const wave = first.wave as NonNullable<Order['wave']>;
  const tampered: Order[] = [
    { ...first, agentId: 'a1' },
    { ...first, orderId: 'j-1-1' },
    { ...first, agentId: second.agentId, orderId: second.orderId },
    { ...first, wave: { ...wave, index: 1 } },
    { ...first, wave: { ...wave, count: 7 } },
    { ...first, wave: { ...wave, proof: second.wave?.proof ?? [] } },
    { ...first, wave: { ...wave, proof: wave.proof.slice(1) } },
    { ...first, wave: { ...wave, proof: [...wave.proof, wave.root] } },
    { ...first, wave: { ...wave, root: second.wave?.proof[0] ?? wave.root } },
    { ...first, params: { seconds: 2, nested: { a: 1, b: 2 } } },
    { ...first, expiresAt: first.expiresAt + 1 },
    { ...first, step: 'command' },
    { ...first, wave: undefined },
  ];
  for (const order of tampered) assert.equal(verifyOrderSignature(order, trusted).ok, false, JSON.stringify(order));
  // A single order's signature does not pass for a wave's, nor the other way round.
  const single = signer.sign(base);
  assert.equal(verifyOrderSignature({ ...single, wave }, trusted).ok, false);
  assert.equal(verifyOrderSignature({ ...first, signature: single.signature }, trusted).ok, false);
});

test('a wave of more targets than an order may name is refused before signing', () => {
  const pair = generateSigningKeyPair();
  const { orderId: _o, agentId: _a, ...header } = base;
  const targets = Array.from({ length: MAX_WAVE_TARGETS + 1 }, (_, i) => ({ agentId: 'a', orderId: `o${i}` }));
  assert.throws(() => orderSignerFromPem(pair.privateKeyPem).signWave(header, targets), /at most 100000 targets/);
});
