// Enrolled agent keys (KV drover-agent-keys, key = agent id): the only keys whose signatures make an
// agent's `accepted` event or result count. Enrolment is an operator's act (`drover agent enroll`),
// never something an agent or the registry can do for itself: a record in drover-agents says which
// key an agent USES, this bucket says which one the operator TRUSTS for that id.

import type { KeyObject } from 'node:crypto';
import {
  COORDINATOR_TOKEN,
  type Enrollment,
  EnrollmentSchema,
  InvalidInputError,
  keyIdOf,
  publicKeyFromPem,
  verifyReport,
} from '@drover/shared';
import type { KV } from '@nats-io/kv';
import { readAll } from './kv-read.ts';
import { retryAfterSetup } from './retry.ts';

export interface EnrolledKeys {
  get(agentId: string): KeyObject | undefined;
}

/**
 * Records `publicKeyPem` as the key of `agentId` (replacing an earlier one: a re-keyed agent). The
 * write is tried again for up to 30 s while JetStream is briefly unavailable (a cluster just restarted:
 * seen in the chaos suite, the first write after every server came back empty met "JetStream not enabled").
 */
export async function enrollAgent(kv: KV, agentId: string, publicKeyPem: string, by: string): Promise<Enrollment> {
  if (agentId === COORDINATOR_TOKEN)
    throw new InvalidInputError(
      '--id',
      agentId,
      `an agent id other than "${COORDINATOR_TOKEN}" (reserved for the coordinator's events)`,
    );
  const key = publicKeyFromPem(publicKeyPem, '--public-key');
  const enrollment = EnrollmentSchema.parse({
    agentId,
    keyId: keyIdOf(key),
    publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    enrolledAt: Date.now(),
    enrolledBy: by,
  });
  await retryAfterSetup(() => kv.put(agentId, JSON.stringify(enrollment)), 30_000);
  return enrollment;
}

/** Every enrollment, by agent id (an unreadable record is left out: it enrols nobody). */
export async function readEnrollments(kv: KV): Promise<Map<string, Enrollment>> {
  return readAll(kv, '>', (value) => {
    const parsed = EnrollmentSchema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  });
}

/** Up to this many agents, enrollments are read by key (see enrolledKeys). */
const BY_KEY_UP_TO = 200;

/** The enrollments of `agentIds`, each read by its key (an unreadable or missing record is left out). */
async function readEnrollmentsOf(kv: KV, agentIds: readonly string[]): Promise<Map<string, Enrollment>> {
  const out = new Map<string, Enrollment>();
  await Promise.all(
    [...new Set(agentIds)].map(async (id) => {
      const entry = await kv.get(id);
      if (entry?.operation !== 'PUT') return;
      let value: unknown;
      try {
        value = entry.json();
      } catch {
        return;
      }
      const parsed = EnrollmentSchema.safeParse(value);
      if (parsed.success) out.set(id, parsed.data);
    }),
  );
  return out;
}

/** The enrolled keys of `agentIds`, and which of them have none. */
export async function enrolledKeys(
  kv: KV,
  agentIds: readonly string[],
): Promise<{ keys: EnrolledKeys; missing: string[] }> {
  // A few targets (most plan steps): their own records by key. Many: the whole bucket in one pass
  // (readAll), cheaper than a request per key. Reading the whole bucket for every small job made a
  // plan step's cost grow with the fleet (the rehearsal of the seed's 2,129 agents).
  const all = agentIds.length <= BY_KEY_UP_TO ? await readEnrollmentsOf(kv, agentIds) : await readEnrollments(kv);
  const keys = new Map<string, KeyObject>();
  const missing: string[] = [];
  for (const id of agentIds) {
    const enrollment = all.get(id);
    if (enrollment && enrollment.agentId === id) keys.set(id, keyObjectOf(enrollment.publicKeyPem, id));
    else missing.push(id);
  }
  return { keys, missing };
}

/**
 * One KeyObject per enrolled key for the life of the process: a plan runner or `drover serve` reads
 * the enrollments for every job, and a key's id is worked out once per KeyObject (agent-identity.ts),
 * so a new object per job cost a DER export and a sha256 per target and job. Keyed by the PEM text:
 * a re-enrolled agent's new key is a new entry.
 */
const keyObjects = new Map<string, KeyObject>();
function keyObjectOf(pem: string, agentId: string): KeyObject {
  let key = keyObjects.get(pem);
  if (!key) {
    key = publicKeyFromPem(pem, agentId);
    if (keyObjects.size >= MAX_CACHED_KEYS) keyObjects.clear();
    keyObjects.set(pem, key);
  }
  return key;
}
/** Far above any fleet (the seed's has 2,129 agents); a bound all the same. */
const MAX_CACHED_KEYS = 100_000;

/** Refuses, naming them, targets that are not enrolled (checked before a job is written). */
export async function requireEnrolled(kv: KV, agentIds: readonly string[]): Promise<void> {
  const { missing } = await enrolledKeys(kv, agentIds);
  if (missing.length > 0)
    throw new InvalidInputError(
      'targets',
      missing.length > 5 ? [...missing.slice(0, 5), `… ${missing.length - 5} more`] : missing,
      "enrolled agents: their results could not be trusted (enrol each with 'drover agent enroll --id ID --public-key FILE', FILE being the agent's <stateDir>/agent-key.pem.pub)",
    );
}

/** Whether `body` is a report `agentId` signed with its enrolled key (the reason when it is not). */
export function checkReport(
  keys: EnrolledKeys,
  agentId: string,
  body: unknown,
): { ok: true } | { ok: false; reason: string } {
  const key = keys.get(agentId);
  if (!key) return { ok: false, reason: `agent ${agentId} is not enrolled` };
  const claimed = (body as { agentId?: unknown } | null)?.agentId;
  if (claimed !== undefined && claimed !== agentId)
    return { ok: false, reason: `the report names agent ${JSON.stringify(claimed)} on ${agentId}'s subject` };
  return verifyReport(body, key);
}
