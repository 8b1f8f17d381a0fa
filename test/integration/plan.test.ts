// Plans end to end: the drover CLI (`plan validate|show`, `apply`, `run approve|resume|rollback`)
// against a real nats-server and real agent daemons. Phases in order, a failing step or gate stops
// the run with nothing later dispatched, approvals wait, rollback runs the right steps in the right
// order, a coordinator killed mid-phase is resumed with every step started exactly once, two
// coordinators racing on one run: one drives it. Bad plan files exit 2 and write nothing.
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Drover,
  type JobRecord,
  listJobs,
  openRunStore,
  type PlanRun,
  type RunStore,
  readRun,
  readRuns,
} from '@drover/coordinator';
import { KV_PLAN_RUNS, STREAM_AUDIT, STREAM_EVENTS } from '@drover/shared';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';

let nats: NatsCluster;
let fleet: Fleet;
let d: Drover;
let store: RunStore;
const AGENTS = ['plan-1', 'plan-2', 'plan-3', 'plan-4', 'plan-5', 'plan-6'];
let readyFile: string;

before(async () => {
  nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('plan'), nats.urls, nats.security);
  d = await connect(fleet);
  store = await openRunStore(d);
  readyFile = join(fleet.dir, 'ready');
  // Real agent daemons, one process each; `ready` fails until the test creates the file (the "cause").
  await Promise.all(
    AGENTS.map((id, i) =>
      fleet.startAgent({
        id,
        labels: { case: 'plan', rack: `1${'abc'[i % 3]}`, role: i < 3 ? 'source' : 'destination' },
        commands: { ready: { argv: ['/usr/bin/test', '-f', readyFile] } },
      }),
    ),
  );
});

after(async () => {
  await d?.close();
});

let planCount = 0;
function writePlan(yaml: string): string {
  const file = join(fleet.dir, `plan-${++planCount}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

function plan(name: string, phases: string): string {
  return `apiVersion: drover/v1\nkind: Plan\nmetadata: { name: ${name}, cluster: test }\nphases:\n${phases}`;
}

async function droverJson(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; run: PlanRun; output: string }> {
  const result = await fleet.drover([...args, '--json'], { timeoutMs });
  let run: PlanRun;
  try {
    run = JSON.parse(result.stdout) as PlanRun;
  } catch {
    assert.fail(`no JSON from drover ${args.join(' ')} (exit ${result.code}):\n${result.output}`);
  }
  return { code: result.code, run, output: result.output };
}

async function jobsOf(runId: string): Promise<JobRecord[]> {
  return (await listJobs(d.jobs)).filter((j) => j.id.startsWith(`${runId}-`)).sort((a, b) => a.createdAt - b.createdAt);
}

/** Every order of every job of the run started exactly once on its agent (from the agents' journals). */
async function assertEachOrderStartedOnce(runId: string): Promise<number> {
  let orders = 0;
  for (const job of await jobsOf(runId)) {
    for (const run of (await readRuns(d.runs, job)).values()) {
      // A final record keeps its order's id; the signed order only while the target is on its way.
      const orderId = run.order?.orderId ?? run.orderId;
      if (!orderId) continue;
      orders++;
      assert.equal(fleet.journalStarts(run.agentId, orderId), 1, `${orderId} on ${run.agentId}`);
    }
  }
  return orders;
}

async function nothingWritten<T>(what: () => Promise<T>): Promise<T> {
  const count = async () => {
    const keys: string[] = [];
    for await (const k of await store.kv.keys()) keys.push(k);
    const audit = (await d.jsm.streams.info(STREAM_AUDIT)).state.messages;
    const events = (await d.jsm.streams.info(STREAM_EVENTS)).state.messages;
    const jobs = (await listJobs(d.jobs)).length;
    return { runKeys: keys.length, audit, events, jobs };
  };
  const before = await count();
  const result = await what();
  assert.deepEqual(await count(), before, `nothing written to ${KV_PLAN_RUNS}, jobs, audit or events`);
  return result;
}

const THREE_PHASES = plan(
  'three-phases',
  `  - name: prepare
    steps:
      - { name: warm, step: sleep, target: "case=plan", params: { seconds: 1 }, concurrency: 50% }
  - name: check
    steps:
      - { name: hello, step: ping, target: "case=plan,role=source" }
    gate:
      - name: all-labelled
        step: ping
        target: [plan-1, plan-2, plan-3, plan-4, plan-5, plan-6]
        expect: { field: labels.case, equals: plan }
  - name: finish
    steps:
      - { name: rack-by-rack, step: sleep, target: "case=plan", params: { seconds: 0 }, serialBy: rack }
`,
);

describe('plans', () => {
  test('bad plan files and bad flags exit 2 with file, line, column, field and value; nothing is written', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['YAML syntax', 'apiVersion: drover/v1\nkind: Plan\nphases: [\n', /plan-\d+\.yaml:\d+:\d+: YAML: got/],
      [
        'unknown step',
        THREE_PHASES.replace('step: ping, target: "case=plan,role', 'step: pong, target: "case=plan,role'),
        /plan-\d+\.yaml:10:\d+: phases\[1\]\.steps\[0\]\.step: got "pong", expected one of/,
      ],
      [
        'bad params',
        THREE_PHASES.replace('params: { seconds: 1 }', 'params: { seconds: -1 }'),
        /plan-\d+\.yaml:7:\d+: phases\[0\]\.steps\[0\]\.params\.seconds: got -1, expected/,
      ],
      [
        'duplicate phase',
        THREE_PHASES.replace('- name: finish', '- name: prepare'),
        /plan-\d+\.yaml:16:\d+: phases\[2\]\.name: got "prepare", expected a phase name not used/,
      ],
      [
        'duplicate step',
        THREE_PHASES.replace('name: all-labelled', 'name: hello'),
        /plan-\d+\.yaml:12:\d+: phases\[1\]\.gate\[0\]\.name: got "hello", expected a step name not used/,
      ],
      [
        'empty selector',
        THREE_PHASES.replace('target: "case=plan,role=source"', 'target: ""'),
        /plan-\d+\.yaml:10:\d+: phases\[1\]\.steps\[0\]\.target: got "", expected a non-empty label selector/,
      ],
    ];
    await nothingWritten(async () => {
      for (const [what, yaml, expected] of cases) {
        const file = writePlan(yaml);
        for (const args of [
          ['plan', 'validate', file],
          ['apply', file, '--yes'],
        ]) {
          const result = await fleet.drover(args);
          assert.equal(result.code, 2, `${what}: drover ${args.join(' ')}\n${result.output}`);
          assert.match(result.output, expected, what);
        }
      }
      const good = writePlan(THREE_PHASES);
      const until = await fleet.drover(['apply', good, '--until', 'nowhere']);
      assert.equal(until.code, 2, until.output);
      assert.match(
        until.output,
        /--until: got "nowhere", expected a phase of plan three-phases: prepare, check, finish/,
      );
      const nobody = await fleet.drover(['apply', writePlan(THREE_PHASES.replace('role=source', 'role=nobody'))]);
      assert.equal(nobody.code, 2, nobody.output);
      assert.match(
        nobody.output,
        /phase check, step hello: target: got "case=plan,role=nobody", expected a selector matching at least one of the 6 registered agents/,
      );
    });
  });

  test('plan show: every order with its resolved targets, and missing agents, dispatching nothing', async () => {
    const file = writePlan(THREE_PHASES.replace('plan-5, plan-6]', 'plan-5, plan-6, plan-99]'));
    const result = await nothingWritten(() => fleet.drover(['plan', 'show', file]));
    assert.equal(result.code, 1, 'apply would refuse: exit 1');
    assert.match(result.output, /phase 1\/3 prepare/);
    assert.match(result.output, /step warm: sleep \{"seconds":1\} -> 6 target\(s\) \[case=plan\]/);
    assert.match(result.output, /step hello: ping \{\} -> 3 target\(s\)/);
    assert.match(result.output, /MISSING \(not registered\): plan-99/);
    assert.match(
      result.output,
      /phase check, gate all-labelled: target: got \["plan-99"\], expected ids of registered agents/,
    );
  });

  test('a three-phase plan runs end to end: phases in order, gate checked, each order started once', async () => {
    const started = Date.now();
    const { code, run, output } = await droverJson(['apply', writePlan(THREE_PHASES)]);
    const ms = Date.now() - started;
    assert.equal(code, 0, output);
    assert.equal(run.state, 'succeeded', output);
    assert.deepEqual(
      run.phases.map((p) => p.state),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    const jobs = await jobsOf(run.id);
    assert.deepEqual(
      jobs.map((j) => j.id.slice(run.id.length + 1)),
      ['p0-s0-a1', 'p1-s0-a1', 'p1-s1-a1', 'p2-s0-a1'],
      'one job per step and gate check, in phase order',
    );
    for (let i = 1; i < jobs.length; i++)
      assert.ok(
        (jobs[i]?.createdAt ?? 0) >= (jobs[i - 1]?.finishedAt ?? Infinity),
        'a step starts after the previous ended',
      );
    assert.equal(await assertEachOrderStartedOnce(run.id), 6 + 3 + 6 + 6);
    const events = await fleet.drover(['run', 'describe', run.id]);
    assert.match(events.output, /gate all-labelled\s+succeeded/);
    // Every transition is audited (deny-delete stream), in order.
    const audited: string[] = [];
    const consumer = await d.js.consumers.get(STREAM_AUDIT, { filter_subjects: `drover.audit.run.${run.id}` });
    const batch = await consumer.fetch({ max_messages: 100, expires: 2000 });
    for await (const m of batch) {
      audited.push((m.json() as { type: string }).type);
      if (m.info.pending === 0) break;
    }
    assert.deepEqual(
      audited.filter((t) => /phase-|run-started|run-succeeded|run-created/.test(t)),
      [
        'run-created',
        'run-started',
        'run-phase-started',
        'run-phase-succeeded',
        'run-phase-started',
        'run-phase-succeeded',
        'run-phase-started',
        'run-phase-succeeded',
        'run-succeeded',
      ],
    );
    process.stdout.write(`# three phases x 6 agents: apply to done in ${ms} ms\n`);
  });

  test('a failing step stops the run at its phase with nothing later dispatched; resume after the fix runs only what is left', async () => {
    rmSync(readyFile, { force: true });
    const file = writePlan(
      plan(
        'fails-then-fixed',
        `  - name: one
    steps:
      - { name: first, step: ping, target: "case=plan" }
  - name: two
    steps:
      - { name: before, step: ping, target: "case=plan,role=source" }
      - { name: needs-ready, step: command, target: "case=plan", params: { name: ready } }
  - name: three
    steps:
      - { name: last, step: ping, target: "case=plan" }
`,
      ),
    );
    const failed = await droverJson(['apply', file]);
    assert.equal(failed.code, 1, failed.output);
    assert.equal(failed.run.state, 'failed');
    assert.equal(failed.run.phase, 1);
    assert.deepEqual(
      failed.run.phases.map((p) => p.state),
      ['succeeded', 'failed', 'pending'],
    );
    assert.match(
      failed.run.message ?? '',
      /phase two: needs-ready .*6 error\(s\) exceed maxErrors 0: plan-\d failed: .*exited with code 1/,
    );
    const afterFailure = (await jobsOf(failed.run.id)).map((j) => j.id.slice(failed.run.id.length + 1));
    assert.deepEqual(afterFailure, ['p0-s0-a1', 'p1-s0-a1', 'p1-s1-a1'], 'nothing of phase three was created');

    writeFileSync(readyFile, 'fixed');
    const resumed = await droverJson(['run', 'resume', failed.run.id]);
    assert.equal(resumed.code, 0, resumed.output);
    assert.equal(resumed.run.state, 'succeeded');
    assert.equal(resumed.run.phases[1]?.steps[1]?.attempt, 2);
    const all = (await jobsOf(failed.run.id)).map((j) => j.id.slice(failed.run.id.length + 1));
    assert.deepEqual(
      all,
      ['p0-s0-a1', 'p1-s0-a1', 'p1-s1-a1', 'p1-s1-a2', 'p2-s0-a1'],
      'only the failed step ran again',
    );
    await assertEachOrderStartedOnce(failed.run.id);
  });

  test('a failing gate stops the run; the reason names the target and the condition', async () => {
    const file = writePlan(
      plan(
        'gate-fails',
        `  - name: one
    steps:
      - { name: hello, step: ping, target: "case=plan" }
    gate:
      - { name: must-be-source, step: ping, target: "case=plan", expect: { field: labels.role, equals: source } }
  - name: two
    steps:
      - { name: never, step: ping, target: "case=plan" }
`,
      ),
    );
    const { code, run, output } = await droverJson(['apply', file]);
    assert.equal(code, 1, output);
    assert.equal(run.state, 'failed');
    assert.equal(run.phases[0]?.steps[1]?.state, 'failed');
    assert.match(
      run.message ?? '',
      /gate must-be-source failed .*plan-4: labels\.role is "destination", expected "source"/,
    );
    assert.equal((await jobsOf(run.id)).length, 2, 'phase two never started');
  });

  test('an approval point waits for `drover run approve`; --yes skips it', async () => {
    const yaml = plan(
      'with-approval',
      `  - name: before
    steps:
      - { name: a, step: ping, target: "case=plan" }
  - name: risky
    approval: true
    steps:
      - { name: b, step: ping, target: "case=plan" }
`,
    );
    const waiting = await droverJson(['apply', writePlan(yaml)]);
    assert.equal(waiting.code, 0, waiting.output);
    assert.equal(waiting.run.state, 'awaiting-approval');
    assert.equal(waiting.run.phases[1]?.state, 'awaiting-approval');
    assert.equal((await jobsOf(waiting.run.id)).length, 1, 'nothing of the risky phase was dispatched');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await readRun(store, waiting.run.id)).run.state, 'awaiting-approval', 'it keeps waiting');

    const approved = await droverJson(['run', 'approve', waiting.run.id, '--by', 'alice']);
    assert.equal(approved.code, 0, approved.output);
    assert.equal(approved.run.state, 'succeeded');
    assert.match(approved.run.phases[1]?.approvedBy ?? '', /^alice via /);

    const yes = await droverJson(['apply', writePlan(yaml), '--yes']);
    assert.equal(yes.run.state, 'succeeded', yes.output);
    assert.match(yes.run.phases[1]?.approvedBy ?? '', /\(--yes\)/);
  });

  test('rollback after a failure runs the failed phase’s rollback, then the completed phases’, newest first', async () => {
    rmSync(readyFile, { force: true });
    const file = writePlan(
      plan(
        'rolls-back',
        `  - name: a
    steps: [{ name: do-a, step: ping, target: "case=plan" }]
    rollback: [{ name: undo-a, step: ping, target: [plan-1] }]
  - name: b
    steps: [{ name: do-b, step: ping, target: "case=plan" }]
    rollback:
      - { name: undo-b1, step: ping, target: [plan-2] }
      - { name: undo-b2, step: ping, target: [plan-3] }
  - name: c
    steps: [{ name: do-c, step: command, target: [plan-1], params: { name: ready } }]
    rollback: [{ name: undo-c, step: ping, target: [plan-4] }]
  - name: d
    steps: [{ name: do-d, step: ping, target: "case=plan" }]
    rollback: [{ name: undo-d, step: ping, target: [plan-5] }]
`,
      ),
    );
    const failed = await droverJson(['apply', file]);
    assert.equal(failed.run.state, 'failed', failed.output);
    assert.equal(failed.run.phase, 2);

    const partial = await droverJson(['run', 'rollback', failed.run.id, '--to', 'b']);
    assert.equal(partial.code, 0, partial.output);
    assert.equal(partial.run.state, 'rolled-back');
    assert.deepEqual(
      partial.run.phases.map((p) => p.state),
      ['succeeded', 'rolled-back', 'rolled-back', 'pending'],
    );
    const full = await droverJson(['run', 'rollback', failed.run.id]);
    assert.equal(full.run.state, 'rolled-back', full.output);
    const rollbackJobs = (await jobsOf(failed.run.id)).filter((j) => /-p\d-r\d-a\d$/.test(j.id));
    assert.deepEqual(
      rollbackJobs.map((j) => `${j.id.slice(failed.run.id.length + 1)} ${j.agents?.join(',')}`),
      ['p2-r0-a1 plan-4', 'p1-r0-a1 plan-2', 'p1-r1-a1 plan-3', 'p0-r0-a1 plan-1'],
      'undo-c, then undo-b1, undo-b2, then undo-a; never undo-d (phase d never ran)',
    );
  });

  test('coordinator kill -9 mid-phase: `drover run resume` finishes the run, every order started exactly once', async () => {
    const file = writePlan(
      plan(
        'killed',
        `  - name: one
    steps: [{ name: quick, step: ping, target: "case=plan" }]
  - name: two
    steps: [{ name: slow, step: sleep, target: "case=plan", params: { seconds: 3 }, concurrency: 3 }]
  - name: three
    steps: [{ name: end, step: ping, target: "case=plan" }]
`,
      ),
    );
    const cli = await fleet.startDrover('apply-killed', ['apply', file]);
    await waitFor(() => /\[slow \d+\/6\] succeeded/.test(cli.logTail(200)), {
      timeoutMs: 60_000,
      what: 'first targets of phase two done',
    });
    await cli.kill();
    const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(400))?.[1];
    assert.ok(runId, 'apply printed the run id');
    const mid = (await readRun(store, runId)).run;
    assert.equal(mid.state, 'running');
    assert.equal(mid.phase, 1, 'killed in phase two');

    const started = Date.now();
    const resumed = await droverJson(['run', 'resume', runId]);
    const ms = Date.now() - started;
    assert.equal(resumed.code, 0, resumed.output);
    assert.equal(resumed.run.state, 'succeeded');
    assert.equal(await assertEachOrderStartedOnce(runId), 18);
    assert.deepEqual(
      (await jobsOf(runId)).map((j) => j.id.slice(runId.length + 1)),
      ['p0-s0-a1', 'p1-s0-a1', 'p2-s0-a1'],
      'the killed step was taken over, not started again as a new attempt',
    );
    process.stdout.write(`# resume of a killed run: ${ms} ms from 'run resume' to done (includes the lease wait)\n`);
  });

  test('`drover run cancel` mid-phase: running orders stop, the run ends cancelled, then rolls back', async () => {
    const file = writePlan(
      plan(
        'cancelled',
        `  - name: one
    steps: [{ name: long, step: sleep, target: "case=plan", params: { seconds: 30 } }]
    rollback: [{ name: undo, step: ping, target: [plan-1] }]
  - name: two
    steps: [{ name: never, step: ping, target: "case=plan" }]
`,
      ),
    );
    const cli = await fleet.startDrover('apply-cancelled', ['apply', file]);
    await waitFor(() => /step long: sleep/.test(cli.logTail(200)), { timeoutMs: 30_000, what: 'step long started' });
    const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(400))?.[1] ?? '';
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = Date.now();
    const cancelled = await droverJson(['run', 'cancel', runId]);
    assert.equal(cancelled.run.state, 'cancelled', cancelled.output);
    assert.ok(Date.now() - started < 20_000, 'cancelled long before the 30 s step would have ended');
    assert.equal((await cli.exited).code, 1, 'apply exits 1 for a cancelled run');
    const jobs = await jobsOf(runId);
    assert.equal(jobs.length, 1, 'phase two never started');
    assert.equal(jobs[0]?.state, 'cancelled');
    const rolled = await droverJson(['run', 'rollback', runId]);
    assert.equal(rolled.run.state, 'rolled-back', rolled.output);
    assert.equal(rolled.run.phases[0]?.rollback[0]?.state, 'succeeded');
  });

  test('two coordinators racing on one run: only one drives it', async () => {
    const file = writePlan(
      plan(
        'raced',
        `  - name: one
    steps: [{ name: first, step: ping, target: "case=plan" }]
  - name: two
    steps: [{ name: second, step: sleep, target: "case=plan", params: { seconds: 2 } }]
`,
      ),
    );
    const paused = await droverJson(['apply', file, '--until', 'one']);
    assert.equal(paused.run.state, 'paused', paused.output);
    const [a, b] = await Promise.all([
      fleet.drover(['run', 'resume', paused.run.id, '--no-wait', '--json']),
      fleet.drover(['run', 'resume', paused.run.id, '--no-wait', '--json']),
    ]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 2], `${a.output}\n----\n${b.output}`);
    const loser = a.code === 2 ? a : b;
    assert.match(loser.output, /is being driven by .*nothing done/);
    assert.equal((await readRun(store, paused.run.id)).run.state, 'succeeded');
    await assertEachOrderStartedOnce(paused.run.id);
    assert.equal((await jobsOf(paused.run.id)).length, 2);
    assert.ok(existsSync(fleet.dir));
  });
});
