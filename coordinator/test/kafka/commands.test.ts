// The two commands: plan-migration end to end through the drover binary, then export-phase on its
// plan file, --json and a bad --map (one clear line, exit code 2) in this process.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import ExportPhase, { type ExportPhaseResult } from '../../src/commands/kafka/export-phase.ts';
import PlanMigration from '../../src/commands/kafka/plan-migration.ts';
import { type MigrationPlan, parsePlanFile, parseReassignmentJson } from '../../src/kafka/index.ts';
import { fixturePath } from './helpers.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/drover.js');
const dir = await mkdtemp(join(tmpdir(), 'drover-kafka-'));
after(() => rm(dir, { recursive: true, force: true }));

/** The commands run in this process with what they print kept here, not written to stdout. */
const printed: string[] = [];
class QuietPlanMigration extends PlanMigration {
  override log(message = ''): void {
    if (!this.jsonEnabled()) printed.push(message);
  }
  override logJson(json: unknown): void {
    printed.push(JSON.stringify(json));
  }
}
class QuietExportPhase extends ExportPhase {
  override log(message = ''): void {
    if (!this.jsonEnabled()) printed.push(message);
  }
}

test('drover kafka plan-migration writes the plan; export-phase turns a batch into kafka-reassign-partitions JSON', async () => {
  const planFile = join(dir, 'plan.json');
  const cluster = fixturePath('six-to-three.json');
  const human = await run(
    process.execPath,
    [bin, 'kafka', 'plan-migration', '--cluster', cluster, '--auto', '--throttle', '10MiB/s', '--out', planFile],
    {
      encoding: 'utf8',
    },
  );
  assert.match(human.stdout, /^expand +11 +0 +19\.80 kB copied +4 +9 \(1-6,101-103\)$/m);
  assert.match(human.stdout, /throttle 10485760 B\/s/);
  const plan = parsePlanFile(await readFile(planFile, 'utf8'));
  assert.equal(plan.options.throttleBytesPerSec, 10_485_760);
  const out = join(dir, 'expand-1.json');
  printed.length = 0;
  const args = ['--plan', planFile, '--phase', 'expand', '--batch', '1', '--out', out];
  const result = (await QuietExportPhase.run(args, root)) as ExportPhaseResult;
  assert.match(printed.join('\n'), /wrote 5 partitions \(expand batch 1\)/);
  assert.equal(result.partitions, 5);
  const doc = parseReassignmentJson(await readFile(out, 'utf8'));
  assert.deepEqual(doc.partitions, plan.phases[0]!.batches[0]!.reassignments);
});

test('--json returns the plan itself', async () => {
  const args = ['--cluster', fixturePath('three-to-three.json'), '--map', '1=101,2=102,3=103', '--json'];
  printed.length = 0;
  const result = (await QuietPlanMigration.run(args, root)) as MigrationPlan;
  assert.deepEqual(result.mapping['orders/0'], { source: [1, 2, 3], destination: [101, 102, 103] });
  assert.deepEqual(
    printed.map((text) => JSON.parse(text)),
    [JSON.parse(JSON.stringify(result))],
  );
});

test('a bad --map fails with exit code 2, naming the entry', async () => {
  const args = ['--cluster', fixturePath('three-to-three.json'), '--map', '1=101,2=102,3=999'];
  try {
    await assert.rejects(QuietPlanMigration.run(args, root), (err: Error & { oclif?: { exit?: number } }) => {
      assert.equal(err.oclif?.exit, 2);
      assert.match(err.message, /--map: got "3=999", expected a destination broker id from the cluster file/);
      return true;
    });
  } finally {
    process.exitCode = 0; // oclif marks the process failed; this failure was the point
  }
});
