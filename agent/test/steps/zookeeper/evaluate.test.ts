// zookeeper.observer-verify's judgement on hand-made readings: each check fails on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SrvrStats } from '../../../src/clients/zookeeper/index.ts';
import {
  caughtUp,
  describeZxidGap,
  evaluateObserver,
  type ObserverReadings,
} from '../../../src/steps/zookeeper/evaluate.ts';

const srvr = (mode: SrvrStats['mode'], zxid: string, nodeCount: number): SrvrStats => ({
  version: '3.8.0',
  mode,
  zxid,
  nodeCount,
  connections: 1,
  outstanding: 0,
  received: 1,
  sent: 1,
  latencyMs: { min: 0, avg: 0, max: 0 },
});
const leaderAt = (zxid: string, nodeCount: number) => ({
  address: 'zk2:2181',
  server: { host: 'zk2', port: 2181 },
  srvr: srvr('leader', zxid, nodeCount),
});
const healthy = (): ObserverReadings => ({
  local: 'zk11:2181',
  srvr: { value: srvr('observer', '0x100000004', 7) },
  mntr: null,
  leader: leaderAt('0x100000004', 7),
  voterAnswers: ['zk1:2181: Mode follower', 'zk2:2181: Mode leader'],
  listed: { value: true },
  myid: 11,
});

test('a caught-up observer the ensemble lists is ok', () => {
  const verdict = evaluateObserver(healthy());
  assert.deepEqual(verdict, {
    ok: true,
    mode: 'observer',
    zxid: '0x100000004',
    leaderZxid: '0x100000004',
    znodes: 7,
    leaderZnodes: 7,
    leader: 'zk2:2181',
    peerState: null,
    listed: true,
    problems: [],
  });
  assert.equal(caughtUp(healthy()), true);
});

test('each check fails on its own, with a sentence', () => {
  const cases: Array<[(r: ObserverReadings) => void, RegExp]> = [
    [(r) => (r.srvr = { value: srvr('follower', '0x100000004', 7) }), /serves as follower, not observer/],
    [(r) => (r.srvr = { error: 'connect ECONNREFUSED' }), /does not answer srvr: connect ECONNREFUSED/],
    [(r) => (r.srvr = { value: srvr('observer', '0x100000002', 7) }), /2 transactions behind the leader's 0x100000004/],
    [(r) => (r.srvr = { value: srvr('observer', '0x100000004', 6) }), /6 znodes here, 7 on the leader/],
    [(r) => (r.leader = null), /no voter says Mode: leader \(zk1:2181: Mode follower; zk2:2181: Mode leader\)/],
    [(r) => (r.listed = { value: false }), /does not list server.11 as an observer/],
    [(r) => (r.listed = { error: 'NO_NODE' }), /could not be read: NO_NODE/],
    [
      (r) =>
        (r.mntr = {
          value: {
            version: '3.8.0',
            serverState: 'observer',
            peerState: 'observing - synchronization',
            znodeCount: 7,
            ephemeralsCount: null,
            watchCount: null,
            outstandingRequests: null,
            aliveConnections: null,
            learners: null,
            syncedFollowers: null,
            syncedObservers: null,
            fields: {},
          },
        }),
      /peer state is "observing - synchronization"/,
    ],
  ];
  for (const [change, problem] of cases) {
    const readings = healthy();
    change(readings);
    const verdict = evaluateObserver(readings);
    assert.equal(verdict.ok, false, problem.source);
    assert.equal(verdict.problems.length, 1, verdict.problems.join('; '));
    assert.match(verdict.problems[0] ?? '', problem);
  }
  // A failed mntr is no problem by itself (the whitelist may lack it); it leaves peerState unknown.
  const noMntr = { ...healthy(), mntr: { error: 'mntr is not allowed' } };
  assert.equal(evaluateObserver(noMntr).ok, true);
});

test('zxid gaps: behind, ahead (writes between the two reads), another epoch', () => {
  assert.equal(
    describeZxidGap('0x100000003', '0x100000004', ''),
    "zxid 0x100000003 is 1 transaction behind the leader's 0x100000004",
  );
  assert.match(
    describeZxidGap('0x100000009', '0x100000004', 'zk2:2181'),
    /ahead of the leader's 0x100000004 \(zk2:2181\)/,
  );
  assert.match(describeZxidGap('0x100000009', '0x200000000', ''), /in epoch 1, the leader's 0x200000000 in epoch 2/);
});
