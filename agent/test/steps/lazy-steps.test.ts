// The engine steps are imported on first use (idle memory, issue 12): every lazy entry must load the
// implementation of the very definition it declares, a lazily loaded step still runs, and an agent
// that has started (all of agent.ts imported) has loaded none of the engine clients.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { HostFactsSchema, STEP_CATALOG } from '@drover/shared';
import type { StepContext } from '../../src/steps/context.ts';
import { LAZY_STEPS, STEP_IMPLEMENTATIONS } from '../../src/steps/index.ts';

const AGENT_SRC = resolve(import.meta.dirname, '../../src');

function fakeContext(): StepContext {
  const ignore = () => {};
  return {
    info: { jobId: 'job-1', orderId: 'order-1', agentId: 'agent-7', step: 'facts', deadline: Date.now() + 30_000 },
    signal: new AbortController().signal,
    progress: ignore,
    output: ignore,
    logger: { info: ignore, warn: ignore, error: ignore },
    agent: { id: 'agent-7', version: '1.2.3', labels: {}, commands: {} },
    node: {},
  };
}

test('every lazy step loads the implementation of the definition it declares', async () => {
  for (const [key, lazy] of Object.entries(LAZY_STEPS)) {
    const loaded = await lazy.load();
    assert.equal(loaded.definition, lazy.definition, `${key}: module implements ${loaded.definition.name}`);
    assert.equal(STEP_IMPLEMENTATIONS.get(lazy.definition.name), lazy, `${key} is in the agent's step map`);
  }
});

test('the agent offers every step of the catalog, each with its shared parameter schema', () => {
  assert.deepEqual([...STEP_IMPLEMENTATIONS.keys()], [...STEP_CATALOG.keys()]);
  for (const [name, implementation] of STEP_IMPLEMENTATIONS) {
    assert.equal(implementation.definition, STEP_CATALOG.get(name), name);
  }
});

test('a lazily loaded step runs (facts, through the step map)', async () => {
  const facts = STEP_IMPLEMENTATIONS.get('facts');
  assert.ok(facts);
  const result = HostFactsSchema.parse(await facts.run(fakeContext(), {}));
  assert.equal(result.os.platform, os.platform());
});

test('importing the agent loads no Kafka, ZooKeeper, Cassandra, S3, Prometheus or systeminformation code', () => {
  // A fresh process: this test file's own imports must not count.
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    await import(${JSON.stringify(`${AGENT_SRC}/agent.ts`)});
    await import(${JSON.stringify(`${AGENT_SRC}/main.ts`)});
    console.log(JSON.stringify(loaded));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const loaded: string[] = JSON.parse(run.stdout);
  assert.ok(
    loaded.some((url) => url.endsWith('/agent/src/agent.ts')),
    'the hook saw the agent load',
  );
  const heavy = loaded.filter((url) =>
    /node_modules\/(@platformatic\/kafka|cassandra-driver|node-zookeeper-client|@aws-sdk|systeminformation|prom-client)\/|\/agent\/src\/(clients\/(kafka|zookeeper)|steps\/(kafka|zookeeper|cassandra))\//.test(
      url,
    ),
  );
  assert.deepEqual(heavy, []);
});
