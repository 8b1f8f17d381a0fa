// Fuzz tests of what the coordinator reads from the events stream: applyEvent with arbitrary
// subjects and payloads (bytes, JSON, agents' reports signed, mis-signed and altered after signing),
// with and without report verification, and the wire schemas' safeParse on arbitrary values.
// applyEvent never throws; with verification on, a target's state changes only on a report the
// agent's enrolled key signed, unaltered; every refusal says why.

import assert from 'node:assert/strict';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  AcceptedEventSchema,
  CancelRequestSchema,
  canonicalJson,
  EVENT_KINDS,
  generateSigningKeyPair,
  JobEventSchema,
  type Order,
  OrderResultSchema,
  orderDigest,
  orderSignerFromPem,
  RESULT_STATUSES,
  type ReportSigner,
  reportSignerFromPem,
  TARGET_STATES,
  type TargetState,
} from '@drover/shared';
import fc from 'fast-check';
import { jsonArbitraries, SPECIAL_NUMBERS } from '../../../test/fuzz/json.ts';
import { checkReport } from '../../src/engine/agent-keys.ts';
import type { RunRecord } from '../../src/engine/records.ts';
import { applyEvent, type RefusedReport } from '../../src/engine/results.ts';

const JOB = 'job-1';
/** a1 and a2 are enrolled; a3 is a target without an enrolled key; nobody is no target. */
const AGENTS = ['a1', 'a2', 'a3'] as const;
const NOW = 1_700_000_000_000;

const coordinator = orderSignerFromPem(generateSigningKeyPair().privateKeyPem);
const signers: Record<string, ReportSigner> = {
  a1: reportSignerFromPem(generateSigningKeyPair().privateKeyPem),
  a2: reportSignerFromPem(generateSigningKeyPair().privateKeyPem),
  a3: reportSignerFromPem(generateSigningKeyPair().privateKeyPem),
  stranger: reportSignerFromPem(generateSigningKeyPair().privateKeyPem),
};
const enrolled = new Map<string, KeyObject>([
  ['a1', createPublicKey(signers.a1!.publicKeyPem)],
  ['a2', createPublicKey(signers.a2!.publicKeyPem)],
]);

const orders: Record<string, Order> = Object.fromEntries(
  AGENTS.map((agentId) => [
    agentId,
    coordinator.sign({
      v: 1,
      jobId: JOB,
      orderId: `${JOB}-${agentId}`,
      agentId,
      step: 'ping',
      params: {},
      issuedAt: NOW,
      expiresAt: NOW + 60_000,
      timeoutMs: 10_000,
    }),
  ]),
);

// ---------------------------------------------------------------------------------------------
// Generators

const REPORT_FIELDS = [
  'orderId',
  'jobId',
  'agentId',
  'step',
  'status',
  'startedAt',
  'finishedAt',
  'output',
  'error',
  'replayed',
  'rejectedDigest',
  'keyId',
  'signature',
  'at',
] as const;

const keyArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom<string>(...REPORT_FIELDS) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'name', 'message') },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
);

const stringArb = fc.oneof(
  fc.constantFrom(
    ...AGENTS,
    'nobody',
    JOB,
    `${JOB}-a1`,
    `${JOB}-a2`,
    'ping',
    ...RESULT_STATUSES,
    signers.a1!.keyId,
    signers.stranger!.keyId,
    orderDigest(orders.a1),
    '',
  ),
  fc.string({ maxLength: 12 }),
);

const { value: jsonValueArb, text: jsonTextArb } = jsonArbitraries({
  key: keyArb,
  string: stringArb,
  numbers: [0, -1, NOW, 2 ** 53],
});

const subjectAgentArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<string>(...AGENTS) },
  { weight: 1, arbitrary: fc.constantFrom('nobody', 'coordinator', '', '*', '>') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const kindArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('accepted', 'result') },
  { weight: 2, arbitrary: fc.constantFrom<string>(...EVENT_KINDS) },
  { weight: 1, arbitrary: fc.constantFrom('results', 'Accepted', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

interface Subject {
  text: string;
  /** The target agent and kind when the subject is a well-formed event subject of this job. */
  agent?: string;
  kind?: string;
}

const subjectArb: fc.Arbitrary<Subject> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(JOB, 'job-2'), subjectAgentArb, kindArb)
      .map(([job, agent, kind]) => ({ text: `drover.event.${job}.${agent}.${kind}`, agent, kind })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text })) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom('drover', 'event', JOB, 'a1', 'result', 'accepted', '', '*', '>'), { maxLength: 7 })
      .map((parts) => ({ text: parts.join('.') })),
  },
);

/** One change made to a report after it was signed. */
type Mutation =
  | { kind: 'none' }
  | { kind: 'remove'; field: string }
  | { kind: 'replace'; field: string; value: unknown }
  | { kind: 'literal'; field: string; literal: string }
  | { kind: 'tweak'; field: string };

const fieldArb = fc.constantFrom<string>(...REPORT_FIELDS);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('remove' as const), field: fieldArb }),
  fc.record({ kind: fc.constant('replace' as const), field: fc.oneof(fieldArb, keyArb), value: jsonValueArb }),
  fc.record({
    kind: fc.constant('literal' as const),
    field: fieldArb,
    literal: fc.constantFrom(...SPECIAL_NUMBERS, '"x"', '[]', '{}', 'null'),
  }),
  fc.record({ kind: fc.constant('tweak' as const), field: fieldArb }),
);

/** An agent's report: what it claims, who signs it, then what is changed. */
interface ReportRecipe {
  kind: 'result' | 'accepted';
  signer: string;
  claimedAgent: string | undefined;
  orderOf: string | undefined;
  status: (typeof RESULT_STATUSES)[number];
  digest: string;
  mutation: Mutation;
}
const reportArb: fc.Arbitrary<ReportRecipe> = fc.record({
  kind: fc.constantFrom('result' as const, 'accepted' as const),
  signer: fc.constantFrom('a1', 'a2', 'a3', 'stranger', 'none'),
  claimedAgent: fc.constantFrom<string | undefined>('a1', 'a2', 'a3', 'nobody', undefined),
  orderOf: fc.constantFrom<string | undefined>('a1', 'a2', 'a3', undefined),
  status: fc.constantFrom(...RESULT_STATUSES),
  digest: fc.constantFrom('none', 'own', 'other'),
  mutation: mutationArb,
});

interface Payload {
  data: Uint8Array;
  /** The agent whose key signed this exact report (undefined for anything else). */
  signedBy?: string;
  /** The JSON text (for messages). */
  text?: string;
}

const SENTINEL = '\u0000fuzz-literal\u0000';

function tweak(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value}A`;
  if (value && typeof value === 'object') return { ...value, x: 1 };
  return value === undefined ? 'x' : !value;
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

function buildReport(r: ReportRecipe): Payload {
  const orderId = r.orderOf ? orders[r.orderOf]!.orderId : 'some-other-order';
  const body: Record<string, unknown> =
    r.kind === 'accepted'
      ? { orderId, jobId: JOB, step: 'ping', at: NOW + 5 }
      : {
          orderId,
          jobId: JOB,
          step: 'ping',
          status: r.status,
          startedAt: NOW + 5,
          finishedAt: NOW + 10,
          ...(r.status === 'succeeded' ? { output: { ok: true } } : {}),
          ...(r.status === 'succeeded' ? {} : { error: { name: 'E', message: 'm', retryable: false } }),
          ...(r.digest === 'none'
            ? {}
            : { rejectedDigest: r.digest === 'own' && r.orderOf ? orderDigest(orders[r.orderOf]) : '0'.repeat(64) }),
        };
  if (r.claimedAgent !== undefined) body.agentId = r.claimedAgent;
  const signed: Record<string, unknown> =
    r.signer === 'none' ? body : (signers[r.signer]!.sign(body) as Record<string, unknown>);
  const obj: Record<string, unknown> = { ...signed };
  let text = '';
  const m = r.mutation;
  switch (m.kind) {
    case 'none':
      text = JSON.stringify(obj);
      break;
    case 'remove':
      delete obj[m.field];
      text = JSON.stringify(obj);
      break;
    case 'replace':
      Object.defineProperty(obj, m.field, { value: m.value, enumerable: true, writable: true, configurable: true });
      text = JSON.stringify(obj);
      break;
    case 'literal':
      obj[m.field] = SENTINEL;
      text = JSON.stringify(obj).replace(JSON.stringify(SENTINEL), m.literal);
      break;
    case 'tweak':
      obj[m.field] = tweak(obj[m.field]);
      text = JSON.stringify(obj);
      break;
  }
  let signedBy: string | undefined;
  if (r.signer !== 'none' && r.signer !== 'stranger') {
    const received = JSON.parse(text) as Record<string, unknown>;
    const { signature: s1, ...rest1 } = received;
    const { signature: s2, ...rest2 } = signed;
    const sameSignature =
      typeof s1 === 'string' && Buffer.from(s1, 'base64').equals(Buffer.from(s2 as string, 'base64'));
    if (sameSignature && sameJson(rest1, rest2)) signedBy = r.signer;
  }
  return { data: new TextEncoder().encode(text), text, ...(signedBy ? { signedBy } : {}) };
}

const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }).map((data) => ({ data })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        jsonTextArb,
        jsonValueArb.map((v) => JSON.stringify(v) ?? 'null'),
      )
      .map((text) => ({
        data: new TextEncoder().encode(text),
        text,
      })),
  },
  { weight: 6, arbitrary: reportArb.map(buildReport) },
);

/** A subject and a payload: independent, or a report on its own signer's subject (so valid ones occur). */
const messageArb: fc.Arbitrary<{ subject: Subject; payload: Payload }> = fc.oneof(
  fc.record({ subject: subjectArb, payload: payloadArb }),
  fc.tuple(reportArb, fc.constantFrom('a1', 'a2', 'a3'), fc.boolean()).map(([recipe, agent, coherent]) => {
    const r: ReportRecipe = coherent
      ? { ...recipe, signer: agent, claimedAgent: agent, orderOf: agent, digest: 'none' }
      : { ...recipe, signer: agent };
    return {
      subject: { text: `drover.event.${JOB}.${agent}.${r.kind}`, agent, kind: r.kind },
      payload: buildReport(r),
    };
  }),
);

/** The targets' runs: each with a state, its order, and perhaps a result already. */
const runsArb = fc
  .tuple(
    ...AGENTS.map(() =>
      fc.record({
        state: fc.constantFrom<TargetState>(...TARGET_STATES),
        result: fc.constantFrom<'none' | (typeof RESULT_STATUSES)[number]>('none', ...RESULT_STATUSES),
        hasOrder: fc.boolean(),
      }),
    ),
  )
  .map((specs) => {
    const runs = new Map<string, RunRecord>();
    specs.forEach((spec, i) => {
      const agentId = AGENTS[i]!;
      const run: RunRecord = { jobId: JOB, agentId, group: 'g', state: spec.state };
      if (spec.hasOrder || spec.state !== 'pending') run.order = orders[agentId]!;
      if (spec.result !== 'none')
        run.result = {
          orderId: orders[agentId]!.orderId,
          jobId: JOB,
          agentId,
          step: 'ping',
          status: spec.result,
          finishedAt: NOW,
        };
      runs.set(agentId, run);
    });
    return runs;
  });

// ---------------------------------------------------------------------------------------------
// Properties

interface Change {
  agentId: string;
  from: TargetState;
  state: TargetState;
  extra: Partial<RunRecord> | undefined;
}

function apply(
  runs: ReadonlyMap<string, RunRecord>,
  subject: Subject,
  payload: Payload,
  verify: boolean,
): { returned: boolean; changes: Change[]; refused: RefusedReport[] } {
  const changes: Change[] = [];
  const refused: RefusedReport[] = [];
  const returned = applyEvent(
    runs,
    { subject: subject.text, data: payload.data },
    (run, state, extra) => changes.push({ agentId: run.agentId, from: run.state, state, extra }),
    NOW + 20,
    verify
      ? { check: (agentId, body) => checkReport(enrolled, agentId, body), onRefused: (r) => refused.push(r) }
      : undefined,
  );
  return { returned, changes, refused };
}

const isReportSubject = (s: Subject) =>
  s.text.startsWith(`drover.event.${JOB}.`) || s.text.startsWith('drover.event.job-2.');

describe('events fuzz', () => {
  test('sanity: a result signed by the enrolled key, for the current order, finishes the target', () => {
    const runs = new Map<string, RunRecord>([
      ['a1', { jobId: JOB, agentId: 'a1', group: 'g', state: 'dispatched', order: orders.a1 }],
    ]);
    const payload = buildReport({
      kind: 'result',
      signer: 'a1',
      claimedAgent: 'a1',
      orderOf: 'a1',
      status: 'succeeded',
      digest: 'none',
      mutation: { kind: 'none' },
    });
    assert.equal(payload.signedBy, 'a1');
    const { returned, changes, refused } = apply(
      runs,
      { text: `drover.event.${JOB}.a1.result`, agent: 'a1', kind: 'result' },
      payload,
      true,
    );
    assert.equal(returned, true);
    assert.deepEqual(refused, []);
    assert.deepEqual(
      changes.map((c) => c.state),
      ['succeeded'],
    );
  });

  test('with verification: never throws; a state changes only on an unaltered report signed by that agent', () => {
    let applied = 0;
    fc.assert(
      fc.property(runsArb, messageArb, (runs, { subject, payload }) => {
        const { returned, changes, refused } = apply(runs, subject, payload, true);
        applied += changes.length;
        assert.ok(changes.length <= 1, 'one message changes at most one target once');
        for (const change of changes) {
          assert.equal(change.agentId, subject.agent, 'only the subject agent’s target changes');
          assert.ok(subject.kind === 'accepted' || subject.kind === 'result', 'only accepted events and results');
          assert.ok(isReportSubject(subject));
          assert.equal(
            payload.signedBy,
            subject.agent,
            `changed ${change.agentId} ${change.from} -> ${change.state} on a report not signed by its key: ${payload.text}`,
          );
          assert.ok((TARGET_STATES as readonly string[]).includes(change.state));
        }
        for (const r of refused) {
          assert.equal(returned, false, 'a refused report is not applied');
          assert.equal(r.agentId, subject.agent);
          assert.equal(r.kind, subject.kind);
          assert.equal(typeof r.reason, 'string');
          assert.ok(r.reason.length > 0, 'a refusal says why');
          assert.ok(r.orderId === undefined || (typeof r.orderId === 'string' && r.orderId.length <= 128));
          assert.ok(r.status === undefined || (typeof r.status === 'string' && r.status.length <= 32));
        }
        if (refused.length > 0) assert.equal(changes.length, 0);
        // A report on a target's subject that it is not signed by that target's enrolled key is refused.
        if (
          subject.agent &&
          runs.has(subject.agent) &&
          (subject.kind === 'accepted' || subject.kind === 'result') &&
          payload.signedBy !== subject.agent
        )
          assert.equal(refused.length, 1, 'a report that is not signed by the enrolled key is refused, and heard of');
      }),
      { numRuns: 500 },
    );
    assert.ok(applied > 0, 'some generated reports were valid and applied (the property is not vacuous)');
  });

  test('without verification: never throws; only a target’s own accepted event or matching result changes it', () => {
    let applied = 0;
    fc.assert(
      fc.property(runsArb, messageArb, (runs, { subject, payload }) => {
        const before = new Map([...runs].map(([id, run]) => [id, run.state]));
        const { returned, changes, refused } = apply(runs, subject, payload, false);
        applied += changes.length;
        assert.deepEqual(refused, []);
        assert.ok(changes.length <= 1);
        if (!subject.agent || !runs.has(subject.agent) || !isReportSubject(subject))
          assert.equal(changes.length, 0, 'a message for no target changes nothing');
        if (changes.length > 0) assert.equal(returned, true);
        for (const change of changes) {
          assert.equal(change.agentId, subject.agent);
          const run = runs.get(change.agentId)!;
          assert.equal(change.from, before.get(change.agentId));
          if (subject.kind === 'accepted') {
            assert.ok(change.from === 'dispatched' || change.from === 'pending');
            assert.equal(change.state, 'running');
          } else {
            assert.equal(subject.kind, 'result');
            const body = JSON.parse(payload.text ?? 'null') as unknown;
            const result = OrderResultSchema.safeParse(body);
            assert.ok(result.success, 'a state changes only on a well-formed result');
            assert.equal(result.data.orderId, run.order?.orderId, 'for the target’s current order');
            assert.equal(change.state, result.data.status);
          }
        }
      }),
      { numRuns: 500 },
    );
    assert.ok(applied > 0, 'some generated events were applied (the property is not vacuous)');
  });

  test('wire schemas: safeParse never throws on arbitrary values and says where the input is wrong', () => {
    const schemas = { OrderResultSchema, AcceptedEventSchema, CancelRequestSchema, JobEventSchema };
    const anything = fc.oneof(
      fc.anything({
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withTypedArray: true,
        withSparseArray: true,
        withUnicodeString: true,
        key: keyArb,
      }),
      jsonValueArb,
      jsonTextArb.map((t) => JSON.parse(t) as unknown),
      reportArb.map((r) => JSON.parse(buildReport(r).text ?? 'null') as unknown),
    );
    fc.assert(
      fc.property(anything, (value) => {
        for (const [name, schema] of Object.entries(schemas)) {
          const parsed = schema.safeParse(value);
          if (parsed.success) continue;
          assert.ok(parsed.error.issues.length > 0, `${name}: a failure has at least one issue`);
          for (const issue of parsed.error.issues) {
            assert.ok(Array.isArray(issue.path), `${name}: an issue has a path`);
            assert.equal(typeof issue.message, 'string');
            assert.ok(issue.message.length > 0, `${name}: an issue says what was expected`);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
