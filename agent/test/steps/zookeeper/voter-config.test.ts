// A voter's static zoo.cfg gaining (and losing) observer lines for `zookeeper.voters-add-observers`:
// the other lines stay as they are, the new ones follow the last server line, an id the file gives
// to another server is refused, and the step's params refuse anything that is not ids, hosts, ports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError, InvalidInputErrors, validateStepParams } from '@drover/shared';
import {
  addObserverLines,
  membershipHas,
  observerServerLine,
  readVoterConfig,
  removeObserverLines,
} from '../../../src/steps/zookeeper/voter-config.ts';

const VOTER_CFG = `# zk-1
tickTime=1000
dataDir=/var/lib/zookeeper
clientPort=2181
4lw.commands.whitelist=srvr,mntr,conf,ruok
server.1=zk1:2888:3888;2181
server.2=zk2:2888:3888:participant;2181
server.3=zk3:2888:3888
autopurge.purgeInterval=0
`;

const o11 = { id: 11, host: 'zk11.new', quorumPort: 2888, electionPort: 3888, clientPort: 2181 };
const o12 = { id: 12, host: '10.0.0.12', quorumPort: 2889, electionPort: 3889, clientPort: 2182 };

test('reads the server lines, reconfigEnabled and dynamicConfigFile of a zoo.cfg', () => {
  const facts = readVoterConfig(VOTER_CFG, 'zoo.cfg');
  assert.deepEqual(
    facts.servers.map((s) => `${s.id}:${s.host}:${s.role}:${s.clientPort}`),
    ['1:zk1:participant:2181', '2:zk2:participant:2181', '3:zk3:participant:null'],
  );
  assert.equal(facts.reconfigEnabled, false);
  assert.equal(facts.dynamicConfigFile, null);
  const dynamic = readVoterConfig('reconfigEnabled=true\ndynamicConfigFile=/etc/zk/zoo.cfg.dynamic.100\n', 'x');
  assert.equal(dynamic.reconfigEnabled, true);
  assert.equal(dynamic.dynamicConfigFile, '/etc/zk/zoo.cfg.dynamic.100');
  assert.throws(
    () => readVoterConfig('server.1=zk1\n', 'zoo.cfg'),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'zoo.cfg line 1',
  );
});

test('the observer line is rendered from its validated values', () => {
  assert.equal(observerServerLine(o11), 'server.11=zk11.new:2888:3888:observer;2181');
  assert.throws(
    () => observerServerLine({ ...o11, host: 'a;b' }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'host',
  );
});

test('add: the lines follow the last server line, every other line kept; a second add changes nothing', () => {
  const added = addObserverLines(VOTER_CFG, [o11, o12], 'zoo.cfg');
  assert.deepEqual(added.changed, [
    'server.11=zk11.new:2888:3888:observer;2181',
    'server.12=10.0.0.12:2889:3889:observer;2182',
  ]);
  assert.equal(
    added.text,
    VOTER_CFG.replace(
      'server.3=zk3:2888:3888\n',
      'server.3=zk3:2888:3888\nserver.11=zk11.new:2888:3888:observer;2181\nserver.12=10.0.0.12:2889:3889:observer;2182\n',
    ),
  );
  const again = addObserverLines(added.text, [o11, o12], 'zoo.cfg');
  assert.deepEqual(again.changed, []);
  assert.equal(again.text, added.text);
  // Only the missing one is added.
  const one = addObserverLines(addObserverLines(VOTER_CFG, [o11], 'zoo.cfg').text, [o11, o12], 'zoo.cfg');
  assert.deepEqual(one.changed, ['server.12=10.0.0.12:2889:3889:observer;2182']);
});

test('add into a file without server lines puts them at the end', () => {
  const added = addObserverLines('tickTime=1000\n', [o11], 'zoo.cfg');
  assert.equal(added.text, 'tickTime=1000\nserver.11=zk11.new:2888:3888:observer;2181\n');
});

test('add refuses an id the file gives to a voter or to another address, changing nothing', () => {
  assert.throws(
    () => addObserverLines(VOTER_CFG, [o11, { ...o12, id: 2 }], 'zoo.cfg'),
    (e: unknown) =>
      e instanceof InvalidInputError &&
      e.field === 'params.observers.1' &&
      /server\.2 as zk2:2888:3888:participant/.test(e.message),
  );
  const withOther = addObserverLines(VOTER_CFG, [{ ...o11, host: 'elsewhere' }], 'zoo.cfg').text;
  assert.throws(
    () => addObserverLines(withOther, [o11], 'zoo.cfg'),
    (e: unknown) => e instanceof InvalidInputError && /server\.11 as elsewhere/.test(e.message),
  );
});

test('remove takes out exactly the observer lines; removing again changes nothing; a voter id is refused', () => {
  const added = addObserverLines(VOTER_CFG, [o11, o12], 'zoo.cfg').text;
  const removed = removeObserverLines(added, [o11, o12], 'zoo.cfg');
  assert.equal(removed.text, VOTER_CFG);
  assert.deepEqual(removed.changed, [
    'server.11=zk11.new:2888:3888:observer;2181',
    'server.12=10.0.0.12:2889:3889:observer;2182',
  ]);
  assert.deepEqual(removeObserverLines(VOTER_CFG, [o11], 'zoo.cfg'), { text: VOTER_CFG, changed: [] });
  assert.throws(
    () => removeObserverLines(VOTER_CFG, [{ ...o11, id: 3 }], 'zoo.cfg'),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'params.observers.0',
  );
});

test('membershipHas: every observer listed (add) or none (remove)', () => {
  const members = readVoterConfig(addObserverLines(VOTER_CFG, [o11], 'zoo.cfg').text, 'x').servers;
  assert.equal(membershipHas(members, [o11], true), true);
  assert.equal(membershipHas(members, [o11, o12], true), false);
  assert.equal(membershipHas(members, [o12], false), true);
  assert.equal(membershipHas(members, [o11], false), false);
});

test('params: only ids, hosts and ports; add and remove need observers; errors name the field', () => {
  const ok = validateStepParams('zookeeper.voters-add-observers', { observers: [o11] });
  assert.equal(ok.action, 'add');
  assert.equal(ok.serveTimeoutMs, 120_000);
  assert.equal(validateStepParams('zookeeper.voters-add-observers', { action: 'inspect' }).action, 'inspect');
  const refused = (params: unknown, field: string) =>
    assert.throws(
      () => validateStepParams('zookeeper.voters-add-observers', params),
      (e: unknown) => e instanceof InvalidInputErrors && e.problems.some((x) => x.field === field),
      `${JSON.stringify(params)} refused at ${field}`,
    );
  refused({ observers: [{ ...o11, host: 'zk11\nserver.99=evil' }] }, 'params.observers.0.host');
  refused({ observers: [{ ...o11, clientPort: 70000 }] }, 'params.observers.0.clientPort');
  refused({ observers: [{ ...o11, id: 0 }] }, 'params.observers.0.id');
  refused({ observers: [o11, o11] }, 'params.observers');
  refused({ action: 'remove' }, 'params.observers');
  refused({ observers: [o11], configFile: '/etc/passwd' }, 'params');
  refused({ observers: [{ ...o11, argv: ['rm'] }] }, 'params.observers.0');
});
