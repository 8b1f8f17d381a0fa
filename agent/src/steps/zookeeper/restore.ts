// `zookeeper.restore`: recreates the znodes of a `zookeeper.clean` backup through this node's own
// ZooKeeper server, top-down (every parent before its children), with their data and ACLs; a znode
// that exists already is left as it is and counted. The backup is named, never given as a path: the
// file comes from `<stateDir>/zookeeper-backups/` and its content is checked before use.
import { InvalidInputError, issuesToErrors, ZooKeeperRestoreParams, zookeeperRestoreStep } from '@drover/shared';
import { formatAddress, withSession } from '../../clients/zookeeper/index.ts';
import { implementStep, localNode } from '../context.ts';
import { type Backup, readBackupFile } from './backup.ts';
import { depth } from './clean-plan.ts';

const CREATE_CONCURRENCY = 32;

export const zookeeperRestoreImplementation = implementStep(zookeeperRestoreStep, async (ctx, raw) => {
  const parsed = ZooKeeperRestoreParams.safeParse(raw);
  if (!parsed.success) throw issuesToErrors('params', raw, parsed.error);
  const params = parsed.data;
  const node = localNode(ctx, 'zookeeper');
  const stateDir = ctx.stateDir;
  if (!stateDir) throw new InvalidInputError('stateDir', stateDir, "the agent's state directory, where backups are");
  const backup = await readBackupFile(stateDir, params.backup);
  const server = formatAddress({ host: node.host, port: node.clientPort });

  return withSession(server, { signal: ctx.signal }, async (session) => {
    let created = 0;
    let existed = 0;
    const levels = byDepth(backup);
    for (const level of levels) {
      for (let i = 0; i < level.length; i += CREATE_CONCURRENCY) {
        ctx.signal.throwIfAborted();
        const outcomes = await Promise.all(
          level.slice(i, i + CREATE_CONCURRENCY).map(async (z) => {
            if (params.dryRun) return (await session.exists(z.path)) ? 'existed' : 'created';
            return session.create(z.path, Buffer.from(z.data, 'base64'), z.acl);
          }),
        );
        for (const outcome of outcomes)
          if (outcome === 'created') created += 1;
          else existed += 1;
      }
      ctx.progress(
        `${backup.chroot}: ${created} ${params.dryRun ? 'to create' : 'created'}, ${existed} already there`,
        Math.floor((100 * (created + existed)) / Math.max(1, backup.znodes.length)),
      );
    }
    return {
      dryRun: params.dryRun,
      server,
      backup: params.backup,
      chroot: backup.chroot,
      clusterId: backup.clusterId,
      znodes: backup.znodes.length,
      created,
      existed,
    };
  });
});

/** The backup's znodes by depth, shallowest first (a parent always exists before its children are made). */
function byDepth(backup: Backup): Backup['znodes'][] {
  const levels = new Map<number, Backup['znodes']>();
  for (const z of backup.znodes) {
    const d = depth(z.path);
    const level = levels.get(d);
    if (level) level.push(z);
    else levels.set(d, [z]);
  }
  return [...levels.entries()].sort(([a], [b]) => a - b).map(([, level]) => level);
}
