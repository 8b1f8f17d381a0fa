// Manager "systemd" against a stand-in systemctl (PID 1 here is not systemd): a real executable in a
// temp folder that logs its argv, keeps unit states in files and answers like systemctl. It checks the
// exact argv the agent runs and how the answers are read.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import type { ServiceConfig } from '@drover/shared';
import {
  parseShow,
  ServiceManager,
  ServiceStartError,
  ServiceStopError,
  SystemctlError,
  serviceStateOf,
} from '../../../src/clients/services/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-systemctl-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const calls = join(dir, 'calls.log');
const systemctl = join(dir, 'systemctl');

// Unit state lives in <dir>/<unit>.state (default inactive). Each call appends its argv, one
// argument per tab-separated field. "broken.service" fails to start; "garbled.service" answers nonsense.
writeFileSync(
  systemctl,
  `#!/bin/sh
dir='${dir}'
{ printf '%s\\t' "$@"; echo; } >> "$dir/calls.log"
eval "unit=\\\${$#}"
state_file="$dir/$unit.state"
state=$(cat "$state_file" 2>/dev/null || echo inactive)
case "$1" in
  is-active)
    [ "$unit" = garbled.service ] && { echo "what?"; exit 1; }
    echo "$state"; [ "$state" = active ] && exit 0; exit 3 ;;
  show)
    [ "$state" = active ] && pid=4242 || pid=0
    echo "MainPID=$pid"; echo "ActiveState=$state"; exit 0 ;;
  start|restart)
    if [ "$unit" = broken.service ]; then
      echo failed > "$state_file"
      echo "Job for $unit failed because the control process exited with error code." >&2
      echo "See \\"systemctl status $unit\\" and \\"journalctl -xeu $unit\\" for details." >&2
      exit 1
    fi
    echo active > "$state_file"; exit 0 ;;
  stop)
    [ "$unit" = stuck.service ] && { echo "Failed to stop $unit: Access denied" >&2; exit 4; }
    echo inactive > "$state_file"; exit 0 ;;
esac
echo "unknown command $1" >&2; exit 1
`,
);
chmodSync(systemctl, 0o755);

function callsMade(): string[][] {
  if (!existsSync(calls)) return [];
  return readFileSync(calls, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/\t$/, '').split('\t'));
}

function setState(unit: string, state: string): void {
  writeFileSync(join(dir, `${unit}.state`), `${state}\n`);
}

const services: Record<string, ServiceConfig> = {
  kafka: { manager: 'systemd', unit: 'kafka.service' },
  broken: { manager: 'systemd', unit: 'broken.service', logFile: join(dir, 'broken.log') },
  garbled: { manager: 'systemd', unit: 'garbled.service' },
  stuck: { manager: 'systemd', unit: 'stuck.service' },
};
const manager = new ServiceManager({ services, stateDir: join(dir, 'state'), systemctlPath: systemctl });

beforeEach(() => {
  rmSync(calls, { force: true });
  setState('kafka.service', 'inactive');
});

describe('systemd manager', () => {
  test('status runs `show -p MainPID,ActiveState <unit>` and reads pid and state', async () => {
    setState('kafka.service', 'active');
    const status = await manager.status('kafka');
    assert.deepEqual(status, { service: 'kafka', manager: 'systemd', state: 'running', pid: 4242, detail: 'active' });
    assert.deepEqual(callsMade(), [['show', '-p', 'MainPID,ActiveState', 'kafka.service']]);
    setState('kafka.service', 'inactive');
    assert.deepEqual(await manager.status('kafka'), {
      service: 'kafka',
      manager: 'systemd',
      state: 'stopped',
      detail: 'inactive',
    });
  });

  test('start of an inactive unit: is-active, start, then show', async () => {
    const result = await manager.start('kafka');
    assert.deepEqual(callsMade(), [
      ['is-active', 'kafka.service'],
      ['start', 'kafka.service'],
      ['show', '-p', 'MainPID,ActiveState', 'kafka.service'],
    ]);
    assert.deepEqual(
      [result.outcome, result.changed, result.before, result.status.state],
      ['started', true, 'stopped', 'running'],
    );
    assert.equal(result.status.pid, 4242);
  });

  test('start of an active unit runs no start and says it was already running', async () => {
    setState('kafka.service', 'active');
    const result = await manager.start('kafka');
    assert.deepEqual(
      callsMade().map((argv) => argv[0]),
      ['is-active', 'show'],
    );
    assert.deepEqual([result.outcome, result.changed, result.before], ['already-running', false, 'running']);
  });

  test('stop of an active unit: is-active, stop, show; stop of an inactive or failed one is a no-op', async () => {
    setState('kafka.service', 'active');
    const stopped = await manager.stop('kafka');
    assert.deepEqual(callsMade(), [
      ['is-active', 'kafka.service'],
      ['stop', 'kafka.service'],
      ['show', '-p', 'MainPID,ActiveState', 'kafka.service'],
    ]);
    assert.deepEqual([stopped.outcome, stopped.before, stopped.status.state], ['stopped', 'running', 'stopped']);
    for (const state of ['inactive', 'failed']) {
      rmSync(calls, { force: true });
      setState('kafka.service', state);
      const again = await manager.stop('kafka');
      assert.deepEqual([again.outcome, again.changed], ['already-stopped', false]);
      assert.deepEqual(
        callsMade().map((argv) => argv[0]),
        ['is-active', 'show'],
      );
    }
  });

  test('restart always restarts, and says whether it was running', async () => {
    const fromStopped = await manager.restart('kafka');
    assert.deepEqual(callsMade()[1], ['restart', 'kafka.service']);
    assert.equal(fromStopped.outcome, 'started');
    const fromRunning = await manager.restart('kafka');
    assert.deepEqual([fromRunning.outcome, fromRunning.before], ['restarted', 'running']);
  });

  test('a failed systemctl start is a ServiceStartError quoting systemctl and the log tail', async () => {
    writeFileSync(join(dir, 'broken.log'), 'line 1\nERROR bad listener\n');
    await assert.rejects(manager.start('broken'), (e: unknown) => {
      assert.ok(e instanceof ServiceStartError);
      assert.equal(e.reason, 'systemctl');
      assert.equal(e.service, 'broken');
      assert.match(
        e.message,
        new RegExp(`${systemctl} start broken.service exited with code 1: Job for broken.service failed`),
      );
      assert.deepEqual(e.logTail, ['line 1', 'ERROR bad listener']);
      return true;
    });
    assert.equal((await manager.status('broken')).state, 'failed');
  });

  test('a failed systemctl stop is a ServiceStopError', async () => {
    setState('stuck.service', 'active');
    await assert.rejects(manager.stop('stuck'), (e: unknown) => {
      assert.ok(e instanceof ServiceStopError);
      assert.match(e.message, /exited with code 4: Failed to stop stuck.service: Access denied/);
      return true;
    });
  });

  test('an answer systemctl never gives is a SystemctlError naming the argv', async () => {
    await assert.rejects(manager.start('garbled'), (e: unknown) => {
      assert.ok(e instanceof SystemctlError);
      assert.deepEqual(e.argv, [systemctl, 'is-active', 'garbled.service']);
      assert.match(e.message, /answered "what\?"/);
      return true;
    });
  });

  test('a missing systemctl binary is a SystemctlError (not a crash)', async () => {
    const m = new ServiceManager({ services, stateDir: dir, systemctlPath: join(dir, 'no-systemctl') });
    await assert.rejects(m.status('kafka'), (e: unknown) => e instanceof SystemctlError && /ENOENT/.test(e.message));
  });

  test('with readyPort, start resolves once the port accepts connections, and fails as not-ready if it never does', async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const ready = new ServiceManager({
      services: {
        kafka: {
          manager: 'systemd',
          unit: 'kafka.service',
          readyPort: { host: '127.0.0.1', port },
          readyTimeoutMs: 400,
        },
      },
      stateDir: dir,
      systemctlPath: systemctl,
    });
    try {
      assert.equal((await ready.start('kafka')).outcome, 'started');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await assert.rejects(ready.restart('kafka'), (e: unknown) => {
      assert.ok(e instanceof ServiceStartError);
      assert.equal(e.reason, 'not-ready');
      assert.match(e.message, new RegExp(`127.0.0.1:${port} did not accept connections within readyTimeoutMs 400`));
      return true;
    });
  });

  test('the pure parts: `show` output and ActiveState mapping', () => {
    assert.deepEqual(parseShow('MainPID=12\nActiveState=active\n'), { MainPID: '12', ActiveState: 'active' });
    assert.deepEqual(
      ['active', 'reloading', 'activating', 'deactivating', 'inactive', 'failed', 'bogus'].map(serviceStateOf),
      ['running', 'running', 'starting', 'stopping', 'stopped', 'failed', undefined],
    );
  });
});
