// cassandra.node-wipe's pure parts: which keyspaces a wipe of a datacenter empties (and which it must
// refuse), and what it removes from a Cassandra data directory (sstables of those keyspaces and the
// available-ranges record tables; snapshots, other keyspaces and the rest of `system` stay).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyspacesToWipe, wipeDataDirs } from '../../../src/steps/cassandra/node-wipe.ts';

const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy';

test('a wipe of the new DC empties keyspaces held elsewhere too, refuses those held only there, skips local ones', () => {
  const { wipe, onlyHere } = keyspacesToWipe(
    [
      { name: 'shop', replication: { class: NTS, old: '3', new: '3' } },
      { name: 'system_auth', replication: { class: NTS, old: '3', new: '3' } },
      { name: 'fresh', replication: { class: NTS, new: '2' } },
      { name: 'gone', replication: { class: NTS, old: '0', new: '2' } },
      { name: 'oldonly', replication: { class: NTS, old: '3' } },
      {
        name: 'legacy',
        replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '2' },
      },
      { name: 'system', replication: { class: 'org.apache.cassandra.locator.LocalStrategy' } },
    ],
    'new',
  );
  assert.deepEqual(wipe, ['shop', 'system_auth']);
  assert.deepEqual(onlyHere, ['fresh', 'gone']);
});

test('the wipe removes the keyspaces’ files and the available-ranges records, keeps snapshots and everything else', () => {
  const root = mkdtempSync(join(tmpdir(), 'wipe-'));
  const file = (path: string, bytes = 10) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), 'x'.repeat(bytes));
  };
  const id = 'a'.repeat(32);
  file(`d1/shop/items-${id}/nb-1-big-Data.db`, 100);
  file(`d1/shop/items-${id}/nb-1-big-Index.db`, 20);
  file(`d1/shop/items-${id}/backups/nb-0-big-Data.db`, 5);
  file(`d1/shop/items-${id}/snapshots/before/nb-0-big-Data.db`, 7);
  file(`d2/shop/items-${id}/nb-2-big-Data.db`, 30);
  file(`d1/other/t-${id}/nb-1-big-Data.db`);
  file(`d1/system/available_ranges_v2-${id}/nb-1-big-Data.db`, 3);
  file(`d1/system/available_ranges-${id}/nb-1-big-Data.db`, 2);
  file(`d1/system/local-${id}/nb-1-big-Data.db`);
  file(`d1/system/peers_v2-${id}/nb-1-big-Data.db`);
  const tally = wipeDataDirs([join(root, 'd1'), join(root, 'd2'), join(root, 'absent')], ['shop', 'missing']);
  assert.deepEqual(tally, { files: 6, bytes: 100 + 20 + 5 + 30 + 3 + 2 });
  assert.ok(existsSync(join(root, `d1/shop/items-${id}`)), 'table directories stay');
  assert.ok(!existsSync(join(root, `d1/shop/items-${id}/nb-1-big-Data.db`)));
  assert.ok(!existsSync(join(root, `d1/shop/items-${id}/backups`)));
  assert.ok(existsSync(join(root, `d1/shop/items-${id}/snapshots/before/nb-0-big-Data.db`)), 'snapshots stay');
  assert.ok(!existsSync(join(root, `d2/shop/items-${id}/nb-2-big-Data.db`)));
  assert.ok(existsSync(join(root, `d1/other/t-${id}/nb-1-big-Data.db`)), 'other keyspaces stay');
  assert.ok(!existsSync(join(root, `d1/system/available_ranges_v2-${id}/nb-1-big-Data.db`)));
  assert.ok(!existsSync(join(root, `d1/system/available_ranges-${id}/nb-1-big-Data.db`)));
  assert.ok(existsSync(join(root, `d1/system/local-${id}/nb-1-big-Data.db`)), 'system.local stays');
  assert.ok(existsSync(join(root, `d1/system/peers_v2-${id}/nb-1-big-Data.db`)));
});
