// The Cassandra migration steps (add a datacenter, rebuild it consistently, tell automation when the
// cluster is not fully available). Params carry names and validated values only: the agent builds
// every nodetool argv and CQL statement from its LOCAL config (`cassandra` section) and these values.
//   cassandra.describe          this node's view: itself, its peers, keyspaces (the generator's input)
//   cassandra.node-prepare      the JVM option that makes rebuilds resumable, (re)start when needed
//   cassandra.keyspaces-extend  add (or remove) a datacenter in every keyspace's replication
//   cassandra.rebuild           this node's planned rebuilds (keyspace, one source, token ranges)
//   cassandra.rebuild-verify    every planned range recorded as available on this node
//   cassandra.status            this node's state (normal, joining, rebuilding, down, draining…)
//   cassandra.decommission      this node leaves the ring (its DC no longer replicated), service stopped
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TokenSchema } from '../envelopes.ts';
import { defineStep } from './step.ts';

const MIN_TOKEN = -(2n ** 63n);
const MAX_TOKEN = 2n ** 63n - 1n;

/** A Murmur3 token as a signed 64-bit decimal string. */
export const CassandraTokenSchema = z
  .string()
  .regex(/^-?\d{1,19}$/, 'a Murmur3 token: a signed 64-bit decimal string')
  .refine((t) => BigInt(t) >= MIN_TOKEN && BigInt(t) <= MAX_TOKEN, 'a token within the signed 64-bit range');

/** A token range `(start, end]`; `start >= end` wraps past the maximum token. */
export const CassandraRangeSchema = z.tuple([CassandraTokenSchema, CassandraTokenSchema]);
export type CassandraRange = z.infer<typeof CassandraRangeSchema>;

/** Keyspace, table and datacenter names as CQL allows them unquoted. */
export const CassandraNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,48}$/, 'a Cassandra name (letters, digits, "_"; 1-48 chars)');
/** Data center names are free text in the snitch; these are the ones Drover accepts. */
export const CassandraDcSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a datacenter name (letters, digits, "_", ".", "-")');
/** A node's broadcast address (IPv4 or a host name); what `nodetool rebuild -s` names. */
export const CassandraAddressSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a node address (IPv4 or host name)');
const AgentIdSchema = TokenSchema;

// ---------------------------------------------------------------------------------------------------
export const CassandraDescribeParams = z.object({}).strict();
const DescribedNode = z.object({
  address: z.string(),
  hostId: z.string().optional(),
  dc: z.string(),
  rack: z.string(),
  tokens: z.array(z.string()),
});
export const CassandraDescribeResult = z.object({
  /** This node (system.local). */
  local: DescribedNode.extend({ releaseVersion: z.string(), partitioner: z.string() }),
  /** The other nodes as this one knows them (system.peers_v2). */
  peers: z.array(DescribedNode),
  /** Every keyspace with its replication map as system_schema.keyspaces gives it. */
  keyspaces: z.array(z.object({ name: z.string(), replication: z.record(z.string(), z.string()) })),
  /** Addresses this node sees down (`nodetool status`). */
  down: z.array(z.string()),
  /** A few existing partition keys of user tables with their tokens (for sample endpoint checks). */
  samples: z
    .array(z.object({ keyspace: z.string(), table: z.string(), key: z.string(), token: z.string() }))
    .default([]),
});
export const cassandraDescribeStep = defineStep({
  name: 'cassandra.describe',
  summary: "Reads this node's system tables: itself, its peers and every keyspace's replication.",
  params: CassandraDescribeParams,
  result: CassandraDescribeResult,
  idempotent: true,
  defaultTimeoutMs: 120_000,
});

// ---------------------------------------------------------------------------------------------------
/** The JVM property that makes a later rebuild skip recorded ranges instead of aborting (CASSANDRA-17679). */
export const RESET_BOOTSTRAP_PROGRESS = 'cassandra.reset_bootstrap_progress';

export const CassandraNodePrepareParams = z
  .object({
    /** Start the node's service when it is stopped (a new datacenter's nodes). @default true */
    start: z.boolean().default(true),
    /**
     * Restart a running node that lacks the property. Only for nodes that hold nothing yet (a new
     * datacenter before its rebuild): the step refuses a restart of a node whose keyspaces already
     * have ranges recorded as available unless this is set.
     */
    restart: z.boolean().default(true),
    /** How long to wait for the node to answer CQL and see itself NORMAL. @default 300000 */
    readyTimeoutMs: z.number().int().min(1000).max(3_600_000).default(300_000),
  })
  .strict();
export const CassandraNodePrepareResult = z.object({
  /** The property as the RUNNING node reports it (system_views.system_properties). */
  resetBootstrapProgress: z.string().nullable(),
  /** The running node resumes rebuilds (the property is "false"). */
  resumable: z.boolean(),
  /** The option line was added to the JVM options file. */
  optionWritten: z.boolean(),
  started: z.boolean(),
  restarted: z.boolean(),
  datacenter: z.string(),
  rack: z.string(),
  address: z.string(),
});
export const cassandraNodePrepareStep = defineStep({
  name: 'cassandra.node-prepare',
  summary: `Puts -D${RESET_BOOTSTRAP_PROGRESS}=false in the node's JVM options and (re)starts it so rebuilds resume.`,
  params: CassandraNodePrepareParams,
  result: CassandraNodePrepareResult,
  idempotent: true,
  defaultTimeoutMs: 900_000,
});

// ---------------------------------------------------------------------------------------------------
export const CassandraKeyspacesExtendParams = z
  .object({
    /** `add` the datacenter at `replicationFactor`, or `remove` it from every keyspace's replication. */
    action: z.enum(['add', 'remove']).default('add'),
    datacenter: CassandraDcSchema,
    /** add: replicas in the new datacenter. */
    replicationFactor: z.number().int().min(1).max(20).optional(),
    /**
     * add: the datacenter SimpleStrategy keyspaces live in today; they become NetworkTopologyStrategy
     * with their RF there first (same placement), then get the new datacenter.
     */
    sourceDatacenter: CassandraDcSchema.optional(),
    /**
     * SimpleStrategy keyspaces that may become NetworkTopologyStrategy even though the source datacenter
     * has several racks, which moves some of their replicas (repair them in the source DC afterwards).
     * Others are refused in that case. The migration generator lists system_auth, system_distributed and
     * system_traces here (they are SimpleStrategy by default and tiny).
     */
    allowPlacementChange: z.array(CassandraNameSchema).max(10_000).default([]),
    /** The keyspaces to change. @default every user keyspace plus system_auth, system_distributed, system_traces */
    keyspaces: z.array(CassandraNameSchema).min(1).max(10_000).optional(),
    /** Change replication while a node is down (the change is then not seen by it until it returns). */
    allowDown: z.boolean().default(false),
    /** How long to wait for schema agreement after each change. @default 60000 */
    schemaAgreementTimeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.action === 'add' && p.replicationFactor === undefined)
      ctx.addIssue({ code: 'custom', path: ['replicationFactor'], message: 'required when action is "add"' });
  });
export type CassandraKeyspacesExtendParamsType = z.infer<typeof CassandraKeyspacesExtendParams>;
export const CassandraKeyspacesExtendResult = z.object({
  action: z.enum(['add', 'remove']),
  datacenter: z.string(),
  changed: z.array(z.object({ keyspace: z.string(), before: z.string(), after: z.string() })),
  /** Keyspaces converted from SimpleStrategy whose replicas moved in the source DC: repair them there. */
  placementChanged: z.array(z.string()),
  unchanged: z.array(z.string()),
  schemaAgreed: z.boolean(),
});
export const cassandraKeyspacesExtendStep = defineStep({
  name: 'cassandra.keyspaces-extend',
  summary: 'Adds a datacenter to (or removes it from) every keyspace’s replication, then waits for schema agreement.',
  params: CassandraKeyspacesExtendParams,
  result: CassandraKeyspacesExtendResult,
  idempotent: true,
  defaultTimeoutMs: 600_000,
});

// ---------------------------------------------------------------------------------------------------
/**
 * A rebuild's ranges written compactly, as a subset of the ranges its node replicates for the
 * keyspace (`nodetool describering`, those listing the node, sorted by end token as signed 64-bit):
 * bit i of `mask` (base64url, least significant bit first in each byte) selects the i-th of them.
 * `count` and `digest` name the list the mask indexes ({@link ownedRangesDigest}); the agent refuses
 * the item when its node's list differs (the ring changed since the plan was written). About 1 bit
 * per replicated range instead of ~45 bytes per listed range: a 256-vnode node's 768 ranges of a
 * keyspace are 128 characters, so a whole wave of a big cluster fits one order.
 */
export const CassandraOwnedMaskSchema = z
  .object({
    count: z.number().int().min(1).max(1_000_000),
    digest: z.string().regex(/^[0-9a-f]{16}$/, '16 lowercase hex digits (ownedRangesDigest)'),
    mask: z.string().regex(/^[A-Za-z0-9_-]{1,200000}$/, 'base64url bits (encodeRangeMask)'),
  })
  .strict();
export type CassandraOwnedMask = z.infer<typeof CassandraOwnedMaskSchema>;

/** The digest of a node's replicated ranges (sorted by end token) that an owned mask indexes. */
export function ownedRangesDigest(ranges: ReadonlyArray<readonly [string, string]>): string {
  const hash = createHash('sha256');
  for (const [start, end] of ranges) hash.update(`${start},${end};`);
  return hash.digest('hex').slice(0, 16);
}

/** Sorts ranges by end token as signed 64-bit integers (the order an owned mask indexes). */
export function sortByEndToken<T extends readonly [string, string]>(ranges: readonly T[]): T[] {
  return [...ranges].sort((a, b) => {
    const x = BigInt(a[1]);
    const y = BigInt(b[1]);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** `selected` (indexes below `count`) as mask bits in base64url. */
export function encodeRangeMask(count: number, selected: Iterable<number>): string {
  const bytes = Buffer.alloc(Math.ceil(count / 8));
  for (const i of selected) {
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`mask index ${i} outside 0..${count - 1}`);
    bytes[i >> 3] = bytes[i >> 3]! | (1 << (i & 7));
  }
  return bytes.toString('base64url');
}

/** The indexes a mask selects; a message saying what is wrong when it does not fit `count`. */
export function decodeRangeMask(mask: string, count: number): number[] | string {
  const bytes = Buffer.from(mask, 'base64url');
  if (bytes.length !== Math.ceil(count / 8) || bytes.toString('base64url') !== mask)
    return `base64url of ${Math.ceil(count / 8)} byte(s) for ${count} range(s) (decoded ${bytes.length})`;
  const selected: number[] = [];
  for (let i = 0; i < bytes.length * 8; i++)
    if (bytes[i >> 3]! & (1 << (i & 7))) {
      if (i >= count) return `no bit set beyond range ${count - 1} (bit ${i} is)`;
      selected.push(i);
    }
  if (selected.length === 0) return 'at least one bit set';
  return selected;
}

/**
 * The ranges an owned mask selects among `replicated` (the ranges the node replicates for the
 * keyspace, in any order), or what is wrong: the list differs from the one the mask indexes (the
 * ring changed since the plan was written: `ring`), or the mask does not fit it (`mask`).
 */
export function resolveOwnedMask(
  owned: CassandraOwnedMask,
  replicated: ReadonlyArray<readonly [string, string]>,
): [string, string][] | { field: 'ring' | 'mask'; expected: string } {
  const list = sortByEndToken(replicated);
  const digest = ownedRangesDigest(list);
  if (owned.count !== list.length || owned.digest !== digest)
    return { field: 'ring', expected: `count ${list.length}, digest ${digest}` };
  const picked = decodeRangeMask(owned.mask, list.length);
  if (typeof picked === 'string') return { field: 'mask', expected: picked };
  return picked.map((i) => [...(list[i] as readonly [string, string])] as [string, string]);
}

/** Exactly one of `ranges` or `owned` (a rebuild item, a verify expectation). */
function rangesOrOwned(item: { ranges?: unknown; owned?: unknown }, ctx: z.RefinementCtx): void {
  if ((item.ranges === undefined) === (item.owned === undefined))
    ctx.addIssue({
      code: 'custom',
      path: ['ranges'],
      message: 'exactly one of "ranges" (the ranges listed) or "owned" (a mask of the node’s replicated ranges)',
    });
}

/**
 * One planned rebuild: on `node` (run by `agent`), stream some ranges of `keyspace` from `source`
 * only; the ranges are listed (`ranges`) or selected from those the node replicates (`owned`).
 */
export const CassandraRebuildItemSchema = z
  .object({
    agent: AgentIdSchema,
    node: CassandraAddressSchema,
    keyspace: CassandraNameSchema,
    source: CassandraAddressSchema,
    ranges: z.array(CassandraRangeSchema).min(1).max(20_000).optional(),
    owned: CassandraOwnedMaskSchema.optional(),
    /** 1-based part when one (node, keyspace, source) group was split to keep `-ts` short. */
    part: z.number().int().min(1).optional(),
    /**
     * Pipelined plans (all waves in one order): indexes of earlier items of `rebuilds` (other nodes
     * streaming from the same source) that must have finished before this one starts; their agents
     * say so in the node-status signal. This is how a node starts its next rebuild as soon as its
     * source is free, while no source ever feeds more rebuilds at once than the plan's cap.
     */
    after: z.array(z.number().int().min(0).max(99_999)).max(256).optional(),
  })
  .strict()
  .superRefine(rangesOrOwned);
export type CassandraRebuildItem = z.infer<typeof CassandraRebuildItemSchema>;

export const CassandraRebuildParams = z
  .object({
    /** The datacenter every source is in (`nodetool rebuild … -- <sourceDc>`). */
    sourceDc: CassandraDcSchema,
    /** Rebuilds of this wave; each agent runs the items naming it, one after another. */
    rebuilds: z.array(CassandraRebuildItemSchema).min(1).max(10_000),
    /** Attempts per rebuild before it is reported failed (a node restart or a dropped table). @default 4 */
    attempts: z.number().int().min(1).max(20).default(4),
    /** First retry delay; doubles per attempt. @default 2000 */
    retryDelayMs: z.number().int().min(100).max(600_000).default(2000),
    /** How often progress is read from system_views.streaming. @default 2000 */
    pollMs: z.number().int().min(100).max(60_000).default(2000),
  })
  .strict()
  .superRefine((p, ctx) => {
    p.rebuilds.forEach((item, i) => {
      for (const [k, j] of (item.after ?? []).entries())
        if (j >= i)
          ctx.addIssue({
            code: 'custom',
            path: ['rebuilds', i, 'after', k],
            message: `the index of an earlier item (below ${i}), got ${j}`,
          });
    });
  });
export type CassandraRebuildParamsType = z.infer<typeof CassandraRebuildParams>;
export const CassandraRebuildResult = z.object({
  node: z.string(),
  rebuilds: z.number(),
  /** Ranges already recorded as available before they were asked for (not streamed again). */
  rangesSkipped: z.number(),
  rangesStreamed: z.number(),
  bytesReceived: z.number(),
  /** nodetool rebuild runs, retries included. */
  attempts: z.number(),
  durationMs: z.number(),
});
export const cassandraRebuildStep = defineStep({
  name: 'cassandra.rebuild',
  summary: 'Runs this node’s planned rebuilds (one keyspace, one source, exact ranges), resumable, with retries.',
  params: CassandraRebuildParams,
  result: CassandraRebuildResult,
  idempotent: true,
  defaultTimeoutMs: 7 * 24 * 3_600_000,
});

// ---------------------------------------------------------------------------------------------------
export const CassandraRebuildVerifyParams = z
  .object({
    /**
     * What each agent's node must hold: every range recorded as available for the keyspace, listed
     * (`ranges`) or as a mask of the ranges the node replicates (`owned`, as a rebuild's).
     */
    expected: z
      .array(
        z
          .object({
            agent: AgentIdSchema,
            node: CassandraAddressSchema,
            keyspace: CassandraNameSchema,
            ranges: z.array(CassandraRangeSchema).min(1).max(100_000).optional(),
            owned: CassandraOwnedMaskSchema.optional(),
          })
          .strict()
          .superRefine(rangesOrOwned),
      )
      .min(1)
      .max(10_000),
    /** Keys whose replicas (`nodetool getendpoints`) must be exactly these addresses, in any order. */
    samples: z
      .array(
        z
          .object({
            keyspace: CassandraNameSchema,
            table: CassandraNameSchema,
            key: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'a simple text partition key'),
            endpoints: z.array(CassandraAddressSchema).min(1).max(64),
          })
          .strict(),
      )
      .max(100)
      .default([]),
  })
  .strict();
export const CassandraRebuildVerifyResult = z.object({
  ok: z.boolean(),
  node: z.string(),
  keyspaces: z.number(),
  rangesExpected: z.number(),
  rangesMissing: z.number(),
  samplesChecked: z.number(),
  samplesWrong: z.number(),
  problems: z.array(z.string()),
});
export const cassandraRebuildVerifyStep = defineStep({
  name: 'cassandra.rebuild-verify',
  summary: 'Checks that every planned range is recorded as available on this node; changes nothing.',
  params: CassandraRebuildVerifyParams,
  result: CassandraRebuildVerifyResult,
  idempotent: true,
  defaultTimeoutMs: 300_000,
});

// ---------------------------------------------------------------------------------------------------
export const CASSANDRA_NODE_STATES = [
  'normal',
  'joining',
  'rebuilding',
  'streaming',
  'leaving',
  'draining',
  'down',
] as const;
export type CassandraNodeState = (typeof CASSANDRA_NODE_STATES)[number];

export const CassandraNodeStatusSchema = z.object({
  agent: z.string(),
  address: z.string(),
  datacenter: z.string(),
  state: z.enum(CASSANDRA_NODE_STATES),
  /** True only when the node is normal and streams nothing: safe for schema changes such as a table drop. */
  available: z.boolean(),
  /** Streaming sessions in progress: bytes received of bytes to receive. */
  streaming: z.object({ sessions: z.number(), bytesReceived: z.number(), bytesToReceive: z.number() }),
  detail: z.string(),
  at: z.number(),
  /** Items of the current pipelined rebuild order this node finished, as `<jobId>#<index>`. */
  rebuilt: z.array(z.string()).max(100_000).optional(),
});
export type CassandraNodeStatus = z.infer<typeof CassandraNodeStatusSchema>;

export const CassandraStatusParams = z.object({}).strict();
export const cassandraStatusStep = defineStep({
  name: 'cassandra.status',
  summary: 'Reports this node’s state (normal, joining, rebuilding or streaming, leaving, draining, down).',
  params: CassandraStatusParams,
  result: CassandraNodeStatusSchema,
  idempotent: true,
  defaultTimeoutMs: 60_000,
});

// ---------------------------------------------------------------------------------------------------
export const CassandraNodeWipeParams = z
  .object({
    /**
     * The datacenter the node must be in (the destination DC): the step refuses on a node of any
     * other DC, so an order meant for the new DC can never wipe a node of the old one.
     */
    datacenter: CassandraNameSchema,
    /** How long to wait for the node to answer CQL again after its restart. @default 300000 */
    readyTimeoutMs: z.number().int().min(1000).max(3_600_000).default(300_000),
  })
  .strict();
export const CassandraNodeWipeResult = z.object({
  address: z.string(),
  datacenter: z.string(),
  /** The keyspaces whose data was removed (every one replicated to the DC, system ones included). */
  keyspaces: z.array(z.string()),
  filesRemoved: z.number(),
  bytesRemoved: z.number(),
  /** Keyspaces with ranges recorded as available before the wipe (0 after it, checked). */
  recordedBefore: z.number(),
  durationMs: z.number(),
});
export const cassandraNodeWipeStep = defineStep({
  name: 'cassandra.node-wipe',
  summary:
    "Wipes what a rebuild brought to this destination node (its keyspaces' sstables and the record of available ranges), drained and restarted, so a retry streams everything again.",
  params: CassandraNodeWipeParams,
  result: CassandraNodeWipeResult,
  idempotent: true,
  defaultTimeoutMs: 3_600_000,
});

// ---------------------------------------------------------------------------------------------------
export const CassandraDecommissionParams = z
  .object({
    /** Stop the node's service once it has left the ring. @default true */
    stopService: z.boolean().default(true),
    /** How often progress is read while the node leaves. @default 5000 */
    pollMs: z.number().int().min(100).max(600_000).default(5000),
  })
  .strict();
export const CassandraDecommissionResult = z.object({
  address: z.string(),
  datacenter: z.string(),
  /** The node had left before this order (an earlier attempt): nothing was run again. */
  alreadyLeft: z.boolean(),
  /** The node has left the ring (nodetool netstats: Mode DECOMMISSIONED, or recorded so by this agent). */
  decommissioned: z.boolean(),
  serviceStopped: z.boolean(),
  durationMs: z.number(),
});
export const cassandraDecommissionStep = defineStep({
  name: 'cassandra.decommission',
  summary:
    'Removes this node from the ring (nodetool decommission) once no keyspace replicates to its datacenter, then stops its service.',
  params: CassandraDecommissionParams,
  result: CassandraDecommissionResult,
  idempotent: true,
  defaultTimeoutMs: 7 * 24 * 3_600_000,
});
