// cassandra.decommission's refusal rule: which keyspaces still replicate to the node's datacenter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyspacesReplicatingTo } from '../../../src/steps/cassandra/decommission.ts';

const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy';

test('system_auth may still list the DC while another DC holds it (Cassandra 5.0 keeps it there), not when it is the only one', () => {
  const auth = (replication: Record<string, string>) => [
    { name: 'system_auth', replication: { class: NTS, ...replication } },
  ];
  assert.deepEqual(keyspacesReplicatingTo(auth({ old: '3', new: '3' }), 'old'), {
    blocking: [],
    tolerated: ['system_auth (old: 3)'],
  });
  assert.deepEqual(keyspacesReplicatingTo(auth({ old: '3' }), 'old'), {
    blocking: ['system_auth (old: 3)'],
    tolerated: [],
  });
  assert.deepEqual(keyspacesReplicatingTo(auth({ old: '3', new: '0' }), 'old').blocking, ['system_auth (old: 3)']);
});

test('a keyspace with RF > 0 in the DC, or SimpleStrategy, still replicates there; local and RF 0 ones do not', () => {
  const keyspaces: Array<{ name: string; replication: Record<string, string> }> = [
    { name: 'shop', replication: { class: NTS, old: '3', new: '3' } },
    { name: 'moved', replication: { class: NTS, new: '3' } },
    { name: 'zero', replication: { class: NTS, old: '0', new: '3' } },
    { name: 'legacy', replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' } },
    { name: 'system', replication: { class: 'org.apache.cassandra.locator.LocalStrategy' } },
    { name: 'system_views', replication: {} },
  ];
  assert.deepEqual(keyspacesReplicatingTo(keyspaces, 'old'), {
    blocking: ['shop (old: 3)', 'legacy (SimpleStrategy, RF 1)'],
    tolerated: [],
  });
  assert.deepEqual(keyspacesReplicatingTo(keyspaces, 'new').blocking, [
    'shop (new: 3)',
    'moved (new: 3)',
    'zero (new: 3)',
    'legacy (SimpleStrategy, RF 1)',
  ]);
  assert.deepEqual(keyspacesReplicatingTo(keyspaces.slice(1, 3), 'old'), { blocking: [], tolerated: [] });
});
