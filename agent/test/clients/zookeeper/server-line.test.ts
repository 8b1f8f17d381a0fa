// Server lines: written only from checked values (a host or number that could break out of the line is
// refused), read back from what ZooKeeper prints, and the reconfig argv built from them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { InvalidInputError } from '@drover/shared';
import {
  formatServerLine,
  parseEnsembleConfig,
  parseServerLine,
  reconfigAddArgv,
  reconfigRemoveArgv,
  sameServer,
  ZooKeeperCliNotConfiguredError,
  ZooKeeperResponseError,
} from '../../../src/clients/zookeeper/index.ts';

const observer = {
  id: 11,
  host: 'zk11.dst.example',
  quorumPort: 2888,
  electionPort: 3888,
  role: 'observer',
  clientPort: 2181,
} as const;

test('the observer line, and reading it back gives the same server', () => {
  const line = formatServerLine(observer);
  assert.equal(line, 'server.11=zk11.dst.example:2888:3888:observer;2181');
  const entry = parseServerLine(line);
  assert.deepEqual(entry, { ...observer, clientHost: null });
  assert.ok(entry && sameServer(entry, observer));
  assert.ok(entry && !sameServer(entry, { ...observer, role: 'participant' }));
});

test('formatServerLine refuses what could escape the line, naming the field', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ host: 'zk1;2181\nserver.1=evil:1:2' }, 'host'],
    [{ host: 'zk1 -add x' }, 'host'],
    [{ host: '-server' }, 'host'],
    [{ host: '' }, 'host'],
    [{ host: '[::1]' }, 'host'],
    [{ id: 0 }, 'id'],
    [{ id: 256 }, 'id'],
    [{ id: 1.5 }, 'id'],
    [{ quorumPort: 70_000 }, 'quorumPort'],
    [{ electionPort: '3888' }, 'electionPort'],
    [{ clientPort: Number.NaN }, 'clientPort'],
    [{ role: 'leader' }, 'role'],
  ];
  for (const [change, field] of cases)
    assert.throws(
      () => formatServerLine({ ...observer, ...change } as never),
      (e: unknown) => e instanceof InvalidInputError && e.field === field,
      JSON.stringify(change),
    );
});

test('parseServerLine reads 3.4, 3.5+ and multi-address forms, and refuses garbage', () => {
  assert.deepEqual(parseServerLine('server.1=zk1:2888:3888'), {
    id: 1,
    host: 'zk1',
    quorumPort: 2888,
    electionPort: 3888,
    role: 'participant',
    clientHost: null,
    clientPort: null,
  });
  assert.equal(parseServerLine('server.2=zk2:2888:3888:observer')?.role, 'observer');
  assert.deepEqual(parseServerLine('server.3=zk3:2888:3888:participant;0.0.0.0:2181'), {
    id: 3,
    host: 'zk3',
    quorumPort: 2888,
    electionPort: 3888,
    role: 'participant',
    clientHost: '0.0.0.0',
    clientPort: 2181,
  });
  assert.equal(parseServerLine('server.4=a:1:2|b:3:4:participant;2181')?.host, 'a');
  assert.equal(parseServerLine('server.5=[::1]:2888:3888:participant;[::1]:2181')?.clientHost, '[::1]');
  for (const bad of ['version=1', 'server.x=a:1:2', 'server.1=a:1', 'server.1=a:1:2;b:c', 'server.1='])
    assert.equal(parseServerLine(bad), undefined, bad);
});

test('parseEnsembleConfig: /zookeeper/config as recorded; an unreadable server line is an error', () => {
  const text = readFileSync(new URL('./fixtures/zookeeper-config-3.8.0.txt', import.meta.url), 'utf8');
  const config = parseEnsembleConfig(text, 'zk');
  assert.equal(config.version, '100000000');
  assert.deepEqual(
    config.members.map((m) => `${m.id}:${m.role}`),
    ['1:participant', '2:participant', '11:observer'],
  );
  assert.throws(() => parseEnsembleConfig('server.1=nonsense\nversion=1', 'zk'), ZooKeeperResponseError);
});

test('reconfigAddArgv: the local argv prefix, then only checked values', () => {
  const cli = ['/usr/bin/java', '-cp', '/usr/share/java/zookeeper.jar', 'org.apache.zookeeper.ZooKeeperMain'];
  const line = formatServerLine(observer);
  assert.deepEqual(reconfigAddArgv(cli, { host: 'zk1', port: 2181 }, line), [
    ...cli,
    '-timeout',
    '15000',
    '-server',
    'zk1:2181',
    'reconfig',
    '-add',
    line,
  ]);
  assert.throws(() => reconfigAddArgv(undefined, { host: 'zk1', port: 2181 }, line), ZooKeeperCliNotConfiguredError);
  assert.throws(() => reconfigAddArgv([], { host: 'zk1', port: 2181 }, line), ZooKeeperCliNotConfiguredError);
  assert.throws(() => reconfigAddArgv(cli, { host: '-x', port: 2181 }, line), /server.host/);
  assert.throws(() => reconfigAddArgv(cli, { host: 'zk1', port: 0 }, line), /server.port/);
  for (const bad of [
    `${line} -remove 1`,
    `${line}\nserver.1=a:1:2`,
    'server.11=zk11:2888:3888:observer;0.0.0.0:2181',
    'server.11=zk11:2888:3888;2181',
    'server.011=zk11:2888:3888:observer;2181',
  ])
    assert.throws(() => reconfigAddArgv(cli, { host: 'zk1', port: 2181 }, bad), InvalidInputError, bad);
});

test('reconfigRemoveArgv: the local argv prefix, then `reconfig -remove <id>` with a checked id only', () => {
  const cli = ['/usr/bin/java', '-cp', '/usr/share/java/zookeeper.jar', 'org.apache.zookeeper.ZooKeeperMain'];
  assert.deepEqual(reconfigRemoveArgv(cli, { host: 'zk1', port: 2181 }, 11), [
    ...cli,
    '-timeout',
    '15000',
    '-server',
    'zk1:2181',
    'reconfig',
    '-remove',
    '11',
  ]);
  assert.throws(() => reconfigRemoveArgv(undefined, { host: 'zk1', port: 2181 }, 11), ZooKeeperCliNotConfiguredError);
  assert.throws(() => reconfigRemoveArgv(cli, { host: '-x', port: 2181 }, 11), /server.host/);
  for (const bad of [0, 256, 1.5, Number.NaN, '11,1' as unknown as number])
    assert.throws(
      () => reconfigRemoveArgv(cli, { host: 'zk1', port: 2181 }, bad),
      (e: unknown) => e instanceof InvalidInputError && e.field === 'id',
      String(bad),
    );
});
