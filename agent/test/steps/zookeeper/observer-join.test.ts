// zookeeper.observer-join without ZooKeeper: what it refuses BEFORE writing anything (bad params, no
// local declaration, voters that are not the ensemble's), and the files it writes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { InvalidInputError, InvalidInputErrors, type ZooKeeperNodeConfig } from '@drover/shared';
import type { EnsembleConfig } from '../../../src/clients/zookeeper/index.ts';
import { silentLogger } from '../../../src/log.ts';
import type { StepContext } from '../../../src/steps/context.ts';
import { ZooKeeperMyidConflictError } from '../../../src/steps/zookeeper/errors.ts';
import { ensureMyid, writeFileAtomic } from '../../../src/steps/zookeeper/files.ts';
import { checkVoters, zookeeperObserverJoinImplementation } from '../../../src/steps/zookeeper/observer-join.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-zk-join-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const node: ZooKeeperNodeConfig = {
  service: 'zookeeper',
  configFile: path.join(dir, 'conf', 'zoo.cfg'),
  dataDir: path.join(dir, 'data'),
  myid: 11,
  host: '127.0.0.1',
  clientPort: 1,
  quorumPort: 2,
  electionPort: 3,
};
const calls: string[] = [];
function context(zookeeper: ZooKeeperNodeConfig | undefined): StepContext {
  const refuse = async (name: string): Promise<never> => {
    calls.push(name);
    throw new Error('no service calls expected');
  };
  return {
    info: { jobId: 'j', orderId: 'o', agentId: 'a', step: 'zookeeper.observer-join', deadline: Date.now() + 10_000 },
    signal: new AbortController().signal,
    progress: () => {},
    output: () => {},
    logger: silentLogger(),
    agent: { id: 'a', version: '0', labels: {}, commands: {} },
    services: { start: refuse, stop: refuse, restart: refuse, status: refuse },
    node: zookeeper ? { zookeeper } : {},
  };
}
const voter = { id: 1, host: '127.0.0.1', quorumPort: 4, electionPort: 5, clientPort: 6 };

test('a bad host is refused before anything is read, written or started', async () => {
  await assert.rejects(
    zookeeperObserverJoinImplementation.run(context(node), {
      ensemble: [{ ...voter, host: 'zk1:2888:3888;2181\nserver.99=evil' }],
      method: 'reconfig',
      syncTimeoutMs: 5_000,
    }),
    (e: unknown) => e instanceof InvalidInputErrors && e.problems[0]?.field === 'params.ensemble.0.host',
  );
  await assert.rejects(
    zookeeperObserverJoinImplementation.run(context(node), {
      ensemble: [{ ...voter, id: 11 }],
      method: 'reconfig',
      syncTimeoutMs: 5_000,
    }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'params.ensemble.0.id',
  );
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.deepEqual(calls, []);
});

test('an agent without a zookeeper declaration refuses the step', async () => {
  await assert.rejects(
    zookeeperObserverJoinImplementation.run(context(undefined), {
      ensemble: [voter],
      method: 'static',
      syncTimeoutMs: 5_000,
    }),
    (e: unknown) => e instanceof InvalidInputError && /declares a ZooKeeper server/.test(e.message),
  );
});

test('checkVoters: the voters named must be exactly the ensemble voters, at the same addresses', () => {
  const config: EnsembleConfig = {
    version: '100000000',
    members: [
      { ...voter, role: 'participant', clientHost: '0.0.0.0' },
      { id: 2, host: 'zk2', quorumPort: 4, electionPort: 5, clientPort: 6, role: 'participant', clientHost: null },
      { id: 12, host: 'zk12', quorumPort: 4, electionPort: 5, clientPort: 6, role: 'observer', clientHost: null },
    ],
  };
  const zk2 = { id: 2, host: 'zk2', quorumPort: 4, electionPort: 5, clientPort: 6 };
  checkVoters(config, [voter, zk2]);
  const field = (ensemble: (typeof voter)[]) => {
    try {
      checkVoters(config, ensemble);
      return 'none';
    } catch (error) {
      assert.ok(error instanceof InvalidInputError);
      return `${error.field}: ${error.expected}`;
    }
  };
  assert.match(field([voter]), /^params.ensemble: every voter of the ensemble \(missing server.2=zk2/);
  assert.match(field([voter, { ...zk2, quorumPort: 7 }]), /^params.ensemble.1: server.2 as the ensemble lists it/);
  assert.match(field([voter, zk2, { ...zk2, id: 12 }]), /^params.ensemble.2: a voter of the ensemble/);
});

test('myid is written once; another id in the dataDir is refused; zoo.cfg is replaced whole', () => {
  const dataDir = path.join(dir, 'files', 'data');
  assert.equal(ensureMyid(dataDir, 11), true);
  assert.equal(fs.readFileSync(path.join(dataDir, 'myid'), 'utf8'), '11\n');
  assert.equal(ensureMyid(dataDir, 11), false);
  assert.throws(() => ensureMyid(dataDir, 12), ZooKeeperMyidConflictError);
  const file = path.join(dir, 'files', 'conf', 'zoo.cfg');
  writeFileAtomic(file, 'a=1\n');
  writeFileAtomic(file, 'b=2\n');
  assert.equal(fs.readFileSync(file, 'utf8'), 'b=2\n');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['zoo.cfg']);
});
