import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSigningKeyPair, loadOrCreateAgentKey, reportSignerFromPem, verifyReport } from '../src/index.ts';

test('a signed report verifies after a JSON round trip; any change, another key or no signature does not', () => {
  const signer = reportSignerFromPem(generateSigningKeyPair().privateKeyPem);
  const key = createPublicKey(signer.publicKeyPem);
  const report = { orderId: 'o-1', status: 'succeeded', output: { n: 1, skipped: undefined, list: [1, 'a'] } };
  const wire = JSON.parse(JSON.stringify(signer.sign(report)));
  assert.deepEqual(verifyReport(wire, key), { ok: true });
  assert.equal(wire.keyId, signer.keyId);
  assert.equal(verifyReport({ ...wire, status: 'failed' }, key).ok, false);
  assert.equal(verifyReport({ ...wire, output: { n: 2, list: [1, 'a'] } }, key).ok, false);
  const { signature: _s, ...unsigned } = wire;
  assert.deepEqual(verifyReport(unsigned, key), { ok: false, reason: 'unsigned' });
  const other = reportSignerFromPem(generateSigningKeyPair().privateKeyPem);
  assert.match((verifyReport(other.sign(report), key) as { reason: string }).reason, /not the enrolled key/);
  assert.equal(verifyReport({ ...other.sign(report), keyId: signer.keyId }, key).ok, false);
  for (const junk of [null, 'x', 3, [], { signature: 5 }]) assert.equal(verifyReport(junk, key).ok, false);
});

test('the agent key is made once (0600, public half beside it), then read; a bad key file is an error, never replaced', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-key-'));
  const file = join(dir, 'state', 'agent-key.pem');
  const made = loadOrCreateAgentKey(file);
  assert.equal(made.created, true);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(`${file}.pub`, 'utf8'), made.signer.publicKeyPem);
  const again = loadOrCreateAgentKey(file);
  assert.equal(again.created, false);
  assert.equal(again.signer.keyId, made.signer.keyId);
  const bad = join(dir, 'bad.pem');
  writeFileSync(bad, 'not a key');
  assert.throws(() => loadOrCreateAgentKey(bad), /signingKeyFile.*ed25519 private key/);
  assert.equal(readFileSync(bad, 'utf8'), 'not a key');
});
