// The metrics recorder: no config, no endpoint (and no prom-client); with one, /metrics serves what was recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../src/log.ts';
import { NO_METRICS, startMetrics } from '../src/metrics.ts';

test('without a metrics config nothing listens', async () => {
  assert.equal(await startMetrics(undefined, 'a1', silentLogger()), NO_METRICS);
});

test('with one, /metrics serves counters and histograms in the text format', async () => {
  const metrics = await startMetrics({ port: 0, host: '127.0.0.1' }, 'a1', silentLogger());
  try {
    metrics.orderFinished('succeeded', 'sleep', 1500);
    metrics.orderFinished('rejected');
    metrics.journalSynced(2);
    metrics.natsReconnected();
    const text = await (await fetch(metrics.url as string)).text();
    assert.match(text, /^drover_agent_orders_total\{outcome="succeeded",agent="a1"\} 1$/m);
    assert.match(text, /^drover_agent_orders_total\{outcome="rejected",agent="a1"\} 1$/m);
    assert.match(text, /^drover_agent_step_duration_seconds_count\{agent="a1",step="sleep"\} 1$/m);
    assert.match(text, /^drover_agent_step_duration_seconds_sum\{agent="a1",step="sleep"\} 1\.5$/m);
    assert.match(text, /^drover_agent_step_duration_seconds_bucket\{le="2",agent="a1",step="sleep"\} 1$/m);
    assert.match(text, /^drover_agent_step_duration_seconds_bucket\{le="1",agent="a1",step="sleep"\} 0$/m);
    assert.match(text, /^drover_agent_journal_fsync_seconds_count\{agent="a1"\} 1$/m);
    assert.match(text, /^drover_agent_nats_reconnects_total\{agent="a1"\} 1$/m);
    assert.equal((await fetch((metrics.url as string).replace('/metrics', '/other'))).status, 404);
  } finally {
    await metrics.stop();
  }
});
