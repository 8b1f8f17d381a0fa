// Log shipping to a customer-owned S3 bucket (issue 13), defined once for both sides: where objects go
// (ShippingSettings), the fleet-wide opt-in per account (KV drover-shipping, signed by a coordinator
// key, because a forged setting would send every node's logs to someone else's bucket), what a
// shipper reports (KV drover-shipping-status), and the deterministic object keys.
import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical.ts';
import { InvalidInputError } from './errors.ts';
import { keyIdOf, type TrustedKeys, verifiesCanonical } from './signing.ts';

export const KV_SHIPPING = 'drover-shipping';
export const KV_SHIPPING_STATUS = 'drover-shipping-status';
/** The label whose value names an agent's account (`account=acme`): the fleet setting it ships by. */
export const ACCOUNT_LABEL = 'account';
/** KV drover-shipping-status key of the coordinator's DROVER_AUDIT shipper. */
export const COORDINATOR_SHIPPER_KEY = 'coordinator';

const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** S3's bucket naming rules (lowercase, digits, dots, hyphens; 3-63). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Safe key characters, segments separated by "/", no leading or trailing "/", no "." or ".." segment. */
const PREFIX = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;

export const ShippingSettingsSchema = z
  .object({
    /** The S3 endpoint (http or https URL); @default AWS's endpoint for `region` */
    endpoint: z
      .string()
      .regex(/^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/?$/, 'an http(s)://host[:port] URL')
      .optional(),
    bucket: z.string().regex(BUCKET, 'an S3 bucket name: 3-63 lowercase letters, digits, "." or "-"'),
    /** Every object key starts with it. @default drover */
    prefix: z
      .string()
      .regex(PREFIX, 'key segments of letters, digits, "_", "." or "-" joined by "/"')
      .default('drover'),
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, 'an AWS region such as us-east-1')
      .default('us-east-1'),
    /** Path-style URLs (http://host/bucket/key), which most S3-compatible servers need. @default false */
    forcePathStyle: z.boolean().default(false),
    /** The x-amz-server-side-encryption header of every upload. */
    serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
    /** With aws:kms: the key (id or ARN). */
    sseKmsKeyId: z
      .string()
      .regex(/^[A-Za-z0-9:/_-]{1,256}$/)
      .optional(),
    /** How often a shipper looks for new data. @default 10000 */
    intervalMs: z.number().int().min(200).max(3_600_000).default(10_000),
    /** The largest object a shipper writes (larger ones go multipart). @default 8 MiB */
    maxObjectBytes: z
      .number()
      .int()
      .min(1024)
      .max(512 * 1024 * 1024)
      .default(8 * 1024 * 1024),
  })
  .strict()
  .superRefine((settings, ctx) => {
    if (settings.sseKmsKeyId !== undefined && settings.serverSideEncryption !== 'aws:kms')
      ctx.addIssue({
        code: 'custom',
        path: ['sseKmsKeyId'],
        message: 'sseKmsKeyId needs serverSideEncryption "aws:kms"',
      });
  });
export type ShippingSettings = z.infer<typeof ShippingSettingsSchema>;
export type ShippingSettingsInput = z.input<typeof ShippingSettingsSchema>;

export function assertAccount(value: string): string {
  if (!ACCOUNT.test(value))
    throw new InvalidInputError('account', value, 'letters, digits, "-" or "_" (1-64, first a letter or digit)');
  return value;
}

/** KV drover-shipping key of an account's fleet setting. */
export function shippingAccountKey(account: string): string {
  return `account.${assertAccount(account)}`;
}

/** The signed part of a fleet setting. */
const FleetShippingBodySchema = z
  .object({
    account: z.string().regex(ACCOUNT),
    /** false: the account's agents stop shipping (what was shipped stays in the bucket). */
    enabled: z.boolean(),
    settings: ShippingSettingsSchema,
    updatedAt: z.number().int().nonnegative(),
  })
  .strict();

export const FleetShippingRecordSchema = FleetShippingBodySchema.extend({
  keyId: z.string().min(1).max(128),
  signature: z.string().min(1).max(256),
}).strict();
export type FleetShippingRecord = z.infer<typeof FleetShippingRecordSchema>;

/** Signs an account's fleet setting with a coordinator key (the one agents trust for orders). */
export function signFleetShipping(
  body: { account: string; enabled: boolean; settings: ShippingSettingsInput; updatedAt: number },
  privateKeyPem: string,
): FleetShippingRecord {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new InvalidInputError('privateKey', '(PEM hidden)', 'an ed25519 private key in PKCS#8 PEM', { cause });
  }
  const parsed = FleetShippingBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      issue?.path.join('.') || 'setting',
      JSON.stringify(issue?.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k], body)),
      issue?.message ?? 'a valid shipping setting',
    );
  }
  const keyId = keyIdOf(createPublicKey(key));
  const signature = sign(null, Buffer.from(canonicalJson(parsed.data)), key).toString('base64');
  return { ...parsed.data, keyId, signature };
}

/**
 * Parses and checks a fleet setting read from KV: its shape, that it is for `account`, and that a
 * trusted coordinator key signed it. Never throws: an unusable record is a reason.
 */
export function verifyFleetShipping(
  raw: unknown,
  account: string,
  trusted: TrustedKeys,
): { ok: true; record: FleetShippingRecord } | { ok: false; reason: string } {
  const parsed = FleetShippingRecordSchema.safeParse(raw);
  if (!parsed.success)
    return { ok: false, reason: `not a fleet shipping setting (${parsed.error.issues[0]?.message})` };
  const { keyId, signature, ...body } = parsed.data;
  if (body.account !== account)
    return { ok: false, reason: `the setting is for account ${JSON.stringify(body.account)}, not ${account}` };
  const key = trusted.get(keyId);
  if (!key) return { ok: false, reason: `keyId ${JSON.stringify(keyId)} is not a trusted coordinator key` };
  if (!verifiesCanonical(body, key, signature)) return { ok: false, reason: 'signature does not match the setting' };
  return { ok: true, record: parsed.data };
}

/** One source a shipper reads (a file and its rotated generations, or a stream). */
export const ShippingSourceStatusSchema = z.object({
  name: z.string(),
  /** Bytes (files) or messages (streams) confirmed in the bucket. */
  shipped: z.number(),
  /** Bytes or messages not shipped yet. */
  behind: z.number(),
  unit: z.enum(['bytes', 'messages']),
  /** How long the oldest unshipped data has waited (0 when caught up). */
  lagMs: z.number(),
  /** Files seen in this source (the live one and rotated ones still tracked). */
  files: z.number().optional(),
  /** Bytes that disappeared (a rotated file deleted) before they were shipped. */
  lostBytes: z.number().optional(),
});
export type ShippingSourceStatus = z.infer<typeof ShippingSourceStatusSchema>;

/** What a shipper writes about itself into KV drover-shipping-status (never credentials). */
export const ShippingStatusSchema = z.object({
  /** The agent id, or "coordinator". */
  id: z.string(),
  state: z.enum(['shipping', 'caught-up', 'behind', 'error', 'off']),
  /** Where the settings came from. */
  configuredBy: z.enum(['local', 'fleet', 'flags', 'none']),
  account: z.string().optional(),
  bucket: z.string().optional(),
  prefix: z.string().optional(),
  endpoint: z.string().optional(),
  sources: z.array(ShippingSourceStatusSchema),
  uploads: z.number(),
  uploadedBytes: z.number(),
  lastUploadAt: z.number().optional(),
  /** The last failure, without credentials (an S3 error's code and message). */
  lastError: z.string().optional(),
  lastErrorAt: z.number().optional(),
  /** A setting that was found but refused (a bad signature…). */
  refused: z.string().optional(),
  at: z.number(),
});
export type ShippingStatus = z.infer<typeof ShippingStatusSchema>;

const pad = (n: number) => String(n).padStart(16, '0');

/**
 * The object key of one piece of a file: the same piece always gets the same key, so a retry or a
 * restart overwrites it instead of adding a copy. `generation` names one file (inode and when the
 * shipper first saw it): a rotated or rewritten file is a new generation.
 */
export function fileObjectKey(
  prefix: string,
  host: string,
  source: string,
  generation: string,
  start: number,
  end: number,
): string {
  return `${prefix}/agent/${host}/${source}/${generation}/${pad(start)}-${pad(end)}`;
}

/** The object key of DROVER_AUDIT messages first..last (stream sequences). */
export function auditObjectKey(prefix: string, first: number, last: number): string {
  return `${prefix}/coordinator/audit/${pad(first)}-${pad(last)}.jsonl`;
}

/** What a failed bucket call says, for status and logs: the S3 error's name, HTTP status and message, nothing else. */
export function describeBucketError(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  return `${e.code ?? e.name ?? 'Error'}${status}: ${e.message ?? String(error)}`.slice(0, 300);
}
