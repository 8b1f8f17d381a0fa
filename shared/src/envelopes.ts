// The messages that cross the wire between coordinator and agents. Types come from these schemas;
// every message is validated on receipt.
import { z } from 'zod';
import { DIGEST_BASE64URL } from './merkle.ts';
import { isValidToken } from './subjects.ts';

export const TokenSchema = z.string().refine(isValidToken, {
  message: 'expected letters, digits, "-" or "_" (1-64 chars, starting with a letter or digit)',
});

/** An order as signed by the coordinator. Times are milliseconds since the epoch. */
export const UnsignedOrderSchema = z.object({
  v: z.literal(1),
  jobId: TokenSchema,
  orderId: TokenSchema,
  agentId: TokenSchema,
  step: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()),
  issuedAt: z.number().int().nonnegative(),
  /** The order must be STARTED before this instant; an agent refuses it afterwards. */
  expiresAt: z.number().int().nonnegative(),
  /** How long the step may run once started. */
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600 * 1000),
  keyId: z.string().min(1).max(128),
});
export type UnsignedOrder = z.infer<typeof UnsignedOrderSchema>;

/** An ed25519 signature in canonical base64 (Node's decoder would ignore trailing junk). */
export const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;

/** The most targets one wave of orders may address (a proof of at most 17 hashes). */
export const MAX_WAVE_TARGETS = 100_000;

/**
 * Where one order sits in a wave signed once for all its targets (signing.ts signWave): the wave's
 * Merkle root and size, this order's index, and the sibling hashes from its leaf to the root.
 */
export const OrderWaveSchema = z.object({
  root: z.string().regex(DIGEST_BASE64URL, 'a sha256 digest in base64url (43 characters)'),
  count: z.number().int().min(1).max(MAX_WAVE_TARGETS),
  index: z.number().int().nonnegative(),
  proof: z.array(z.string().regex(DIGEST_BASE64URL, 'a sha256 digest in base64url (43 characters)')).max(17),
});
export type OrderWave = z.infer<typeof OrderWaveSchema>;

export const OrderSchema = UnsignedOrderSchema.extend({
  signature: z.string().regex(SIGNATURE_BASE64, 'an ed25519 signature in base64 (88 characters)'),
  /**
   * Absent: `signature` covers this order alone. Present: it covers the wave (every field but
   * orderId and agentId, with the wave's root and count), and `proof` puts this order in it.
   */
  wave: OrderWaveSchema.optional(),
});
export type Order = z.infer<typeof OrderSchema>;

/** Outcomes an agent reports for one order. */
export const RESULT_STATUSES = ['succeeded', 'failed', 'rejected', 'timed-out', 'cancelled'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export const ErrorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  retryable: z.boolean().default(false),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** What identifies an order in the events an agent publishes about it. */
const OrderRefSchema = z.object({
  orderId: z.string(),
  jobId: z.string(),
  agentId: z.string(),
  step: z.string(),
});

export const OrderResultSchema = OrderRefSchema.extend({
  status: z.enum(RESULT_STATUSES),
  startedAt: z.number().optional(),
  finishedAt: z.number(),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
  /** True when this result was re-reported from the agent's journal for a redelivered order. */
  replayed: z.boolean().optional(),
  /**
   * On a rejection: orderDigest() of the message refused. The coordinator takes a rejection as its
   * order's outcome only when this is its own order's digest; a refused forged copy is not.
   */
  rejectedDigest: z.string().max(128).optional(),
  /** The agent's key and its signature over every other field (see agent-identity.ts). */
  keyId: z.string().max(128).optional(),
  signature: z.string().max(256).optional(),
});
export type OrderResult = z.infer<typeof OrderResultSchema>;

export const AcceptedEventSchema = OrderRefSchema.extend({
  at: z.number(),
  keyId: z.string().max(128).optional(),
  signature: z.string().max(256).optional(),
});
export type AcceptedEvent = z.infer<typeof AcceptedEventSchema>;

export const ProgressEventSchema = z.object({
  orderId: z.string(),
  at: z.number(),
  percent: z.number().min(0).max(100).optional(),
  message: z.string().max(4096),
});
export type ProgressEvent = z.infer<typeof ProgressEventSchema>;

export const LogEventSchema = z.object({
  orderId: z.string(),
  at: z.number(),
  stream: z.enum(['stdout', 'stderr', 'agent']),
  text: z.string().max(16_384),
});
export type LogEvent = z.infer<typeof LogEventSchema>;

/** Job-level events (published by the coordinator under the `coordinator` agent token). */
export const JobEventSchema = z.object({
  jobId: z.string(),
  at: z.number(),
  type: z.enum(['started', 'wave', 'resumed', 'verdict', 'refused-report', 'cancel-requested', 'stopped', 'finished']),
  message: z.string(),
  counts: z.record(z.string(), z.number()).optional(),
  /** For `verdict`: the target the coordinator gave a final state (no-response, skipped, cancelled, timed-out). */
  agentId: z.string().optional(),
  state: z.string().optional(),
});
export type JobEvent = z.infer<typeof JobEventSchema>;

/** Asks an agent to stop a running order (core NATS, not persisted: queued orders are deleted instead). */
export const CancelRequestSchema = z.object({
  orderId: z.string(),
  jobId: z.string(),
  reason: z.string().max(512),
  /** The order's step, so an agent that had not started it can confirm with a complete result. */
  step: z.string().max(64).optional(),
});
export type CancelRequest = z.infer<typeof CancelRequestSchema>;

/** `drover reconcile` asking an agent for a page of its journal (journalSubject). */
export const JournalQuerySchema = z.object({
  /** Entries to pass over (the `next` of the previous page). */
  offset: z.number().int().min(0).max(10_000_000).default(0),
  /** At most this many entries in the page (the page also stops at about 256 KB). */
  limit: z.number().int().min(1).max(1000).default(200),
  /** Only entries of jobs whose id starts with this. */
  jobPrefix: z.string().max(200).optional(),
});
export type JournalQuery = z.infer<typeof JournalQuerySchema>;

/** One order as an agent's journal has it: started (on disk before it ran), and its result once ended. */
export const JournalRecordSchema = z.object({
  orderId: z.string().max(200),
  jobId: z.string().max(200),
  step: z.string().max(64),
  startedAt: z.number(),
  expiresAt: z.number(),
  /** Running in the agent now (no result yet). */
  running: z.boolean(),
  result: OrderResultSchema.optional(),
  /** The result's output was left out of the page (over 16 KB). */
  outputOmitted: z.boolean().optional(),
});
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

/** An agent's answer: a page of its journal, signed with its enrolled key over every other field. */
export const JournalPageSchema = z.object({
  agentId: z.string().max(200),
  at: z.number(),
  /** Entries in the journal that match the query (all pages). */
  total: z.number().int().min(0),
  records: z.array(JournalRecordSchema),
  /** Orders cancelled before they started (they never run). */
  cancels: z.array(z.object({ orderId: z.string(), jobId: z.string(), at: z.number(), reason: z.string() })),
  /** The offset of the next page, absent on the last one. */
  next: z.number().int().min(0).optional(),
  error: z.string().max(1024).optional(),
  keyId: z.string().max(128).optional(),
  signature: z.string().max(256).optional(),
});
export type JournalPage = z.infer<typeof JournalPageSchema>;

/** A target's state in a job. The last seven are final: every target ends in one of them. */
export const TARGET_STATES = [
  'pending',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'rejected',
  'timed-out',
  'no-response',
  'cancelled',
  'skipped',
] as const;
export type TargetState = (typeof TARGET_STATES)[number];
export const FINAL_TARGET_STATES: readonly TargetState[] = [
  'succeeded',
  'failed',
  'rejected',
  'timed-out',
  'no-response',
  'cancelled',
  'skipped',
];
export function isFinalTargetState(state: TargetState): boolean {
  return FINAL_TARGET_STATES.includes(state);
}
/** States that count against a job's --max-errors. */
export const ERROR_TARGET_STATES: readonly TargetState[] = ['failed', 'rejected', 'timed-out', 'no-response'];
