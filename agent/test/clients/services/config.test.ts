// The `services` and `systemctlPath` fields of the agent's config: each manager's required field is
// named when missing, fields a manager does not use are refused, names and paths are checked, and the
// existing fields keep their defaults.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentConfigSchema, InvalidInputErrors } from '@drover/shared';
import {
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  resolveServiceSettings,
  ServiceManager,
} from '../../../src/clients/services/index.ts';
import { parseAgentConfig } from '../../../src/config.ts';
import { ConfigError } from '../../../src/errors.ts';

const BASE = {
  id: 'agent-1',
  nats: { servers: ['nats://127.0.0.1:4222'] },
  trustedKeys: ['k.pem'],
  stateDir: '/tmp/x',
};

function issues(services: unknown, extra: Record<string, unknown> = {}) {
  const parsed = AgentConfigSchema.safeParse({ ...BASE, services, ...extra });
  assert.equal(parsed.success, false, 'expected the config to be refused');
  return parsed.error?.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) ?? [];
}

describe('agent config: services', () => {
  test('absent services and systemctlPath: none, and /usr/bin/systemctl; other defaults unchanged', () => {
    const config = AgentConfigSchema.parse(BASE);
    assert.equal(config.services, undefined);
    assert.equal(config.systemctlPath, '/usr/bin/systemctl');
    assert.deepEqual(config.commands, {});
    assert.deepEqual(
      [config.heartbeatMs, config.maxConcurrentOrders, config.ackWaitMs, config.clockSkewMs, config.registerFullFacts],
      [10_000, 4, 30_000, 30_000, true],
    );
  });

  test('a complete process service and a systemd service are accepted as given', () => {
    const services = {
      kafka: {
        manager: 'process',
        argv: ['/opt/kafka/bin/kafka-server-start.sh', '/etc/kafka/server.properties'],
        env: { KAFKA_HEAP_OPTS: '-Xmx1g' },
        cwd: '/opt/kafka',
        logFile: '/var/log/kafka/drover.log',
        readyPort: { host: '127.0.0.1', port: 9092 },
        readyTimeoutMs: 120_000,
        stopTimeoutMs: 60_000,
      },
      'zookeeper-1': { manager: 'systemd', unit: 'zookeeper@1.service', readyPort: { host: '::1', port: 2181 } },
    };
    const config = AgentConfigSchema.parse({ ...BASE, services, systemctlPath: '/bin/systemctl' });
    assert.deepEqual(config.services, services);
    assert.equal(config.systemctlPath, '/bin/systemctl');
  });

  test('a process service without argv: the error names services.<name>.argv', () => {
    assert.deepEqual(issues({ kafka: { manager: 'process' } }), [
      { path: 'services.kafka.argv', message: 'argv is required when manager is "process"' },
    ]);
    assert.throws(
      () => parseAgentConfig({ ...BASE, services: { kafka: { manager: 'process' } } }),
      (e: unknown) =>
        e instanceof InvalidInputErrors &&
        e.message === 'config.services.kafka.argv: got undefined, expected argv is required when manager is "process"',
    );
  });

  test('a systemd service without unit: the error names services.<name>.unit', () => {
    assert.deepEqual(issues({ zk: { manager: 'systemd' } }), [
      { path: 'services.zk.unit', message: 'unit is required when manager is "systemd"' },
    ]);
  });

  test('fields the manager does not use are refused, each named', () => {
    assert.deepEqual(issues({ zk: { manager: 'systemd', unit: 'zk.service', argv: ['/bin/zk'], cwd: '/opt' } }), [
      { path: 'services.zk.argv', message: 'argv is not used when manager is "systemd" (the unit file sets them)' },
      { path: 'services.zk.cwd', message: 'cwd is not used when manager is "systemd" (the unit file sets them)' },
    ]);
    assert.deepEqual(issues({ k: { manager: 'process', argv: ['/bin/k'], unit: 'k.service' } }), [
      { path: 'services.k.unit', message: 'unit is not used when manager is "process" (the agent runs argv itself)' },
    ]);
  });

  test('names, units, paths, ports and unknown keys are checked', () => {
    const bad = (services: unknown, path: string) =>
      assert.ok(
        issues(services).some((issue) => issue.path === path),
        `${JSON.stringify(services)}: expected an issue at ${path}, got ${JSON.stringify(issues(services))}`,
      );
    bad({ Kafka: { manager: 'process', argv: ['/bin/k'] } }, 'services.Kafka');
    bad({ '1kafka': { manager: 'process', argv: ['/bin/k'] } }, 'services.1kafka');
    bad({ ['k'.repeat(33)]: { manager: 'process', argv: ['/bin/k'] } }, `services.${'k'.repeat(33)}`);
    bad({ zk: { manager: 'systemd', unit: '--now' } }, 'services.zk.unit');
    bad({ k: { manager: 'process', argv: [] } }, 'services.k.argv');
    bad({ k: { manager: 'process', argv: ['/bin/k'], logFile: 'relative.log' } }, 'services.k.logFile');
    bad({ k: { manager: 'process', argv: ['/bin/k'], cwd: 'opt' } }, 'services.k.cwd');
    bad(
      { k: { manager: 'process', argv: ['/bin/k'], readyPort: { host: 'h', port: 70_000 } } },
      'services.k.readyPort.port',
    );
    bad({ k: { manager: 'process', argv: ['/bin/k'], shell: true } }, 'services.k');
    bad({ k: { manager: 'docker', argv: ['/bin/k'] } }, 'services.k.manager');
    assert.ok(issues({}, { systemctlPath: 'systemctl' }).some((issue) => issue.path === 'systemctlPath'));
  });

  test('settings: defaults filled once (log and pid files in stateDir, timeouts, systemctl path)', () => {
    assert.deepEqual(
      resolveServiceSettings('kafka', { manager: 'process', argv: ['/bin/k'] }, { stateDir: '/var/lib/drover' }),
      {
        name: 'kafka',
        manager: 'process',
        argv: ['/bin/k'],
        env: undefined,
        cwd: undefined,
        logFile: '/var/lib/drover/services/kafka.log',
        pidFile: '/var/lib/drover/services/kafka.pid',
        readyPort: undefined,
        readyTimeoutMs: DEFAULT_READY_TIMEOUT_MS,
        stopTimeoutMs: DEFAULT_STOP_TIMEOUT_MS,
      },
    );
    const systemd = resolveServiceSettings('zk', { manager: 'systemd', unit: 'zk.service' }, { stateDir: '/x' });
    assert.equal(systemd.manager === 'systemd' && systemd.systemctlPath, '/usr/bin/systemctl');
  });

  test('a config built without the schema still gets a ConfigError naming the field', () => {
    assert.throws(
      () => new ServiceManager({ stateDir: '/tmp/x', services: { k: { manager: 'process' } } }),
      (e: unknown) =>
        e instanceof ConfigError && /services\.k\.argv: is required when manager is "process"/.test(e.message),
    );
  });
});
