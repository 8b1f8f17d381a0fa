// Host facts: valid against the shared schemas, quick, and still complete when probes time out.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { FactsSummarySchema, HostFactsSchema } from '@drover/shared';
import { collectFacts, factsSummary } from '../src/facts.ts';

test('collectFacts returns valid facts about this host, quickly', async () => {
  const started = performance.now();
  const facts = await collectFacts();
  const took = performance.now() - started;
  HostFactsSchema.parse(facts);
  assert.ok(took < 5_000, `took ${Math.round(took)} ms`);
  assert.equal(facts.hostname, os.hostname());
  assert.equal(facts.os.arch, os.arch());
  assert.ok(facts.cpu.cores >= 1);
  assert.ok(facts.memory.totalBytes >= facts.memory.availableBytes);
  assert.ok(facts.network.some((n) => n.iface === 'lo' || n.ip4 === '127.0.0.1'));
  assert.ok(
    facts.disks.some((d) => d.mount === '/'),
    JSON.stringify(facts.disks),
  );
});

test('collectFacts falls back to node:os when every probe times out', async () => {
  const started = performance.now();
  const facts = await collectFacts({ callTimeoutMs: 1 });
  assert.ok(performance.now() - started < 500);
  HostFactsSchema.parse(facts);
  assert.equal(facts.hostname, os.hostname());
  assert.equal(facts.memory.totalBytes, os.totalmem());
  assert.ok(facts.network.length > 0);
});

test('factsSummary is synchronous, cheap and valid', () => {
  const started = performance.now();
  const summary = factsSummary();
  assert.ok(performance.now() - started < 50);
  FactsSummarySchema.parse(summary);
  assert.equal(summary.cpus, os.availableParallelism());
  assert.ok(summary.os.startsWith(os.platform()));
});
