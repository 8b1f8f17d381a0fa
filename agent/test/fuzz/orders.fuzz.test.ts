// Fuzz tests of the agent's order handler: arbitrary bytes, arbitrary JSON, signed orders altered
// after signing and orders signed by a key the agent does not trust. Whatever arrives, handle()
// resolves and acks exactly once, no step starts unless the order is the one the trusted key signed
// and is for this agent, and every refusal is published as a `rejected` result naming its reason
// (flagged `unverified` when the message failed its schema, signature or target check).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type AcceptedEvent,
  canonicalJson,
  generateSigningKeyPair,
  type Order,
  type OrderResult,
  orderSignerFromPem,
  trustedKeysFromPems,
} from '@drover/shared';
import fc from 'fast-check';
import { jsonArbitraries, SPECIAL_NUMBERS } from '../../../test/fuzz/json.ts';
import { Journal } from '../../src/journal.ts';
import { silentLogger } from '../../src/log.ts';
import { createOrderHandler, type OrderIo, type RunningOrders } from '../../src/orders.ts';
import { STEP_IMPLEMENTATIONS } from '../../src/steps/index.ts';

const AGENT_ID = 'agent-1';
/** Each run must finish well within this (a hang fails the run instead of the suite). */
const RUN_TIMEOUT_MS = 2000;

const trustedPair = generateSigningKeyPair();
const untrustedPair = generateSigningKeyPair();
const trustedSigner = orderSignerFromPem(trustedPair.privateKeyPem);
const untrustedSigner = orderSignerFromPem(untrustedPair.privateKeyPem);
const trustedKeys = trustedKeysFromPems([trustedPair.publicKeyPem]);

const ORDER_FIELDS = [
  'v',
  'jobId',
  'orderId',
  'agentId',
  'step',
  'params',
  'issuedAt',
  'expiresAt',
  'timeoutMs',
  'keyId',
  'signature',
] as const;
type OrderField = (typeof ORDER_FIELDS)[number];

/** Reasons the handler gives when it refuses an order (OrderRejectedError['reason']). */
const REASONS = ['schema', 'signature', 'target', 'expired', 'not-yet-valid', 'unknown-step', 'params'];
/** Refusals of a message that failed its own checks: published with `{ unverified: true }`. */
const UNVERIFIED_REASONS = ['schema', 'signature', 'target'];

// ---------------------------------------------------------------------------------------------
// Generators

/** JSON number spellings JSON.stringify never writes: 1e999 parses to Infinity, -0, beyond 2^53... */

/** Keys: the order's own fields most of the time, then names that trip careless code, then noise. */
const keyArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom<string>(...ORDER_FIELDS) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'seconds', '') },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
);

/** Strings: valid tokens, this agent, step names, key ids, and noise. */
const stringArb = fc.oneof(
  fc.constantFrom(
    AGENT_ID,
    'agent-2',
    'job-1',
    'order-1',
    'ping',
    'sleep',
    'command',
    'no-such-step',
    trustedSigner.keyId,
    untrustedSigner.keyId,
    '',
    '_x',
    'a.b',
    'x'.repeat(65),
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

const { value: jsonValueArb, text: jsonTextArb } = jsonArbitraries({
  key: keyArb,
  string: stringArb,
  numbers: [0, 1, -1, 0.5, Date.now(), 2 ** 53, 7 * 24 * 3600 * 1000 + 1],
});

/** A whole message around valid-looking ids, so the handler reaches its deeper checks. */
const orderShapedTextArb = fc
  .record({
    ids: fc.record({ orderId: stringArb, jobId: stringArb }),
    rest: fc.array(fc.tuple(keyArb, jsonTextArb), { maxLength: 10 }),
  })
  .map(
    ({ ids, rest }) =>
      `{"orderId":${JSON.stringify(ids.orderId)},"jobId":${JSON.stringify(ids.jobId)}${rest
        .map(([k, v]) => `,${JSON.stringify(k)}:${v}`)
        .join('')}}`,
  );

const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.string({ unit: 'binary', maxLength: 128 }).map((s) => new TextEncoder().encode(s)),
  // Cut-off or corrupted JSON.
  fc.tuple(jsonTextArb, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([text, cut, byte]) => {
    const bytes = new TextEncoder().encode(text);
    const at = bytes.length === 0 ? 0 : cut % bytes.length;
    const out = bytes.slice(0, at + 1);
    if (out.length > 0) out[out.length - 1] = byte;
    return out;
  }),
);

/** One change made to a signed order before it is delivered. */
type Mutation =
  | { kind: 'none' }
  | { kind: 'remove'; field: OrderField }
  | { kind: 'replace'; field: OrderField; value: unknown }
  | { kind: 'literal'; field: OrderField; literal: string }
  | { kind: 'retype'; field: OrderField }
  | { kind: 'tweak'; field: OrderField }
  | { kind: 'param'; key: string; value: unknown }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'keyId'; keyId: string };

const fieldArb = fc.constantFrom(...ORDER_FIELDS);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('remove' as const), field: fieldArb }),
  fc.record({ kind: fc.constant('replace' as const), field: fieldArb, value: jsonValueArb }),
  fc.record({
    kind: fc.constant('literal' as const),
    field: fieldArb,
    literal: fc.constantFrom(...SPECIAL_NUMBERS, '"x"', '[]', '{}', 'null', '""'),
  }),
  fc.record({ kind: fc.constant('retype' as const), field: fieldArb }),
  fc.record({ kind: fc.constant('tweak' as const), field: fieldArb }),
  fc.record({ kind: fc.constant('param' as const), key: keyArb, value: jsonValueArb }),
  fc.record({
    kind: fc.constant('extra' as const),
    key: fc.string({ maxLength: 8 }).filter((k) => !(ORDER_FIELDS as readonly string[]).includes(k)),
    value: jsonValueArb,
  }),
  fc.record({
    kind: fc.constant('keyId' as const),
    keyId: fc.constantFrom(trustedSigner.keyId, untrustedSigner.keyId, 'ed25519-0000000000000000'),
  }),
);

/** A signed order: which key signs it, which agent it is for, which (fast) step. */
const recipeArb = fc.record({
  step: fc.constantFrom('ping', 'sleep', 'no-such-step', 'command'),
  sleepSeconds: fc.constantFrom(0, 0.001),
  target: fc.constantFrom(AGENT_ID, AGENT_ID, 'agent-2'),
  mutation: mutationArb,
});

// ---------------------------------------------------------------------------------------------
// Harness

let stateDir: string;
let journal: Journal;
/** Order ids the journal was asked to `begin` (a step is about to run) during the current delivery. */
const begun: string[] = [];
const running: RunningOrders = new Map();
let sequence = 0;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'drover-orders-fuzz-'));
  journal = await Journal.open(stateDir);
  const realBegin = journal.begin.bind(journal);
  journal.begin = (entry) => {
    begun.push(entry.orderId);
    return realBegin(entry);
  };
});

after(async () => {
  await journal.close();
  rmSync(stateDir, { recursive: true, force: true });
});

interface Delivery {
  acks: number;
  results: Array<{ result: OrderResult; options: { unverified?: boolean } | undefined }>;
  accepted: AcceptedEvent[];
  audits: Array<Record<string, unknown>>;
  begun: string[];
}

async function deliver(data: Uint8Array): Promise<Delivery> {
  begun.length = 0;
  const out: Delivery = { acks: 0, results: [], accepted: [], audits: [], begun };
  const io: OrderIo = {
    async publishResult(result, options) {
      out.results.push({ result, options });
    },
    publishAccepted(event) {
      out.accepted.push(event);
    },
    sinks: () => ({ progress() {}, output() {} }),
    async audit(record) {
      out.audits.push(record);
    },
  };
  const handle = createOrderHandler(
    {
      agentId: AGENT_ID,
      agentVersion: '0.0.0-fuzz',
      labels: { cluster: 'fuzz' },
      commands: {},
      trustedKeys,
      journal,
      steps: STEP_IMPLEMENTATIONS,
      clockSkewMs: 30_000,
      logger: silentLogger(),
      io,
    },
    running,
  );
  await handle({
    data,
    recorded() {
      out.acks++;
    },
  });
  return { ...out, begun: [...begun] };
}

const text = (s: string) => new TextEncoder().encode(s);

function isToken(v: unknown): boolean {
  return typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(v);
}

/** The message as JSON, or undefined when it is not JSON. */
function parsed(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

/**
 * What holds for every delivery. `mayStart`: the message is an order the trusted key signed, for
 * this agent (only then may a step start).
 */
function checkDelivery(d: Delivery, data: Uint8Array, mayStart: boolean): void {
  assert.equal(d.acks, 1, 'the message is recorded (the cursor may pass it) exactly once');
  const started = d.accepted.length > 0 || d.begun.length > 0;
  if (!mayStart) {
    assert.equal(d.begun.length, 0, `no journal begin for a message that is not a valid order: ${d.begun}`);
    assert.equal(d.accepted.length, 0, 'no accepted event for a message that is not a valid order');
  }
  for (const { result, options } of d.results) {
    if (result.status !== 'rejected') {
      assert.notEqual(options?.unverified, true, 'only a rejection of an unverified message is flagged unverified');
      continue;
    }
    const message = result.error?.message ?? '';
    const reason = message.slice(0, message.indexOf(':'));
    assert.ok(REASONS.includes(reason), `a rejection names its reason first: ${JSON.stringify(message)}`);
    assert.match(message, /^[a-z-]+: \S/, 'and says what was wrong');
    if (reason === 'schema')
      assert.match(message, /^schema: (order is not JSON|order field \S.*: .+)$/s, 'a schema refusal names the field');
    if (reason === 'signature')
      assert.match(
        message,
        /^signature: (keyId .* is not a trusted coordinator key|signature does not match the order)$/s,
      );
    if (reason === 'target')
      assert.match(message, new RegExp(`^target: order is for agent \\S+, this is ${AGENT_ID}$`));
    if (UNVERIFIED_REASONS.includes(reason))
      assert.deepEqual(options, { unverified: true }, `a ${reason} refusal is published as unverified`);
    else assert.notEqual(options?.unverified, true, `a ${reason} refusal is of a verified order`);
  }
  if (!started) {
    assert.ok(
      d.audits.some((a) => a.type === 'rejected' && typeof a.reason === 'string' && a.reason !== ''),
      'a refusal is audited with its reason',
    );
    const raw = parsed(data) as Record<string, unknown> | null | undefined;
    if (raw && typeof raw === 'object' && isToken(raw.orderId) && isToken(raw.jobId))
      assert.ok(d.results.length >= 1, 'a refusal of an identifiable order is published');
  }
}

/** Whether two JSON values are the same once signed (canonical JSON; unsignable values never match). */
function sameSigned(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

function withoutProto(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '__proto__'));
}

const SENTINEL = '\u0000fuzz-literal\u0000';

function retype(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : [value];
  if (Array.isArray(value)) return { ...value };
  if (value && typeof value === 'object') return Object.values(value);
  return value === null ? 0 : null;
}

function tweak(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value}x`;
  if (value && typeof value === 'object') return { ...value, x: 1 };
  return !value;
}

/** The message text of `order` after `mutation`. */
function mutate(order: Order, mutation: Mutation): string {
  const obj: Record<string, unknown> = { ...order, params: { ...order.params } };
  switch (mutation.kind) {
    case 'none':
      break;
    case 'remove':
      delete obj[mutation.field];
      break;
    case 'replace':
      obj[mutation.field] = mutation.value;
      break;
    case 'literal':
      obj[mutation.field] = SENTINEL;
      return JSON.stringify(obj).replace(JSON.stringify(SENTINEL), mutation.literal);
    case 'retype':
      obj[mutation.field] = retype(obj[mutation.field]);
      break;
    case 'tweak':
      obj[mutation.field] = tweak(obj[mutation.field]);
      break;
    case 'param':
      Object.defineProperty(obj.params, mutation.key, { value: mutation.value, enumerable: true, writable: true });
      break;
    case 'extra':
      Object.defineProperty(obj, mutation.key, { value: mutation.value, enumerable: true, writable: true });
      break;
    case 'keyId':
      obj.keyId = mutation.keyId;
      break;
  }
  return JSON.stringify(obj);
}

function signedOrder(
  signer: typeof trustedSigner,
  recipe: { step: string; sleepSeconds: number; target: string },
): Order {
  sequence++;
  const now = Date.now();
  return signer.sign({
    v: 1,
    jobId: `job-${sequence}`,
    orderId: `order-${process.pid}-${sequence}`,
    agentId: recipe.target,
    step: recipe.step,
    params: recipe.step === 'sleep' ? { seconds: recipe.sleepSeconds } : {},
    issuedAt: now,
    expiresAt: now + 3_600_000,
    timeoutMs: 10_000,
  });
}

const RUNS = { timeout: RUN_TIMEOUT_MS } as const;

/**
 * Known counterexamples, always tried first (fast-check `examples`): a JSON number that overflows to
 * Infinity in a message that is refused (orderDigest() of it throws in reject()).
 */
const OVERFLOWING = '{"orderId":"order-1","jobId":"job-1","n":1e999}';
const OVERFLOWING_RECIPE = {
  step: 'ping',
  sleepSeconds: 0,
  target: AGENT_ID,
  mutation: { kind: 'literal', field: 'issuedAt', literal: '1e999' },
} as const;

describe('order handler fuzz', { timeout: 60_000 }, () => {
  test('sanity: an order the trusted key signed for this agent runs once and reports its result', async () => {
    const order = signedOrder(trustedSigner, { step: 'ping', sleepSeconds: 0, target: AGENT_ID });
    const d = await deliver(text(JSON.stringify(order)));
    checkDelivery(d, text(JSON.stringify(order)), true);
    assert.deepEqual(d.begun, [order.orderId]);
    assert.equal(d.accepted.length, 1);
    assert.equal(d.results.length, 1);
    assert.equal(d.results[0]?.result.status, 'succeeded');
    assert.equal(d.results[0]?.options, undefined);
  });

  test('arbitrary bytes: always acked once, never a step, every refusal names its reason', async () => {
    await fc.assert(
      fc.asyncProperty(bytesArb, async (data) => {
        checkDelivery(await deliver(data), data, false);
      }),
      { ...RUNS, numRuns: 300, examples: [[text(OVERFLOWING)]] },
    );
  });

  test('arbitrary JSON: always acked once, never a step, every refusal names its reason', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          jsonTextArb,
          orderShapedTextArb,
          jsonValueArb.map((v) => JSON.stringify(v)),
        ),
        async (t) => {
          const data = text(t);
          checkDelivery(await deliver(data), data, false);
        },
      ),
      { ...RUNS, numRuns: 400, examples: [[OVERFLOWING]] },
    );
  });

  test('signed orders changed after signing: a step starts only for the exact signed order for this agent', async () => {
    await fc.assert(
      fc.asyncProperty(recipeArb, async (recipe) => {
        const order = signedOrder(trustedSigner, recipe);
        const messageText = mutate(order, recipe.mutation);
        const data = text(messageText);
        const raw = JSON.parse(messageText) as Record<string, unknown>;
        // The signature covers the canonical JSON of every order field; unknown extra keys are not part
        // of the order (the schema drops them), nor is an own `__proto__` key of params (zod's record
        // parsing drops it before the signature is checked, so the step still gets the signed params).
        // The signature field is intact only as the exact text (canonical base64 is required: Node's
        // decoder alone would ignore what follows the padding).
        const intact = ORDER_FIELDS.every((f) =>
          f === 'params'
            ? sameSigned(withoutProto(raw[f]), order[f])
            : f === 'signature'
              ? raw[f] === order[f]
              : sameSigned(raw[f], order[f]),
        );
        const mayStart = intact && raw.agentId === AGENT_ID;
        const d = await deliver(data);
        checkDelivery(d, data, mayStart);
        if (mayStart && (recipe.step === 'ping' || recipe.step === 'sleep')) {
          assert.deepEqual(d.begun, [order.orderId], 'the intact order runs');
          assert.equal(d.results.at(-1)?.result.status, 'succeeded');
        }
      }),
      { ...RUNS, numRuns: 400, examples: [[OVERFLOWING_RECIPE]] },
    );
  });

  test('orders signed by an untrusted key (even naming a trusted key id) never start a step', async () => {
    await fc.assert(
      fc.asyncProperty(recipeArb, async (recipe) => {
        const order = signedOrder(untrustedSigner, recipe);
        const data = text(mutate(order, recipe.mutation));
        const d = await deliver(data);
        checkDelivery(d, data, false);
        // Refused at the schema or the signature: nothing after the signature check is looked at.
        for (const { result } of d.results)
          assert.match(result.error?.message ?? '', /^(schema|signature): /, 'refused before any other check');
      }),
      { ...RUNS, numRuns: 250, examples: [[OVERFLOWING_RECIPE]] },
    );
  });
});
