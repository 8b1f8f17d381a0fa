// Unit tests of how the shipper cuts files into objects and checks fleet settings (pure logic and
// local files; the shipping itself is tested against a real S3 server in test/integration).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  fileObjectKey,
  generateSigningKeyPair,
  ShippingSettingsSchema,
  signFleetShipping,
  trustedKeysFromPems,
  verifyFleetShipping,
} from '@drover/shared';
import { namePattern, nextPiece } from '../src/shipping/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-shipping-'));

test('a piece ends after the last whole line of a live file, and takes everything of a finished one', async () => {
  const path = join(dir, 'a.log');
  writeFileSync(path, 'one\ntwo\nthr');
  assert.deepEqual((await nextPiece(path, 0, 11, 1024, false))?.end, 8);
  assert.equal((await nextPiece(path, 8, 11, 1024, false)) ?? 'none', 'none', 'a line still being written waits');
  assert.equal((await nextPiece(path, 8, 11, 1024, true))?.body.toString(), 'thr');
  // At most max bytes, cut at a line end inside them; a line longer than max is cut at max.
  assert.equal((await nextPiece(path, 0, 11, 6, false))?.body.toString(), 'one\n');
  writeFileSync(path, 'abcdefghij\n');
  assert.equal((await nextPiece(path, 0, 11, 4, false))?.body.toString(), 'abcd');
});

test('rotated file patterns match names only, with * and ? as wildcards', () => {
  const p = namePattern('server.log.*');
  assert.ok(p.test('server.log.1'));
  assert.ok(p.test('server.log.2026-12-03-04'));
  assert.ok(!p.test('server.log'));
  assert.ok(!p.test('serverXlog.1'), '"." is not a wildcard');
  assert.ok(namePattern('a?.log').test('a1.log'));
});

test('object keys are fixed by source, generation and byte range', () => {
  assert.equal(
    fileObjectKey('acme/drover', 'kafka-a-1', 'journal', 'mabc-12', 0, 4096),
    'acme/drover/agent/kafka-a-1/journal/mabc-12/0000000000000000-0000000000004096',
  );
});

test('a fleet setting is obeyed only when a trusted key signed it for this account', () => {
  const coordinator = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  const trusted = trustedKeysFromPems([coordinator.publicKeyPem]);
  const body = { account: 'acme', enabled: true, settings: { bucket: 'acme-logs' }, updatedAt: 1 };
  const record = signFleetShipping(body, coordinator.privateKeyPem);
  assert.equal(verifyFleetShipping(record, 'acme', trusted).ok, true);
  assert.match(String((verifyFleetShipping(record, 'other', trusted) as { reason: string }).reason), /not other/);
  const forged = signFleetShipping(body, other.privateKeyPem);
  assert.match(String((verifyFleetShipping(forged, 'acme', trusted) as { reason: string }).reason), /not a trusted/);
  const tampered = { ...record, settings: { ...record.settings, bucket: 'evil-bucket' } };
  assert.match(String((verifyFleetShipping(tampered, 'acme', trusted) as { reason: string }).reason), /signature/);
});

test('bad settings name the field', () => {
  const bad = ShippingSettingsSchema.safeParse({ bucket: 'Bad_Bucket', prefix: '../x' });
  assert.equal(bad.success, false);
  const paths = bad.error?.issues.map((i) => i.path.join('.'));
  assert.deepEqual(paths?.sort(), ['bucket', 'prefix']);
  assert.equal(ShippingSettingsSchema.safeParse({ bucket: 'ok-bucket', sseKmsKeyId: 'k' }).success, false);
});
