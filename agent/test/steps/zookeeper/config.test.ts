// The agent config's `zookeeper` section and the observer steps' params: what an order may carry is
// names and validated values; what the node is (paths, argv) comes only from the config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentConfigSchema, InvalidInputErrors, validateStepParams, ZooKeeperNodeConfigSchema } from '@drover/shared';

const zookeeper = {
  configFile: '/etc/zookeeper/zoo.cfg',
  dataDir: '/var/lib/zookeeper',
  myid: 11,
  host: 'zk11.dst.example',
  clientPort: 2181,
  quorumPort: 2888,
  electionPort: 3888,
};

test('a zookeeper section with defaults filled', () => {
  const config = AgentConfigSchema.parse({
    id: 'agent-zk11',
    nats: { servers: ['nats://127.0.0.1:4222'] },
    trustedKeys: ['key'],
    stateDir: '/var/lib/drover',
    zookeeper: {
      ...zookeeper,
      cliArgv: ['java', 'org.apache.zookeeper.ZooKeeperMain'],
      extraConfig: { tickTime: 2000 },
    },
  });
  assert.equal(config.zookeeper?.service, 'zookeeper');
  assert.equal(config.zookeeper?.myid, 11);
});

test('refused: relative paths, myid out of range, equal ports, rendered keys in extraConfig', () => {
  const problems = (input: Record<string, unknown>) => {
    const parsed = ZooKeeperNodeConfigSchema.safeParse({ ...zookeeper, ...input });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.match(problems({ configFile: 'zoo.cfg' }).join(), /configFile: expected an absolute path/);
  assert.match(problems({ myid: 0 }).join(), /myid/);
  assert.match(problems({ myid: 256 }).join(), /myid/);
  assert.match(problems({ host: 'a b' }).join(), /host/);
  assert.match(problems({ electionPort: 2888 }).join(), /ports must differ/);
  assert.match(problems({ adminPort: 2181 }).join(), /ports must differ/);
  assert.match(
    problems({ extraConfig: { peerType: 'participant' } }).join(),
    /extraConfig.peerType: peerType is rendered/,
  );
  assert.match(problems({ extraConfig: { 'server.1': 'a:1:2' } }).join(), /extraConfig.server.1/);
  assert.match(problems({ extraConfig: { tickTime: '1\nx=y' } }).join(), /extraConfig.tickTime/);
  assert.match(problems({ cliArgv: [] }).join(), /cliArgv/);
  assert.deepEqual(problems({}), []);
});

test('observer-join params: a bad host, an unknown key (a path) and repeated ids are refused by field', () => {
  const voter = { id: 1, host: 'zk1', quorumPort: 2888, electionPort: 3888, clientPort: 2181 };
  assert.deepEqual(validateStepParams('zookeeper.observer-join', { ensemble: [voter] }), {
    ensemble: [voter],
    method: 'reconfig',
    syncTimeoutMs: 120_000,
  });
  const fields = (params: unknown) => {
    try {
      validateStepParams('zookeeper.observer-join', params);
      return [];
    } catch (error) {
      assert.ok(error instanceof InvalidInputErrors);
      return error.problems.map((p) => p.field);
    }
  };
  assert.deepEqual(fields({ ensemble: [{ ...voter, host: 'zk1;rm -rf /' }] }), ['params.ensemble.0.host']);
  assert.deepEqual(fields({ ensemble: [voter], configFile: '/etc/passwd' }), ['params']);
  assert.deepEqual(fields({ ensemble: [voter, voter] }), ['params.ensemble']);
  assert.deepEqual(fields({ ensemble: [voter], method: 'rolling' }), ['params.method']);
  assert.deepEqual(fields({ ensemble: [] }), ['params.ensemble']);
});

test('observer-verify params: voters as host and client port', () => {
  assert.deepEqual(validateStepParams('zookeeper.observer-verify', { voters: [{ host: 'zk1', clientPort: 2181 }] }), {
    voters: [{ host: 'zk1', clientPort: 2181 }],
    settleMs: 10_000,
  });
  assert.throws(() => validateStepParams('zookeeper.observer-verify', { voters: [{ host: '', clientPort: 2181 }] }));
});
