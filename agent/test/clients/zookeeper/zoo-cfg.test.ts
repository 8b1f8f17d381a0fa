// The observer's zoo.cfg: the worked example of zoo-cfg.ts, the switches (reconfig, admin server),
// extraConfig over the defaults, and refusals that name the order's field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '@drover/shared';
import { observerLine, renderObserverConfig } from '../../../src/clients/zookeeper/index.ts';

const node = {
  myid: 11,
  host: 'zk11',
  clientPort: 2181,
  quorumPort: 2888,
  electionPort: 3888,
  dataDir: '/var/lib/zookeeper',
};
const voters = [
  { id: 2, host: 'zk2', quorumPort: 2888, electionPort: 3888, clientPort: 2181 },
  { id: 1, host: 'zk1', quorumPort: 2888, electionPort: 3888, clientPort: 2181 },
];

test('an observer of two voters, joining by reconfig', () => {
  const rendered = renderObserverConfig(node, voters, { reconfigEnabled: true });
  assert.equal(
    rendered.text,
    [
      '# zoo.cfg of ZooKeeper server 11 (observer), rendered by the Drover agent (zookeeper.observer-join).',
      '# ZooKeeper may move the server lines to a dynamic config file and rewrite this one.',
      'dataDir=/var/lib/zookeeper',
      'clientPort=2181',
      'peerType=observer',
      'standaloneEnabled=false',
      'reconfigEnabled=true',
      '4lw.commands.whitelist=srvr,mntr,conf,ruok',
      'admin.enableServer=false',
      'initLimit=10',
      'syncLimit=5',
      'tickTime=2000',
      'server.1=zk1:2888:3888:participant;2181',
      'server.2=zk2:2888:3888:participant;2181',
      'server.11=zk11:2888:3888:observer;2181',
      '',
    ].join('\n'),
  );
  assert.equal(rendered.observerLine, observerLine(node));
  assert.deepEqual(rendered.voterLines, [
    'server.1=zk1:2888:3888:participant;2181',
    'server.2=zk2:2888:3888:participant;2181',
  ]);
});

test('static join: no reconfigEnabled; admin port and extraConfig (over the defaults, sorted)', () => {
  const text = renderObserverConfig(
    {
      ...node,
      adminPort: 8081,
      extraConfig: { tickTime: 3000, 'autopurge.purgeInterval': 24, skipACL: 'yes', 'x.on': true },
    },
    voters,
    { reconfigEnabled: false },
  ).text;
  assert.doesNotMatch(text, /reconfigEnabled/);
  assert.match(text, /^admin\.enableServer=true\nadmin\.serverPort=8081$/m);
  assert.match(
    text,
    /^autopurge\.purgeInterval=24\ninitLimit=10\nskipACL=yes\nsyncLimit=5\ntickTime=3000\nx\.on=true$/m,
  );
});

test('refusals name the field: a voter with this node id, repeated ids, a bad voter host', () => {
  assert.throws(
    () => renderObserverConfig(node, [...voters, { ...voters[0]!, id: 11 }], { reconfigEnabled: true }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'params.ensemble.2.id',
  );
  assert.throws(
    () => renderObserverConfig(node, [...voters, { ...voters[0]! }], { reconfigEnabled: true }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'params.ensemble.2.id',
  );
  assert.throws(
    () =>
      renderObserverConfig(node, [voters[0]!, { ...voters[1]!, host: 'zk1\nskipACL=yes' }], { reconfigEnabled: true }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'params.ensemble.1.host',
  );
  assert.throws(
    () =>
      renderObserverConfig({ ...node, extraConfig: { tickTime: '1\nserver.9=x:1:2' } }, voters, {
        reconfigEnabled: true,
      }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'zookeeper.extraConfig.tickTime',
  );
});
