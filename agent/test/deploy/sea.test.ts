// The single binary (deploy/sea/build-agent.ts) built into a temp folder, then run: --version,
// --help, --check-config, staged by install-agent.sh, and as a connected agent (a real nats-server)
// running steps whose code the binary keeps in separate bundles it loads on first use. Opt-in
// (DROVER_TEST_SEA=1): the build takes ~15 s, ~750 MB of memory and writes ~230 MB, too much for
// every unit-test run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateSigningKeyPair } from '@drover/shared';
import { createFleet } from '../../../test/fleet/fleet.ts';
import { startNats } from '../../../test/harness/nats.ts';
import { freePort } from '../../../test/harness/process.ts';

const REPO = resolve(import.meta.dirname, '../../..');
const enabled = process.env.DROVER_TEST_SEA === '1';

describe('drover-agent single binary', { skip: !enabled && 'set DROVER_TEST_SEA=1 to build and run it' }, () => {
  let work: string;
  let binary: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'drover-sea-'));
    binary = join(work, 'drover-agent');
    const build = spawnSync(
      join(REPO, 'node_modules/.bin/node'),
      [join(REPO, 'deploy/sea/build-agent.ts'), '--out', binary, '--no-smoke'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(build.status, 0, build.stdout + build.stderr);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  test('is one self-contained executable that answers --version and --help', () => {
    assert.ok(statSync(binary).size > 50 * 1024 * 1024);
    // No Node on PATH and no node_modules nearby: everything must be inside.
    const env = { PATH: '/usr/bin:/bin' };
    const version = spawnSync(binary, ['--version'], { encoding: 'utf8', cwd: work, env });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    assert.equal(version.stderr, '', 'no SEA warning on stderr');
    const help = spawnSync(binary, ['--help'], { encoding: 'utf8', cwd: work, env });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--config/);
  });

  test('checks a config and installs with install-agent.sh', () => {
    const keys = generateSigningKeyPair();
    const config = join(work, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        id: 'sea-test-1',
        nats: { servers: ['nats://127.0.0.1:4222'] },
        trustedKeys: [keys.publicKeyPem],
        stateDir: join(work, 'state'),
      }),
    );
    const check = spawnSync(binary, ['--config', config, '--check-config'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{"id":"x y"}');
    assert.equal(spawnSync(binary, ['--config', bad, '--check-config']).status, 1);

    const root = join(work, 'root');
    const install = spawnSync(
      'bash',
      [join(REPO, 'deploy/install-agent.sh'), '--destdir', root, '--binary', binary, '--config', config],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(install.status, 0, install.stdout + install.stderr);
    const installed = spawnSync(join(root, 'usr/local/bin/drover-agent'), ['--version'], { encoding: 'utf8' });
    assert.equal(installed.status, 0);
  });

  test('runs steps whose code is loaded on first use: facts (systeminformation) and kafka.describe (the Kafka client)', async () => {
    const nats = await startNats();
    try {
      const fleet = createFleet(join(work, 'fleet'), nats.urls);
      // A broker address nothing listens on: kafka.describe must get as far as the Kafka client's
      // connection attempt, which proves its bundle loaded and linked to the main one.
      const closedPort = await freePort();
      await fleet.startAgent({
        id: 'sea-lazy-1',
        labels: { role: 'sea' },
        binary,
        node: {
          kafka: {
            bootstrap: `127.0.0.1:${closedPort}`,
            brokerId: 1,
            host: '127.0.0.1',
            logDirs: [join(work, 'kafka-logs')],
            configFile: join(work, 'server.properties'),
          },
        },
      });
      const facts = await fleet.drover(['run', 'facts', '--selector', 'role=sea', '--json']);
      assert.equal(facts.code, 0, facts.output);
      assert.match(facts.stdout, /"platform":\s*"linux"/);
      const kafka = await fleet.drover([
        'run',
        'kafka.describe',
        '--selector',
        'role=sea',
        '--timeout',
        '20s',
        '--json',
      ]);
      assert.notEqual(kafka.code, 0, kafka.output);
      // The Kafka client's own error, recognised by the runner as a DroverError (retryable): the
      // error classes of the lazy bundle are the main bundle's.
      const target = JSON.parse(kafka.stdout).targets[0];
      assert.equal(target.error.name, 'KafkaUnreachableError', kafka.output);
      assert.match(target.error.message, /ECONNREFUSED/);
      assert.equal(target.error.retryable, true);
    } finally {
      await nats.stop();
    }
  });
});
