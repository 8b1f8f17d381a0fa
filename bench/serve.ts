// `npm run bench:serve -- --agents 2129`: `drover serve` with N agents in the registry, heartbeating
// at the agents' default 10 s (their KV records rewritten, as N agents would), a browser on the page.
// Measures the page's update latency: a progress event published on DROVER_EVENTS until the job
// view's DOM shows it (by the page's clock, the same machine's), and an agent record going offline
// in KV until the fleet view (N rows) shows it; and the serve process's RSS. Figures, not a test.
// LAST line: serve agents=N update_ms=… rss_mb=… update_max_ms=… fleet_ms=… peak_rss_mb=…
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JobRecord, RunRecord } from '@drover/coordinator';
import { type AgentRecord, eventSubject } from '@drover/shared';
import { chromium } from 'playwright-core';
import { createFleet } from '../test/fleet/fleet.ts';
import { connect } from '../test/fleet/jobs.ts';
import { startNats } from '../test/harness/nats.ts';
import { freePort, makeTempDir, waitFor } from '../test/harness/process.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '2129' },
    updates: { type: 'string', default: '20' },
    'heartbeat-ms': { type: 'string', default: '10000' },
  },
});
const N = Number(values.agents);
const UPDATES = Number(values.updates);
const HEARTBEAT_MS = Number(values['heartbeat-ms']);

const nats = await startNats({ servers: 1 });
const fleet = createFleet(makeTempDir('bench-serve'), nats.urls);
const d = await connect(fleet);
const ids = Array.from({ length: N }, (_, i) => `b-${String(i).padStart(5, '0')}`);
const record = (id: string, i: number, status: 'online' | 'offline' = 'online'): AgentRecord => ({
  id,
  labels: { cluster: `kafka-${'abcdefgh'[i % 8]}`, region: ['eu-west', 'eu-north', 'us-east'][i % 3]!, role: 'broker' },
  version: '0.1.0',
  startedAt: Date.now(),
  lastSeen: Date.now(),
  heartbeatMs: HEARTBEAT_MS,
  status,
  steps: ['ping', 'sleep', 'command'],
  facts: { hostname: `${id}.example`, cpus: 8, memoryBytes: 32 * 1024 ** 3, os: 'Debian 12' },
});
async function heartbeatAll(): Promise<void> {
  for (let i = 0; i < N; i += 200)
    await Promise.all(ids.slice(i, i + 200).map((id, j) => d.agents.put(id, JSON.stringify(record(id, i + j)))));
}
let t0 = Date.now();
await heartbeatAll();
console.log(`registered ${N} agent records in ${Date.now() - t0} ms`);
let beating = true;
const beats = (async () => {
  while (beating) {
    const started = Date.now();
    await heartbeatAll();
    await new Promise((r) => setTimeout(r, Math.max(0, HEARTBEAT_MS - (Date.now() - started))));
  }
})();

// One job with one target, whose progress events the job view shows.
const jobId = 'j-serve-bench';
const job: JobRecord = {
  id: jobId,
  step: 'sleep',
  params: { seconds: 60 },
  selector: 'cluster=kafka-a',
  options: { concurrency: { count: 1 }, maxErrors: { count: 0 }, timeoutMs: 60_000, deliveryTimeoutMs: 60_000 },
  groups: [{ key: '', agents: [ids[0]!] }],
  createdAt: Date.now(),
  createdBy: 'bench',
  state: 'running',
  cancelRequested: false,
};
const target: RunRecord = { jobId, agentId: ids[0]!, group: '', state: 'running', acceptedAt: Date.now() };
await d.jobs.put(jobId, JSON.stringify(job));
await d.runs.put(`${jobId}.${ids[0]}`, JSON.stringify(target));

const token = randomBytes(24).toString('hex');
const port = await freePort();
const base = `http://127.0.0.1:${port}/`;
t0 = Date.now();
process.env.DROVER_SERVE_TOKEN = token;
const serve = await fleet.startDrover('serve', ['serve', '--port', String(port)]);
await waitFor(() => readFileSync(serve.logFile, 'utf8').includes('drover serve: http'), {
  timeoutMs: 60_000,
  what: 'drover serve started',
  processes: [serve],
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium-headless-shell' });
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
await page.goto(`${base}?token=${token}#/fleet`);
// (Polled from here: a predicate passed as text would be evaluated by eval, which the page's CSP forbids.)
await waitFor(async () => (await page.locator('tr[data-agent]').count()) === N, {
  timeoutMs: 120_000,
  what: `the fleet view showing ${N} agents`,
});
console.log(`serve up and the fleet view showing ${N} agents after ${Date.now() - t0} ms`);

// The KV path, on the heaviest view: one agent says goodbye; when does its row turn offline?
const fleetMs: number[] = [];
for (let k = 0; k < 5; k++) {
  const i = 7 + k;
  const at = Date.now();
  await d.agents.put(ids[i]!, JSON.stringify(record(ids[i]!, i, 'offline')));
  await page.waitForSelector(`tr[data-agent="${ids[i]}"] [data-state="offline"]`, { timeout: 30_000 });
  fleetMs.push(Date.now() - at);
}

// The events path: progress events until the job view's bar shows each percentage.
await page.goto(`${base}#/job/${jobId}`);
await page.waitForSelector(`tr[data-key="${jobId}.${ids[0]}"]`);
await page.evaluate(`(() => {
  window.seenAt = {};
  const check = () => {
    const bar = document.querySelector('progress[data-percent]');
    if (bar) window.seenAt[bar.getAttribute('data-percent')] ??= Date.now();
  };
  new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true });
})()`);
const publishedAt: Record<string, number> = {};
for (let k = 1; k <= UPDATES; k++) {
  const percent = Math.round((k * 100) / UPDATES);
  publishedAt[percent] = Date.now();
  await d.js.publish(
    eventSubject(jobId, ids[0]!, 'progress'),
    JSON.stringify({ orderId: 'bench', at: Date.now(), message: `moved ${percent} MB of 100 MB`, percent }),
  );
  await new Promise((r) => setTimeout(r, 400));
}
const seenAt = await waitFor(
  async () => {
    const seen = (await page.evaluate('window.seenAt')) as Record<string, number>;
    return Object.keys(seen).length >= Object.keys(publishedAt).length ? seen : undefined;
  },
  { timeoutMs: 10_000, what: 'every progress update on the page' },
);
const updates = Object.entries(publishedAt)
  .map(([p, at]) => (seenAt[p] ?? Number.NaN) - at)
  .sort((a, b) => a - b);
const median = updates[Math.floor(updates.length / 2)]!;
const rssOf = (field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${serve.pid}/status`, 'utf8'))?.[1]) /
  1024;
const rss = rssOf('VmRSS');
const peak = rssOf('VmHWM');
console.log(`event → DOM ms (sorted): ${updates.join(', ')}`);
console.log(`agent offline in KV → fleet view (${N} rows) ms: ${fleetMs.join(', ')}`);
beating = false;
await beats;
await browser.close();
await serve.stop();
await d.close();
console.log(
  `serve agents=${N} update_ms=${median} rss_mb=${rss.toFixed(1)} update_max_ms=${updates.at(-1)} fleet_ms=${Math.max(...fleetMs)} peak_rss_mb=${peak.toFixed(1)}`,
);
process.exit(0);
