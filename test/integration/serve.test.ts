// `drover serve` in a real browser (Debian's chromium-headless-shell driven by playwright-core)
// against a secure NATS, real agents and the drover CLI: the token guards the page, /metrics and
// the ws feed; the fleet view; a plan run's timeline with progress bars advancing and an approval
// waiting; a failure on the page within a second of its result event; /metrics matching KV; and
// the page reconnecting to a restarted server and catching up without a reload. Screenshots of
// each view go to test-output/serve/ (SERVE_UPDATE_DOCS=1 also copies the run view to docs/). A
// rehearsal's forecast (--forecast) is served as its timeline at /forecasts/NAME.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Drover, listJobs, readRuns } from '@drover/coordinator';
import { eventSubject, loadOrCreateAgentKey, STREAM_EVENTS } from '@drover/shared';
import { type Browser, chromium, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { type AgentSpec, createFleet, type Fleet, REPO } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { freePort, makeTempDir, type ProcessHandle, waitFor } from '../harness/process.ts';

const CHROMIUM = '/usr/bin/chromium-headless-shell';
const SHOTS = join(REPO, 'test-output/serve');
const AGENTS: AgentSpec[] = ['a', 'b', 'c', 'd'].map((x, i) => ({
  id: `serve-${x}`,
  labels: { cluster: 'kafka-a', region: i < 2 ? 'eu-west' : 'eu-north', role: 'broker', case: 'serve' },
  // Fails two seconds after it starts: long enough to watch the page before the result comes.
  commands: { 'fail-later': { argv: ['/bin/sh', '-c', 'sleep 2; echo disk full >&2; exit 3'] } },
}));

let nats: NatsCluster;
let fleet: Fleet;
let d: Drover;
let browser: Browser;
let page: Page;
let port: number;
let base: string;
let serve: ProcessHandle;
let serveStarts = 0;
const token = randomBytes(24).toString('hex');
let tokenFile: string;
let runId: string;
let forecastFile: string;
const REHEARSAL_FLEET = join(REPO, 'coordinator/test/rehearse/fixtures/small-fleet.yaml');

async function startServe(): Promise<ProcessHandle> {
  // As the shipped read-only identity (VIEWER): every view below works without any write right.
  const handle = await fleet.startDrover(
    `serve-${++serveStarts}`,
    ['serve', '--port', String(port), '--token-file', tokenFile, '--forecast', forecastFile],
    fleet.viewerEnv,
  );
  await waitFor(() => handle.logTail(20).includes(`drover serve: ${base}`), {
    timeoutMs: 30_000,
    what: 'drover serve to print its URL',
    processes: [handle],
  });
  assert.ok(!handle.logTail(50).includes(token), 'the token is never printed');
  return handle;
}

async function shot(name: string): Promise<string> {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

function plan(): string {
  const file = join(fleet.dir, 'serve-plan.yaml');
  writeFileSync(
    file,
    `apiVersion: drover/v1
kind: Plan
metadata: { name: serve-demo, cluster: kafka-a, description: "A sleep phase with progress, then an approval." }
phases:
  - name: warm-up
    steps:
      - { name: settle, step: sleep, target: "case=serve", params: { seconds: 6 } }
  - name: go-live
    approval: true
    steps:
      - { name: hello, step: ping, target: "case=serve" }
`,
  );
  return file;
}

/** Prometheus text format: `name{a="b",…} value` lines into samples (comments skipped). */
function parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('serve'), nats.urls, nats.security);
  d = await connect(fleet);
  tokenFile = join(fleet.dir, 'serve.token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  port = await freePort();
  base = `http://127.0.0.1:${port}/`;
  // The test fleet's forecast with a node down (the model: seconds), as `rehearse run --json` writes it.
  const rehearsal = await fleet.drover([
    'rehearse',
    'run',
    REHEARSAL_FLEET,
    '--model',
    '--json',
    '--fail',
    'users-d2@20m',
  ]);
  assert.equal(rehearsal.code, 0, rehearsal.output);
  forecastFile = join(fleet.dir, 'small-fleet.json');
  writeFileSync(forecastFile, rehearsal.stdout);
  await fleet.startHost('serve', AGENTS);
  serve = await startServe();
  browser = await chromium.launch({ executablePath: CHROMIUM });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
});

after(async () => {
  await browser?.close();
  await d?.close();
});

describe('drover serve', () => {
  test('without the token the page, /metrics and the ws feed refuse access (401)', async () => {
    for (const path of ['', 'app.js', 'metrics', 'api/snapshot']) {
      assert.equal((await fetch(`${base}${path}`)).status, 401, `/${path} without a token`);
      const wrong = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}x` } });
      assert.equal(wrong.status, 401, `/${path} with a wrong token`);
    }
    assert.equal((await fetch(`${base}?token=not-the-token-at-all`)).status, 401);
    const wsStatus = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => {});
      });
    assert.equal(await wsStatus({}), 401, 'ws without a token');
    assert.equal(await wsStatus({ Cookie: 'drover_serve=forged' }), 401, 'ws with a forged cookie');
    assert.equal(await wsStatus({ Authorization: `Bearer ${token}` }), 101, 'ws with the token');
    assert.equal(
      await wsStatus({ Authorization: `Bearer ${token}`, Origin: 'http://evil.example' }),
      403,
      'ws from another origin',
    );
    const ok = await fetch(base, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
    assert.doesNotMatch(await ok.text(), /<script>|\son\w+=/, 'no inline script');
  });

  test('the first load trades ?token= for an HttpOnly SameSite=Strict cookie; the fleet view shows every agent', async () => {
    await page.goto(`${base}?token=${token}#/fleet`);
    assert.ok(!page.url().includes(token), `the token is dropped from the address (${page.url()})`);
    const [cookie] = await page.context().cookies();
    assert.ok(cookie?.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookie));
    assert.notEqual(cookie.value, token, 'the cookie is not the token itself');
    await page.waitForSelector('#conn[data-state="live"]');
    await page.waitForSelector(`[data-count="online"]:text-is("${AGENTS.length}")`);
    for (const a of AGENTS) assert.equal(await page.locator(`tr[data-agent="${a.id}"]`).count(), 1);
    assert.equal(await page.locator('h2', { hasText: 'region=eu-west' }).count(), 1, 'grouped by region');
    await shot('fleet');
  });

  test('a running plan: the timeline, progress bars advancing, then the approval waiting', async (t) => {
    const apply = await fleet.startDrover('apply-1', ['apply', plan()]);
    await page.goto(`${base}#/runs`);
    const row = await page.waitForSelector('tr[data-run]', { timeout: 30_000 });
    runId = (await row.getAttribute('data-run'))!;
    await page.goto(`${base}#/run/${runId}`);
    await page.waitForSelector('.phase.current[data-phase="warm-up"]');
    // Percentages of the sleep step's progress events, per agent: they must move while it runs.
    const percents = () =>
      page.$$eval('tr[data-key] progress[data-percent]', (bars) =>
        bars.map((b) => Number(b.getAttribute('data-percent'))),
      );
    const first = await waitFor(
      async () => ((await percents()).length === AGENTS.length ? await percents() : undefined),
      {
        timeoutMs: 20_000,
        what: 'a progress bar for every target',
      },
    );
    const later = await waitFor(
      async () => {
        const now = await percents();
        return Math.min(...now) > Math.max(...first) ? now : undefined;
      },
      { timeoutMs: 10_000, what: 'the progress bars to advance' },
    );
    t.diagnostic(`progress went from ${first.join(',')}% to ${later.join(',')}%`);
    const runShot = await shot('run-progress');
    if (process.env.SERVE_UPDATE_DOCS === '1') copyFileSync(runShot, join(REPO, 'docs/serve-run.png'));
    await page.waitForSelector('[data-approval="go-live"]', { timeout: 30_000 });
    assert.equal(
      await page.locator('.phase.current[data-phase="go-live"] [data-state="awaiting-approval"]').count(),
      1,
    );
    assert.equal((await apply.exited).code, 0, apply.logTail());
    await shot('run-approval');
    await page.goto(`${base}#/runs`);
    await page.waitForSelector(`tr[data-run="${runId}"] [data-state="awaiting-approval"]`);
    await shot('runs');
  });

  test('a failure shows on the page within a second of its result event', async (t) => {
    const run = await fleet.startDrover('run-fail', [
      'run',
      'command',
      '--selector',
      'case=serve',
      '--param',
      'name=fail-later',
      '--max-errors',
      '100%',
    ]);
    await page.goto(`${base}#/jobs`);
    const row = await page.waitForSelector('tr[data-job]:has-text("command")', { timeout: 30_000 });
    const jobId = (await row.getAttribute('data-job'))!;
    await page.goto(`${base}#/job/${jobId}`);
    await page.waitForSelector('tr[data-key][data-state="running"]', { timeout: 20_000 });
    // Text from the wire is text: a progress message that is HTML shows as written and runs nothing,
    // even signed by the agent's own key (a compromised node). An unsigned one is not shown at all.
    const html = '<img src=x onerror="window.pwned=1"><b>bold</b>';
    const agentId = AGENTS[0]!.id;
    const record = await d.runs.get(`${jobId}.${agentId}`);
    const orderId = (record?.json() as { order?: { orderId: string } } | undefined)?.order?.orderId ?? 'o';
    const forged = 'forged: not from the agent';
    await d.js.publish(
      eventSubject(jobId, agentId, 'progress'),
      JSON.stringify({ orderId, at: Date.now(), message: forged }),
    );
    const agentKey = loadOrCreateAgentKey(join(fleet.stateDir(agentId), 'agent-key.pem')).signer;
    await d.js.publish(
      eventSubject(jobId, agentId, 'progress'),
      JSON.stringify(agentKey.sign({ orderId, at: Date.now(), message: html })),
    );
    await page.waitForSelector(`td:text-is(${JSON.stringify(html)})`, { timeout: 5000 });
    assert.equal(
      await page.locator(`td:text-is(${JSON.stringify(forged)})`).count(),
      0,
      'the unsigned line is left out',
    );
    assert.equal(await page.locator('main img, main b').count(), 0, 'no element made from the message');
    assert.equal(await page.evaluate('window.pwned'), undefined);
    // When each target's row first shows `failed`, by the page's clock (this machine's).
    // (Browser code as text: this file is type-checked without the DOM library.)
    await page.evaluate(`(() => {
      const seen = {};
      window.failedAt = seen;
      const check = () => {
        for (const tr of document.querySelectorAll('tr[data-key][data-state="failed"]'))
          seen[tr.getAttribute('data-key')] ??= Date.now();
      };
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true });
      check();
    })()`);
    const failedAt = await waitFor(
      async () => {
        const seen = (await page.evaluate('window.failedAt')) as Record<string, number>;
        return Object.keys(seen).length === AGENTS.length ? seen : undefined;
      },
      { timeoutMs: 30_000, what: 'every target failed on the page' },
    );
    const latencies: number[] = [];
    for (const a of AGENTS) {
      const m = await d.jsm.streams.getMessage(STREAM_EVENTS, { last_by_subj: eventSubject(jobId, a.id, 'result') });
      assert.ok(m, `a result event of ${a.id}`);
      latencies.push(failedAt[`${jobId}.${a.id}`]! - m.time.getTime());
    }
    t.diagnostic(
      `failure on the page after its result event: ${latencies.join(', ')} ms (max ${Math.max(...latencies)} ms)`,
    );
    assert.ok(Math.max(...latencies) < 1000, `every failure within 1000 ms: ${latencies.join(', ')}`);
    assert.ok(
      (await page.locator('tr[data-state="failed"] .error').count()) === AGENTS.length,
      'each failure says why',
    );
    await run.exited;
    await shot('job-failed');
  });

  test('/metrics (Bearer) matches what happened: jobs, runs, targets, agents, latencies', async () => {
    // The job's end is written to KV a moment after its targets: wait until the page's model has it.
    await waitFor(async () => (await listJobs(d.jobs)).every((j) => j.state !== 'running'), {
      timeoutMs: 30_000,
      what: 'every job finished',
    });
    const expectedTargets = new Map<string, number>();
    const expectedJobs = new Map<string, number>();
    for (const job of await listJobs(d.jobs)) {
      expectedJobs.set(job.state, (expectedJobs.get(job.state) ?? 0) + 1);
      for (const r of (await readRuns(d.runs, job)).values())
        expectedTargets.set(r.state, (expectedTargets.get(r.state) ?? 0) + 1);
    }
    const scrape = async () => {
      const res = await fetch(`${base}metrics`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      return parseMetrics(await res.text());
    };
    const value = (samples: ReturnType<typeof parseMetrics>, name: string, labels: Record<string, string> = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((n, s) => n + s.value, 0);
    const samples = await waitFor(
      async () => {
        const s = await scrape();
        return [...expectedTargets].every(([state, n]) => value(s, 'drover_targets', { state }) === n) &&
          [...expectedJobs].every(([state, n]) => value(s, 'drover_jobs', { state }) === n)
          ? s
          : undefined;
      },
      { timeoutMs: 5000, what: 'drover_targets and drover_jobs to match KV' },
    );
    assert.equal(value(samples, 'drover_targets', { state: 'failed' }), AGENTS.length);
    assert.equal(value(samples, 'drover_targets', { state: 'succeeded' }), AGENTS.length, 'the sleep step');
    assert.equal(value(samples, 'drover_plan_runs', { state: 'awaiting-approval' }), 1);
    assert.equal(value(samples, 'drover_agents', { liveness: 'online' }), AGENTS.length);
    // Every order issued after serve started: the sleep step's and the failing job's, 4 each.
    assert.ok(value(samples, 'drover_dispatch_latency_seconds_count') >= 2 * AGENTS.length);
    assert.ok(value(samples, 'drover_result_latency_seconds_count') >= 2 * AGENTS.length);
    assert.ok(value(samples, 'drover_events_lag_seconds_count') > 0);
    assert.ok(value(samples, 'process_resident_memory_bytes') > 0, 'default process metrics');
  });

  test('the audit trail of the run', async () => {
    await page.goto(`${base}#/audit/run/${runId}`);
    await page.waitForSelector(`code:has-text("drover.audit.run.${runId}")`, { timeout: 10_000 });
    assert.ok(
      (await page.locator(`code:has-text("drover.audit.order.${runId}-p0-s0-a1")`).count()) >= 1,
      'orders of its jobs',
    );
    await shot('audit');
  });

  test('a rehearsal forecast: listed at /forecasts, its timeline in the browser (a bar per phase, the stopped cluster and its rollback), its JSON; a bad file is named and nothing is served', async () => {
    const forecast = JSON.parse(readFileSync(forecastFile, 'utf8')) as {
      clusters: { cluster: string; phases: unknown[]; rollback: unknown[]; outcome: string }[];
    };
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    assert.equal((await fetch(`${base}forecasts/small-fleet`)).status, 401, 'the token guards it too');
    const json = await fetch(`${base}api/forecasts/small-fleet`, auth);
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), forecast);
    assert.equal((await fetch(`${base}forecasts/other`, auth)).status, 404);
    assert.equal((await fetch(`${base}forecasts/%E0%A4%A`, auth)).status, 404, 'a malformed escape');
    await page.goto(`${base}#/fleet`);
    await page.click('#nav-forecasts');
    await page.waitForSelector('a:has-text("small-fleet")');
    const cells = await page.locator('tr').nth(1).locator('td').allTextContents();
    assert.deepEqual(
      [...cells.slice(0, 4), cells[5]],
      ['small-fleet', 'small', '5', '19', '1'],
      'name, fleet, clusters, nodes, stopped',
    );
    await page.click('a:has-text("small-fleet")');
    await page.waitForSelector('.row');
    assert.equal(await page.locator('.row').count(), forecast.clusters.length);
    const bars = forecast.clusters.reduce((n, c) => n + c.phases.length, 0);
    const rollbacks = forecast.clusters.reduce((n, c) => n + c.rollback.length, 0);
    assert.ok(rollbacks > 0);
    assert.equal(await page.locator('.bar:not(.rollback)').count(), bars);
    assert.equal(await page.locator('.bar.rollback').count(), rollbacks);
    // Styles apply under the page's policy (inline styles only, no script): bars have a width.
    const width = await page
      .locator('.bar')
      .first()
      .evaluate((el) => el.getBoundingClientRect().width);
    assert.ok(width > 0, `a bar ${width} px wide`);
    assert.equal(await page.locator('.stopped .name').textContent(), 'users');
    assert.equal(
      await page.locator('.stopped .name').evaluate(
        // (in the page: the test's tsconfig has no DOM library)
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(el).color,
      ),
      'rgb(204, 0, 0)',
    );
    await shot('forecast');
    // A bad forecast file: serve names the file, line, column and field, and does not start.
    const bad = join(fleet.dir, 'bad.json');
    writeFileSync(
      bad,
      readFileSync(forecastFile, 'utf8').replace('"outcome": "rollback-failed"', '"outcome": "exploded"'),
    );
    const refused = await fleet.drover(['serve', '--port', '0', '--token-file', tokenFile, '--forecast', bad]);
    assert.equal(refused.code, 2, refused.output);
    assert.match(
      refused.output,
      /bad\.json:\d+:\d+: clusters\[\d\]\.outcome: got "exploded", expected .*one of "succeeded"\|"rolled-back"\|"rollback-failed"$/m,
    );
  });

  test('the page survives drover serve restarting: it reconnects and catches up without a reload', async () => {
    await page.goto(`${base}#/run/${runId}`);
    await page.waitForSelector('#conn[data-state="live"]');
    await page.evaluate('window.notReloaded = true');
    await serve.kill();
    await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 10_000 });
    // While serve is down the run moves on: approved, its last phase runs, it succeeds.
    const approve = await fleet.drover(['run', 'approve', runId, '--phase', 'go-live'], { timeoutMs: 60_000 });
    assert.equal(approve.code, 0, approve.output);
    serve = await startServe();
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
    await page.waitForSelector('h1 [data-state="succeeded"]', { timeout: 10_000 });
    assert.equal(await page.evaluate('window.notReloaded'), true, 'the page was not reloaded');
    await shot('run-succeeded');
  });
});
