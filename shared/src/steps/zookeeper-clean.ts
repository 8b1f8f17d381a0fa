// The ZooKeeper chroot cleaner (issue 13, part 3). After a Kafka cluster moved off a shared ZooKeeper,
// the destination ensemble (joined as observers, then split off) still holds other Kafka clusters'
// chroots. `zookeeper.clean` deletes them through ONE server of the destination ensemble, paranoid
// first: it refuses while /zookeeper/config lists a server outside `members`, keeps /zookeeper and
// `keep`, and refuses the whole run if any other top-level znode is not a stopped Kafka cluster's
// chroot. What it deletes is backed up first (the agent's stateDir, and the customer's bucket when
// the agent has one); `zookeeper.restore` recreates a chroot from such a backup. Params carry names
// and validated values only: the server is the agent's local one, backup files live in its stateDir.
import { z } from 'zod';
import { defineStep } from './step.ts';
import { ZooKeeperHostSchema, ZooKeeperPortSchema, ZooKeeperServerIdSchema } from './zookeeper-observer.ts';

/** A top-level znode's name: letters, digits, `.`, `_`, `-`, starting with a letter or digit; no `..`. */
export const ZOOKEEPER_CHROOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `/` and a safe name (never `/zookeeper`, never nested, never `..`). */
export const ZooKeeperChrootSchema = z
  .string()
  .regex(/^\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a top-level chroot: "/" and a name of letters, digits, ".", "_", "-"')
  .refine((c) => !c.includes('..'), 'a chroot without ".."')
  .refine((c) => c !== '/zookeeper', "a chroot other than /zookeeper (ZooKeeper's own)");

/**
 * A backup file's name in the agent's `<stateDir>/zookeeper-backups/` (never a path): the chroot's
 * name, the UTC time it was taken, `.json`, e.g. `kafka-b-20261203T041502123Z.json`.
 */
export const ZOOKEEPER_BACKUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}-\d{8}T\d{9}Z\.json$/;
export const ZooKeeperBackupNameSchema = z
  .string()
  .regex(ZOOKEEPER_BACKUP_NAME, 'a backup file name such as kafka-b-20261203T041502123Z.json (no path)')
  .refine((n) => !n.includes('..'), 'a file name without ".."');

/** A server of the destination ensemble: its id (`server.N`), host and, optionally, client port. */
export const ZooKeeperMemberSchema = z
  .object({ id: ZooKeeperServerIdSchema, host: ZooKeeperHostSchema, clientPort: ZooKeeperPortSchema.optional() })
  .strict();
export type ZooKeeperMember = z.infer<typeof ZooKeeperMemberSchema>;

/** jute.maxbuffer's default (0xfffff): no request, a multi-op included, may be larger. */
export const ZOOKEEPER_JUTE_MAXBUFFER = 0xfffff;
/** The largest multi-op the cleaner sends: 512 KiB, half of jute.maxbuffer (the server's default limit). */
export const ZOOKEEPER_MAX_BATCH_BYTES = 512 * 1024;

export const ZooKeeperCleanParams = z
  .object({
    /** The chroot that stays (the migrated cluster's): it must exist and hold `cluster/id`. */
    keep: ZooKeeperChrootSchema,
    /** Every server of the destination ensemble; /zookeeper/config must list no other. */
    members: z
      .array(ZooKeeperMemberSchema)
      .min(1)
      .max(15)
      .refine((m) => new Set(m.map((s) => s.id)).size === m.length, 'server ids must be distinct'),
    /** Only report what would be deleted. @default false */
    dryRun: z.boolean().default(false),
    /** Deletes per multi-op. @default 1000 */
    batchMaxOps: z.number().int().min(1).max(1000).default(1000),
    /** Serialized size of one multi-op, at most half of jute.maxbuffer. @default 524288 (512 KiB) */
    batchMaxBytes: z.number().int().min(4096).max(ZOOKEEPER_MAX_BATCH_BYTES).default(ZOOKEEPER_MAX_BATCH_BYTES),
  })
  .strict();
export type ZooKeeperCleanParamsType = z.infer<typeof ZooKeeperCleanParams>;

/** Where a backup went: the file (relative to the agent's stateDir) and, when uploaded, the bucket object. */
export const ZooKeeperBackupLocation = z.object({
  name: z.string(),
  file: z.string(),
  bucket: z.string().nullable(),
  key: z.string().nullable(),
});

export const ZooKeeperChrootSummary = z.object({
  chroot: z.string(),
  clusterId: z.string(),
  /** Znodes under the chroot, itself included, and the sum of their data sizes. */
  znodes: z.number(),
  bytes: z.number(),
});
export type ZooKeeperChrootSummaryType = z.infer<typeof ZooKeeperChrootSummary>;

export const ZooKeeperCleanResult = z.object({
  dryRun: z.boolean(),
  /** host:clientPort of the server the step worked through. */
  server: z.string(),
  /** Ids /zookeeper/config lists, and its version. */
  configMembers: z.array(z.number()),
  configVersion: z.string().nullable(),
  /** The chroot left in place, and its cluster id (its size is not read: a live cluster's tree). */
  kept: z.object({ chroot: z.string(), clusterId: z.string() }),
  /** Every chroot deleted (or, in a dry run, to delete), sorted by path. */
  chroots: z.array(
    ZooKeeperChrootSummary.extend({
      backup: ZooKeeperBackupLocation.nullable(),
      /** Znodes this run deleted (a restarted run finds some gone already). */
      deleted: z.number(),
      batches: z.number(),
    }),
  ),
  deleted: z.number(),
  batches: z.number(),
});
export type ZooKeeperCleanResultType = z.infer<typeof ZooKeeperCleanResult>;

export const zookeeperCleanStep = defineStep({
  name: 'zookeeper.clean',
  summary:
    "Deletes other Kafka clusters' chroots from this node's ZooKeeper ensemble, after safety checks and a backup.",
  params: ZooKeeperCleanParams,
  result: ZooKeeperCleanResult,
  // A second run finds less to delete and finishes what an interrupted one started.
  idempotent: true,
  defaultTimeoutMs: 30 * 60_000,
});

export const ZooKeeperRestoreParams = z
  .object({
    /** A backup file name in the agent's `<stateDir>/zookeeper-backups/`. */
    backup: ZooKeeperBackupNameSchema,
    /** Only report what would be created. @default false */
    dryRun: z.boolean().default(false),
  })
  .strict();

export const ZooKeeperRestoreResult = z.object({
  dryRun: z.boolean(),
  server: z.string(),
  backup: z.string(),
  chroot: z.string(),
  clusterId: z.string(),
  znodes: z.number(),
  /** Created by this run, and found already there (left as they are). */
  created: z.number(),
  existed: z.number(),
});
export type ZooKeeperRestoreResultType = z.infer<typeof ZooKeeperRestoreResult>;

export const zookeeperRestoreStep = defineStep({
  name: 'zookeeper.restore',
  summary: 'Recreates the znodes of a zookeeper.clean backup (data and ACLs), top-down, skipping existing ones.',
  params: ZooKeeperRestoreParams,
  result: ZooKeeperRestoreResult,
  idempotent: true,
  defaultTimeoutMs: 30 * 60_000,
});
