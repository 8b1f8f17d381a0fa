// `zookeeper.observer-verify`: whether this node's ZooKeeper server is a caught-up observer of the
// voters' ensemble; changes nothing. It returns `ok` and the figures instead of failing, so a plan's
// gate states what must hold (`expect: { field: ok, equals: true }`). Writes keep coming on a live
// ensemble, so zxid and znode count are read again (leader first, then this server) for up to
// `settleMs` until they are equal; the judgement itself is the pure evaluateObserver.
import { issuesToErrors, ZooKeeperObserverVerifyParams, zookeeperObserverVerifyStep } from '@drover/shared';
import { ZooKeeperClient } from '../../clients/zookeeper/index.ts';
import { implementStep, localNode } from '../context.ts';
import { attempt, lists, waitUntilCaughtUp } from './ensemble.ts';
import { evaluateObserver } from './evaluate.ts';

export const zookeeperObserverVerifyImplementation = implementStep(zookeeperObserverVerifyStep, async (ctx, raw) => {
  const parsed = ZooKeeperObserverVerifyParams.safeParse(raw);
  if (!parsed.success) throw issuesToErrors('params', raw, parsed.error);
  const params = parsed.data;
  const node = localNode(ctx, 'zookeeper');
  const signal = ctx.signal;
  const voters = params.voters.map((v) => ({ host: v.host, port: v.clientPort }));
  const local = new ZooKeeperClient({ host: node.host, port: node.clientPort }, { signal });

  ctx.progress(`comparing ${local.name} with the leader among ${voters.length} voters`, 10);
  const { readings } = await waitUntilCaughtUp(local, voters, node.myid, { timeoutMs: params.settleMs, signal });
  readings.mntr = await attempt(() => local.mntr(), signal);
  if (readings.leader) {
    const leader = new ZooKeeperClient(readings.leader.server, { signal });
    const config = await attempt(() => leader.getConfig(), signal);
    readings.listed =
      'value' in config
        ? { value: lists(config.value, { ...node, id: node.myid, role: 'observer' }) }
        : { error: config.error };
  }
  const verdict = evaluateObserver(readings);
  ctx.progress(verdict.ok ? `ok: observer at zxid ${verdict.zxid}` : `not ok: ${verdict.problems[0] ?? ''}`, 100);
  return verdict;
});
