// ctx.services as a step sees it through the runner: services by name only, bound to the step's
// signal, and refused by name when the agent was given none.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defineStep } from '@drover/shared';
import { z } from 'zod';
import { ServiceManager } from '../../../src/clients/services/index.ts';
import { silentLogger } from '../../../src/log.ts';
import { type RunRequest, runStep } from '../../../src/runner.ts';
import { implementStep, type StepContext } from '../../../src/steps/context.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-step-services-'));
const services = new ServiceManager({
  services: { engine: { manager: 'process', argv: ['/bin/sleep', '30'] } },
  stateDir: dir,
});
after(async () => {
  await services.stopSupervised();
  rmSync(dir, { recursive: true, force: true });
});

const definition = defineStep({
  name: 'bounce',
  summary: 'test step: drives a service by name',
  params: z.object({ service: z.string() }),
  result: z.object({ started: z.string(), stopped: z.string(), state: z.string() }),
  idempotent: true,
  defaultTimeoutMs: 10_000,
});

function request(run: (ctx: StepContext, params: { service: string }) => Promise<unknown>, extra: Partial<RunRequest>) {
  return {
    info: { jobId: 'job-1', orderId: 'order-1', agentId: 'agent-1', step: 'bounce', deadline: Date.now() + 10_000 },
    params: { service: 'engine' },
    timeoutMs: 10_000,
    implementation: implementStep(definition, run as never) as never,
    agent: { id: 'agent-1', version: '0', labels: {}, commands: {} },
    logger: silentLogger(),
    sinks: { progress: () => {}, output: () => {} },
    cancel: new AbortController().signal,
    ...extra,
  } satisfies RunRequest;
}

const bounce = async (ctx: StepContext, params: { service: string }) => {
  if (!ctx.services) throw new Error('no ctx.services');
  const started = await ctx.services.start(params.service);
  const stopped = await ctx.services.stop(params.service);
  return {
    started: started.outcome,
    stopped: stopped.outcome,
    state: (await ctx.services.status(params.service)).state,
  };
};

test('a step drives a configured service by name through ctx.services', async () => {
  const result = await runStep(request(bounce, { services }));
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.deepEqual(result.output, { started: 'started', stopped: 'stopped', state: 'stopped' });
});

test('without services, every name is refused with UnknownServiceError', async () => {
  const result = await runStep(request(bounce, {}));
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.name, 'UnknownServiceError');
  assert.match(result.error?.message ?? '', /"engine" is not configured on this agent; configured: \(none\)/);
});

test("a step's cancellation reaches a service call (the wait for readiness)", async () => {
  const cancel = new AbortController();
  const slow = new ServiceManager({
    services: { slow: { manager: 'process', argv: ['/bin/sleep', '30'], readyPort: { host: '127.0.0.1', port: 1 } } },
    stateDir: dir,
  });
  setTimeout(() => cancel.abort(new Error('cancelled by test')), 300);
  const started = Date.now();
  const result = await runStep(
    request(async (ctx) => ctx.services?.start('slow'), { services: slow, cancel: cancel.signal, params: {} }),
  );
  assert.equal(result.status, 'cancelled');
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  // Cancelling the wait leaves the process as it is; status tells the truth, and stop ends it.
  assert.equal((await slow.status('slow')).state, 'running');
  assert.equal((await slow.stop('slow')).outcome, 'stopped');
});
