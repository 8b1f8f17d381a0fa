// Golden plans worked out by hand on a six-node ring (three old nodes O1-O3, three new N1-N3, one
// token each, one rack per node):
//   tokens  0: O1   50: N1   100: O2   150: N2   200: O3   250: N3
// With RF 3 in both DCs, old replicas in ring-walk order and the copies (Ni ← Oj):
//   (250,0]   old O1 O2 O3  new N1 N2 N3   N1←O1 N2←O2 N3←O3
//   (0,50]    old O2 O3 O1  new N1 N2 N3   N1←O2 N2←O3 N3←O1
//   (50,100]  old O2 O3 O1  new N2 N3 N1   N2←O2 N3←O3 N1←O1
//   (100,150] old O3 O1 O2  new N2 N3 N1   N2←O3 N3←O1 N1←O2
//   (150,200] old O3 O1 O2  new N3 N1 N2   N3←O3 N1←O1 N2←O2
//   (200,250] old O1 O2 O3  new N3 N1 N2   N3←O1 N1←O2 N2←O3

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInputErrors } from '@drover/shared';
import {
  buildRing,
  NoSourceReplicasError,
  type PlanRebuildOptions,
  planRebuild,
  type RebuildPlan,
  verifyPlan,
} from '../../src/cassandra/index.ts';
import type { Topology, TopologyKeyspace } from '../../src/cassandra/types.ts';
import { node, nts, simple, topology } from './build.ts';

const sixNodes = [
  node('O1 old ra 0'),
  node('N1 new ra 50'),
  node('O2 old rb 100'),
  node('N2 new rb 150'),
  node('O3 old rc 200'),
  node('N3 new rc 250'),
];

function plan(keyspaces: TopologyKeyspace[], options: Partial<PlanRebuildOptions> = {}, nodes = sixNodes) {
  const t = topology(nodes, keyspaces);
  const ring = buildRing(t);
  const result = planRebuild(t, ring, { sourceDc: 'old', destDc: 'new', ...options });
  const verification = verifyPlan(t, ring, result);
  assert.deepEqual(verification.violations, [], 'the planner output must verify');
  return result;
}

/** "node←source: ranges" lines of one keyspace, easy to compare with the table above. */
function copies(result: RebuildPlan, keyspace = 0): string[] {
  return result.keyspaces[keyspace]!.rebuilds.map(
    (r) => `${r.node}←${r.source}${r.part ? `#${r.part}` : ''}: ${r.ranges.map(([s, e]) => `(${s},${e}]`).join(',')}`,
  );
}

describe('one-to-one copies, RF 3 → 3', () => {
  const result = plan([nts('ks1', { old: 3, new: 3 })]);

  test('destination replica i copies source replica i', () => {
    assert.deepEqual(copies(result), [
      'N1←O1: (250,0],(50,100],(150,200]',
      'N1←O2: (0,50],(100,150],(200,250]',
      'N2←O2: (250,0],(50,100],(150,200]',
      'N2←O3: (0,50],(100,150],(200,250]',
      'N3←O1: (0,50],(100,150],(200,250]',
      'N3←O3: (250,0],(50,100],(150,200]',
    ]);
  });

  test('argv follows the nodetool rules: one keyspace, -ts with -ks, -s one host, -- then the source DC', () => {
    assert.deepEqual(result.keyspaces[0]!.rebuilds[0]!.argv, [
      'rebuild',
      '-ks',
      'ks1',
      '-ts',
      '(250,0],(50,100],(150,200]',
      '-s',
      'O1',
      '--',
      'old',
    ]);
  });

  test('ranges are never merged: each -ts range is exactly one ring range', () => {
    // (50,100] and (100,150] are adjacent ranges of N1, but 100 is a ring token: nodetool would
    // reject "(50,150]" as not a range owned by the node.
    const n1 = result.keyspaces[0]!.rebuilds.filter((r) => r.node === 'N1').flatMap((r) => r.ranges);
    assert.equal(n1.length, 6);
  });

  test('order: waves with one rebuild per node and at most 2 per source; as few waves as possible', () => {
    assert.equal(result.order.length, 2);
    for (const wave of result.order) {
      assert.equal(new Set(wave.map((w) => w.node)).size, wave.length);
      assert.equal(wave.length, 3);
    }
    assert.deepEqual(result.keyspaces[0]!.atRisk, []);
    assert.deepEqual(result.keyspaces[0]!.uncopied, []);
  });

  test('a cap of 1 stream per source still fits in 2 waves here', () => {
    const capped = plan([nts('ks1', { old: 3, new: 3 })], { maxStreamsPerSource: 1 });
    assert.equal(capped.order.length, 2);
    for (const wave of capped.order) assert.equal(new Set(wave.map((w) => w.source)).size, wave.length);
  });
});

describe('sources that are down', () => {
  test('RF 3 → 3: no spare source, so the ranges O2 should feed are at risk, with the reason', () => {
    const result = plan([nts('ks1', { old: 3, new: 3 })], { down: ['O2'] });
    assert.deepEqual(copies(result), [
      'N1←O1: (250,0],(50,100],(150,200]',
      'N2←O3: (0,50],(100,150],(200,250]',
      'N3←O1: (0,50],(100,150],(200,250]',
      'N3←O3: (250,0],(50,100],(150,200]',
    ]);
    const atRisk = result.keyspaces[0]!.atRisk;
    assert.deepEqual(
      atRisk.map((r) => `${r.node} (${r.range[0]},${r.range[1]}] ${r.kind}`),
      [
        'N1 (0,50] source-down',
        'N1 (100,150] source-down',
        'N1 (200,250] source-down',
        'N2 (250,0] source-down',
        'N2 (50,100] source-down',
        'N2 (150,200] source-down',
      ],
    );
    assert.match(atRisk[0]!.reason, /source O2 \(source replica 1 of 3 in ring-walk order\) is down/);
    assert.ok(result.findings.some((f) => f.code === 'ranges-at-risk' && f.keyspace === 'ks1'));
  });

  test('RF 3 → 2: the uncopied third source replica takes over, one-to-one still holds', () => {
    const result = plan([nts('ks1', { old: 3, new: 2 })], { down: ['O1'] });
    // (250,0]: old O1 O2 O3, new N1 N2 → N1←O3 (fallback), N2←O2; uncopied O1.
    const fallback = result.keyspaces[0]!.rebuilds.find((r) => r.node === 'N1' && r.source === 'O3');
    assert.ok(fallback?.ranges.some(([s, e]) => s === '250' && e === '0'));
    assert.ok((fallback?.fallbackRanges ?? 0) > 0);
    assert.deepEqual(result.keyspaces[0]!.atRisk, []);
    assert.ok(result.findings.some((f) => f.code === 'fallback-sources'));
  });

  test('RF 3 → 2 with two sources down: at risk once the spare is used up', () => {
    const result = plan([nts('ks1', { old: 3, new: 2 })], { down: ['O1', 'O2'] });
    // (250,0]: new N1 N2 want O1 O2, both down; one spare O3 → N1←O3, N2 at risk.
    const atRisk = result.keyspaces[0]!.atRisk.find((r) => r.range[1] === '0');
    assert.equal(atRisk?.node, 'N2');
    assert.match(atRisk?.reason ?? '', /uncopied source replicas are down too/);
  });

  test('a destination that is down runs nothing; its ranges are at risk', () => {
    const result = plan([nts('ks1', { old: 3, new: 3 })], { down: ['N1'] });
    assert.ok(result.keyspaces[0]!.rebuilds.every((r) => r.node !== 'N1'));
    assert.equal(result.keyspaces[0]!.atRisk.filter((r) => r.kind === 'destination-down').length, 6);
  });
});

describe('destination RF different from the source RF', () => {
  test('RF 3 → 2: the copies keep positions 1 and 2; the third source replica is listed as uncopied', () => {
    const result = plan([nts('ks1', { old: 3, new: 2 })]);
    const ks = result.keyspaces[0]!;
    assert.equal(ks.sourceReplicas, 3);
    assert.equal(ks.destReplicas, 2);
    // (250,0]: old O1 O2 O3, new N1 N2 → O3 uncopied.
    assert.ok(ks.uncopied.find((u) => u.source === 'O3')?.ranges.some(([, e]) => e === '0'));
    assert.equal(
      ks.uncopied.reduce((sum, u) => sum + u.ranges.length, 0),
      6,
    );
    assert.ok(result.findings.some((f) => f.code === 'dest-rf-below-source' && f.severity === 'warning'));
  });

  test('RF 2 → 3: the extra replica copies a source too, spreading over the sources', () => {
    const result = plan([nts('ks1', { old: 2, new: 3 })]);
    // (250,0]: old O1 O2, new N1 N2 N3 → N1←O1, N2←O2, N3←O1 (extra, position 3 mod 2).
    const n3 = result.keyspaces[0]!.rebuilds.find((r) => r.node === 'N3' && r.ranges.some(([, e]) => e === '0'));
    assert.equal(n3?.source, 'O1');
    assert.ok(result.findings.some((f) => f.code === 'dest-rf-above-source'));
  });

  test('RF 2 → 3 with a source down: the extra replica avoids it, the primary is at risk', () => {
    const result = plan([nts('ks1', { old: 2, new: 3 })], { down: ['O1'] });
    const forZero = result.keyspaces[0]!.rebuilds.filter((r) => r.ranges.some(([, e]) => e === '0'));
    assert.deepEqual(forZero.map((r) => `${r.node}←${r.source}`).sort(), ['N2←O2', 'N3←O2']);
  });
});

describe('keyspaces', () => {
  const all: TopologyKeyspace[] = [
    nts('ks1', { old: 3, new: 3 }),
    { name: 'system', replication: { class: 'org.apache.cassandra.locator.LocalStrategy' } },
    simple('system_auth', 1),
    nts('system_distributed', { old: 3 }),
    nts('elsewhere', { other: 3 }),
  ];

  test('default: every keyspace not using LocalStrategy; system keyspaces called out', () => {
    const result = plan(all);
    assert.deepEqual(
      result.keyspaces.map((k) => k.name),
      ['ks1', 'system_auth'],
    );
    const codes = result.findings.map((f) => `${f.keyspace}:${f.code}`);
    assert.ok(codes.includes('system_auth:system-keyspace-not-nts'));
    assert.ok(codes.includes('system_distributed:not-replicated-to-dest'));
    assert.ok(codes.includes('elsewhere:not-in-either-dc'));
  });

  test('explicit keyspaces: the others are not planned, left-out system keyspaces are mentioned', () => {
    const result = plan(all, { keyspaces: ['ks1'] });
    assert.deepEqual(
      result.keyspaces.map((k) => k.name),
      ['ks1'],
    );
    assert.ok(result.findings.some((f) => f.code === 'system-keyspace-not-selected' && f.keyspace === 'system_auth'));
  });

  test('a keyspace with destination replicas but no source replica is a clear error naming it', () => {
    const t = topology(sixNodes, [nts('ks1', { old: 3, new: 3 }), nts('newonly', { new: 3 })]);
    assert.throws(
      () => planRebuild(t, buildRing(t), { sourceDc: 'old', destDc: 'new' }),
      (error: unknown) =>
        error instanceof NoSourceReplicasError &&
        error.keyspaces.join() === 'newonly' &&
        /newonly: replicated in destination DC new but with no replica in source DC old/.test(error.message),
    );
  });

  test('unknown or unreplicated requested keyspaces are input errors', () => {
    const t: Topology = topology(sixNodes, all);
    assert.throws(
      () => planRebuild(t, buildRing(t), { sourceDc: 'old', destDc: 'new', keyspaces: ['nope', 'system'] }),
      (error: unknown) =>
        error instanceof InvalidInputErrors &&
        error.problems.length === 2 &&
        /keyspaces: got "nope"/.test(error.message) &&
        /LocalStrategy/.test(error.message),
    );
  });
});

describe('options and argv length', () => {
  test('bad options are all reported together', () => {
    const t = topology(sixNodes, [nts('ks1', { old: 3, new: 3 })]);
    assert.throws(
      () =>
        planRebuild(t, buildRing(t), { sourceDc: 'mars', destDc: 'new', down: ['9.9.9.9'], maxStreamsPerSource: 0 }),
      (error: unknown) => error instanceof InvalidInputErrors && error.problems.length === 3,
    );
    assert.throws(() => planRebuild(t, buildRing(t), { sourceDc: 'new', destDc: 'new' }), InvalidInputErrors);
  });

  test('a long -ts is split into numbered parts, each ordered separately', () => {
    const result = plan([nts('ks1', { old: 3, new: 3 })], { maxTokenRangesChars: 100 }, manyTokens());
    const parts = result.keyspaces[0]!.rebuilds.filter((r) => r.part !== undefined);
    assert.ok(parts.length > 0);
    for (const r of result.keyspaces[0]!.rebuilds) assert.ok(r.argv[4]!.length <= 100);
    assert.ok(result.order.flat().some((item) => item.part !== undefined));
  });

  test('planning is deterministic, whatever the order of nodes in the file', () => {
    const keyspaces = [nts('ks1', { old: 3, new: 3 }), nts('ks2', { old: 2, new: 3 })];
    const a = plan(keyspaces, { down: ['O2'] });
    const b = plan(keyspaces, { down: ['O2'] }, [...sixNodes].reverse());
    assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
  });
});

function manyTokens() {
  return sixNodes.map((n, k) => ({
    ...n,
    tokens: Array.from({ length: 8 }, (_, j) => String(j * 1_000_000 + k * 100)),
  }));
}
