// The agent's Prometheus endpoint against a real nats-server and a real agent daemon with `metrics`
// configured: orders that succeed and fail (allow-listed commands exiting 0 and 1) show up as
// counters by outcome, one step-duration observation each, journal fsync observations, and a NATS
// server restart as one reconnect. The text format is parsed here, line by line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import type { ProcessHandle } from '../harness/process.ts';
import { freePort, makeTempDir, waitFor } from '../harness/process.ts';

const AGENT = 'metrics-1';
let nats: NatsCluster;
let fleet: Fleet;
let agent: ProcessHandle;
let url: string;

before(async () => {
  nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('agent-metrics'), nats.urls, nats.security);
  const port = await freePort();
  url = `http://127.0.0.1:${port}/metrics`;
  agent = await fleet.startAgent({
    id: AGENT,
    labels: { case: 'metrics' },
    commands: { ok: { argv: ['/bin/true'] }, fails: { argv: ['/bin/false'] } },
    node: { metrics: { port } },
  });
});

after(async () => {
  await agent?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format 0.0.4: `name{a="x",b="y"} value` lines; comments and blank lines skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key as string] = (value as string).replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  return parseMetrics(await response.text());
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('agent metrics', () => {
  test('orders by outcome, step durations and journal fsyncs match what ran', async () => {
    const runs = [
      ['ok', 0],
      ['ok', 0],
      ['fails', 1],
    ] as const;
    for (const [name, code] of runs) {
      const result = await fleet.drover(['run', 'command', '--selector', 'case=metrics', '--param', `name=${name}`]);
      assert.equal(result.code, code, result.output);
    }
    const samples = await scrape();
    assert.equal(value(samples, 'drover_agent_orders_total', { outcome: 'succeeded', agent: AGENT }), 2);
    assert.equal(value(samples, 'drover_agent_orders_total', { outcome: 'failed' }), 1);
    assert.equal(value(samples, 'drover_agent_step_duration_seconds_count', { step: 'command' }), 3);
    assert.ok((value(samples, 'drover_agent_step_duration_seconds_sum', { step: 'command' }) ?? -1) >= 0);
    assert.equal(value(samples, 'drover_agent_step_duration_seconds_bucket', { step: 'command', le: '+Inf' }), 3);
    // A start and an end line per order, each fdatasync'ed.
    assert.ok((value(samples, 'drover_agent_journal_fsync_seconds_count') ?? 0) >= 6);
    assert.equal(value(samples, 'drover_agent_nats_reconnects_total'), 0);
    assert.ok((value(samples, 'drover_agent_process_resident_memory_bytes') ?? 0) > 0, 'process metrics too');
  });

  test('a NATS server restart counts one reconnect', async () => {
    await nats.restart(0);
    await waitFor(async () => value(await scrape(), 'drover_agent_nats_reconnects_total') === 1, {
      timeoutMs: 30_000,
      what: 'the reconnect counted',
    });
  });

  test('other paths are 404; the log says where it listens, as JSON with msg', async () => {
    assert.equal((await fetch(url.replace('/metrics', '/'))).status, 404);
    const log = readFileSync(agent.logFile, 'utf8');
    assert.match(log, /"msg":"metrics endpoint listening"/);
    assert.match(log, /"msg":"agent ready"/);
    assert.ok(
      !log.includes(nats.security?.agentPassword(AGENT) ?? 'no-password'),
      'the NATS password is in no log line',
    );
  });
});
