// Fuzz tests of the input files Drover reads: plan files (YAML), Cassandra topology and rebuild plan
// files, Kafka cluster and migration plan files (JSON), and the agent's config file. Each parser is
// fed arbitrary text, arbitrary documents and valid files changed at random paths. It either returns
// a well-formed result or throws its documented error (InvalidInputError(s), PlanFileError,
// ConfigError) whose every problem names the field (and, in YAML, the line and column) and what was
// expected; never a TypeError, RangeError, ReferenceError or plain Error.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateSigningKeyPair, InvalidInputError, InvalidInputErrors } from '@drover/shared';
import fc from 'fast-check';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadAgentConfig } from '../../../agent/src/config.ts';
import { ConfigError } from '../../../agent/src/errors.ts';
import { buildRing, loadPlan, loadTopology, parseTopology, planRebuild } from '../../src/cassandra/index.ts';
import { parseClusterFile, parsePlanFile, planMigration } from '../../src/kafka/index.ts';
import { migrationPlanFile } from '../../src/kafka/plan-file.ts';
import { PlanFileError, parsePlanText } from '../../src/plan/load.ts';
import { ResolvedPlanSchema } from '../../src/plan/types.ts';
import { planFileYaml } from '../../src/plan/writing.ts';
import { topologyArb } from '../cassandra/arbitraries.ts';

const RUNS = 300;
/** Plan files go through YAML, zod and every step schema: fewer runs keep the file fast. */
const PLAN_RUNS = 200;

// ---------------------------------------------------------------------------------------------
// Valid examples (mutated below)

/** The example plan of the README's "Plans" section. */
const README_PLAN = `apiVersion: drover/v1
kind: Plan
metadata:
  name: kafka-a-rolling-check
  cluster: kafka-a
  description: Pace the brokers rack by rack, check them, then a step that needs a person's go.
vars:
  cluster: kafka-a
  pause: 2
phases:
  - name: prepare
    steps:
      - name: settle                      # one executor job: the step on every target
        step: sleep
        target: "cluster=\${vars.cluster}" # a label selector ...
        params: { seconds: "\${vars.pause}" }   # a whole-string var keeps its type (a number here)
        concurrency: 50%                  # number or % of the targets
        maxErrors: 0                      # errors past this stop the run (failed, at this phase)
        serialBy: rack                    # one rack after another
        timeout: 1m
    gate:                                 # checks run after the steps; every target must pass
      - name: all-brokers-answer
        step: ping
        target: [kafka-a-1, kafka-a-2, kafka-a-3]   # ... or an explicit list of agent ids
        expect: { field: labels.cluster, equals: kafka-a }   # equals|notEquals|atLeast|atMost|exists
    rollback:                             # undoes this phase (drover run rollback)
      - { name: settle-back, step: sleep, target: "cluster=kafka-a", params: { seconds: 1 } }
  - name: disk-report
    approval: true                        # the run waits here for \`drover run approve\`
    steps:
      - name: df
        step: command                     # an entry of each agent's LOCAL allow-list
        target: "cluster=kafka-a,role=broker"
        params: { name: disk-usage }
        maxErrors: 1
`;

const fixture = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const KAFKA_FIXTURES = ['two-az.json', 'preflight.json', 'three-to-three.json', 'six-to-three.json'].map((name) =>
  fixture(`../kafka/fixtures/${name}`),
);
const TOPOLOGY_FIXTURE = fixture('../cassandra/fixtures/two-dc-3-racks.json');

const kafkaCluster = parseClusterFile(fixture('../kafka/fixtures/three-to-three.json'));
const kafkaPlan = planMigration(kafkaCluster, {
  placement: {
    mode: 'map',
    map: new Map([
      [1, 101],
      [2, 102],
      [3, 103],
    ]),
  },
});
/** A generated Kafka migration plan file (kafka.* steps with rich params). */
const KAFKA_PLAN_YAML = planFileYaml(
  migrationPlanFile(kafkaPlan, {
    name: 'kafka-a-move',
    cluster: 'kafka-a',
    delegate: 'kafka-a-101',
    destinationBrokers: [101, 102, 103],
    sourceAgents: 'cluster=kafka-a,role=source',
  }),
  'generated',
);
/** `plan-migration --json` output, read back by `kafka export-phase`. */
const KAFKA_PLAN_JSON = JSON.stringify(kafkaPlan);

const cassandra = loadTopology(TOPOLOGY_FIXTURE);
/** `cassandra plan-rebuild --json` output, read back by `cassandra verify-plan`. */
const REBUILD_PLAN = JSON.parse(
  JSON.stringify(
    planRebuild(cassandra.topology, cassandra.ring, { sourceDc: 'aws-use1', destDc: 'gcp-use1', keyspaces: ['ks1'] }),
  ),
) as unknown;

const coordinatorKey = generateSigningKeyPair();
const agentKey = generateSigningKeyPair();
/** An agent config using every section. */
const AGENT_CONFIG = {
  id: 'kafka-a-1',
  labels: { cluster: 'kafka-a', rack: 'use1-az1', role: 'broker' },
  nats: { servers: ['nats://127.0.0.1:4222'], user: 'agent', pass: 'secret' },
  trustedKeys: [coordinatorKey.publicKeyPem, 'coordinator.pub'],
  stateDir: '/var/lib/drover',
  commands: {
    'disk-usage': { argv: ['/usr/bin/df', '-h', '{path}'], params: { path: { pattern: '/[a-z/]*' } }, timeoutMs: 5000 },
  },
  heartbeatMs: 5000,
  maxConcurrentOrders: 2,
  services: {
    kafka: { manager: 'systemd', unit: 'kafka.service' },
    zookeeper: { manager: 'process', argv: ['/opt/zk/bin/zkServer.sh', 'start-foreground'], cwd: '/opt/zk' },
  },
  kafka: {
    bootstrap: 'localhost:9092',
    brokerId: 1,
    rack: 'use1-az1',
    host: 'kafka-a-1.example',
    logDirs: ['/var/lib/kafka'],
    configFile: '/etc/kafka/server.properties',
  },
  zookeeper: {
    configFile: '/etc/zookeeper/zoo.cfg',
    dataDir: '/var/lib/zookeeper',
    myid: 1,
    host: 'zk-1.example',
    clientPort: 2181,
    quorumPort: 2888,
    electionPort: 3888,
    extraConfig: { tickTime: 2000, initLimit: 10 },
  },
  cassandra: {
    cql: { host: '127.0.0.1' },
    nodetoolArgv: ['/usr/bin/nodetool'],
    jvmOptionsFile: '/etc/cassandra/jvm-server.options',
  },
};

// ---------------------------------------------------------------------------------------------
// Generators

const DANGEROUS_KEYS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', ''];
const SPECIAL_NUMBERS = ['1e999', '-1e999', '1e-999', '-0', '9007199254740993', '1E+2', '-1', '0.5'];

/** Values that trip careless code: objects that cannot become strings, vars, odd numbers, long text. */
const TRICKY_VALUES: unknown[] = [
  { toString: 1 },
  { valueOf: null, toString: null },
  [{ toString: 1 }],
  `\${vars.pause}`,
  `\${vars.cluster}`,
  `\${vars.nope}`,
  `x-\${vars.pause}-y`,
  '',
  ' ',
  '-',
  '50%',
  '101%',
  '1m',
  '0',
  '-1',
  'x'.repeat(300),
  0,
  -1,
  1.5,
  2 ** 31,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  true,
  null,
  [],
  {},
];

function jsonValueArbOf(keys: readonly string[], strings: readonly string[]): fc.Arbitrary<unknown> {
  const keyArb = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...keys) },
    { weight: 1, arbitrary: fc.constantFrom(...DANGEROUS_KEYS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const leaf = fc.oneof(
    fc.constantFrom(...TRICKY_VALUES),
    fc.constantFrom(...strings),
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(null, true, false),
  );
  return fc.letrec<{ value: unknown; object: unknown; array: unknown }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc
      .array(fc.tuple(keyArb, tie('value')), { maxLength: 6 })
      .map((entries) => Object.fromEntries(entries) as unknown),
  })).value;
}

/** JSON text, including number spellings JSON.stringify never writes (1e999 parses to Infinity). */
function jsonTextArbOf(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    value.map((v) => JSON.stringify(v) ?? 'null'),
    fc
      .tuple(value, fc.constantFrom(...SPECIAL_NUMBERS))
      .map(([v, n]) => (JSON.stringify(v) ?? 'null').replace(/\d+/, n)),
    fc.string({ maxLength: 60 }),
    fc.constantFrom('', '{', '[]', 'null', '"x"', '{"a":1,"a":2}', '1e999'),
  );
}

type PathPart = string | number;

/** One change to a document: the node at `pick` (mod the number of nodes), and what is done to it. */
type Op =
  | { kind: 'delete' }
  | { kind: 'replace'; value: unknown }
  | { kind: 'literal'; literal: string }
  | { kind: 'tweak' }
  | { kind: 'retype' }
  | { kind: 'insert'; key: string; value: unknown }
  | { kind: 'duplicate' };
interface Mutation {
  pick: number;
  op: Op;
}

function mutationsArb(
  value: fc.Arbitrary<unknown>,
  literals: readonly string[],
  keys: readonly string[],
): fc.Arbitrary<Mutation[]> {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ kind: 'delete' as const }),
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), value }) },
    fc.record({ kind: fc.constant('literal' as const), literal: fc.constantFrom(...literals) }),
    fc.constant({ kind: 'tweak' as const }),
    fc.constant({ kind: 'retype' as const }),
    fc.record({
      kind: fc.constant('insert' as const),
      key: fc.oneof(fc.constantFrom(...keys, ...DANGEROUS_KEYS), fc.string({ maxLength: 6 })),
      value,
    }),
    fc.constant({ kind: 'duplicate' as const }),
  );
  return fc.array(fc.record({ pick: fc.nat(), op }), { minLength: 1, maxLength: 3 });
}

function nodePaths(value: unknown, path: PathPart[] = [], out: PathPart[][] = []): PathPart[][] {
  out.push(path);
  if (Array.isArray(value))
    value.forEach((v, i) => {
      nodePaths(v, [...path, i], out);
    });
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) nodePaths(v, [...path, k], out);
  return out;
}

function define(target: object, key: PathPart, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function tweak(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value}!`;
  if (Array.isArray(value)) return [...value, value[0]];
  if (value && typeof value === 'object') return { ...value, extra: 1 };
  return value === null ? 'null' : !value;
}

function retype(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : [value];
  if (Array.isArray(value)) return { ...value };
  if (value && typeof value === 'object') return Object.values(value);
  return value === null ? 0 : String(value);
}

/**
 * Applies the mutations; literal ones leave a placeholder (`FUZZLITn`) that `render` replaces by
 * its text in the serialised document (a spelling the serialiser itself would never write).
 */
function mutate(doc: unknown, mutations: readonly Mutation[]): { doc: unknown; literals: string[] } {
  const root: { v: unknown } = { v: structuredClone(doc) };
  const literals: string[] = [];
  for (const m of mutations) {
    const paths = nodePaths(root.v);
    const path = paths[m.pick % paths.length] as PathPart[];
    // The parent of the node at `path` (the wrapper `root` for the document itself) and its key.
    let parent = root as unknown as Record<PathPart, unknown>;
    let key: PathPart = 'v';
    for (const part of path) {
      parent = parent[key] as Record<PathPart, unknown>;
      key = part;
    }
    const node = parent[key];
    switch (m.op.kind) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else if (parent === (root as unknown)) root.v = undefined;
        else delete parent[key];
        break;
      case 'replace':
        define(parent, key, structuredClone(m.op.value));
        break;
      case 'literal':
        define(parent, key, `FUZZLIT${literals.length}`);
        literals.push(m.op.literal);
        break;
      case 'tweak':
        define(parent, key, tweak(node));
        break;
      case 'retype':
        define(parent, key, retype(node));
        break;
      case 'insert':
        if (Array.isArray(node)) node.push(structuredClone(m.op.value));
        else if (node && typeof node === 'object') define(node, m.op.key, structuredClone(m.op.value));
        else define(parent, key, { [m.op.key]: node });
        break;
      case 'duplicate':
        if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(node));
        else if (Array.isArray(node) && node.length > 0) node.push(structuredClone(node[0]));
        else define(parent, key, [node, node]);
        break;
    }
  }
  return { doc: root.v, literals };
}

function renderJson(doc: unknown, literals: readonly string[]): string {
  let text = JSON.stringify(doc) ?? '';
  literals.forEach((literal, i) => {
    text = text.replace(`"FUZZLIT${i}"`, literal);
  });
  return text;
}

function renderYaml(doc: unknown, literals: readonly string[]): string {
  let text = toYaml(doc === undefined ? null : doc);
  literals.forEach((literal, i) => {
    text = text.replace(`FUZZLIT${i}`, literal);
  });
  return text;
}

// ---------------------------------------------------------------------------------------------
// What a parser may throw

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name} ${error.name}: ${error.message}` : String(error);
}

/** An InvalidInputError names its field, the value and what was expected. */
function checkProblem(p: unknown, fieldPattern: RegExp): void {
  assert.ok(p instanceof InvalidInputError, `a problem is an InvalidInputError, got ${describeError(p)}`);
  assert.match(p.field, fieldPattern, `the problem names a field: ${p.message}`);
  assert.ok(p.expected.length > 0, 'the problem says what was expected');
  assert.ok(p.message.startsWith(`${p.field}: got `) && p.message.includes(', expected '), p.message);
}

/**
 * Runs `parse`: it returns, or throws InvalidInputError(s) whose every problem names a field (or an
 * error `documented` accepts).
 */
function expectCleanOutcome<T>(
  parse: () => T,
  fieldPattern: RegExp,
  check?: (result: T) => void,
  documented?: (error: unknown) => boolean,
): void {
  let result: T;
  try {
    result = parse();
  } catch (error) {
    if (error instanceof InvalidInputErrors) {
      assert.ok(error.problems.length > 0, 'at least one problem');
      for (const p of error.problems) checkProblem(p, fieldPattern);
      return;
    }
    if (error instanceof InvalidInputError) {
      checkProblem(error, fieldPattern);
      return;
    }
    if (documented?.(error)) return;
    assert.fail(`only InvalidInputError(s) may escape, got ${describeError(error)}`);
  }
  check?.(result);
}

/** A plan file either loads into a plan a run can store, or every problem has file:line:col: field. */
function expectPlanOutcome(text: string): void {
  let loaded: ReturnType<typeof parsePlanText>;
  try {
    loaded = parsePlanText(text, 'plan.yaml');
  } catch (error) {
    assert.ok(error instanceof PlanFileError, `only PlanFileError may escape, got ${describeError(error)}`);
    assert.ok(error.problems.length > 0, 'at least one problem');
    for (const p of error.problems) checkProblem(p, /^plan\.yaml:\d+:\d+: ./s);
    return;
  }
  const stored = ResolvedPlanSchema.safeParse(loaded.plan);
  const issue = stored.error?.issues[0];
  assert.ok(
    stored.success,
    `the resolved plan is one a run can store: ${issue?.path.join('.')}: ${issue?.message} (got ${JSON.stringify(
      issue?.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k], loaded.plan),
    )})`,
  );
  for (const phase of loaded.plan.phases)
    for (const step of [...phase.steps, ...phase.gate, ...phase.rollback]) {
      const where = `${phase.name}/${step.name}`;
      if ('selector' in step.target)
        assert.ok(step.target.selector.trim() !== '', `${where}: a label selector is never empty (it would match all)`);
      else
        assert.ok(
          Array.isArray(step.target.agents) && step.target.agents.every((a) => typeof a === 'string'),
          `${where}: agents is a list of agent ids, got ${JSON.stringify(step.target.agents)}`,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Plan files

const PLAN_KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'name',
  'cluster',
  'description',
  'vars',
  'phases',
  'approval',
  'steps',
  'gate',
  'rollback',
  'step',
  'target',
  'params',
  'concurrency',
  'maxErrors',
  'serialBy',
  'timeout',
  'deliveryTimeout',
  'expect',
  'field',
  'equals',
  'notEquals',
  'atLeast',
  'atMost',
  'exists',
  'seconds',
  'pause',
  '<<',
];
const PLAN_STRINGS = [
  'drover/v1',
  'Plan',
  'ping',
  'sleep',
  'command',
  'kafka.describe',
  'kafka.reassign',
  'cluster=kafka-a',
  'cluster in (a, b)',
  '!role',
  'kafka-a-1',
  'prepare',
  'labels.cluster',
];
const planValueArb = jsonValueArbOf(PLAN_KEYS, PLAN_STRINGS);
const YAML_LITERALS = [
  '.inf',
  '-.inf',
  '.nan',
  '~',
  '0x1F',
  '0o17',
  '1e999',
  '*nope',
  '&a x',
  '!!binary aGk=',
  '!!str 5',
  '!!int x',
  '!!set { a }',
  '!!omap [ a: 1 ]',
  '"\\u0000"',
  "'it''s'",
  '[',
  '{a: 1, a: 2}',
  '|\n  text',
];

/** YAML-ish token soup: anchors, aliases, merge keys, tags, directives, flow and block syntax. */
const yamlSoupArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'apiVersion: drover/v1\n',
        'kind: Plan\n',
        'metadata: {name: x}\n',
        'phases:\n',
        '  - name: p\n',
        '    approval: true\n',
        '    steps:\n',
        '      - {name: s, step: ping, target: "a=b"}\n',
        'vars: &v {a: 1}\n',
        '<<: *v\n',
        '&a ',
        '*a',
        '*a\n',
        '!!omap ',
        '!!set ',
        '!!binary ',
        '%YAML 1.1\n---\n',
        '%TAG ! tag:x,2000:\n',
        '---\n',
        '...\n',
        '? ',
        ': ',
        '- ',
        '[',
        ']',
        '{',
        '}',
        ',',
        '"',
        "'",
        '#',
        '|\n',
        '>\n',
        '\t',
        '  ',
        '\n',
        '\r\n',
        '\u0000',
        '\ufeff',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

/** Many aliases of one anchor (a plan reusing a target list in every step). */
const aliasesArb = fc
  .tuple(fc.integer({ min: 1, max: 130 }), fc.boolean())
  .map(([n, plan]) =>
    plan
      ? `apiVersion: drover/v1\nkind: Plan\nmetadata: {name: x}\nphases:\n  - name: p\n    steps:\n${Array.from(
          { length: n },
          (_, i) => `      - {name: s${i}, step: ping, target: ${i === 0 ? '&t [kafka-a-1, kafka-a-2]' : '*t'}}`,
        ).join('\n')}\n`
      : `a: &a x\nb: [${Array.from({ length: n }, () => '*a').join(', ')}]\n`,
  );

/** Text-level damage to a valid file: a line removed, repeated, re-indented, cut, or a token inserted. */
const textDamageArb = fc.record({
  line: fc.nat(),
  op: fc.constantFrom('remove', 'repeat', 'indent', 'dedent', 'cut', 'insert'),
  token: fc.constantFrom(':', '- ', '&a ', '*a', '!!omap ', '#', '"', '{', '[', '\t', '<<: *a', '? '),
});

interface DamageSpec {
  line: number;
  op: string;
  token: string;
}

function damage(text: string, d: DamageSpec): string {
  const lines = text.split('\n');
  const i = d.line % lines.length;
  const line = lines[i] ?? '';
  switch (d.op) {
    case 'remove':
      lines.splice(i, 1);
      break;
    case 'repeat':
      lines.splice(i, 0, line);
      break;
    case 'indent':
      lines[i] = `  ${line}`;
      break;
    case 'dedent':
      lines[i] = line.replace(/^ {1,2}/, '');
      break;
    case 'cut':
      return lines.slice(0, i).join('\n') + line.slice(0, line.length >> 1);
    case 'insert':
      lines[i] = `${line.slice(0, d.line % (line.length + 1))}${d.token}${line.slice(d.line % (line.length + 1))}`;
      break;
  }
  return lines.join('\n');
}

const VALID_PLANS = [README_PLAN, KAFKA_PLAN_YAML];
const validPlanDocs = VALID_PLANS.map((text) => parseYaml(text) as unknown);

/** The index `mutate` picks for the node at `path` of `doc`. */
function pickOf(doc: unknown, path: PathPart[]): number {
  const index = nodePaths(doc).findIndex((p) => p.length === path.length && p.every((part, i) => part === path[i]));
  assert.ok(index >= 0, `no node at ${path.join('.')}`);
  return index;
}

const TARGET: PathPart[] = ['phases', 0, 'steps', 0, 'target'];

describe('plan files fuzz', () => {
  test('the valid examples load (the mutations start from good files)', () => {
    for (const text of VALID_PLANS) expectPlanOutcome(text);
    for (const text of VALID_PLANS) parsePlanText(text);
  });

  test('arbitrary text and YAML token soup: a plan, or PlanFileError naming line, column and field', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
          { weight: 3, arbitrary: yamlSoupArb },
          { weight: 1, arbitrary: aliasesArb },
        ),
        (text) => expectPlanOutcome(text),
      ),
      { numRuns: RUNS, examples: [['*a'], ['b: [*a]\n'], ['%YAML 1.1\n---\n<<: 5\n']] },
    );
  });

  test('YAML of arbitrary documents: a plan, or PlanFileError naming line, column and field', () => {
    fc.assert(
      fc.property(planValueArb, (doc) => expectPlanOutcome(toYaml(doc))),
      { numRuns: RUNS },
    );
  });

  test('valid plans changed at random paths: a plan a run can store, or PlanFileError naming each problem', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), mutationsArb(planValueArb, YAML_LITERALS, PLAN_KEYS), (which, mutations) => {
        const { doc, literals } = mutate(validPlanDocs[which], mutations);
        expectPlanOutcome(renderYaml(doc, literals));
      }),
      {
        numRuns: PLAN_RUNS,
        examples: [
          // A target that is a whole var: a number (pause: 2), then an empty string (cluster: '').
          [0, [{ pick: pickOf(validPlanDocs[0], TARGET), op: { kind: 'replace', value: `\${vars.pause}` } }]],
          [
            0,
            [
              { pick: pickOf(validPlanDocs[0], ['vars', 'cluster']), op: { kind: 'replace', value: '' } },
              { pick: pickOf(validPlanDocs[0], TARGET), op: { kind: 'replace', value: `\${vars.cluster}` } },
            ],
          ],
        ],
      },
    );
  });

  test('valid plan text damaged line by line: a plan, or PlanFileError naming line, column and field', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_PLANS),
        fc.array(textDamageArb, { minLength: 1, maxLength: 3 }),
        (text, ds) => expectPlanOutcome(ds.reduce((t, d) => damage(t, d), text)),
      ),
      {
        numRuns: PLAN_RUNS,
        // The generated plan shares repeated values through YAML anchors: remove the line of the first one.
        examples: [
          [
            KAFKA_PLAN_YAML,
            [
              {
                line: Math.max(
                  0,
                  KAFKA_PLAN_YAML.split('\n').findIndex((l) => / &a\d/.test(l)),
                ),
                op: 'remove',
                token: ':',
              },
            ],
          ],
        ],
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Cassandra: topology files and rebuild plans

const TOPOLOGY_KEYS = ['partitioner', 'nodes', 'address', 'hostId', 'dc', 'rack', 'tokens', 'keyspaces', 'name'];
const TOPOLOGY_STRINGS = [
  'Murmur3Partitioner',
  'org.apache.cassandra.dht.Murmur3Partitioner',
  'NetworkTopologyStrategy',
  'SimpleStrategy',
  'LocalStrategy',
  'EverywhereStrategy',
  'class',
  'replication_factor',
  '3',
  '3/1',
  '1/3',
  'dc0',
  'r0',
  '10.0.0.1',
  '-9223372036854775808',
  '9223372036854775807',
  '9223372036854775808',
  '0',
  '+5',
  '007',
  '1e3',
];
const topologyValueArb = jsonValueArbOf(
  [...TOPOLOGY_KEYS, 'class', 'replication', 'replication_factor'],
  TOPOLOGY_STRINGS,
);
const JSON_LITERALS = [...SPECIAL_NUMBERS, '"\\u0000"', '"\\ud800"', '[]', '{}', 'null'];
const TOPOLOGY_FIELD = /^(topology(\.json)?|partitioner|nodes|keyspaces)\b/;

const validTopologyArb = fc.oneof(
  fc.constant(JSON.parse(TOPOLOGY_FIXTURE) as unknown),
  topologyArb({ maxDcs: 2 }).map((t) => JSON.parse(JSON.stringify(t)) as unknown),
);

function checkTopology(result: ReturnType<typeof loadTopology>): void {
  for (const node of result.topology.nodes)
    assert.ok(
      node.tokens.every((t) => /^-?\d+$/.test(t)),
      'tokens come back in canonical decimal form',
    );
  assert.equal(
    result.ring.tokens.length,
    result.topology.nodes.reduce((n, node) => n + node.tokens.length, 0),
  );
}

describe('cassandra files fuzz', () => {
  test('topology: arbitrary JSON text and documents give a topology or InvalidInputErrors naming the field', () => {
    fc.assert(
      fc.property(jsonTextArbOf(topologyValueArb), (text) =>
        expectCleanOutcome(() => loadTopology(text, 'topology.json'), TOPOLOGY_FIELD, checkTopology),
      ),
      {
        numRuns: RUNS,
        examples: [
          ['{"partitioner":"Murmur3Partitioner","nodes":[],"keyspaces":[{"name":{"toString":1},"replication":{}}]}'],
        ],
      },
    );
  });

  test('topology: valid topologies changed at random paths give a topology or InvalidInputErrors', () => {
    fc.assert(
      fc.property(
        validTopologyArb,
        mutationsArb(topologyValueArb, JSON_LITERALS, TOPOLOGY_KEYS),
        (valid, mutations) => {
          const { doc, literals } = mutate(valid, mutations);
          const text = renderJson(doc, literals);
          expectCleanOutcome(() => loadTopology(text, 'topology.json'), TOPOLOGY_FIELD, checkTopology);
          if (literals.length === 0) expectCleanOutcome(() => buildRing(parseTopology(doc)), TOPOLOGY_FIELD);
        },
      ),
      {
        numRuns: RUNS,
        examples: [
          // A keyspace name that cannot become a string, and a LocalStrategy option that cannot either.
          [
            JSON.parse(TOPOLOGY_FIXTURE),
            [
              {
                pick: pickOf(JSON.parse(TOPOLOGY_FIXTURE), ['keyspaces', 0, 'name']),
                op: { kind: 'replace', value: { toString: 1 } },
              },
            ],
          ],
        ],
      },
    );
  });

  const REBUILD_KEYS = [
    'sourceDc',
    'destDc',
    'keyspaces',
    'order',
    'down',
    'maxStreamsPerSource',
    'name',
    'rebuilds',
    'atRisk',
    'node',
    'source',
    'ranges',
    'argv',
    'part',
    'range',
    'reason',
    'kind',
    'keyspace',
  ];
  const rebuildValueArb = jsonValueArbOf(REBUILD_KEYS, [...TOPOLOGY_STRINGS, 'aws-use1', 'gcp-use1', 'source-down']);

  const REBUILD_FIELD = /^(rebuild\.json|plan)\b/;

  test('rebuild plan: arbitrary JSON gives a plan or InvalidInputErrors naming plan.<field>', () => {
    fc.assert(
      fc.property(jsonTextArbOf(rebuildValueArb), (text) =>
        expectCleanOutcome(() => loadPlan(text, 'rebuild.json'), REBUILD_FIELD),
      ),
      { numRuns: RUNS, examples: [['{"sourceDc":{"toString":1}}']] },
    );
  });

  test('rebuild plan: a valid plan changed at random paths gives a plan or InvalidInputErrors', () => {
    fc.assert(
      fc.property(mutationsArb(rebuildValueArb, JSON_LITERALS, REBUILD_KEYS), (mutations) => {
        const { doc, literals } = mutate(REBUILD_PLAN, mutations);
        const text = renderJson(doc, literals);
        expectCleanOutcome(() => loadPlan(text, 'rebuild.json'), REBUILD_FIELD);
      }),
      {
        numRuns: RUNS,
        // A source DC that cannot become a string.
        examples: [[[{ pick: pickOf(REBUILD_PLAN, ['sourceDc']), op: { kind: 'replace', value: { toString: 1 } } }]]],
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Kafka: cluster files and migration plan files

const KAFKA_KEYS = [
  'brokers',
  'topics',
  'clientListeners',
  'id',
  'host',
  'rack',
  'role',
  'listeners',
  'bytesInPerSec',
  'configs',
  'name',
  'value',
  'source',
  'internal',
  'partitions',
  'partition',
  'replicas',
  'leader',
  'isr',
  'offlineReplicas',
  'addingReplicas',
  'removingReplicas',
  'sizeBytes',
  'replicaSizeBytes',
];
const KAFKA_STRINGS = [
  'source',
  'destination',
  'both',
  'leader.replication.throttled.rate',
  'follower.replication.throttled.rate',
  'leader.replication.throttled.replicas',
  'DYNAMIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'PLAINTEXT',
  '__consumer_offsets',
  'a/b',
  '101',
];
const kafkaValueArb = jsonValueArbOf(KAFKA_KEYS, KAFKA_STRINGS);

describe('kafka files fuzz', () => {
  test('cluster file: arbitrary and changed files give a cluster or InvalidInputError(s) naming cluster.<path>', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonTextArbOf(kafkaValueArb),
          fc
            .tuple(fc.constantFrom(...KAFKA_FIXTURES), mutationsArb(kafkaValueArb, JSON_LITERALS, KAFKA_KEYS))
            .map(([valid, mutations]) => {
              const { doc, literals } = mutate(JSON.parse(valid), mutations);
              return renderJson(doc, literals);
            }),
        ),
        (text) =>
          expectCleanOutcome(
            () => parseClusterFile(text),
            /^cluster\b/,
            (cluster) => {
              const ids = new Set(cluster.brokers.map((b) => b.id));
              assert.equal(ids.size, cluster.brokers.length, 'broker ids are distinct');
              for (const topic of cluster.topics)
                for (const p of topic.partitions) {
                  assert.ok(
                    p.replicas.length > 0 && p.replicas.every((id) => ids.has(id)),
                    'replicas are known brokers',
                  );
                  assert.ok(p.leader === -1 || p.replicas.includes(p.leader), 'the leader is a replica or -1');
                }
            },
          ),
      ),
      {
        numRuns: RUNS,
        examples: [
          // A throttle config value that cannot become a string.
          [
            JSON.stringify({
              brokers: [{ id: 1, host: 'h', role: 'both', configs: [{ name: 'x', value: { toString: 1 } }] }],
              topics: [],
            }),
          ],
        ],
      },
    );
  });

  const PLAN_JSON_KEYS = [
    'mapping',
    'phases',
    'findings',
    'name',
    'batches',
    'reassignments',
    'rollback',
    'topic',
    'partition',
    'replicas',
    'source',
    'destination',
  ];
  const kafkaPlanValueArb = jsonValueArbOf(PLAN_JSON_KEYS, [
    'expand',
    'leaders',
    'shrink',
    'cleanup',
    'orders/0',
    'orders',
  ]);

  test('migration plan file: arbitrary and changed plans give a plan or InvalidInputError(s) naming --plan.<path>', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonTextArbOf(kafkaPlanValueArb),
          mutationsArb(kafkaPlanValueArb, JSON_LITERALS, PLAN_JSON_KEYS).map((mutations) => {
            const { doc, literals } = mutate(JSON.parse(KAFKA_PLAN_JSON), mutations);
            return renderJson(doc, literals);
          }),
        ),
        (text) => expectCleanOutcome(() => parsePlanFile(text), /^--plan\b/),
      ),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The agent's config file

const CONFIG_KEYS = [
  'id',
  'labels',
  'nats',
  'servers',
  'trustedKeys',
  'stateDir',
  'signingKeyFile',
  'commands',
  'argv',
  'params',
  'pattern',
  'timeoutMs',
  'services',
  'manager',
  'unit',
  'env',
  'cwd',
  'readyPort',
  'kafka',
  'zookeeper',
  'cassandra',
  'extraConfig',
  'myid',
  'clientPort',
  'quorumPort',
  'electionPort',
  'adminPort',
];
const CONFIG_STRINGS = [
  'process',
  'systemd',
  'kafka.service',
  '-kafka.service',
  '/abs/path',
  'relative/path',
  'coordinator.pub',
  'missing.pem',
  'agent.pem',
  '.',
  '(',
  'a)|(.*',
  '[a-',
  '{path}',
  '{nope}',
  'server.1',
  'dataDir',
  coordinatorKey.publicKeyPem,
  agentKey.privateKeyPem,
  '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n',
];
const configValueArb = jsonValueArbOf(CONFIG_KEYS, CONFIG_STRINGS);

let configDir: string;
let configSeq = 0;

before(() => {
  configDir = mkdtempSync(join(tmpdir(), 'drover-config-fuzz-'));
  // Key files a config may name by relative path: a good public key, and a private key (the wrong kind).
  writeFileSync(join(configDir, 'coordinator.pub'), coordinatorKey.publicKeyPem);
  writeFileSync(join(configDir, 'agent.pem'), agentKey.privateKeyPem);
});

after(() => {
  rmSync(configDir, { recursive: true, force: true });
});

/** ConfigError messages start with what they are about: the file, a key file, a command entry. */
const CONFIG_ERROR =
  /^(cannot read config file \S|config file \S.* is not valid JSON: |trustedKeys\[\d+\]: cannot read key file |commands\.\S)/s;

/** loadAgentConfig on a file holding `text`: a config, or ConfigError / InvalidInputError(s) naming the field. */
function expectConfigOutcome(text: string): void {
  const file = join(configDir, `config-${configSeq++}.json`);
  writeFileSync(file, text);
  try {
    expectCleanOutcome(
      () => loadAgentConfig(file),
      /^(config|trustedKeys\[\d+\])\b/,
      undefined,
      (error) => {
        if (!(error instanceof ConfigError)) return false;
        assert.match(error.message, CONFIG_ERROR);
        return true;
      },
    );
  } finally {
    rmSync(file, { force: true });
  }
}

describe('agent config fuzz', () => {
  test('the valid example loads', () => {
    const file = join(configDir, 'valid.json');
    writeFileSync(file, JSON.stringify(AGENT_CONFIG));
    const { config, trustedKeys } = loadAgentConfig(file);
    assert.equal(config.id, 'kafka-a-1');
    assert.equal(trustedKeys.size, 1);
  });

  test('arbitrary and changed config files: a config, or ConfigError / InvalidInputError(s) naming the field', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonTextArbOf(configValueArb),
          mutationsArb(configValueArb, JSON_LITERALS, CONFIG_KEYS).map((mutations) => {
            const { doc, literals } = mutate(AGENT_CONFIG, mutations);
            return renderJson(doc, literals);
          }),
        ),
        (text) => expectConfigOutcome(text),
      ),
      { numRuns: RUNS },
    );
  });
});
