// Manager "process" with real child processes: start (with a TCP readiness check), status, idempotent
// start and stop, a new manager on the same stateDir finding and stopping the child an earlier one
// started, failures reported with the log's last lines, and pids that are not ours left alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ServiceConfig } from '@drover/shared';
import { ServiceManager, ServiceStartError, UnknownServiceError } from '../../../src/clients/services/index.ts';
import { writePidRecord } from '../../../src/clients/services/pid-file.ts';
import { isProcessRunning, readProcStat } from '../../../src/exec/index.ts';

const root = mkdtempSync(join(tmpdir(), 'drover-services-'));
const managers: ServiceManager[] = [];
after(async () => {
  // Whatever a failed test left running is stopped, then the folder goes.
  for (const manager of managers) await manager.stopSupervised();
  rmSync(root, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP server on `port` that starts listening after `delayMs` and prints a line when it does. */
function tcpServerArgv(port: number, delayMs = 300): [string, ...string[]] {
  const code = `setTimeout(() => require('node:net').createServer((s) => s.end()).listen(${port}, '127.0.0.1', () => console.log('listening on ${port}')), ${delayMs});`;
  return [process.execPath, '-e', code];
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function gone(pid: number, ms = 3_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isProcessRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

let folders = 0;
function manager(services: Record<string, ServiceConfig>, stateDir = join(root, `state-${++folders}`)) {
  const made = new ServiceManager({ services, stateDir });
  managers.push(made);
  return { manager: made, stateDir };
}

describe('process manager: a TCP server with readyPort', async () => {
  const port = await freePort();
  const services: Record<string, ServiceConfig> = {
    engine: {
      manager: 'process',
      argv: tcpServerArgv(port),
      env: { DROVER_SERVICE_TEST: '1' },
      readyPort: { host: '127.0.0.1', port },
      readyTimeoutMs: 10_000,
      stopTimeoutMs: 5_000,
    },
  };
  const { manager: first, stateDir } = manager(services);
  let pid = 0;

  test('start resolves only once the port accepts connections, and reports running with pid and since', async () => {
    const before = Date.now();
    const result = await first.start('engine');
    assert.equal(result.outcome, 'started');
    assert.equal(result.changed, true);
    assert.equal(result.before, 'stopped');
    assert.equal(result.status.state, 'running');
    assert.ok(result.durationMs >= 250, `ready after ${result.durationMs} ms, before the server listened?`);
    pid = result.status.pid ?? 0;
    assert.ok(pid > 0 && isProcessRunning(pid));
    assert.ok((result.status.since ?? 0) >= before);
    assert.equal(await accepts(port), true);
    // Its own process group and session: stoppable as a group, independent of the agent.
    assert.equal(readProcStat(pid)?.pgrp, pid);
    const log = readFileSync(join(stateDir, 'services', 'engine.log'), 'utf8');
    assert.match(log, /drover-agent starts service engine/);
    assert.match(log, new RegExp(`listening on ${port}`));
  });

  test('status reports running with the same pid', async () => {
    const status = await first.status('engine');
    assert.deepEqual([status.state, status.pid, status.manager, status.service], ['running', pid, 'process', 'engine']);
  });

  test('a second start is a no-op that says it was already running', async () => {
    const result = await first.start('engine');
    assert.equal(result.outcome, 'already-running');
    assert.equal(result.changed, false);
    assert.equal(result.before, 'running');
    assert.equal(result.status.pid, pid);
  });

  test('a new manager on the same stateDir finds the child the first one started, and stops it', async () => {
    const { manager: second } = manager(services, stateDir);
    const status = await second.status('engine');
    assert.deepEqual([status.state, status.pid], ['running', pid]);
    const stopped = await second.stop('engine');
    assert.equal(stopped.outcome, 'stopped');
    assert.equal(stopped.changed, true);
    assert.equal(stopped.before, 'running');
    assert.equal(stopped.stoppedBy, 'SIGTERM');
    assert.equal(stopped.status.state, 'stopped');
    assert.equal(isProcessRunning(pid), false);
    assert.equal(await accepts(port), false);
    assert.equal(existsSync(join(stateDir, 'services', 'engine.pid')), false);
    // The first manager (the child's parent) agrees, and does not call the exit a failure.
    assert.equal((await first.status('engine')).state, 'stopped');
  });

  test('stop of a stopped service is a no-op that says so', async () => {
    const result = await first.stop('engine');
    assert.deepEqual([result.outcome, result.changed, result.before], ['already-stopped', false, 'stopped']);
  });

  test('restart of a running service gives a new process; of a stopped one, a start', async () => {
    const fromStopped = await first.restart('engine');
    assert.deepEqual(
      [fromStopped.outcome, fromStopped.before, fromStopped.status.state],
      ['started', 'stopped', 'running'],
    );
    const again = await first.restart('engine');
    assert.deepEqual([again.outcome, again.before, again.stoppedBy], ['restarted', 'running', 'SIGTERM']);
    assert.notEqual(again.status.pid, fromStopped.status.pid);
    assert.equal(isProcessRunning(fromStopped.status.pid ?? 0), false);
    assert.equal(await accepts(port), true);
    await first.stop('engine');
  });

  test('calls on one service run one at a time: two concurrent starts start it once', async () => {
    const [a, b] = await Promise.all([first.start('engine'), first.start('engine')]);
    assert.deepEqual([a.outcome, b.outcome], ['started', 'already-running']);
    assert.equal(a.status.pid, b.status.pid);
    await first.stop('engine');
  });
});

describe('process manager: failures', () => {
  test('a command that exits at once is reported failed, with its exit code and the log tail', async () => {
    const { manager: m, stateDir } = manager({
      broken: { manager: 'process', argv: ['/bin/sh', '-c', 'echo "config line 3: bad value" >&2; exit 7'] },
    });
    await assert.rejects(m.start('broken'), (e: unknown) => {
      assert.ok(e instanceof ServiceStartError);
      assert.equal(e.name, 'ServiceStartError');
      assert.equal(e.service, 'broken');
      assert.equal(e.reason, 'exited');
      assert.equal(e.exitCode, 7);
      assert.equal(e.logFile, join(stateDir, 'services', 'broken.log'));
      assert.ok(e.logTail.includes('config line 3: bad value'), JSON.stringify(e.logTail));
      assert.match(e.message, /exited with code 7/);
      assert.match(e.message, /config line 3: bad value/);
      assert.equal(e.retryable, false);
      return true;
    });
    const status = await m.status('broken');
    assert.deepEqual([status.state, status.exitCode], ['failed', 7]);
    // A stop clears the failure: the service is now stopped, as asked.
    const stopped = await m.stop('broken');
    assert.deepEqual([stopped.outcome, stopped.before, stopped.status.state], ['already-stopped', 'failed', 'stopped']);
  });

  test('a process that dies later, unasked, is reported failed with how it ended', async () => {
    const { manager: m } = manager({ flaky: { manager: 'process', argv: ['/bin/sh', '-c', 'sleep 0.8; exit 3'] } });
    assert.equal((await m.start('flaky')).status.state, 'running');
    const deadline = Date.now() + 5_000;
    let status = await m.status('flaky');
    while (status.state === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await m.status('flaky');
    }
    assert.equal(status.state, 'failed');
    // The exit event may arrive a little after /proc shows the process gone.
    for (let i = 0; i < 50 && status.exitCode === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = await m.status('flaky');
    }
    assert.equal(status.exitCode, 3);
    assert.match(status.detail ?? '', /exited with code 3/);
  });

  test('a port that never opens: start fails as not-ready after readyTimeoutMs and the process is stopped', async () => {
    const port = await freePort();
    const { manager: m } = manager({
      silent: {
        manager: 'process',
        argv: ['/bin/sleep', '30'],
        readyPort: { host: '127.0.0.1', port },
        readyTimeoutMs: 500,
      },
    });
    const started = Date.now();
    await assert.rejects(m.start('silent'), (e: unknown) => {
      assert.ok(e instanceof ServiceStartError);
      assert.equal(e.reason, 'not-ready');
      assert.match(e.message, /did not accept connections within readyTimeoutMs 500/);
      assert.equal(e.retryable, true);
      return true;
    });
    assert.ok(Date.now() - started < 3_000);
    const status = await m.status('silent');
    assert.equal(status.state, 'failed');
    assert.ok(status.pid && (await gone(status.pid)), 'the process that never became ready was stopped');
  });

  test('a program that does not exist fails as spawn', async () => {
    const { manager: m } = manager({ missing: { manager: 'process', argv: ['/nonexistent/drover-engine'] } });
    await assert.rejects(m.start('missing'), (e: unknown) => {
      assert.ok(e instanceof ServiceStartError);
      assert.equal(e.reason, 'spawn');
      assert.match(e.message, /ENOENT/);
      return true;
    });
    assert.equal((await m.status('missing')).state, 'stopped');
  });

  test('an unknown service is refused, naming it and the configured ones', async () => {
    const { manager: m } = manager({
      kafka: { manager: 'process', argv: ['/bin/sleep', '1'] },
      zookeeper: { manager: 'systemd', unit: 'zookeeper.service' },
    });
    for (const call of [m.start('cassandra'), m.stop('cassandra'), m.restart('cassandra'), m.status('cassandra')]) {
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof UnknownServiceError);
        assert.equal(e.service, 'cassandra');
        assert.deepEqual(e.configured, ['kafka', 'zookeeper']);
        assert.match(e.message, /"cassandra" is not configured on this agent; configured: kafka, zookeeper/);
        return true;
      });
    }
    await assert.rejects(m.status('constructor'), UnknownServiceError);
    await assert.rejects(new ServiceManager({ stateDir: root }).start('kafka'), /configured: \(none\)/);
  });
});

describe('process manager: stopping', () => {
  test('stop sends SIGKILL to the whole group after stopTimeoutMs when SIGTERM is ignored', async () => {
    const { manager: m, stateDir } = manager({
      stubborn: {
        manager: 'process',
        // The leader and a grandchild both ignore SIGTERM; the grandchild prints its pid.
        argv: ['/bin/sh', '-c', 'trap "" TERM; /bin/sleep 30 & echo "child $!"; while :; do sleep 0.05; done'],
        stopTimeoutMs: 300,
      },
    });
    const started = await m.start('stubborn');
    const leader = started.status.pid ?? 0;
    const members = readFileSync(join(stateDir, 'services', 'stubborn.log'), 'utf8').match(/child (\d+)/);
    const grandchild = Number(members?.[1]);
    assert.ok(grandchild > 0 && isProcessRunning(grandchild));
    const result = await m.stop('stubborn');
    assert.equal(result.stoppedBy, 'SIGKILL');
    assert.ok(result.durationMs >= 300 && result.durationMs < 3_000, `took ${result.durationMs} ms`);
    assert.equal(isProcessRunning(leader), false);
    assert.ok(await gone(grandchild), 'the grandchild was killed with its group');
  });

  test('a pid file whose pid is now another process (other start time) is not running, and is not killed', async () => {
    const { manager: m, stateDir } = manager({ old: { manager: 'process', argv: ['/bin/sleep', '30'] } });
    const stranger = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = stranger.pid as number;
      const stat = readProcStat(pid);
      assert.ok(stat);
      writePidRecord('old', join(stateDir, 'services', 'old.pid'), {
        v: 1,
        pid,
        startTicks: stat.startTicks + 1,
        since: Date.now() - 60_000,
      });
      const status = await m.status('old');
      assert.equal(status.state, 'failed');
      assert.equal(status.detail, 'exited while no agent was watching');
      const result = await m.stop('old');
      assert.equal(result.outcome, 'already-stopped');
      assert.equal(isProcessRunning(pid), true, 'a process the agent did not start was left alone');
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  test('stopSupervised stops the running process-managed services and nothing else', async () => {
    const { manager: m } = manager({
      a: { manager: 'process', argv: ['/bin/sleep', '30'] },
      b: { manager: 'process', argv: ['/bin/sleep', '30'] },
      c: { manager: 'process', argv: ['/bin/sleep', '30'] },
      unit: { manager: 'systemd', unit: 'x.service', logFile: '/nonexistent/x.log' },
    });
    const a = await m.start('a');
    const b = await m.start('b');
    const report = await m.stopSupervised();
    assert.deepEqual(report.stopped.map((r) => r.service).sort(), ['a', 'b']);
    assert.deepEqual(report.failed, []);
    assert.equal(isProcessRunning(a.status.pid ?? 0), false);
    assert.equal(isProcessRunning(b.status.pid ?? 0), false);
  });
});
