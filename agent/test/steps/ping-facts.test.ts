// The `ping` and `facts` steps return what their shared result schemas promise.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { HostFactsSchema, PingResult } from '@drover/shared';
import type { StepContext } from '../../src/steps/context.ts';
import { factsImplementation } from '../../src/steps/facts.ts';
import { pingImplementation } from '../../src/steps/ping.ts';

function fakeContext(): StepContext {
  const ignore = () => {};
  return {
    info: { jobId: 'job-1', orderId: 'order-1', agentId: 'agent-7', step: 'ping', deadline: Date.now() + 30_000 },
    signal: new AbortController().signal,
    progress: ignore,
    output: ignore,
    logger: { info: ignore, warn: ignore, error: ignore },
    agent: { id: 'agent-7', version: '1.2.3', labels: { cluster: 'kafka-a', rack: '1c' }, commands: {} },
    node: {},
  };
}

test('ping answers with id, version, labels and a facts summary', async () => {
  const result = PingResult.parse(await pingImplementation.run(fakeContext(), {}));
  assert.equal(result.agentId, 'agent-7');
  assert.equal(result.version, '1.2.3');
  assert.deepEqual(result.labels, { cluster: 'kafka-a', rack: '1c' });
  assert.equal(result.facts.hostname, os.hostname());
  assert.equal(pingImplementation.definition.name, 'ping');
});

test('facts returns full host facts that validate against HostFactsSchema', async () => {
  const result = HostFactsSchema.parse(await factsImplementation.run(fakeContext(), {}));
  assert.equal(result.os.platform, os.platform());
  assert.ok(result.memory.totalBytes > 0);
  assert.equal(factsImplementation.definition.name, 'facts');
});
