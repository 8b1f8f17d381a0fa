// An agent's own identity: an ed25519 key that signs everything the agent reports about an order
// (its `accepted` event and its result). The coordinator believes a report only when the key the
// operator ENROLLED for that agent id (`drover agent enroll`, KV `drover-agent-keys`) signed it, so
// anyone else who can publish on the events subjects cannot finish, fail or start the clock of a
// step. The agent makes its key on first start (like an SSH host key) and prints the public half.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { canonicalJson } from './canonical.ts';
import { SIGNATURE_BASE64, TokenSchema } from './envelopes.ts';
import { InvalidInputError } from './errors.ts';
import { keyIdOf, verifiesCanonical } from './signing.ts';

/** KV bucket of enrolled agent keys: key = agent id, value = an Enrollment. */
export const KV_AGENT_KEYS = 'drover-agent-keys';

export const EnrollmentSchema = z.object({
  agentId: TokenSchema,
  keyId: z.string().min(1).max(128),
  publicKeyPem: z.string().min(1).max(4096),
  enrolledAt: z.number().int().nonnegative(),
  enrolledBy: z.string().max(256),
});
export type Enrollment = z.infer<typeof EnrollmentSchema>;

/** The two fields a signed report carries; the signature covers every other field. */
export interface ReportSignature {
  keyId: string;
  signature: string;
}

export interface ReportSigner {
  keyId: string;
  publicKeyPem: string;
  /**
   * The report as it will travel (JSON round trip, so what is signed is what the receiver parses),
   * with keyId and signature over its canonical JSON.
   */
  sign<T extends object>(report: T): T & ReportSignature;
}

/** Parses an ed25519 public key (SPKI PEM); the field is named in the error. */
export function publicKeyFromPem(pem: string, field: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new InvalidInputError(field, pem.slice(0, 40), 'an ed25519 public key in SPKI PEM', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InvalidInputError(field, key.asymmetricKeyType, 'an ed25519 key');
  return key;
}

export function reportSignerFromPem(privateKeyPem: string, field = 'signingKeyFile'): ReportSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new InvalidInputError(field, '(PEM hidden)', 'an ed25519 private key in PKCS#8 PEM', { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new InvalidInputError(field, privateKey.asymmetricKeyType, 'an ed25519 key');
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign(report) {
      const { signature: _s, keyId: _k, ...rest } = report as Record<string, unknown>;
      const unsigned = { ...(JSON.parse(JSON.stringify(rest)) as Record<string, unknown>), keyId };
      const signature = sign(null, Buffer.from(canonicalJson(unsigned)), privateKey).toString('base64');
      return { ...unsigned, signature } as never;
    },
  };
}

/**
 * Whether `report` (as parsed from the wire) was signed by `key`: the keyId must be the key's and the
 * signature must cover every other field. Never throws on bad input.
 */
export function verifyReport(report: unknown, key: KeyObject): { ok: true } | { ok: false; reason: string } {
  if (report === null || typeof report !== 'object' || Array.isArray(report))
    return { ok: false, reason: 'not a JSON object' };
  const { signature, ...unsigned } = report as Record<string, unknown>;
  if (typeof signature !== 'string' || signature.length === 0) return { ok: false, reason: 'unsigned' };
  if (!SIGNATURE_BASE64.test(signature)) return { ok: false, reason: 'the signature is not 64 bytes in base64' };
  const keyId = cachedKeyId(key);
  if (unsigned.keyId !== keyId)
    return { ok: false, reason: `signed with key ${JSON.stringify(unsigned.keyId)}, not the enrolled key ${keyId}` };
  return verifiesCanonical(unsigned, key, signature)
    ? { ok: true }
    : { ok: false, reason: 'the signature does not match the report' };
}

/** A key's id, worked out once per key object (a sha256 of its DER form on every report cost the
 * coordinator's one thread twice per target). */
const keyIds = new WeakMap<KeyObject, string>();
function cachedKeyId(key: KeyObject): string {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = keyIdOf(key);
    keyIds.set(key, id);
  }
  return id;
}

/**
 * The agent's key at `file`: read when it exists, else generated and written (mode 0600, the public
 * half next to it as `<file>.pub`). A file that is not an ed25519 private key is an error, never
 * replaced.
 */
export function loadOrCreateAgentKey(file: string): { signer: ReportSigner; created: boolean } {
  let pem: string | undefined;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (pem !== undefined) return { signer: reportSignerFromPem(pem), created: false };
  const { privateKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a key another process wrote in the meantime.
  fs.writeFileSync(file, privatePem, { mode: 0o600, flag: 'wx' });
  const signer = reportSignerFromPem(privatePem);
  fs.writeFileSync(`${file}.pub`, signer.publicKeyPem, { mode: 0o644 });
  return { signer, created: true };
}
