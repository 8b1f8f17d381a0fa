// Plan files: what loads, and every kind of bad file refused with file, line, column, field, value
// and what was expected (no NATS involved: this is the whole check `drover plan validate` does).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkCondition, planJsonSchema } from '@drover/shared';
import { PlanFileError, parsePlanText } from '../../src/plan/load.ts';

const GOOD = `apiVersion: drover/v1
kind: Plan
metadata:
  name: demo-migration
  cluster: kafka-a
vars:
  pause: 2
  cluster: kafka-a
phases:
  - name: prepare
    steps:
      - name: wait
        step: sleep
        target: "cluster=\${vars.cluster}"
        params: { seconds: "\${vars.pause}" }
        concurrency: 50%
        maxErrors: 1
        serialBy: rack
        timeout: 30s
    gate:
      - name: alive
        step: ping
        target: [kafka-a-1, kafka-a-2]
        expect: { field: labels.cluster, equals: kafka-a }
    rollback:
      - name: undo
        step: sleep
        target: "cluster=kafka-a"
        params: { seconds: 1 }
  - name: switch
    approval: true
    steps:
      - { name: go, step: ping, target: "cluster=kafka-a" }
`;

function problems(text: string): string[] {
  try {
    parsePlanText(text, 'p.yaml');
  } catch (error) {
    assert.ok(error instanceof PlanFileError, `expected a PlanFileError, got ${String(error)}`);
    return error.problems.map((p) => p.message);
  }
  assert.fail('the plan was accepted');
}

describe('plan files', () => {
  test('a good plan resolves: vars substituted with their types, options parsed, gates and rollback kept', () => {
    const { plan, digest } = parsePlanText(GOOD, 'p.yaml');
    const step = plan.phases[0]?.steps[0];
    assert.deepEqual(step?.target, { selector: 'cluster=kafka-a' });
    assert.deepEqual(step?.params, { seconds: 2 });
    assert.deepEqual(step?.options, {
      concurrency: { percent: 50 },
      maxErrors: { count: 1 },
      serialBy: 'rack',
      timeoutMs: 30_000,
    });
    assert.deepEqual(plan.phases[0]?.gate[0]?.target, { agents: ['kafka-a-1', 'kafka-a-2'] });
    assert.deepEqual(plan.phases[0]?.gate[0]?.expect, [{ field: 'labels.cluster', equals: 'kafka-a' }]);
    assert.equal(plan.phases[1]?.approval, true);
    assert.equal(plan.phases[0]?.rollback[0]?.name, 'undo');
    assert.match(digest, /^[0-9a-f]{64}$/);
    assert.equal(parsePlanText(GOOD, 'other.yaml').digest, digest, 'the digest depends on the plan, not the file name');
  });

  test('a YAML syntax error names the file, line and column', () => {
    const [message] = problems('apiVersion: drover/v1\nkind: Plan\nphases:\n  - name: [a\n');
    assert.match(message ?? '', /^p\.yaml:\d+:\d+: YAML: got .*expected valid YAML/);
  });

  test('an unknown step names its line, column and the known steps', () => {
    const text = GOOD.replace('step: ping\n        target: [kafka', 'step: frobnicate\n        target: [kafka');
    const [message] = problems(text);
    assert.match(
      message ?? '',
      /^p\.yaml:22:15: phases\[0\]\.gate\[0\]\.step: got "frobnicate", expected one of .*sleep/,
    );
  });

  test('bad params for a known step point at the parameter', () => {
    const text = GOOD.replace('params: { seconds: 1 }', 'params: { seconds: "soon" }');
    const [message] = problems(text);
    assert.match(message ?? '', /^p\.yaml:29:28: phases\[0\]\.rollback\[0\]\.params\.seconds: got "soon", expected/);
    const unknown = problems(GOOD.replace('params: { seconds: 1 }', 'params: { seconds: 1, path: /etc }'));
    assert.match(unknown[0] ?? '', /phases\[0\]\.rollback\[0\]\.params: .*no unknown keys \(path not allowed\)/);
  });

  test('duplicate phase names and duplicate step names are refused', () => {
    const dupPhase = problems(GOOD.replace('- name: switch', '- name: prepare'));
    assert.match(dupPhase[0] ?? '', /^p\.yaml:30:11: phases\[1\]\.name: got "prepare", expected a phase name not used/);
    const dupStep = problems(GOOD.replace('- name: alive', '- name: wait'));
    assert.match(
      dupStep[0] ?? '',
      /phases\[0\]\.gate\[0\]\.name: got "wait", expected a step name not used by another step/,
    );
  });

  test('an empty selector, a bad selector and an unknown var are refused', () => {
    const empty = problems(GOOD.replace('target: "cluster=kafka-a" }', 'target: "" }'));
    assert.match(
      empty[0] ?? '',
      /^p\.yaml:33:41: phases\[1\]\.steps\[0\]\.target: got "", expected a non-empty label selector/,
    );
    const bad = problems(GOOD.replace('target: "cluster=kafka-a" }', 'target: "cluster==(" }'));
    assert.match(bad[0] ?? '', /phases\[1\]\.steps\[0\]\.target: got "cluster==\(", expected/);
    const unknownVar = problems(GOOD.replace('vars.pause}', 'vars.nope}'));
    assert.match(
      unknownVar[0] ?? '',
      /phases\[0\]\.steps\[0\]\.params\.seconds: got "\$\{vars\.nope\}", expected a var defined under vars \(defined: pause, cluster\)/,
    );
  });

  test('schema problems: unknown keys, missing fields, bad options, several at once', () => {
    const list = problems(
      GOOD.replace('concurrency: 50%', 'concurrency: lots')
        .replace('        timeout: 30s\n', '        timeout: 30s\n        retries: 3\n')
        .replace('kind: Plan', 'kind: Plans'),
    );
    assert.equal(list.length, 3, list.join('\n'));
    assert.ok(list.some((m) => /^p\.yaml:2:7: kind: got "Plans", expected/.test(m)));
    assert.ok(list.some((m) => /phases\[0\]\.steps\[0\]\.concurrency: got "lots", expected/.test(m)));
    assert.ok(
      list.some((m) =>
        /phases\[0\]\.steps\[0\]\.retries: got 3, expected no unknown keys \(retries not allowed\)/.test(m),
      ),
    );
    const noPhases = problems('apiVersion: drover/v1\nkind: Plan\nmetadata: { name: x }\nphases: []\n');
    assert.match(noPhases[0] ?? '', /^p\.yaml:4:9: phases: got \[\], expected at least one phase/);
    const emptyPhase = problems('apiVersion: drover/v1\nkind: Plan\nmetadata: { name: x }\nphases:\n  - name: a\n');
    assert.match(emptyPhase[0] ?? '', /phases\[0\]: .*at least one step, gate check or approval point/);
  });

  test('params too big for one order are refused at load, pointing at the step', () => {
    const batches = Array.from({ length: 3000 }, (_, i) => ({
      reassignments: [{ topic: `topic-${i}`, partition: 0, replicas: [101, 102, 103] }],
    }));
    const text = GOOD.replace(
      'params: { seconds: 1 }',
      `params: { seconds: 1, padding: ${JSON.stringify(JSON.stringify(batches))} }`,
    );
    const list = problems(text);
    assert.ok(
      list.some((m) =>
        /phases\[0\]\.rollback\[0\]\.params: got "\d+ bytes of JSON", expected at most 204800 bytes/.test(m),
      ),
      list.join('\n'),
    );
  });

  test('gate conditions: exactly one operator', () => {
    const two = problems(GOOD.replace('equals: kafka-a }', 'equals: kafka-a, atLeast: 1 }'));
    assert.match(
      two[0] ?? '',
      /phases\[0\]\.gate\[0\]\.expect: .*exactly one of equals, notEquals, atLeast, atMost, exists/,
    );
  });

  test('checkCondition reads dotted paths and says why it fails', () => {
    const result = { inSync: true, lag: 3, labels: { rack: '1a' }, list: [{ leader: 5 }] };
    assert.deepEqual(checkCondition(result, { field: 'inSync', equals: true }), { ok: true });
    assert.deepEqual(checkCondition(result, { field: 'list.0.leader', atLeast: 5 }), { ok: true });
    assert.deepEqual(checkCondition(result, { field: 'lag', atMost: 2 }), {
      ok: false,
      reason: 'lag is 3, expected <= 2',
    });
    assert.deepEqual(checkCondition(result, { field: 'labels.rack', notEquals: '1a' }), {
      ok: false,
      reason: 'labels.rack is "1a", expected not "1a"',
    });
    assert.deepEqual(checkCondition(result, { field: 'missing', exists: true }), {
      ok: false,
      reason: 'missing is undefined, expected present',
    });
    assert.equal(checkCondition(undefined, { field: 'inSync', equals: true }).ok, false);
  });

  test('the JSON Schema for editors describes phases, steps, gates and rollback', () => {
    const schema = planJsonSchema() as { properties?: Record<string, unknown>; required?: string[] };
    assert.ok(schema.properties && 'phases' in schema.properties && 'apiVersion' in schema.properties);
    assert.ok(schema.required?.includes('phases'));
    const text = JSON.stringify(schema);
    for (const key of ['gate', 'rollback', 'approval', 'expect', 'maxErrors', 'serialBy'])
      assert.ok(text.includes(`"${key}"`), key);
  });
});

test("the README's plan example is a valid plan", async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const example = /```yaml\n(apiVersion: drover\/v1[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, 'README has a yaml block starting with apiVersion: drover/v1');
  const { plan } = parsePlanText(example, 'README.md');
  assert.deepEqual(
    plan.phases.map((p) => p.name),
    ['prepare', 'disk-report'],
  );
  assert.deepEqual(plan.phases[0]?.steps[0]?.params, { seconds: 2 });
});
