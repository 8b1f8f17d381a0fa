// Human renderings: the per-node table (ranges, sources, estimated waves) and verification results.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadTopology, planRebuild, renderPlan, renderVerification, verifyPlan } from '../../src/cassandra/index.ts';
import { table } from '../../src/cassandra/render.ts';

const { topology, ring } = loadTopology(
  readFileSync(new URL('./fixtures/two-dc-3-racks.json', import.meta.url), 'utf8'),
);

test('table pads text left and numbers right', () => {
  assert.equal(
    table(
      ['A', 'NUM'],
      [
        ['x', 5],
        ['long', 123],
      ],
    ),
    'A     NUM\nx       5\nlong  123',
  );
});

test('renderPlan: summary, findings, keyspaces and one line per destination node', () => {
  const plan = planRebuild(topology, ring, { sourceDc: 'aws-use1', destDc: 'gcp-use1', down: ['10.0.0.2'] });
  const text = renderPlan(plan, (address) => ring.nodes[ring.nodeId.get(address)!]!.rack);
  assert.match(text, /^Rebuild gcp-use1 from aws-use1: 5 keyspace\(s\), \d+ rebuild\(s\) in \d+ wave\(s\)/);
  assert.match(text, /Down: 10\.0\.0\.2/);
  assert.match(text, /Requires -Dcassandra\.reset_bootstrap_progress=false on every destination node/);
  assert.match(text, /\[warning\] system_distributed \(repair history and view build status\) uses SimpleStrategy/);
  assert.match(text, /ks2 +NetworkTopologyStrategy +3 -> 2/);
  for (const address of ['10.1.0.1', '10.1.0.2', '10.1.0.3'])
    assert.match(text, new RegExp(`${address.replaceAll('.', '\\.')} +use1-`));
  assert.match(text, /NODE +RACK +KEYSPACES +RANGES +SOURCES +REBUILDS +WAVES +AT RISK/);
});

test('renderVerification: OK, or the violations with a limit', () => {
  const plan = planRebuild(topology, ring, { sourceDc: 'aws-use1', destDc: 'gcp-use1' });
  assert.match(renderVerification(verifyPlan(topology, ring, plan)), /^plan OK: every invariant holds/);
  assert.match(renderVerification(verifyPlan(topology, ring, plan)), /reset_bootstrap_progress=false/);
  plan.keyspaces[0]!.rebuilds = [];
  const text = renderVerification(verifyPlan(topology, ring, plan), 3);
  assert.match(text, /^plan BROKEN: \d+ violation\(s\)/);
  assert.match(text, /- \[covered-once\] ks1: /);
  assert.match(text, /… and \d+ more \(--json lists them\)/);
});
