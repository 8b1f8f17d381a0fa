// The cleaner's checks against the live ensemble (reads only): /zookeeper/config lists only the
// destination members, the kept chroot holds a cluster id, and every other top-level znode is a stopped
// Kafka cluster's chroot. Every problem found is collected; any problem refuses the whole run. The
// judgements themselves are the pure functions of ./clean-plan.ts.
import type { ZooKeeperCleanParamsType, ZooKeeperNodeConfig } from '@drover/shared';
import { type EnsembleConfig, parseEnsembleConfig, type Session } from '../../clients/zookeeper/index.ts';
import type { StepContext } from '../context.ts';
import { type ChrootSurvey, checkMembership, checkName, judgeChroot, readClusterId } from './clean-plan.ts';
import { type CleanProblem, ZooKeeperCleanRefusedError } from './errors.ts';
import { readTree, type ZnodeRecord } from './tree.ts';

/** A chroot that passed every check, with what it holds (top-down). */
export interface DoomedChroot {
  chroot: string;
  clusterId: string;
  records: ZnodeRecord[];
  znodes: number;
  bytes: number;
}

export interface CleanSurvey {
  config: EnsembleConfig;
  kept: { chroot: string; clusterId: string };
  doomed: DoomedChroot[];
}

/** Reads and checks everything; throws ZooKeeperCleanRefusedError naming every problem found. */
export async function surveyEnsemble(
  ctx: StepContext,
  session: Session,
  params: Pick<ZooKeeperCleanParamsType, 'keep' | 'members'>,
  node: ZooKeeperNodeConfig,
): Promise<CleanSurvey> {
  ctx.progress('reading /zookeeper/config', 2);
  const configNode = await session.getNode('/zookeeper/config');
  if (!configNode)
    throw new ZooKeeperCleanRefusedError([
      { field: '/zookeeper/config', value: null, expected: 'the ensemble membership (ZooKeeper 3.5+ dynamic config)' },
    ]);
  const config = parseEnsembleConfig(configNode.data.toString('utf8'), `${session.server} /zookeeper/config`);
  const membership = checkMembership(config, params.members, node);
  if (membership.length > 0) throw new ZooKeeperCleanRefusedError(membership);

  const top = (await session.getChildren('/')).sort();
  const keepName = params.keep.slice(1);
  const keptText = top.includes(keepName) ? await session.getNode(`${params.keep}/cluster/id`) : null;
  const keptId = keptText ? readClusterId(keptText.data.toString('utf8')) : null;
  if (keptId === null)
    throw new ZooKeeperCleanRefusedError([
      {
        field: `${params.keep}/cluster/id`,
        value: keptText ? keptText.data.toString('utf8') : null,
        expected: `the kept cluster's id (top-level znodes: ${top.map((n) => `/${n}`).join(', ')})`,
      },
    ]);

  const problems: CleanProblem[] = [];
  const doomed: DoomedChroot[] = [];
  for (const name of top.filter((n) => n !== 'zookeeper' && n !== keepName)) {
    ctx.signal.throwIfAborted();
    const named = checkName(name);
    if (named.length > 0) {
      problems.push(...named);
      continue;
    }
    const chroot = `/${name}`;
    ctx.progress(`checking ${chroot}`, 5);
    const quick = await quickSurvey(session, chroot);
    const found = judgeChroot(quick, keptId);
    if (found.length > 0) {
      problems.push(...found);
      continue;
    }
    // Only a chroot that passed the quick checks is read whole (a big unrelated tree is not walked).
    const records = await readTree(session, chroot, { signal: ctx.signal });
    const full = surveyOf(chroot, records);
    const again = judgeChroot(full, keptId);
    if (again.length > 0) {
      problems.push(...again);
      continue;
    }
    doomed.push({
      chroot,
      clusterId: readClusterId(full.clusterIdText ?? '') ?? '',
      records,
      znodes: full.znodes,
      bytes: full.bytes,
    });
  }
  if (problems.length > 0) throw new ZooKeeperCleanRefusedError(problems);
  return { config, kept: { chroot: params.keep, clusterId: keptId }, doomed };
}

/** cluster/id, brokers/ids and controller only (three reads). */
export async function quickSurvey(session: Session, chroot: string): Promise<ChrootSurvey> {
  const [id, brokerIds, controller] = await Promise.all([
    session.getNode(`${chroot}/cluster/id`),
    session.listChildren(`${chroot}/brokers/ids`),
    session.exists(`${chroot}/controller`),
  ]);
  return {
    chroot,
    clusterIdText: id ? id.data.toString('utf8') : null,
    brokerIds: brokerIds ?? [],
    controller: controller !== null,
    ephemerals: [],
    znodes: 0,
    bytes: 0,
  };
}

/** The same facts read off a whole subtree, plus its ephemeral znodes, size and count. */
export function surveyOf(chroot: string, records: readonly ZnodeRecord[]): ChrootSurvey {
  const idsParent = `${chroot}/brokers/ids/`;
  const id = records.find((r) => r.path === `${chroot}/cluster/id`);
  return {
    chroot,
    clusterIdText: id ? id.data.toString('utf8') : null,
    brokerIds: records
      .filter((r) => r.path.startsWith(idsParent) && !r.path.slice(idsParent.length).includes('/'))
      .map((r) => r.path.slice(idsParent.length)),
    controller: records.some((r) => r.path === `${chroot}/controller`),
    ephemerals: records.filter((r) => r.stat.ephemeralOwner !== '0').map((r) => r.path),
    znodes: records.length,
    bytes: records.reduce((sum, r) => sum + r.data.length, 0),
  };
}
