// The verifier catches each kind of broken plan: take a good plan of the fixture topology, break
// one thing, and expect exactly the invariant that thing breaks.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { InvalidInputErrors } from '@drover/shared';
import {
  buildRing,
  type Invariant,
  loadPlan,
  loadTopology,
  planRebuild,
  type RebuildPlan,
  rebuildArgv,
  verifyPlan,
} from '../../src/cassandra/index.ts';
import { node, nts, topology as topologyOf } from './build.ts';

const { topology, ring } = loadTopology(
  readFileSync(new URL('./fixtures/two-dc-3-racks.json', import.meta.url), 'utf8'),
);
const good = planRebuild(topology, ring, { sourceDc: 'aws-use1', destDc: 'gcp-use1', keyspaces: ['ks1', 'ks2'] });

function broken(change: (plan: RebuildPlan) => void): Set<Invariant> {
  const plan = structuredClone(good) as RebuildPlan;
  change(plan);
  const result = verifyPlan(topology, ring, plan);
  assert.equal(result.ok, false);
  assert.equal(result.violationCount, result.violations.length);
  return new Set(result.violations.map((v) => v.invariant));
}

const ks1 = (plan: RebuildPlan) => plan.keyspaces[0]!;

describe('verifyPlan', () => {
  test('the planner output verifies, and a plan survives a JSON round trip', () => {
    const result = verifyPlan(topology, ring, loadPlan(JSON.stringify(good)));
    assert.deepEqual(result.violations, []);
    assert.equal(result.checked.keyspaces, 2);
    assert.ok(result.checked.replicaRanges > 0);
  });

  test('a missing rebuild leaves replicas uncovered and the order pointing at nothing', () => {
    const invariants = broken((plan) => ks1(plan).rebuilds.shift());
    assert.deepEqual([...invariants].sort(), ['covered-once', 'order']);
  });

  test('a range listed twice is covered twice', () => {
    const invariants = broken((plan) => {
      const r = ks1(plan).rebuilds[0]!;
      ks1(plan).atRisk.push({ node: r.node, range: r.ranges[0]!, reason: 'x', kind: 'destination-down' });
    });
    assert.ok(invariants.has('covered-once'));
    assert.ok(invariants.has('at-risk-justified'));
  });

  test('a source that is not a replica of the range', () => {
    // Four old nodes at RF 2: each range has two old replicas, so two old nodes are not replicas.
    const t = topologyOf(
      [node('O1 old r 0'), node('O2 old r 100'), node('O3 old r 200'), node('O4 old r 300'), node('N1 new r 50')],
      [nts('ks', { old: 2, new: 1 })],
    );
    const small = buildRing(t);
    const plan = planRebuild(t, small, { sourceDc: 'old', destDc: 'new' });
    const r = plan.keyspaces[0]!.rebuilds.find((x) => x.ranges.some(([, e]) => e === '0'))!;
    assert.equal(r.source, 'O1'); // (300,0] → old replicas O1 O2
    r.ranges = [['300', '0']];
    r.source = 'O3';
    r.argv = rebuildArgv('ks', r.ranges, r.source, 'old');
    plan.order = [
      [...plan.order.flat().filter((o) => o.source !== 'O1'), { node: 'N1', keyspace: 'ks', source: 'O3' }],
    ];
    const result = verifyPlan(t, small, plan);
    assert.ok(
      result.violations.some(
        (v) => v.invariant === 'source-replica' && /O3 is not a replica of \(300,0\] in old/.test(v.message),
      ),
    );
  });

  test('two destinations of a range copying the same source while another is idle', () => {
    const invariants = broken((plan) => {
      const [a, b] = ks1(plan).rebuilds.filter((r) => r.ranges.some(([, e]) => e === '0'));
      const range = a!.ranges.find(([, e]) => e === '0')!;
      b!.ranges = b!.ranges.filter(([, e]) => e !== '0');
      b!.argv = rebuildArgv('ks1', b!.ranges, b!.source, 'aws-use1');
      ks1(plan).rebuilds.push({
        node: b!.node,
        source: a!.source,
        ranges: [range],
        argv: rebuildArgv('ks1', [range], a!.source, 'aws-use1'),
      });
      plan.order.push([{ node: b!.node, keyspace: 'ks1', source: a!.source }]);
    });
    assert.deepEqual([...invariants], ['distinct-sources']);
  });

  test('merged ranges are rejected: nodetool accepts only ranges inside one ring range', () => {
    const invariants = broken((plan) => {
      const r = ks1(plan).rebuilds[0]!;
      const [first, second] = r.ranges;
      r.ranges = [[first![0], second![1]], ...r.ranges.slice(2)];
      r.argv = rebuildArgv('ks1', r.ranges, r.source, 'aws-use1');
    });
    assert.ok(invariants.has('whole-ring-range'));
  });

  test('argv that does not match the ranges', () => {
    assert.deepEqual([...broken((plan) => ks1(plan).rebuilds[0]!.argv.splice(5, 2))], ['argv']);
    assert.deepEqual([...broken((plan) => ks1(plan).rebuilds[0]!.argv.splice(7, 1))], ['argv']);
  });

  test('a rebuild on a node that is not a replica of its range', () => {
    const invariants = broken((plan) => {
      const ks2 = plan.keyspaces[1]!; // RF 2 in gcp-use1: some node is not a replica of each range
      const r = ks2.rebuilds[0]!;
      const other = ks2.rebuilds.find((x) => x.node !== r.node)!;
      other.ranges.push(r.ranges[0]!);
      other.argv = rebuildArgv('ks2', other.ranges, other.source, 'aws-use1');
    });
    assert.ok(invariants.has('node-replica') || invariants.has('covered-once'));
  });

  test('order: a node twice in a wave, a source over its cap, a rebuild in no wave', () => {
    assert.ok(
      broken((plan) => {
        plan.order = [plan.order.flat()];
      }).has('order'),
    );
    assert.deepEqual([...broken((plan) => plan.order.pop())], ['order']);
    assert.deepEqual([...broken((plan) => plan.order.push([plan.order[0]![0]!]))], ['order']);
  });

  test('down nodes: a rebuild from a source declared down', () => {
    const invariants = broken((plan) => {
      plan.down = [ks1(plan).rebuilds[0]!.source];
    });
    assert.ok(invariants.has('up-nodes'));
  });

  test('unknown DC, keyspace or node', () => {
    assert.deepEqual([...broken((plan) => (plan.sourceDc = 'nowhere'))], ['known-names']);
    assert.ok(broken((plan) => (ks1(plan).name = 'nope')).has('known-names'));
    assert.ok(broken((plan) => (ks1(plan).rebuilds[0]!.node = '10.9.9.9')).has('known-names'));
  });

  test('maxViolations caps the list, not the count', () => {
    const plan = structuredClone(good) as RebuildPlan;
    plan.keyspaces[0]!.rebuilds = [];
    const result = verifyPlan(topology, ring, plan, { maxViolations: 2 });
    assert.equal(result.violations.length, 2);
    assert.ok(result.violationCount > 2);
  });

  test('a malformed plan file is an input error naming each field', () => {
    assert.throws(
      () =>
        loadPlan(
          JSON.stringify({ sourceDc: 1, destDc: 'x', keyspaces: [{ name: 'ks', rebuilds: [{}] }], order: 'no' }),
        ),
      (error: unknown) =>
        error instanceof InvalidInputErrors &&
        /plan.sourceDc/.test(error.message) &&
        /plan.keyspaces\[0\].rebuilds\[0\].node/.test(error.message) &&
        /plan.order: got "no", expected an array/.test(error.message),
    );
    assert.throws(() => loadPlan('{'), InvalidInputErrors);
  });
});
