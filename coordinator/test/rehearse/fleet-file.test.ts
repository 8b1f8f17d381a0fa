// Bad fleet files: every problem with file, line, column, field, value and what was expected, all
// at once; the CLI exits 2 with them and rehearses nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { FleetFileError, parseFleetText } from '../../src/rehearse/fleet-file.ts';

const HEAD = `apiVersion: drover/v1
kind: Fleet
metadata: { name: bad }
regions:
  - { name: aws-a, cloud: aws }
`;

function problemsOf(text: string): string[] {
  try {
    parseFleetText(text, 'fleet.yaml');
  } catch (error) {
    assert.ok(error instanceof FleetFileError, String(error));
    return error.problems.map((p) => p.message);
  }
  assert.fail('the file was accepted');
}

test('field errors name line, column, field, value and what was expected, every one at once', () => {
  const problems = problemsOf(`${HEAD}clusters:
  - name: k1
    kind: kafka
    cloud: aws
    region: aws-a
    nodes: 3
    size: r6g.large
    topics:
      - { name: orders, partitions: 0, replication: 3, bytesPerPartition: 2XB, inboundRate: 5MB }
  - name: c1
    kind: cassandar
  - name: c2
    kind: cassandra
    cloud: aws
    region: aws-a
    nodes: 3
    size: x
    keyspaces: [{ name: ks, bytesPerNode: 1GB, extra: 1 }]
`);
  assert.deepEqual(problems, [
    'fleet.yaml:14:37: clusters[0].topics[0].partitions: got 0, expected at least 1 partitions',
    'fleet.yaml:14:75: clusters[0].topics[0].bytesPerPartition: got "2XB", expected a size like 2GB, 500GiB or a number of bytes',
    'fleet.yaml:14:93: clusters[0].topics[0].inboundRate: got "5MB", expected a rate like 50MB/s, 24MiB/s or a number of bytes/s',
    'fleet.yaml:16:11: clusters[1].kind: got "cassandar", expected a cluster with kind "kafka" or "cassandra"',
    'fleet.yaml:23:55: clusters[2].keyspaces[0].extra: got 1, expected no unknown keys (extra not allowed)',
  ]);
});

test("cross-field errors: unknown region, cloud that is not the region's, replication above the nodes, a name used twice", () => {
  const problems = problemsOf(`${HEAD}clusters:
  - { name: k1, kind: kafka, cloud: gcp, region: aws-a, nodes: 2, size: m, topics: [{ name: t, partitions: 1, replication: 3, bytesPerPartition: 1GB }] }
  - { name: k1, kind: cassandra, cloud: aws, region: aws-z, nodes: 3, size: m, keyspaces: [{ name: ks, bytesPerNode: 1GB }] }
`);
  assert.deepEqual(problems, [
    'fleet.yaml:7:37: clusters[0].cloud: got "gcp", expected the cloud of region aws-a (aws)',
    "fleet.yaml:7:124: clusters[0].topics[0].replication: got 3, expected at most the cluster's 2 nodes",
    'fleet.yaml:8:13: clusters[1].name: got "k1", expected a cluster name used once',
    'fleet.yaml:8:54: clusters[1].region: got "aws-z", expected one of the regions listed under regions (aws-a)',
  ]);
});

test('YAML that does not parse: the line and column of the mistake', () => {
  const [problem] = problemsOf(`${HEAD}clusters:\n  - name: [unclosed\n`);
  assert.match(problem ?? '', /^fleet\.yaml:\d+:\d+: YAML: got .*expected valid YAML/);
});

const run = promisify(execFile);
const bin = new URL('../../bin/drover.js', import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), 'drover-rehearse-'));
after(() => rm(dir, { recursive: true, force: true }));

test('drover rehearse run with a bad fleet file exits 2 and names the problem', async () => {
  const file = join(dir, 'bad.yaml');
  await writeFile(file, `${HEAD}clusters: []\n`);
  const failed = await run(process.execPath, [bin, 'rehearse', 'run', file]).then(
    () => assert.fail('accepted'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /bad\.yaml:6:11: clusters: got \[\], expected at least one cluster/);
});

test('drover rehearse run --model: the table, --speed replays the cluster ends in order, --html writes the timeline, --json the forecast', async () => {
  const fixture = new URL('./fixtures/small-fleet.yaml', import.meta.url).pathname;
  const html = join(dir, 'forecast.html');
  const { stdout } = await run(process.execPath, [
    bin,
    'rehearse',
    'run',
    fixture,
    '--model',
    '--speed',
    '1000000',
    '--html',
    html,
  ]);
  const ends = [...stdout.matchAll(/^\[(\d\d):(\d\d):(\d\d)\] (\S+) done/gm)].map(
    (m) => [Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), m[4]] as const,
  );
  assert.equal(ends.length, 5);
  assert.deepEqual(
    ends.map((e) => e[0]),
    [...ends.map((e) => e[0])].sort((a, b) => a - b),
  );
  assert.match(stdout, /^users \(cassandra, 6 nodes, 360 GB moved\)/m);
  assert.match(stdout, /^wall time: \d\d:\d\d:\d\d \(0\.\d\d days\)$/m);
  assert.match(stdout, /^critical path: \S+( -> \S+)*$/m);
  const page = await readFile(html, 'utf8');
  assert.match(page, /<div class="row critical"><span class="name">users<\/span>/);
  const json = JSON.parse(
    (await run(process.execPath, [bin, 'rehearse', 'run', fixture, '--model', '--json'])).stdout,
  ) as {
    clusters: { cluster: string; phases: unknown[] }[];
    totalMs: number;
  };
  assert.equal(json.clusters.length, 5);
  assert.ok(json.totalMs > 0);
});

test('drover rehearse fleet generate --like-seed -o FILE --json: the counts, and the file reads back', async () => {
  const file = join(dir, 'seed.yaml');
  const { stdout } = await run(process.execPath, [
    bin,
    'rehearse',
    'fleet',
    'generate',
    '--like-seed',
    '-o',
    file,
    '--json',
  ]);
  const result = JSON.parse(stdout) as { clusters: number; nodes: number; regions: number; clouds: string[] };
  assert.deepEqual(
    { clusters: result.clusters, nodes: result.nodes, regions: result.regions, clouds: result.clouds },
    { clusters: 212, nodes: 2129, regions: 6, clouds: ['aws', 'gcp'] },
  );
  assert.equal(parseFleetText(await readFile(file, 'utf8'), file).clusters.length, 212);
});

test('drover rehearse run --model --clusters-at-once 1 --throttle 25MB/s: the what-if overrides apply (one cluster after another)', async () => {
  const fixture = new URL('./fixtures/small-fleet.yaml', import.meta.url).pathname;
  const { stdout } = await run(process.execPath, [
    bin,
    'rehearse',
    'run',
    fixture,
    '--model',
    '--clusters-at-once',
    '1',
    '--throttle',
    '25MB/s',
    '--json',
  ]);
  const forecast = JSON.parse(stdout) as { totalMs: number; clusters: { startMs: number; endMs: number }[] };
  const serial = forecast.clusters.reduce((ms, c) => ms + (c.endMs - c.startMs), 0);
  assert.ok(Math.abs(forecast.totalMs - serial) < 1, `${forecast.totalMs} vs ${serial}`);
  const failed = await run(process.execPath, [bin, 'rehearse', 'run', fixture, '--throttle', '25MB/']).then(
    () => assert.fail('accepted'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /--throttle: got "25MB\/", expected a rate like 50MB\/s/);
});
