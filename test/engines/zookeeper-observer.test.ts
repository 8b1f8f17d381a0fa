// The seed's step 4 on a real ensemble: Debian's ZooKeeper 3.8 with 3 voters (reconfigEnabled=true,
// skipACL=yes, standaloneEnabled=false, as the harness starts them) and a fourth server that the
// agent's `process` service manager runs from the agent's local config. zookeeper.observer-join
// renders its zoo.cfg, starts it and adds it by `reconfig -add`; zookeeper.observer-verify then
// reports it caught up after writes on the voters. Both steps run through the agent's runner with
// a hand-made request (as agent/test/clients/services/step-context.test.ts does).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { OrderResult, ZooKeeperNodeConfig } from '@drover/shared';
import { ServiceManager } from '../../agent/src/clients/services/index.ts';
import { ZooKeeperClient } from '../../agent/src/clients/zookeeper/index.ts';
import { silentLogger } from '../../agent/src/log.ts';
import { runStep } from '../../agent/src/runner.ts';
import type { StepImplementation } from '../../agent/src/steps/context.ts';
import { zookeeperObserverJoinImplementation } from '../../agent/src/steps/zookeeper/observer-join.ts';
import { zookeeperObserverLeaveImplementation } from '../../agent/src/steps/zookeeper/observer-leave.ts';
import { zookeeperObserverVerifyImplementation } from '../../agent/src/steps/zookeeper/observer-verify.ts';
import { freePort, makeTempDir } from '../harness/process.ts';
import { javaBinary, zookeeperJar } from '../harness/versions.ts';
import { startZooKeeper, type ZooKeeperEnsemble } from '../harness/zookeeper.ts';

const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];

let zk: ZooKeeperEnsemble;
let services: ServiceManager;
let node: ZooKeeperNodeConfig;
/** A second would-be observer, for the static way. */
let node12: ZooKeeperNodeConfig;
let dir: string;

before(async () => {
  zk = await startZooKeeper({ voters: 3 });
  dir = makeTempDir('zookeeper-observer');
  // The harness's conf dir holds its log4j.properties (everything to the console, i.e. the log file).
  const classpath = [path.join(zk.dir, 'conf'), zookeeperJar(), ...LOGGING_JARS.filter((j) => fs.existsSync(j))].join(
    ':',
  );
  const java = javaBinary();
  const jvm = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', classpath];
  node = {
    service: 'zookeeper',
    configFile: path.join(dir, 'zk-11', 'zoo.cfg'),
    dataDir: path.join(dir, 'zk-11', 'data'),
    myid: 11,
    host: '127.0.0.1',
    clientPort: await freePort(),
    quorumPort: await freePort(),
    electionPort: await freePort(),
    adminPort: await freePort(),
    cliArgv: [java, '-Xmx64m', '-Dzookeeper.root.logger=WARN,CONSOLE', ...jvm, 'org.apache.zookeeper.ZooKeeperMain'],
    extraConfig: { tickTime: 1000, initLimit: 20, syncLimit: 10, skipACL: 'yes' },
  };
  node12 = {
    ...node,
    service: 'zookeeper-12',
    configFile: path.join(dir, 'zk-12', 'zoo.cfg'),
    dataDir: path.join(dir, 'zk-12', 'data'),
    myid: 12,
    clientPort: await freePort(),
    quorumPort: await freePort(),
    electionPort: await freePort(),
    adminPort: await freePort(),
  };
  // What the agent's config would say: the service runs QuorumPeerMain on the zoo.cfg the step renders.
  const service = (zookeeper: ZooKeeperNodeConfig) => ({
    manager: 'process' as const,
    argv: [
      java,
      '-Xmx128m',
      '-Xms32m',
      '-Dzookeeper.root.logger=INFO,CONSOLE',
      ...jvm,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      zookeeper.configFile,
    ],
    logFile: path.join(dir, `zk-${zookeeper.myid}.log`),
    readyPort: { host: '127.0.0.1', port: zookeeper.clientPort },
  });
  services = new ServiceManager({
    services: { zookeeper: service(node), 'zookeeper-12': service(node12) },
    stateDir: path.join(dir, 'agent-state'),
  });
});

after(async () => {
  await services?.stopSupervised();
  await zk?.stop();
});

async function run(
  implementation: StepImplementation,
  params: unknown,
  zookeeper: ZooKeeperNodeConfig = node,
): Promise<OrderResult> {
  const progress: string[] = [];
  const result = await runStep({
    info: {
      jobId: 'job-zk',
      orderId: `order-${Date.now()}`,
      agentId: 'agent-zk11',
      step: implementation.definition.name,
      deadline: Date.now() + 300_000,
    },
    params,
    timeoutMs: 300_000,
    implementation,
    agent: { id: 'agent-zk11', version: '0', labels: {}, commands: {} },
    logger: silentLogger(),
    sinks: { progress: (message) => progress.push(message), output: () => {} },
    cancel: new AbortController().signal,
    services,
    node: { zookeeper },
  });
  return result;
}

const join = zookeeperObserverJoinImplementation as unknown as StepImplementation;
const verify = zookeeperObserverVerifyImplementation as unknown as StepImplementation;
const leave = zookeeperObserverLeaveImplementation as unknown as StepImplementation;
const ensemble = () =>
  zk.voters.map((v) => ({
    id: v.id,
    host: v.host,
    quorumPort: v.quorumPort,
    electionPort: v.electionPort,
    clientPort: v.clientPort,
  }));
const voterAddresses = () => zk.voters.map((v) => ({ host: v.host, clientPort: v.clientPort }));

test('a bad host in params is refused before anything is written or started', async () => {
  const bad = ensemble();
  bad[1] = { ...bad[1]!, host: '127.0.0.1:1:2:participant;1\nserver.99=evil' };
  const result = await run(join, { ensemble: bad, method: 'reconfig' });
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.name, 'InvalidInputErrors');
  assert.match(result.error?.message ?? '', /params\.ensemble\.1\.host/);
  assert.equal(fs.existsSync(node.configFile), false);
  assert.equal(fs.existsSync(node.dataDir), false);
  assert.equal((await services.status('zookeeper')).state, 'stopped');
});

test('observer-join by reconfig, writes on the voters, observer-verify ok; a second join changes nothing', {
  timeout: 240_000,
}, async (t) => {
  const started = Date.now();
  const joined = await run(join, { ensemble: ensemble(), method: 'reconfig' });
  assert.equal(joined.status, 'succeeded', JSON.stringify(joined.error));
  const out = joined.output as Record<string, unknown>;
  t.diagnostic(`joined in ${Date.now() - started} ms: ${JSON.stringify(out)}`);
  assert.equal(out.changed, true);
  assert.equal(out.mode, 'observer');
  assert.equal(out.reconfigured, true);
  assert.equal(out.serviceOutcome, 'started');
  assert.equal(
    out.observerLine,
    `server.11=127.0.0.1:${node.quorumPort}:${node.electionPort}:observer;${node.clientPort}`,
  );
  assert.equal(out.zxid, out.leaderZxid);
  assert.equal(fs.readFileSync(path.join(node.dataDir, 'myid'), 'utf8'), '11\n');

  // Every voter now lists the observer (the committed dynamic config).
  for (const voter of zk.voters) {
    const config = await new ZooKeeperClient({ host: voter.host, port: voter.clientPort }).getConfig();
    assert.ok(
      config.members.some((m) => m.id === 11 && m.role === 'observer' && m.clientPort === node.clientPort),
      `zk-${voter.id} lists server.11: ${JSON.stringify(config.members)}`,
    );
  }

  // Writes through two voters; the observer learns them from the leader.
  await zk.cliScript(
    ['create /drover root', ...[0, 1, 2, 3, 4].map((i) => `create /drover/n${i} v${i}`)],
    zk.voters[0]!.address,
  );
  await zk.cliScript(['create /drover/late x', 'set /drover/n0 changed'], zk.voters[2]!.address);

  // The observer must hold at least every write made above (later zxids are sessions opening and closing).
  const leader = await zk.leader();
  const afterWrites = (await zk.fourLetter(leader!, 'srvr')).fields.Zxid ?? '0x0';
  const verifyStarted = Date.now();
  const verified = await run(verify, { voters: voterAddresses() });
  assert.equal(verified.status, 'succeeded', JSON.stringify(verified.error));
  const verdict = verified.output as Record<string, unknown>;
  t.diagnostic(`verified in ${Date.now() - verifyStarted} ms: ${JSON.stringify(verdict)}`);
  assert.equal(verdict.ok, true, JSON.stringify(verdict.problems));
  assert.equal(verdict.mode, 'observer');
  assert.equal(verdict.zxid, verdict.leaderZxid);
  assert.ok(BigInt(verdict.zxid as string) >= BigInt(afterWrites), `${verdict.zxid} >= ${afterWrites}`);
  assert.equal(verdict.znodes, verdict.leaderZnodes);
  assert.equal(verdict.peerState, 'observing - broadcast');
  assert.equal(verdict.listed, true);

  const again = await run(join, { ensemble: ensemble(), method: 'reconfig' });
  assert.equal(again.status, 'succeeded', JSON.stringify(again.error));
  const second = again.output as Record<string, unknown>;
  assert.equal(second.changed, false);
  assert.equal(second.reconfigured, false);
  assert.equal(second.serviceOutcome, 'untouched');
});

test('observer-verify on a stopped observer reports not ok instead of failing', { timeout: 60_000 }, async () => {
  await services.stop('zookeeper');
  const verified = await run(verify, { voters: voterAddresses(), settleMs: 1_000 });
  assert.equal(verified.status, 'succeeded', JSON.stringify(verified.error));
  const verdict = verified.output as Record<string, unknown>;
  assert.equal(verdict.ok, false);
  assert.equal(verdict.mode, null);
  assert.match((verdict.problems as string[])[0] ?? '', /does not answer srvr/);
});

test('observer-join the static way: started as an observer; the result says the voters must be restarted', {
  timeout: 120_000,
}, async (t) => {
  const joined = await run(join, { ensemble: ensemble(), method: 'static' }, node12);
  assert.equal(joined.status, 'succeeded', JSON.stringify(joined.error));
  const out = joined.output as Record<string, unknown>;
  t.diagnostic(JSON.stringify(out));
  assert.equal(out.changed, true);
  assert.equal(out.reconfigured, false);
  assert.equal(out.votersMustRestart, true);
  assert.match((out.notes as string[]).join(' '), /restarted, one at a time, with server\.12=127\.0\.0\.1:/);
  assert.doesNotMatch(fs.readFileSync(node12.configFile, 'utf8'), /reconfigEnabled/);
  // Until the voters know it, the gate must not pass.
  const verified = await run(verify, { voters: voterAddresses(), settleMs: 2_000 }, node12);
  const verdict = verified.output as Record<string, unknown>;
  t.diagnostic(JSON.stringify(verdict));
  assert.equal(verdict.ok, false);
  assert.equal(verdict.listed, false);
  await services.stop('zookeeper-12');
});

test('observer-leave (the rollback): reconfig -remove through the leader, every voter forgets server.11, stopped; again: nothing', {
  timeout: 240_000,
}, async (t) => {
  // Server 11 joined by reconfig above and was stopped since: the ensemble still lists it.
  const rejoined = await run(join, { ensemble: ensemble(), method: 'reconfig' });
  assert.equal(rejoined.status, 'succeeded', JSON.stringify(rejoined.error));
  assert.equal((rejoined.output as Record<string, unknown>).mode, 'observer');
  const left = await run(leave, { ensemble: ensemble() });
  assert.equal(left.status, 'succeeded', JSON.stringify(left.error));
  const out = left.output as Record<string, unknown>;
  t.diagnostic(JSON.stringify(out));
  assert.equal(out.removed, true);
  assert.equal(out.serviceOutcome, 'stopped');
  assert.match(out.reconfigVia as string, /^127\.0\.0\.1:\d+$/);
  for (const voter of zk.voters) {
    const config = await new ZooKeeperClient({ host: voter.host, port: voter.clientPort }).getConfig();
    assert.ok(!config.members.some((m) => m.id === 11), `zk-${voter.id} no longer lists server.11`);
    assert.equal(config.members.filter((m) => m.role === 'participant').length, 3, 'the voters stay');
  }
  assert.equal((await services.status('zookeeper')).state, 'stopped');
  const again = await run(leave, { ensemble: ensemble() });
  assert.equal(again.status, 'succeeded', JSON.stringify(again.error));
  assert.equal((again.output as Record<string, unknown>).removed, false);
  assert.equal((again.output as Record<string, unknown>).serviceOutcome, 'already-stopped');
});

test('observer-leave refuses to remove a server that is not this node, changing nothing', {
  timeout: 60_000,
}, async () => {
  // Pretend this node is server 1 (a voter): the config gives id 1 to another server.
  const impostor = { ...node, myid: 1 };
  const refused = await run(leave, { ensemble: ensemble() }, impostor);
  assert.equal(refused.status, 'failed');
  assert.equal(refused.error?.name, 'ZooKeeperMemberConflictError');
  const config = await new ZooKeeperClient({ host: zk.voters[0]!.host, port: zk.voters[0]!.clientPort }).getConfig();
  assert.ok(
    config.members.some((m) => m.id === 1 && m.role === 'participant'),
    'server.1 still a voter',
  );
});
