// cassandra.keyspaces-extend's planning (pure): which keyspaces change and how, every problem reported
// before anything is altered; and node preparation's JVM options file edit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CassandraKeyspacesExtendParams, InvalidInputErrors } from '@drover/shared';
import type { NodeLiveness } from '../../../src/clients/cassandra/index.ts';
import { planChanges } from '../../../src/steps/cassandra/keyspaces-extend.ts';
import { ensureJvmOption } from '../../../src/steps/cassandra/node-prepare.ts';
import { parseDescribeRing, rangesOf } from '../../../src/steps/cassandra/ring.ts';

const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy';
const node = (address: string, datacenter: string, rack: string): NodeLiveness => ({
  address,
  datacenter,
  rack,
  up: true,
  state: 'N',
});
const oneRack = [node('10.0.0.1', 'old', 'r1'), node('10.0.0.2', 'old', 'r1'), node('10.1.0.1', 'new', 'r1')];
const threeRacks = [node('10.0.0.1', 'old', 'r1'), node('10.0.0.2', 'old', 'r2'), node('10.1.0.1', 'new', 'r1')];
const keyspaces: Array<{ name: string; replication: Record<string, string> }> = [
  { name: 'shop', replication: { class: NTS, old: '3' } },
  { name: 'legacy', replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '2' } },
  { name: 'system', replication: { class: 'org.apache.cassandra.locator.LocalStrategy' } },
  { name: 'system_auth', replication: { class: NTS, old: '3' } },
  { name: 'system_schema', replication: { class: 'org.apache.cassandra.locator.LocalStrategy' } },
  { name: 'done', replication: { class: NTS, old: '3', new: '3' } },
];
const params = (p: Record<string, unknown>) => CassandraKeyspacesExtendParams.parse(p);

test('add: NTS keyspaces get the new DC, SimpleStrategy becomes NTS in the source DC first, local ones are left', () => {
  const { changes, unchanged } = planChanges(
    params({ datacenter: 'new', replicationFactor: 3, sourceDatacenter: 'old' }),
    keyspaces,
    oneRack,
  );
  assert.deepEqual(
    changes.map((c) => [c.keyspace, c.after]),
    [
      ['shop', { class: NTS, old: '3', new: '3' }],
      ['legacy', { class: NTS, old: '2', new: '3' }],
      ['system_auth', { class: NTS, old: '3', new: '3' }],
    ],
  );
  assert.deepEqual(unchanged, ['done']);
});

test('add refuses SimpleStrategy conversion when the source DC has several racks (placement would change)', () => {
  assert.throws(
    () =>
      planChanges(params({ datacenter: 'new', replicationFactor: 3, sourceDatacenter: 'old' }), keyspaces, threeRacks),
    (e: unknown) => e instanceof InvalidInputErrors && /legacy.*SimpleStrategy and old has 2 racks/.test(e.message),
  );
});

test('a SimpleStrategy keyspace listed in allowPlacementChange is converted in a multi-rack DC, and reported', () => {
  const { changes, placementChanged } = planChanges(
    params({ datacenter: 'new', replicationFactor: 3, sourceDatacenter: 'old', allowPlacementChange: ['legacy'] }),
    keyspaces,
    threeRacks,
  );
  assert.deepEqual(placementChanged, ['legacy']);
  assert.ok(changes.some((c) => c.keyspace === 'legacy'));
});

test('unknown keyspaces, local keyspaces and a datacenter without nodes are all refused at once', () => {
  assert.throws(
    () =>
      planChanges(
        params({
          datacenter: 'nowhere',
          replicationFactor: 3,
          sourceDatacenter: 'old',
          keyspaces: ['shop', 'nope', 'system'],
        }),
        keyspaces,
        oneRack,
      ),
    (e: unknown) =>
      e instanceof InvalidInputErrors &&
      e.problems.length === 3 &&
      /params.datacenter: got "nowhere"/.test(e.message) &&
      /params.keyspaces\[1\]: got "nope"/.test(e.message) &&
      /params.keyspaces\[2\]: got "system", expected a replicated keyspace/.test(e.message),
  );
});

test('remove takes the DC out, and refuses to leave a keyspace with no datacenter', () => {
  const { changes } = planChanges(params({ action: 'remove', datacenter: 'new' }), keyspaces, oneRack);
  assert.deepEqual(
    changes.map((c) => c.keyspace),
    ['done'],
  );
  assert.throws(
    () => planChanges(params({ action: 'remove', datacenter: 'old' }), keyspaces, oneRack),
    /shop", expected a keyspace left with a datacenter/,
  );
});

test('add without replicationFactor is refused by the schema', () => {
  assert.equal(CassandraKeyspacesExtendParams.safeParse({ datacenter: 'new' }).success, false);
});

test('node preparation writes the JVM option once and corrects a wrong value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jvm-options-'));
  const file = join(dir, 'jvm-server.options');
  assert.equal(ensureJvmOption(file), true, 'a missing file is created');
  assert.equal(ensureJvmOption(file), false, 'the second time changes nothing');
  assert.match(readFileSync(file, 'utf8'), /^-Dcassandra.reset_bootstrap_progress=false$/m);
  writeFileSync(file, '-Xss256k\n-Dcassandra.reset_bootstrap_progress=true\n');
  assert.equal(ensureJvmOption(file), true);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^-Xss256k$/m, 'other options are kept');
  assert.doesNotMatch(text, /=true/);
  assert.equal(text.match(/reset_bootstrap_progress/g)?.length, 1);
});

test('describering: ranges each host replicates, per datacenter', () => {
  const ring = parseDescribeRing(`Schema Version:abc
TokenRanges:
	TokenRange(start_token:-100, end_token:50, endpoints:[10.0.0.1, 10.1.0.1], rpc_endpoints:[10.0.0.1, 10.1.0.1], endpoint_details:[EndpointDetails(host:10.0.0.1, datacenter:old, rack:r1), EndpointDetails(host:10.1.0.1, datacenter:new, rack:r1)])
	TokenRange(start_token:50, end_token:-100, endpoints:[10.0.0.2, 10.1.0.1], rpc_endpoints:[10.0.0.2, 10.1.0.1], endpoint_details:[EndpointDetails(host:10.0.0.2, datacenter:old, rack:r1), EndpointDetails(host:10.1.0.1, datacenter:new, rack:r1)])
`);
  assert.equal(ring.length, 2);
  assert.deepEqual(rangesOf(ring, '10.1.0.1'), [
    ['-100', '50'],
    ['50', '-100'],
  ]);
  assert.deepEqual(rangesOf(ring, '10.0.0.2', 'old'), [['50', '-100']]);
  assert.deepEqual(rangesOf(ring, '10.0.0.2', 'new'), []);
});
