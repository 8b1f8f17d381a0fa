// ZooKeeper really works here: Debian's 3.8 as 2 voters + 1 observer; after writes through
// ZooKeeper's own CLI, the observer serves as an observer and has the leader's zxid and data.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../harness/process.ts';
import { startZooKeeper } from '../harness/zookeeper.ts';

test('ZooKeeper: 2 voters + 1 observer; the observer reports Mode: observer and the leader zxid after writes', {
  timeout: 180_000,
}, async (t) => {
  const zk = await startZooKeeper({ voters: 2, observers: 1 });
  t.after(() => zk.stop());
  t.diagnostic(`ensemble started in ${zk.startupMs} ms: ${zk.connectString}`);
  const [observer] = zk.observers;
  assert.ok(observer);
  assert.equal(observer.id, 11);

  // Writes go through a voter; the observer must learn them from the leader's broadcast.
  await zk.cli(['create', '/drover', 'root'], zk.voters[0]!.address);
  const creates = [0, 1, 2, 3, 4].map((i) => `create /drover/n${i} v${i}`);
  await zk.cliScript(creates, zk.voters[1]!.address);

  const leader = await zk.leader();
  assert.ok(leader, 'a voter reports Mode: leader');
  assert.equal(leader.role, 'voter');
  const synced = await waitFor(
    async () => {
      const [l, o] = await Promise.all([zk.fourLetter(leader, 'srvr'), zk.fourLetter(observer, 'srvr')]);
      return o.fields.Zxid === l.fields.Zxid ? { leader: l.fields, observer: o.fields } : undefined;
    },
    { what: 'the observer zxid to equal the leader zxid', timeoutMs: 20_000, intervalMs: 250 },
  );
  assert.equal(synced.observer.Mode, 'observer');
  assert.equal(synced.leader.Mode, 'leader');
  assert.notEqual(synced.observer.Zxid, '0x0');
  assert.equal(synced.observer['Node count'], synced.leader['Node count']);
  t.diagnostic(`leader zk-${leader.id} and observer zk-${observer.id} at zxid ${synced.observer.Zxid}`);

  const mntr = await zk.fourLetter(observer, 'mntr');
  assert.equal(mntr.fields.zk_server_state, 'observer');
  assert.equal(mntr.fields.zk_peer_state, 'observing - broadcast');

  const read = await zk.cli(['get', '/drover/n4'], observer.address);
  assert.match(read.stdout, /^v4$/m);
  for (const m of zk.members) {
    t.diagnostic(`zk-${m.id} (${m.role}) peak RSS ${Math.round((m.process.peakRssBytes() ?? 0) / 2 ** 20)} MiB`);
  }
});
