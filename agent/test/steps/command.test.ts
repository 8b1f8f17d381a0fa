// The `command` step: the local allow-list is enforced (name, declared args, full-match patterns),
// values reach the program as single literal argv elements (no shell), output is captured and capped,
// and cancellation and timeouts kill the child.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type AgentConfig, CommandResult } from '@drover/shared';
import { ConfigError, NotAllowedError, StepFailedError } from '../../src/errors.ts';
import { CAPTURE_BYTES, checkCommandAllowList, KILL_GRACE_MS, resolveCommand } from '../../src/exec/index.ts';
import { commandImplementation } from '../../src/steps/command.ts';
import type { StepContext } from '../../src/steps/context.ts';

type Commands = AgentConfig['commands'];

const COMMANDS: Commands = {
  echo: { argv: ['/bin/echo', '{word}', '{other}'], params: { word: { pattern: '.*' }, other: { pattern: '.*' } } },
  'describe-topic': {
    argv: ['/bin/echo', '--topic={topic}'],
    params: { topic: { pattern: '[A-Za-z0-9._-]{1,249}' } },
  },
  fail: { argv: ['/bin/false'], params: {} },
  'fail-loud': { argv: ['/bin/sh', '-c', 'echo partial; echo oops >&2; exit 3'], params: {} },
  'sleep-30': { argv: ['/bin/sleep', '30'], params: {} },
  'sleep-grandchild': { argv: ['/bin/sh', '-c', '/bin/sleep 30 & wait'], params: {} },
  'sleep-timeout': { argv: ['/bin/sleep', '30'], params: {}, timeoutMs: 300 },
  'ignore-term': { argv: ['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'], params: {} },
  seq: { argv: ['/usr/bin/seq', '1', '30000'], params: {} },
  missing: { argv: ['/nonexistent/drover-test-binary'], params: {} },
};

interface FakeContext extends StepContext {
  outputs: Array<{ stream: string; text: string }>;
  logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
}

function fakeContext(commands: Commands = COMMANDS, signal = new AbortController().signal): FakeContext {
  const outputs: FakeContext['outputs'] = [];
  const logs: FakeContext['logs'] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    logs.push({ level, message, fields });
  return {
    info: { jobId: 'job-1', orderId: 'order-1', agentId: 'agent-1', step: 'command', deadline: Date.now() + 60_000 },
    node: {},
    signal,
    progress: () => {},
    output: (stream, text) => outputs.push({ stream, text }),
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    agent: { id: 'agent-1', version: '0.0.0-test', labels: {}, commands },
    outputs,
    logs,
  };
}

function rejectsWith<E extends Error>(fn: () => unknown, type: new (...args: never[]) => E, check: (e: E) => void) {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    check(error);
    return;
  }
  assert.fail(`expected ${type.name} to be thrown`);
}

describe('command allow-list', () => {
  test('an unknown entry is refused, naming params.name, the value and the available names', () => {
    rejectsWith(
      () => resolveCommand(COMMANDS, { name: 'rm', args: {} }),
      NotAllowedError,
      (e) => {
        assert.equal(e.field, 'params.name');
        assert.match(e.message, /"rm"/);
        assert.match(e.message, /describe-topic/);
        assert.match(e.message, /sleep-30/);
      },
    );
  });

  test('names of Object.prototype members are not entries', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      assert.throws(() => resolveCommand(COMMANDS, { name, args: {} }), NotAllowedError);
    }
  });

  test('an empty allow-list says so', () => {
    rejectsWith(
      () => resolveCommand({}, { name: 'echo', args: {} }),
      NotAllowedError,
      (e) => assert.match(e.message, /\(none\)/),
    );
  });

  test('an argument the entry does not declare is refused as params.args.<key>', () => {
    rejectsWith(
      () => resolveCommand(COMMANDS, { name: 'describe-topic', args: { topic: 'orders', broker: 'x' } }),
      NotAllowedError,
      (e) => {
        assert.equal(e.field, 'params.args.broker');
        assert.match(e.message, /declared: topic/);
      },
    );
  });

  test('a declared parameter that is not given is refused', () => {
    rejectsWith(
      () => resolveCommand(COMMANDS, { name: 'describe-topic', args: {} }),
      NotAllowedError,
      (e) => {
        assert.equal(e.field, 'params.args.topic');
        assert.match(e.message, /missing/);
      },
    );
  });

  test('values must match the pattern in full: injections, partial matches and trailing newlines are refused', () => {
    for (const value of ['a; rm -rf /', '$(id)', '`id`', 'orders\n', 'orders && id', '', 'x --topic=y']) {
      rejectsWith(
        () => resolveCommand(COMMANDS, { name: 'describe-topic', args: { topic: value } }),
        NotAllowedError,
        (e) => {
          assert.equal(e.field, 'params.args.topic');
          assert.ok(e.message.includes(JSON.stringify(value)), e.message);
          assert.ok(e.message.includes('[A-Za-z0-9._-]{1,249}'), e.message);
        },
      );
    }
    assert.deepEqual(resolveCommand(COMMANDS, { name: 'describe-topic', args: { topic: 'orders.v2' } }).argv, [
      '/bin/echo',
      '--topic=orders.v2',
    ]);
  });

  test('an alternation in a pattern is anchored as a whole', () => {
    const commands: Commands = { c: { argv: ['/bin/echo', '{v}'], params: { v: { pattern: 'a|b' } } } };
    assert.throws(() => resolveCommand(commands, { name: 'c', args: { v: 'ax' } }), NotAllowedError);
    assert.throws(() => resolveCommand(commands, { name: 'c', args: { v: 'xb' } }), NotAllowedError);
    assert.deepEqual(resolveCommand(commands, { name: 'c', args: { v: 'b' } }).argv, ['/bin/echo', 'b']);
  });

  test('a pattern that escapes the full-match anchoring with ")|(" is a config error, not a match-anything', () => {
    const commands: Commands = { c: { argv: ['/bin/echo', '{v}'], params: { v: { pattern: 'a)|(.*' } } } };
    assert.throws(() => checkCommandAllowList(commands), ConfigError);
    assert.throws(() => resolveCommand(commands, { name: 'c', args: { v: 'anything at all' } }), ConfigError);
  });

  test('a value starting with "-" is refused whatever the pattern (no option injection)', () => {
    for (const v of ['--output=/etc/passwd', '-rf', '-']) {
      assert.throws(
        () => resolveCommand(COMMANDS, { name: 'echo', args: { word: v, other: 'x' } }),
        (e: unknown) => e instanceof NotAllowedError && /does not start with "-"/.test(e.message),
        v,
      );
    }
    assert.deepEqual(resolveCommand(COMMANDS, { name: 'echo', args: { word: 'a-b', other: 'x' } }).argv, [
      '/bin/echo',
      'a-b',
      'x',
    ]);
  });

  test('a substituted value is not scanned for placeholders again', () => {
    const argv = resolveCommand(COMMANDS, { name: 'echo', args: { word: '{other}', other: 'x' } }).argv;
    assert.deepEqual(argv, ['/bin/echo', '{other}', 'x']);
  });

  test('broken entries are config errors: unknown placeholder, placeholder in argv[0], invalid regex', () => {
    const broken: Commands[] = [
      { bad: { argv: ['/bin/echo', '{nope}'], params: {} } },
      { bad: { argv: ['{prog}'], params: { prog: { pattern: '.*' } } } },
      { bad: { argv: ['/bin/echo', '{v}'], params: { v: { pattern: '(' } } } },
    ];
    for (const commands of broken) {
      assert.throws(() => checkCommandAllowList(commands), ConfigError);
      assert.throws(() => resolveCommand(commands, { name: 'bad', args: { prog: 'x', v: 'x' } }), ConfigError);
    }
    assert.throws(() => checkCommandAllowList(broken[0] as Commands), /commands\.bad\.argv\[1\]: placeholder \{nope\}/);
    checkCommandAllowList(COMMANDS);
  });
});

describe('command runs', () => {
  test('shell metacharacters reach the program as one literal argv element each (no shell)', async () => {
    const marker = join(tmpdir(), `drover-no-shell-${process.pid}-${Date.now()}`);
    const ctx = fakeContext();
    const word = `a; rm -rf / ; touch ${marker}`;
    const other = '$(id) `id` | cat > /dev/null && echo pwned';
    const result = await commandImplementation.run(ctx, { name: 'echo', args: { word, other } });
    assert.equal(result.stdout, `${word} ${other}\n`);
    assert.equal(result.exitCode, 0);
    assert.equal(existsSync(marker), false);
    assert.equal(
      ctx.outputs.map((o) => o.text).join(''),
      `${word} ${other}\n`,
      'output is streamed through ctx.output',
    );
    CommandResult.parse(result);
  });

  test('argument values are never logged; the entry name is', async () => {
    const ctx = fakeContext();
    await commandImplementation.run(ctx, { name: 'echo', args: { word: 'secret-value-1', other: 'secret-value-2' } });
    const logged = JSON.stringify(ctx.logs);
    assert.ok(!logged.includes('secret-value'), logged);
    assert.ok(ctx.logs.some((l) => l.fields?.name === 'echo'));
  });

  test('/bin/false fails with StepFailedError carrying the exit code', async () => {
    await assert.rejects(commandImplementation.run(fakeContext(), { name: 'fail', args: {} }), (e: unknown) => {
      assert.ok(e instanceof StepFailedError);
      assert.equal(e.details.exitCode, 1);
      assert.equal(e.details.signal, null);
      assert.match(e.message, /exited with code 1/);
      return true;
    });
  });

  test('a failure quotes the stderr tail and keeps both tails in details', async () => {
    await assert.rejects(commandImplementation.run(fakeContext(), { name: 'fail-loud', args: {} }), (e: unknown) => {
      assert.ok(e instanceof StepFailedError);
      assert.equal(e.details.exitCode, 3);
      assert.match(e.message, /oops/);
      assert.equal(e.details.stdoutTail, 'partial');
      assert.equal(e.details.stderrTail, 'oops');
      return true;
    });
  });

  test('a program that cannot start is a StepFailedError', async () => {
    await assert.rejects(commandImplementation.run(fakeContext(), { name: 'missing', args: {} }), (e: unknown) => {
      assert.ok(e instanceof StepFailedError);
      assert.match(e.message, /ENOENT/);
      return true;
    });
  });

  test('output beyond 64 KiB keeps the tail and sets truncated', async () => {
    const ctx = fakeContext();
    const result = await commandImplementation.run(ctx, { name: 'seq', args: {} });
    assert.equal(result.truncated, true);
    assert.ok(Buffer.byteLength(result.stdout) <= CAPTURE_BYTES);
    assert.ok(result.stdout.endsWith('29999\n30000\n'));
    const streamed = ctx.outputs.map((o) => o.text).join('');
    assert.ok(streamed.startsWith('1\n2\n3\n') && streamed.endsWith('30000\n'), 'every chunk is streamed');
  });
});

describe('command stops', () => {
  test('an AbortController kills a `sleep 30` within a few seconds', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 200);
    await assert.rejects(
      commandImplementation.run(fakeContext(COMMANDS, controller.signal), { name: 'sleep-30', args: {} }),
      /cancelled by test/,
    );
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
  });

  test('cancellation reaches the processes a command started (its process group)', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 200);
    await assert.rejects(
      commandImplementation.run(fakeContext(COMMANDS, controller.signal), { name: 'sleep-grandchild', args: {} }),
      /cancelled by test/,
    );
    // Had only the shell been killed, the orphaned sleep would hold stdout open for the grace period.
    assert.ok(Date.now() - started < KILL_GRACE_MS, `took ${Date.now() - started} ms`);
  });

  test('a child that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
    await assert.rejects(
      commandImplementation.run(fakeContext(COMMANDS, controller.signal), { name: 'ignore-term', args: {} }),
      /cancelled by test/,
    );
    const took = Date.now() - started;
    assert.ok(took >= KILL_GRACE_MS && took < KILL_GRACE_MS + 3_000, `took ${took} ms`);
  });

  test('an already aborted signal runs nothing', async () => {
    const ctx = fakeContext(COMMANDS, AbortSignal.abort(new Error('too late')));
    await assert.rejects(commandImplementation.run(ctx, { name: 'echo', args: { word: 'a', other: 'b' } }), /too late/);
    assert.equal(ctx.logs.length, 0);
  });

  test("the entry's timeoutMs stops the command with a StepFailedError", async () => {
    const started = Date.now();
    await assert.rejects(
      commandImplementation.run(fakeContext(), { name: 'sleep-timeout', args: {} }),
      (e: unknown) => {
        assert.ok(e instanceof StepFailedError);
        assert.equal(e.details.timedOut, true);
        assert.equal(e.details.signal, 'SIGTERM');
        assert.match(e.message, /timeoutMs 300/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
  });
});
