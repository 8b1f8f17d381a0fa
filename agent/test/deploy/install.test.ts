// deploy/install-agent.sh staged into a temp DESTDIR (never the real system) with a stub binary, and
// the systemd unit checked by systemd-analyze (paths with `verify`, key names with `security --offline`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

const REPO = resolve(import.meta.dirname, '../../..');
const SCRIPT = join(REPO, 'deploy/install-agent.sh');
const UNIT = join(REPO, 'deploy/systemd/drover-agent.service');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

let work: string;
let stub: string;
let goodConfig: string;
let badConfig: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'drover-install-'));
  // Stands in for the real binary: `--config FILE --check-config` passes when FILE mentions "valid-agent".
  stub = join(work, 'drover-agent');
  writeFileSync(
    stub,
    '#!/bin/sh\n[ "$1" = --config ] && [ "$3" = --check-config ] || exit 2\ngrep -q valid-agent "$2" || { echo "bad config $2" >&2; exit 1; }\n',
  );
  chmodSync(stub, 0o755);
  goodConfig = join(work, 'good.json');
  writeFileSync(goodConfig, '{"id":"valid-agent"}\n');
  badConfig = join(work, 'bad.json');
  writeFileSync(badConfig, '{"id":"nope"}\n');
});

after(() => rmSync(work, { recursive: true, force: true }));

function install(destdir: string, ...args: string[]) {
  const run = spawnSync('bash', [SCRIPT, '--destdir', destdir, ...args], { encoding: 'utf8' });
  return { status: run.status, out: run.stdout + run.stderr };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('install-agent.sh into a DESTDIR', () => {
  test('installs binary, config and unit with the right modes', () => {
    const root = join(work, 'fresh');
    const r = install(root, '--binary', stub, '--config', goodConfig);
    assert.equal(r.status, 0, r.out);
    assert.equal(mode(join(root, 'usr/local/bin/drover-agent')), 0o755);
    assert.equal(mode(join(root, 'etc/drover')), 0o700);
    assert.equal(mode(join(root, 'etc/drover/agent.json')), 0o600);
    assert.equal(readFileSync(join(root, 'etc/drover/agent.json'), 'utf8'), '{"id":"valid-agent"}\n');
    const unit = readFileSync(join(root, 'etc/systemd/system/drover-agent.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/drover-agent --config \/etc\/drover\/agent.json$/m);
    assert.equal(mode(join(root, 'etc/systemd/system/drover-agent.service')), 0o644);
  });

  test('refuses to overwrite an existing config; an upgrade without --config keeps it', () => {
    const root = join(work, 'again');
    assert.equal(install(root, '--binary', stub, '--config', goodConfig).status, 0);
    writeFileSync(join(root, 'etc/drover/agent.json'), '{"id":"valid-agent","edited":true}\n');
    const refused = install(root, '--binary', stub, '--config', goodConfig);
    assert.equal(refused.status, 1);
    assert.match(refused.out, /exists; refusing to overwrite/);
    const upgrade = install(root, '--binary', stub);
    assert.equal(upgrade.status, 0, upgrade.out);
    assert.match(upgrade.out, /kept .*agent\.json/);
    assert.match(readFileSync(join(root, 'etc/drover/agent.json'), 'utf8'), /edited/);
  });

  test('an invalid config is refused before anything is installed', () => {
    const root = join(work, 'invalid');
    const r = install(root, '--binary', stub, '--config', badConfig);
    assert.equal(r.status, 1);
    assert.match(r.out, /bad config/);
    assert.match(r.out, /nothing was installed/);
    assert.equal(existsSync(root), false);
  });

  test('a first install without --config is refused', () => {
    const r = install(join(work, 'noconfig'), '--binary', stub);
    assert.equal(r.status, 1);
    assert.match(r.out, /pass --config/);
  });

  test('--prefix moves the binary and the unit follows', () => {
    const root = join(work, 'prefixed');
    const r = install(root, '--binary', stub, '--config', goodConfig, '--prefix', '/opt/drover');
    assert.equal(r.status, 0, r.out);
    assert.ok(existsSync(join(root, 'opt/drover/bin/drover-agent')));
    const unit = readFileSync(join(root, 'etc/systemd/system/drover-agent.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/opt\/drover\/bin\/drover-agent --config /m);
  });

  test('usage errors exit 2', () => {
    assert.equal(install(join(work, 'usage'), '--config', goodConfig).status, 2);
    assert.equal(install(join(work, 'usage'), '--binary', stub, '--frobnicate').status, 2);
  });
});

describe('drover-agent.service', { skip: !hasSystemdAnalyze && 'systemd-analyze not installed' }, () => {
  test('passes systemd-analyze verify (ExecStart pointed at an existing executable)', () => {
    const copy = join(work, 'verify', 'drover-agent.service');
    mkdirSync(join(work, 'verify'), { recursive: true });
    writeFileSync(
      copy,
      readFileSync(UNIT, 'utf8').replace(/^ExecStart=\/usr\/local\/bin\/drover-agent /m, `ExecStart=${stub} `),
    );
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // verify ignores misspelled keys; the offline security review reports them.
    const sec = spawnSync('systemd-analyze', ['security', '--offline=yes', copy], { encoding: 'utf8' });
    assert.doesNotMatch(sec.stderr, /Unknown (key|section)|Failed to parse/i, sec.stderr);
    assert.match(sec.stdout, /Overall exposure level/);
  });

  test('has the settings the agent relies on', () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of [
      'Type=exec',
      'Restart=always',
      'RestartSec=5s',
      'KillMode=mixed',
      'StateDirectory=drover-agent',
      'LogsDirectory=drover-agent',
      'ExecStart=/usr/local/bin/drover-agent --config /etc/drover/agent.json',
    ]) {
      assert.ok(unit.split('\n').includes(line), `missing ${line}`);
    }
  });
});
