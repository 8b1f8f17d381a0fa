// `zookeeper.clean`: deletes other Kafka clusters' chroots through this node's own ZooKeeper server
// (check → test mode → act → report, as Salt's zookeeper state does):
//   1. check (./clean-survey.ts): /zookeeper/config lists only params.members (an ensemble still joined
//      to the source would delete there too); the kept chroot holds `cluster/id`; every other top-level
//      znode but /zookeeper is a Kafka chroot of another cluster with no registered broker, no
//      controller and no ephemeral znode. One problem refuses the whole run: nothing is deleted.
//   2. dry run: the chroots that would go, with their cluster id, znode count and data bytes.
//   3. back up every doomed chroot (a file in the state dir, then the customer's bucket when the agent
//      has one) before anything is deleted; a failed backup deletes nothing.
//   4. delete bottom-up in multi-ops under jute.maxbuffer, the chroot's identity last (./clean-plan.ts
//      says why that makes a stopped run restartable); the checks are made again just before each
//      chroot; ctx.signal is honoured between batches; znodes already gone count as deleted.
import {
  InvalidInputError,
  issuesToErrors,
  ZooKeeperCleanParams,
  type ZooKeeperCleanResultType,
  zookeeperCleanStep,
} from '@drover/shared';
import {
  formatAddress,
  type Session,
  withSession,
  ZooKeeperCodes,
  ZooKeeperRequestError,
} from '../../clients/zookeeper/index.ts';
import { implementStep, localNode, type StepContext } from '../context.ts';
import { BACKUP_DIR, backupBytes, backupName, makeBackup, writeBackupFile } from './backup.ts';
import { deletionOrder, judgeChroot, planBatches } from './clean-plan.ts';
import { type DoomedChroot, quickSurvey, surveyEnsemble } from './clean-survey.ts';
import { ZooKeeperBackupError, ZooKeeperCleanRefusedError, ZooKeeperDeleteError } from './errors.ts';

type Result = ZooKeeperCleanResultType;
type Location = NonNullable<Result['chroots'][number]['backup']>;

export const zookeeperCleanImplementation = implementStep(zookeeperCleanStep, async (ctx, raw) => {
  const parsed = ZooKeeperCleanParams.safeParse(raw);
  if (!parsed.success) throw issuesToErrors('params', raw, parsed.error);
  const params = parsed.data;
  const node = localNode(ctx, 'zookeeper');
  const stateDir = ctx.stateDir;
  if (!params.dryRun && !stateDir)
    throw new InvalidInputError('stateDir', stateDir, "the agent's state directory, where backups are written");
  const server = formatAddress({ host: node.host, port: node.clientPort });

  return withSession(server, { signal: ctx.signal }, async (session): Promise<Result> => {
    const survey = await surveyEnsemble(ctx, session, params, node);
    const result: Result = {
      dryRun: params.dryRun,
      server,
      configMembers: survey.config.members.map((m) => m.id).sort((a, b) => a - b),
      configVersion: survey.config.version,
      kept: survey.kept,
      chroots: survey.doomed.map((d) => ({
        chroot: d.chroot,
        clusterId: d.clusterId,
        znodes: d.znodes,
        bytes: d.bytes,
        backup: null,
        deleted: 0,
        batches: 0,
      })),
      deleted: 0,
      batches: 0,
    };
    const total = survey.doomed.reduce((sum, d) => sum + d.znodes, 0);
    if (params.dryRun || survey.doomed.length === 0) {
      ctx.progress(`${params.dryRun ? 'would delete' : 'nothing to delete:'} ${describe(survey.doomed)}`, 100);
      return result;
    }

    // 3. every backup before any delete
    for (const [i, doomed] of survey.doomed.entries()) {
      ctx.signal.throwIfAborted();
      ctx.progress(`backing up ${doomed.chroot} (${doomed.znodes} znodes)`, 20);
      const entry = result.chroots[i];
      if (entry) entry.backup = await backUp(ctx, stateDir as string, server, doomed);
    }

    // 4. delete, chroot by chroot
    for (const [i, doomed] of survey.doomed.entries()) {
      const entry = result.chroots[i];
      if (!entry) continue;
      ctx.signal.throwIfAborted();
      // Checked again just before: a broker started since the survey stops the run here.
      const again = judgeChroot(await quickSurvey(session, doomed.chroot), survey.kept.clusterId);
      if (again.length > 0) throw new ZooKeeperCleanRefusedError(again, result.deleted);
      const order = deletionOrder(
        doomed.chroot,
        doomed.records.map((r) => r.path),
      );
      const batches = planBatches(order.body, { maxOps: params.batchMaxOps, maxBytes: params.batchMaxBytes });
      if (order.tail.length > 0) batches.push(order.tail);
      for (const batch of batches) {
        ctx.signal.throwIfAborted();
        let removed: number;
        try {
          removed = await removeBatch(session, batch);
        } catch (error) {
          if (error instanceof ZooKeeperRequestError)
            throw new ZooKeeperDeleteError(doomed.chroot, entry.deleted, { cause: error });
          throw error;
        }
        entry.deleted += removed;
        entry.batches += 1;
        result.deleted += removed;
        result.batches += 1;
        ctx.progress(
          `${doomed.chroot}: ${entry.deleted}/${doomed.znodes} znodes deleted`,
          30 + Math.floor((70 * result.deleted) / Math.max(1, total)),
        );
      }
    }
    ctx.progress(`deleted ${describe(survey.doomed)}`, 100);
    return result;
  });
});

const describe = (doomed: readonly DoomedChroot[]): string =>
  doomed.length === 0
    ? 'no chroot'
    : doomed.map((d) => `${d.chroot} (${d.znodes} znodes, ${d.bytes} bytes)`).join(', ');

/** The backup file (atomically), then the bucket object when the agent has a bucket; either failing throws. */
export async function backUp(
  ctx: StepContext,
  stateDir: string,
  server: string,
  doomed: DoomedChroot,
): Promise<Location> {
  const name = backupName(doomed.chroot, new Date());
  const bytes = backupBytes(
    makeBackup(doomed.records, {
      chroot: doomed.chroot,
      clusterId: doomed.clusterId,
      takenAt: new Date(),
      server,
      agentId: ctx.agent.id,
    }),
  );
  let file: string;
  try {
    file = await writeBackupFile(stateDir, name, bytes);
  } catch (error) {
    throw new ZooKeeperBackupError(`${BACKUP_DIR}/${name} in the state dir`, { cause: error });
  }
  if (!ctx.bucket) return { name, file, bucket: null, key: null };
  try {
    const put = await ctx.bucket.put(`${BACKUP_DIR}/${name}`, bytes, 'application/json');
    return { name, file, bucket: put.bucket, key: put.key };
  } catch (error) {
    throw new ZooKeeperBackupError(`the bucket (${BACKUP_DIR}/${name})`, { cause: error });
  }
}

/**
 * One multi-op; when it fails with NO_NODE (a restarted run, or someone else deleting), the znodes
 * still there are deleted instead (gone counts as done). Returns how many this call deleted.
 */
export async function removeBatch(session: Session, batch: readonly string[]): Promise<number> {
  try {
    await session.removeAll(batch);
    return batch.length;
  } catch (error) {
    if (!(error instanceof ZooKeeperRequestError) || error.code !== ZooKeeperCodes.NO_NODE) throw error;
  }
  const present = await Promise.all(batch.map(async (path) => ((await session.exists(path)) ? path : null)));
  const still = present.filter((p): p is string => p !== null);
  if (still.length > 0) await session.removeAll(still);
  return still.length;
}
