// exec/spawn: argv only (no shell), exit codes and signals as results, timeouts and aborts that stop
// the whole process group (grandchildren included, SIGKILL after the grace), capped output.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isProcessRunning, runProcess, SpawnError } from '../../src/exec/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-spawn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Waits until `pid` is gone (a zombie counts as gone); false after `ms`. */
async function gone(pid: number, ms = 2_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isProcessRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

/** Resolves with the first line a run prints on stdout (the grandchild's pid in these tests). */
function firstLine(): { onOutput: (stream: string, text: string) => void; line: Promise<string> } {
  let buffered = '';
  let resolveLine!: (line: string) => void;
  const line = new Promise<string>((resolve) => {
    resolveLine = resolve;
  });
  return {
    line,
    onOutput: (stream, text) => {
      if (stream !== 'stdout') return;
      buffered += text;
      const eol = buffered.indexOf('\n');
      if (eol >= 0) resolveLine(buffered.slice(0, eol));
    },
  };
}

describe('runProcess: no shell', () => {
  test('a $(...) argument reaches the program literally and runs nothing', async () => {
    const marker = join(dir, 'pwned');
    const args = [`$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`, '*', '~', '$HOME'];
    const result = await runProcess({ argv: ['/usr/bin/printf', '%s\\n', ...args] });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, args.map((a) => `${a}\n`).join(''));
    assert.equal(existsSync(marker), false);
  });

  test('a non-zero exit resolves with its code; a signal death with its signal', async () => {
    const failed = await runProcess({ argv: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 7'] });
    assert.deepEqual([failed.exitCode, failed.signal, failed.stdout, failed.stderr], [7, null, 'out\n', 'err\n']);
    assert.equal(failed.timedOut, false);
    const killed = await runProcess({ argv: ['/bin/sh', '-c', 'kill -KILL $$'] });
    assert.deepEqual([killed.exitCode, killed.signal], [null, 'SIGKILL']);
  });

  test('cwd and env are applied; env adds to the inherited environment', async () => {
    const pwd = await runProcess({ argv: ['/bin/pwd'], cwd: dir });
    assert.equal(pwd.stdout.trim(), dir);
    const env = await runProcess({ argv: ['/usr/bin/env'], env: { DROVER_SPAWN_TEST: 'a b' } });
    assert.match(env.stdout, /^DROVER_SPAWN_TEST=a b$/m);
    assert.match(env.stdout, /^PATH=/m);
  });

  test('a program that cannot start is a SpawnError with the errno code', async () => {
    await assert.rejects(runProcess({ argv: ['/nonexistent/drover-binary'] }), (e: unknown) => {
      assert.ok(e instanceof SpawnError);
      assert.equal(e.code, 'ENOENT');
      assert.equal(e.program, '/nonexistent/drover-binary');
      return true;
    });
  });

  test('an already aborted signal starts nothing', async () => {
    const marker = join(dir, 'started');
    await assert.rejects(
      runProcess({ argv: ['/usr/bin/touch', marker], signal: AbortSignal.abort(new Error('too late')) }),
      /too late/,
    );
    assert.equal(existsSync(marker), false);
  });
});

describe('runProcess: stops', () => {
  test('timeoutMs stops the run with SIGTERM and says timedOut', async () => {
    const result = await runProcess({ argv: ['/bin/sleep', '30'], timeoutMs: 200 });
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, 'SIGTERM');
    assert.ok(result.durationMs < 2_000, `took ${result.durationMs} ms`);
  });

  test('a process that ignores SIGTERM gets SIGKILL after killGraceMs', async () => {
    const result = await runProcess({
      argv: ['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done'],
      timeoutMs: 100,
      killGraceMs: 300,
    });
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(result.durationMs >= 400 && result.durationMs < 2_500, `took ${result.durationMs} ms`);
  });

  test('abort kills the whole process group, grandchildren included, and rejects with the reason', async () => {
    const controller = new AbortController();
    const { line, onOutput } = firstLine();
    const run = runProcess({
      argv: ['/bin/sh', '-c', '/bin/sleep 30 & echo $!; wait'],
      signal: controller.signal,
      onOutput,
    });
    const grandchild = Number(await line);
    assert.ok(isProcessRunning(grandchild), 'the grandchild runs before the abort');
    const started = Date.now();
    controller.abort(new Error('cancelled by test'));
    await assert.rejects(run, /cancelled by test/);
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    assert.ok(await gone(grandchild), `grandchild ${grandchild} survived the abort`);
  });

  test('a grandchild that ignores SIGTERM and outlives its parent is killed after the grace', async () => {
    const controller = new AbortController();
    const { line, onOutput } = firstLine();
    const run = runProcess({
      argv: ['/bin/sh', '-c', '(trap "" TERM; exec /bin/sleep 30) & echo $!; wait'],
      signal: controller.signal,
      killGraceMs: 300,
      onOutput,
    });
    const grandchild = Number(await line);
    controller.abort(new Error('cancelled by test'));
    await assert.rejects(run, /cancelled by test/);
    assert.ok(await gone(grandchild), `grandchild ${grandchild} survived SIGKILL`);
  });
});

describe('runProcess: output', () => {
  test('output beyond captureBytes keeps the last bytes and sets truncated; every chunk is streamed', async () => {
    const chunks: Array<{ stream: string; text: string }> = [];
    const result = await runProcess({
      argv: ['/usr/bin/seq', '1', '30000'],
      captureBytes: 1_000,
      onOutput: (stream, text) => chunks.push({ stream, text }),
    });
    assert.equal(result.truncated, true);
    assert.ok(Buffer.byteLength(result.stdout) <= 1_000);
    assert.ok(result.stdout.endsWith('29999\n30000\n'));
    const streamed = chunks.map((c) => c.text).join('');
    assert.equal(streamed.split('\n').length, 30_001, 'all 30000 lines streamed');
    assert.ok(chunks.length > 1 && chunks.every((c) => c.stream === 'stdout'));
  });

  test('stdout and stderr are capped separately; a cut never starts inside a UTF-8 character', async () => {
    const result = await runProcess({
      argv: ['/bin/sh', '-c', 'printf "ééééé"; printf "short" >&2'],
      captureBytes: 5,
    });
    assert.equal(result.stdout, 'éé', 'the 5 last bytes start with half an é, which is dropped');
    assert.equal(result.stderr, 'short');
    assert.equal(result.truncated, true);
  });

  test('streamed text is never split inside a UTF-8 character', async () => {
    let streamed = '';
    await runProcess({
      // Each é is written as two separate writes, its two bytes 50 ms apart.
      argv: [
        process.execPath,
        '-e',
        'let n = 0; const half = (b) => process.stdout.write(Buffer.from([b])); const tick = () => { half(0xc3); setTimeout(() => { half(0xa9); if (++n < 3) setTimeout(tick, 10); }, 50); }; tick();',
      ],
      onOutput: (_stream, text) => {
        streamed += text;
      },
    });
    assert.equal(streamed, 'ééé');
  });
});
