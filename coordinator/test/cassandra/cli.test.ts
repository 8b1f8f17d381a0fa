// The two commands end to end through the drover binary (oclif loads the .ts commands directly).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'coordinator/bin/drover.js');
const fixture = fileURLToPath(new URL('./fixtures/two-dc-3-racks.json', import.meta.url));

function drover(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
    });
  });
}

test('plan-rebuild --json prints the plan; verify-plan rejects a broken copy with exit code 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-cassandra-'));
  const plan = await drover(
    'cassandra',
    'plan-rebuild',
    '--topology',
    fixture,
    '--source-dc',
    'aws-use1',
    '--dest-dc',
    'gcp-use1',
    '--keyspaces',
    'ks1,ks2',
    '--down',
    '10.0.0.3',
    '--json',
  );
  assert.equal(plan.code, 0, plan.stderr);
  const json = JSON.parse(plan.stdout);
  assert.deepEqual(Object.keys(json).slice(0, 4), ['sourceDc', 'destDc', 'keyspaces', 'order']);
  assert.deepEqual(
    Object.keys(json.keyspaces[0]).filter((k) => ['name', 'rebuilds', 'atRisk'].includes(k)),
    ['name', 'rebuilds', 'atRisk'],
  );
  assert.deepEqual(Object.keys(json.keyspaces[0].rebuilds[0]).slice(0, 4), ['node', 'source', 'ranges', 'argv']);
  assert.deepEqual(Object.keys(json.order[0][0]), ['node', 'keyspace', 'source']);
  const broken = structuredClone(json);
  broken.keyspaces[0].rebuilds.pop();
  const brokenFile = join(dir, 'broken.json');
  writeFileSync(brokenFile, JSON.stringify(broken));

  // One more process only: the machine is shared, and verifyPlan itself is tested in-process.
  const bad = await drover('cassandra', 'verify-plan', '--topology', fixture, '--plan', brokenFile, '--json');
  assert.equal(bad.code, 1);
  const result = JSON.parse(bad.stdout);
  assert.equal(result.ok, false);
  assert.ok(result.violations.some((v: { invariant: string }) => v.invariant === 'covered-once'));
});
