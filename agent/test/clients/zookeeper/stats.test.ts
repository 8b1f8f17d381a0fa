// The four-letter-word parsers on answers recorded from Debian's ZooKeeper 3.8.0 (2 voters + 1
// observer, see fixtures/; mntr cut to its first 40 lines plus the leader-only ones).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  compareZxid,
  normalizeZxid,
  parseConf,
  parseMntr,
  parseSrvr,
  splitZxid,
  ZooKeeperResponseError,
} from '../../../src/clients/zookeeper/index.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('srvr: mode, zxid, node count and counters of an observer and a leader', () => {
  const observer = parseSrvr(fixture('srvr-observer-3.8.0.txt'), '127.0.0.1:46019');
  const { version, ...rest } = observer;
  // Debian's build leaves Maven's commit placeholder in the version string.
  assert.match(version, /^3\.8\.0-.*, built on 2024-12-29 17:54 UTC$/);
  assert.deepEqual(rest, {
    mode: 'observer',
    zxid: '0x100000004',
    nodeCount: 7,
    connections: 1,
    outstanding: 0,
    received: 2,
    sent: 1,
    latencyMs: { min: 0, avg: 0, max: 0 },
  });
  const leader = parseSrvr(fixture('srvr-leader-3.8.0.txt'));
  assert.equal(leader.mode, 'leader');
  assert.equal(leader.zxid, observer.zxid);
  assert.equal(parseSrvr(fixture('srvr-follower-3.8.0.txt')).latencyMs.avg, 10.5);
});

test('srvr: a missing or malformed field is a ZooKeeperResponseError naming it', () => {
  const raw = fixture('srvr-observer-3.8.0.txt');
  assert.throws(
    () => parseSrvr(raw.replace(/^Zxid: .*$/m, 'Zxid: 12'), 'h:1'),
    (e: unknown) => e instanceof ZooKeeperResponseError && /"Zxid" is not a zxid: "12"/.test(e.message),
  );
  assert.throws(() => parseSrvr(raw.replace(/^Mode: .*$/m, 'Mode: boss')), /not a known mode: boss/);
  assert.throws(() => parseSrvr(raw.replace(/^Node count: .*\n?/m, '')), /no "Node count"/);
  assert.throws(() => parseSrvr(''), ZooKeeperResponseError);
});

test('mntr: server and peer state, znode count; leader-only figures only on the leader', () => {
  const observer = parseMntr(fixture('mntr-observer-3.8.0.txt'));
  assert.equal(observer.serverState, 'observer');
  assert.equal(observer.peerState, 'observing - broadcast');
  assert.equal(observer.znodeCount, 7);
  assert.equal(observer.ephemeralsCount, 0);
  assert.equal(observer.learners, null);
  assert.equal(observer.fields.zk_observer_master_id, '2');
  const leader = parseMntr(fixture('mntr-leader-3.8.0.txt'));
  assert.equal(leader.serverState, 'leader');
  assert.equal(leader.peerState, 'leading - broadcast');
  assert.deepEqual([leader.learners, leader.syncedFollowers, leader.syncedObservers], [2, 1, 1]);
});

test('mntr of a 3.5 server (no zk_peer_state): peerState is null', () => {
  const stats = parseMntr('zk_version\t3.5.9\nzk_server_state\tfollower\nzk_znode_count\t12\n');
  assert.equal(stats.peerState, null);
  assert.equal(stats.znodeCount, 12);
});

test('conf: own id and peer type, and the membership with its version', () => {
  const conf = parseConf(fixture('conf-observer-3.8.0.txt'));
  assert.equal(conf.serverId, 11);
  assert.equal(conf.peerType, 'observer');
  assert.equal(conf.clientPort, 46019);
  assert.equal(conf.membership.version, '100000000');
  assert.deepEqual(
    conf.membership.members.map((m) => [m.id, m.role, m.quorumPort, m.clientPort]),
    [
      [1, 'participant', 41995, 34627],
      [2, 'participant', 38927, 36869],
      [11, 'observer', 41337, 46019],
    ],
  );
  assert.equal(parseConf(fixture('conf-leader-3.8.0.txt')).peerType, 'participant');
  // Standalone: no peerType, no membership.
  const standalone = parseConf('clientPort=2181\ndataDir=/d\nserverId=0\n');
  assert.equal(standalone.peerType, null);
  assert.deepEqual(standalone.membership, { members: [], version: null });
});

test('zxids: normalized, compared as 64-bit numbers, split into epoch and counter', () => {
  assert.equal(normalizeZxid('0x100000004'), '0x100000004');
  assert.equal(normalizeZxid('0X00A'), '0xa');
  assert.equal(normalizeZxid('0xffffffffffffffff'), '0xffffffffffffffff');
  for (const bad of ['', '100', '0x', '0x1ffffffffffffffff', '0xg', '-0x1'])
    assert.equal(normalizeZxid(bad), undefined);
  assert.equal(compareZxid('0x100000004', '0x100000004'), 0);
  assert.equal(compareZxid('0xffffffff', '0x100000000'), -1);
  assert.equal(compareZxid('0x200000000', '0x1ffffffff'), 1);
  assert.deepEqual(splitZxid('0x100000004'), { epoch: 1, counter: 4 });
});
