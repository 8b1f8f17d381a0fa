// Observers added to a real ZooKeeper 3.8 ensemble WITHOUT reconfigEnabled, the static way, by the
// agents: three voters (reconfigEnabled=false), each run by its own Drover agent with the `process`
// service manager from the agent's local config, and an empty observer node with an agent of its own.
// The plan's observers phase, as `drover kafka migrate` writes it for such an ensemble (observersPhase,
// method static), is carried out by `drover apply`: `zookeeper.voters-add-observers` on the voters one
// at a time (each adds the observer's line to its own zoo.cfg and restarts), then
// `zookeeper.observer-join` (method static, no reconfig) and the `zookeeper.observer-verify` gate.
// A client writes a znode every 200 ms throughout: the quorum must serve writes while each voter
// restarts. A second apply restarts no voter. The rollback removes the lines again (one restart each).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Drover, kafka, type PlanRun, readJob, readRuns } from '@drover/coordinator';
import { ACL, CreateMode, createClient, type Exception, Id } from 'node-zookeeper-client';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, runJob } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { freePort, makeTempDir, type ProcessHandle, waitFor } from '../harness/process.ts';
import { javaBinary, zookeeperJar } from '../harness/versions.ts';
import { fourLetter } from '../harness/zookeeper.ts';

const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];
const LOG4J = `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
`;

interface Server {
  id: number;
  host: string;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  dir: string;
  configFile: string;
  logFile: string;
}

let fleet: Fleet;
let d: Drover;
let dir: string;
const agents: ProcessHandle[] = [];
const voters: Server[] = [];
let observer: Server;

const ensemble = () =>
  voters.map(({ id, host, clientPort, quorumPort, electionPort }) => ({
    id,
    host,
    clientPort,
    quorumPort,
    electionPort,
  }));
const observerServer = () => ({
  id: observer.id,
  host: observer.host,
  clientPort: observer.clientPort,
  quorumPort: observer.quorumPort,
  electionPort: observer.electionPort,
});
/** How many times a server's log says it started (ZooKeeper logs this once per JVM). */
const starts = (s: Server) =>
  fs.existsSync(s.logFile) ? (fs.readFileSync(s.logFile, 'utf8').match(/Starting quorum peer/g) ?? []).length : 0;
const mode = async (s: Server) => {
  try {
    return (await fourLetter(s, 'srvr')).fields.Mode ?? null;
  } catch {
    return null;
  }
};

async function server(id: number): Promise<Server> {
  const home = path.join(dir, `zk-${id}`);
  return {
    id,
    host: '127.0.0.1',
    clientPort: await freePort(),
    quorumPort: await freePort(),
    electionPort: await freePort(),
    dir: home,
    configFile: path.join(home, 'zoo.cfg'),
    logFile: path.join(home, 'zk.log'),
  };
}

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  dir = makeTempDir('zk-static');
  fleet = createFleet(path.join(dir, 'fleet'), nats.urls, nats.security);
  d = await connect(fleet);
  const confDir = path.join(dir, 'conf');
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(path.join(confDir, 'log4j.properties'), LOG4J);
  const classpath = [confDir, zookeeperJar(), ...LOGGING_JARS.filter((j) => fs.existsSync(j))].join(':');
  const java = javaBinary();
  for (const id of [1, 2, 3]) voters.push(await server(id));
  observer = await server(11);
  // The voters' own static config, as an operator's ensemble has it: no reconfigEnabled (3.5.3+ default false).
  for (const v of voters) {
    fs.mkdirSync(path.join(v.dir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(v.dir, 'data', 'myid'), `${v.id}\n`);
    fs.writeFileSync(
      v.configFile,
      [
        `# zk-${v.id}, a voter of the source ensemble (static config)`,
        'tickTime=1000',
        'initLimit=20',
        'syncLimit=10',
        `dataDir=${path.join(v.dir, 'data')}`,
        `clientPort=${v.clientPort}`,
        'standaloneEnabled=false',
        'admin.enableServer=false',
        '4lw.commands.whitelist=srvr,mntr,conf,ruok',
        ...voters.map((o) => `server.${o.id}=127.0.0.1:${o.quorumPort}:${o.electionPort}:participant;${o.clientPort}`),
        '',
      ].join('\n'),
    );
  }
  const zookeeperService = (s: Server) => ({
    manager: 'process' as const,
    argv: [
      java,
      '-Xmx96m',
      '-Xms32m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-cp',
      classpath,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      s.configFile,
    ],
    logFile: s.logFile,
    readyPort: { host: '127.0.0.1', port: s.clientPort },
  });
  for (const s of [...voters, observer]) {
    const isObserver = s === observer;
    agents.push(
      await fleet.startAgent({
        id: `zk-${s.id}`,
        labels: { cluster: 'zk-a', role: isObserver ? 'observer' : 'voter', server: String(s.id) },
        node: {
          zookeeper: {
            service: 'zookeeper',
            configFile: s.configFile,
            dataDir: path.join(s.dir, 'data'),
            myid: s.id,
            host: s.host,
            clientPort: s.clientPort,
            quorumPort: s.quorumPort,
            electionPort: s.electionPort,
            extraConfig: { tickTime: 1000, initLimit: 20, syncLimit: 10 },
          },
          services: { zookeeper: zookeeperService(s) },
        },
      }),
    );
  }
  // The agents start their voters (the ensemble runs before the migration, as in production).
  const started = await runJob(d, fleet, {
    step: 'service',
    params: { name: 'zookeeper', action: 'start' },
    selector: 'cluster=zk-a,role=voter',
  });
  assert.equal(started.job.state, 'succeeded');
  await waitFor(
    async () => {
      const modes = await Promise.all(voters.map(mode));
      return modes.filter((m) => m === 'leader').length === 1 && modes.filter((m) => m === 'follower').length === 2;
    },
    { timeoutMs: 90_000, what: 'the 3 voters to form a quorum' },
  );
});

after(async () => {
  await d?.close();
  // Stopping an agent stops the ZooKeeper it supervises.
  await Promise.all(agents.map((a) => a.stop('SIGTERM', 60_000)));
});

/** A client writing one znode every 200 ms (at most one write in flight, 1 s each). */
function startWriter() {
  const client = createClient(voters.map((v) => `127.0.0.1:${v.clientPort}`).join(','), {
    sessionTimeout: 30_000,
    spinDelay: 100,
  });
  client.connect();
  const successes: number[] = [];
  const failures: number[] = [];
  let pending = false;
  let n = 0;
  const write = () => {
    if (pending) return;
    pending = true;
    const at = Date.now();
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      pending = false;
      (ok ? successes : failures).push(at);
    };
    const timer = setTimeout(() => settle(false), 1000);
    client.setData('/drover-writes', Buffer.from(String(n++)), -1, (error) => {
      clearTimeout(timer);
      settle(!error);
    });
  };
  const ready = new Promise<void>((resolve, reject) => {
    client.once('connected', () =>
      client.create(
        '/drover-writes',
        Buffer.from('0'),
        [new ACL(31, new Id('world', 'anyone'))],
        CreateMode.PERSISTENT,
        (error) => {
          if (error && (error as Exception).getCode() !== -110) reject(error);
          else resolve();
        },
      ),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  return {
    successes,
    failures,
    async start() {
      await ready;
      timer = setInterval(write, 200);
    },
    stop() {
      clearInterval(timer);
      client.close();
    },
  };
}

async function apply(name: string, document: ReturnType<typeof kafka.migrationPlanFile>, extra: string[] = []) {
  const file = path.join(dir, `${name}.plan.yaml`);
  fs.writeFileSync(file, kafka.planFileYaml(document, name));
  const applied = await fleet.drover(['apply', file, '--yes', '--json', ...extra], { timeoutMs: 600_000 });
  return { applied, run: JSON.parse(applied.stdout || '{}') as PlanRun, file };
}

/** The results of a step's job in a run, by agent, with when each agent's order ran. */
async function results(run: PlanRun, phase: string, step: string, kind: 'step' | 'rollback' = 'step') {
  const p = run.phases.find((x) => x.name === phase);
  const s = (kind === 'step' ? p?.steps : p?.rollback)?.find((x) => x.name === step);
  assert.ok(s?.jobId, `${phase}/${step} ran a job`);
  const { job } = await readJob(d.jobs, s.jobId);
  const runs = await readRuns(d.runs, job);
  return [...runs.values()]
    .map((r) => ({
      agent: r.agentId,
      output: r.result?.output as Record<string, unknown>,
      startedAt: r.acceptedAt ?? r.dispatchedAt ?? 0,
      finishedAt: r.finishedAt ?? 0,
    }))
    .sort((a, b) => a.startedAt - b.startedAt);
}

const planDocument = () => ({
  apiVersion: 'drover/v1' as const,
  kind: 'Plan' as const,
  metadata: { name: 'zk-static-observers', cluster: 'zk-a' },
  phases: [
    kafka.observersPhase({
      agents: 'cluster=zk-a,role=observer',
      ensemble: ensemble(),
      method: 'static',
      voterAgents: 'cluster=zk-a,role=voter',
      servers: [observerServer()],
    }),
  ],
});

test('inspect reports reconfigEnabled=false on every voter; the choice is the static way', async () => {
  const inspected = await runJob(d, fleet, {
    step: 'zookeeper.voters-add-observers',
    params: { action: 'inspect' },
    selector: 'cluster=zk-a,role=voter',
  });
  assert.equal(inspected.job.state, 'succeeded');
  const inspections = inspected.runs.map((r) => {
    const out = r.result?.output as { myid: number; reconfigEnabled: boolean; restarted: boolean };
    assert.equal(out.restarted, false);
    return { agentId: r.agentId, myid: out.myid, reconfigEnabled: out.reconfigEnabled };
  });
  assert.deepEqual(
    inspections.map((i) => i.reconfigEnabled),
    [false, false, false],
  );
  assert.equal(kafka.chooseJoinMethod(inspections, ensemble(), [observerServer()]).method, 'static');
  for (const v of voters) assert.equal(starts(v), 1, `zk-${v.id} not restarted by inspect`);
});

test('a voter refuses to restart while another voter is down, changing nothing', { timeout: 120_000 }, async () => {
  const stopped = await runJob(d, fleet, {
    step: 'service',
    params: { name: 'zookeeper', action: 'stop' },
    selector: 'cluster=zk-a,server=3',
  });
  assert.equal(stopped.job.state, 'succeeded');
  assert.equal(stopped.runs.length, 1);
  await waitFor(async () => (await mode(voters[0]!)) !== null && (await mode(voters[2]!)) === null, {
    timeoutMs: 30_000,
    what: 'zk-3 down, zk-1 serving',
  });
  const before = fs.readFileSync(voters[0]!.configFile, 'utf8');
  const refused = await runJob(d, fleet, {
    step: 'zookeeper.voters-add-observers',
    params: { action: 'add', observers: [observerServer()] },
    selector: 'cluster=zk-a,server=1',
  });
  const result = refused.runs[0]?.result;
  assert.equal(result?.status, 'failed');
  assert.equal(result?.error?.name, 'ZooKeeperQuorumAtRiskError', JSON.stringify(result?.error));
  assert.match(result?.error?.message ?? '', /server\.3 \(127\.0\.0\.1:\d+\): /);
  assert.equal(fs.readFileSync(voters[0]!.configFile, 'utf8'), before, 'zoo.cfg untouched');
  assert.equal(starts(voters[0]!), 1, 'zk-1 not restarted');
  const restarted = await runJob(d, fleet, {
    step: 'service',
    params: { name: 'zookeeper', action: 'start' },
    selector: 'cluster=zk-a,server=3',
  });
  assert.equal(restarted.job.state, 'succeeded');
  await waitFor(async () => ['leader', 'follower'].includes((await mode(voters[2]!)) ?? ''), {
    timeoutMs: 60_000,
    what: 'zk-3 serving again',
  });
});

test('apply: each voter restarts once with the observer line, the quorum serves writes throughout, the observer is in sync; again: no restart; rollback: lines removed', {
  timeout: 900_000,
}, async (t) => {
  const baseline = voters.map(starts);
  const writer = startWriter();
  await writer.start();
  await waitFor(() => writer.successes.length >= 5, { timeoutMs: 30_000, what: 'the writer writing' });
  const wroteFrom = Date.now();

  const first = await apply('static', planDocument());
  assert.equal(first.applied.code, 0, first.applied.output);
  assert.equal(first.run.state, 'succeeded', first.run.message);
  const wroteTo = Date.now();
  const votersRan = await results(first.run, 'observers', 'voters-list-observers');
  t.diagnostic(JSON.stringify(votersRan.map((r) => ({ agent: r.agent, ms: r.finishedAt - r.startedAt, ...r.output }))));
  assert.equal(votersRan.length, 3);
  const line = `server.11=127.0.0.1:${observer.quorumPort}:${observer.electionPort}:observer;${observer.clientPort}`;
  for (const r of votersRan) {
    assert.equal(r.output.restarted, true, `${r.agent} restarted`);
    assert.equal(r.output.changedFile, true);
    assert.deepEqual(r.output.linesChanged, [line]);
    assert.ok(['leader', 'follower'].includes(r.output.mode as string), `${r.agent} serves: ${r.output.mode}`);
    assert.ok((r.output.votersServing as number) >= 2);
    assert.ok((r.output.membership as string[]).includes(line), `${r.agent} runs with the observer line`);
  }
  // One at a time: no two voters' orders overlap.
  for (let i = 1; i < votersRan.length; i++)
    assert.ok(votersRan[i]!.startedAt >= votersRan[i - 1]!.finishedAt, 'the voters ran one at a time');
  assert.deepEqual(
    voters.map(starts),
    baseline.map((n) => n + 1),
    'each voter restarted exactly once',
  );
  for (const v of voters)
    assert.match(fs.readFileSync(v.configFile, 'utf8'), new RegExp(`^${line.replaceAll('.', '\\.')}$`, 'm'));

  // The quorum served writes while each voter restarted.
  for (const r of votersRan) {
    const during = writer.successes.filter((at) => at >= r.startedAt && at <= r.finishedAt).length;
    t.diagnostic(`${r.agent}: ${during} writes succeeded during its ${r.finishedAt - r.startedAt} ms`);
    assert.ok(during >= 1, `writes succeeded while ${r.agent} restarted`);
  }
  const inWindow = writer.successes.filter((at) => at >= wroteFrom && at <= wroteTo);
  let longest = 0;
  for (let i = 1; i < inWindow.length; i++) longest = Math.max(longest, inWindow[i]! - inWindow[i - 1]!);
  t.diagnostic(`writes: ${inWindow.length} ok, ${writer.failures.length} failed; longest gap ${longest} ms`);
  assert.ok(longest <= 10_000, `the longest time without a successful write was ${longest} ms`);

  // The observer: joined the static way (no reconfig), in sync, the gate passed.
  const joined = await results(first.run, 'observers', 'join');
  assert.equal(joined[0]?.output.method, 'static');
  assert.equal(joined[0]?.output.reconfigured, false);
  assert.equal(joined[0]?.output.votersMustRestart, false);
  assert.equal(joined[0]?.output.mode, 'observer');
  const gate = await results(first.run, 'observers', 'in-sync');
  assert.equal(gate[0]?.output.ok, true, JSON.stringify(gate[0]?.output.problems));
  assert.equal(gate[0]?.output.mode, 'observer');
  assert.equal(gate[0]?.output.zxid, gate[0]?.output.leaderZxid);
  assert.equal(gate[0]?.output.listed, true);
  assert.equal((await fourLetter(observer, 'mntr')).fields.zk_peer_state, 'observing - broadcast');

  // Again: nothing restarts.
  const second = await apply('static-again', planDocument());
  assert.equal(second.run.state, 'succeeded', second.run.message);
  for (const r of await results(second.run, 'observers', 'voters-list-observers')) {
    assert.equal(r.output.restarted, false, `${r.agent} not restarted again`);
    assert.equal(r.output.changedFile, false);
  }
  assert.deepEqual(
    voters.map(starts),
    baseline.map((n) => n + 1),
    'no voter restarted by the second run',
  );

  // Rollback of the phase: the observer stops, every voter restarts once without its line.
  const rolled = await fleet.drover(['run', 'rollback', second.run.id, '--json'], { timeoutMs: 600_000 });
  assert.equal(rolled.code, 0, rolled.output);
  const afterRollback = JSON.parse(rolled.stdout) as PlanRun;
  const removed = await results(afterRollback, 'observers', 'voters-forget-observers', 'rollback');
  for (const r of removed) {
    assert.equal(r.output.restarted, true);
    assert.deepEqual(r.output.linesChanged, [line]);
    assert.ok(!(r.output.membership as string[]).includes(line));
  }
  for (const v of voters) assert.doesNotMatch(fs.readFileSync(v.configFile, 'utf8'), /^server\.11=/m);
  assert.deepEqual(
    voters.map(starts),
    baseline.map((n) => n + 2),
  );
  assert.equal(await mode(observer), null, 'the observer stopped');
  writer.stop();
});
