// Live progress on a terminal: `drover apply`, `drover tail JOB` and `drover run describe --watch`
// run under a pseudo-terminal (util-linux `script`, no native module) against a real nats-server and
// real agents, and draw listr2's display (cursor movement, the phase titles, a bar per target from
// the agents' progress events); the same commands piped print today's plain lines; NO_COLOR leaves
// the colour out.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { PlanRun } from '@drover/coordinator';
import { createFleet, DROVER_BIN, type Fleet, NODE } from '../fleet/fleet.ts';
import { runCommand } from '../harness/commands.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir, waitFor } from '../harness/process.ts';

const AGENTS = ['prog-1', 'prog-2'];
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what this test looks for.
const CURSOR_MOVES = /\x1b\[\d*[ABG]|\x1b\[2K/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what this test looks for.
const COLOUR = /\x1b\[(?:3\d|9\d|1|2)m/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what this test looks for.
const ANY_ESCAPE = /\x1b\[/;

/**
 * What turns colour off or on whatever the terminal: listr2 colours through Node's `util.styleText`,
 * which reads these. `CI` (set by most CI services) makes Node report 2 colours on any terminal.
 */
const COLOUR_SWITCHES = ['NO_COLOR', 'FORCE_COLOR', 'NODE_DISABLE_COLORS', 'CI', 'TEAMCITY_VERSION'];

let fleet: Fleet;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('cli-progress'), nats.urls, nats.security);
  await fleet.startHost(
    'progress',
    AGENTS.map((id) => ({ id, labels: { case: 'progress' } })),
  );
});

let planCount = 0;
function writePlan(name: string, secondPhaseApproval: boolean, seconds = 3): string {
  const file = join(fleet.dir, `plan-${++planCount}.yaml`);
  writeFileSync(
    file,
    `apiVersion: drover/v1
kind: Plan
metadata: { name: ${name}, cluster: test }
phases:
  - name: warm-up
    steps:
      - { name: settle, step: sleep, target: "case=progress", params: { seconds: ${seconds} } }
  - name: check
    approval: ${secondPhaseApproval}
    steps:
      - { name: answer, step: ping, target: "case=progress" }
`,
  );
  return file;
}

/**
 * The drover CLI under a pseudo-terminal (120x60): what a person at a terminal sees, escapes and all.
 * TERM is set as a terminal emulator sets it: CI runs with none, and without it colours are left out.
 * The colour switches of the calling environment (a CI may set NO_COLOR or FORCE_COLOR) are cleared
 * unless the test sets them itself: what is drawn must follow from the test alone.
 */
async function droverInPty(args: string[], env: Record<string, string> = {}) {
  const quoted = [NODE, DROVER_BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const cleared = COLOUR_SWITCHES.filter((name) => !(name in env));
  const unset = cleared.length > 0 ? `unset ${cleared.join(' ')}; ` : '';
  return runCommand('script', ['-q', '-f', '-e', '-c', `${unset}stty cols 120 rows 60; exec ${quoted}`, '/dev/null'], {
    env: { ...fleet.env, TERM: 'xterm-256color', ...env },
    timeoutMs: 120_000,
  });
}

/** A target's line with a bar: `prog-1  running     [████░░…]  33% slept 1s of 3s`. */
function barOf(agentId: string, state = '\\S+'): RegExp {
  return new RegExp(`${agentId}\\s+${state}\\s+\\[[█░#-]{20}\\]\\s+\\d+%`);
}

describe('progress bars on a terminal, plain lines when piped', () => {
  let jobId = '';

  test('apply under a pty draws phases, steps and a bar per target', async () => {
    const result = await droverInPty(['apply', writePlan('progress-tty', false)]);
    const out = result.stdout;
    assert.equal(result.code, 0, out);
    jobId = /\(job (\S+-p0-s0-a1)\)/.exec(out)?.[1] ?? '';
    assert.match(out, CURSOR_MOVES, 'listr2 redraws in place');
    assert.match(out, /phase 1\/2 warm-up/);
    assert.match(out, /phase 2\/2 check/);
    assert.match(out, /settle \d\/2/);
    for (const agent of AGENTS) {
      assert.match(out, barOf(agent, 'running'), `a running bar for ${agent}`);
      assert.match(out, barOf(agent, 'succeeded'), `a full bar for ${agent} at the end`);
    }
    assert.match(out, /slept \ds of 3s/);
    assert.match(out, COLOUR, 'coloured without NO_COLOR');
    assert.doesNotMatch(out, /\[settle \d\/2\] /, 'no plain target lines');
    assert.match(out, /run r-\S+ succeeded/, 'the closing line is still there');
    assert.ok(jobId, 'the step names its job');
  });

  test('the same apply piped prints the plain lines, no escapes', async () => {
    const result = await fleet.drover(['apply', writePlan('progress-plain', false)]);
    assert.equal(result.code, 0, result.output);
    assert.doesNotMatch(result.stdout, ANY_ESCAPE);
    assert.match(result.stdout, /^run r-\S+: plan progress-plain, 2 phase\(s\)/m);
    assert.match(result.stdout, /\[run warm-up\] phase-started|\[run warm-up\] /);
    for (const agent of AGENTS) assert.match(result.stdout, new RegExp(`\\[settle \\d/2\\] succeeded\\s+${agent}`));
    assert.doesNotMatch(result.stdout, /\[[█░]{20}\]|: running$/m, 'no bars, no display titles');
  });

  test('NO_COLOR: the display is drawn without colour', async () => {
    const result = await droverInPty(['apply', writePlan('progress-nocolor', false)], { NO_COLOR: '1' });
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, barOf('prog-1', 'succeeded'));
    assert.doesNotMatch(result.stdout, COLOUR);
  });

  test('tail JOB under a pty replays the job as bars; piped, as lines', async () => {
    assert.ok(jobId, 'the first test named the job to tail');
    const tty = await droverInPty(['tail', jobId]);
    assert.equal(tty.code, 0, tty.stdout);
    assert.match(tty.stdout, CURSOR_MOVES);
    assert.match(tty.stdout, new RegExp(`job ${jobId}`));
    for (const agent of AGENTS) assert.match(tty.stdout, barOf(agent));
    const piped = await fleet.drover(['tail', jobId]);
    assert.equal(piped.code, 0, piped.output);
    assert.doesNotMatch(piped.stdout, ANY_ESCAPE);
    assert.match(piped.stdout, /prog-1 \d+% slept \ds of 3s/);
  });

  test('run describe --watch follows a run another process drives until it waits for approval', async () => {
    const applying = fleet.drover(['apply', writePlan('progress-watch', true, 8)]);
    const runId = await waitFor(
      async () => {
        const runs = await fleet.drover(['runs', '--json']);
        return (JSON.parse(runs.stdout) as PlanRun[]).find((r) => r.name === 'progress-watch')?.id;
      },
      { timeoutMs: 30_000, what: 'the run progress-watch exists' },
    );
    const watched = await droverInPty(['run', 'describe', runId, '--watch']);
    assert.equal(watched.code, 0, watched.stdout);
    assert.match(watched.stdout, CURSOR_MOVES);
    assert.match(watched.stdout, /phase 2\/2 check: awaiting-approval/);
    assert.match(watched.stdout, new RegExp(`run ${runId} awaiting-approval`));
    assert.match(watched.stdout, barOf('prog-2'));
    assert.equal((await applying).code, 0);
    // Piped, a settled run prints its description and the closing line, and returns at once.
    const plain = await fleet.drover(['run', 'describe', runId, '--watch']);
    assert.equal(plain.code, 0, plain.output);
    assert.doesNotMatch(plain.stdout, ANY_ESCAPE);
    assert.match(plain.stdout, /approve with: drover run approve/);
  });
});
