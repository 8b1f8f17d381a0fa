// `zookeeper.observer-verify`: whether this node's ZooKeeper server is a caught-up observer of the
// voters' ensemble; changes nothing. It returns `ok` and the figures instead of failing, so a plan's
// gate states what must hold (`expect: { field: ok, equals: true }`). Writes keep coming on a live
// ensemble, so zxid and znode count are read again (leader first, then this server) for up to
// `settleMs` until they are equal; the judgement itself is the pure evaluateObserver.
import { issuesToErrors, ZooKeeperObserverVerifyParams, zookeeperObserverVerifyStep } from '@drover/shared';
import { ZooKeeperClient } from '../../clients/zookeeper/index.ts';
import { implementStep, localNode } from '../context.ts';
import { pause } from '../pause.ts';
import { attempt, lists, POLL_MS, waitUntilCaughtUp } from './ensemble.ts';
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
  const deadline = Date.now() + params.settleMs;
  let readings: Awaited<ReturnType<typeof waitUntilCaughtUp>>['readings'];
  // The leader's config is read again too, within the same settleMs: right after the voters restarted
  // one by one (static membership), a newly elected leader was seen to serve a config without the
  // observer (CI, under load), though every voter's file lists it; its `conf` membership is asked then.
  for (;;) {
    ({ readings } = await waitUntilCaughtUp(local, voters, node.myid, {
      timeoutMs: Math.max(0, deadline - Date.now()),
      signal,
    }));
    if (readings.leader) {
      const leader = new ZooKeeperClient(readings.leader.server, { signal });
      const expected = { ...node, id: node.myid, role: 'observer' as const };
      const config = await attempt(() => leader.getConfig(), signal);
      readings.listed = 'value' in config ? { value: lists(config.value, expected) } : { error: config.error };
      // Without reconfigEnabled, a leader elected straight after its own restart serves the
      // `/zookeeper/config` of its last snapshot (ZooKeeper rebuilds that znode from zoo.cfg only on a
      // server that syncs as a follower): the membership it runs with is `conf`'s, read from its file.
      // A CI run saw the znode stale for 10 s and more while the leader had taken the observer.
      if ('value' in readings.listed && !readings.listed.value) {
        const running = await attempt(() => leader.conf(), signal);
        if ('value' in running && lists(running.value.membership, expected)) readings.listed = { value: true };
      }
    }
    // Only a config that answered without this node is read again; anything else is judged at once.
    const unlisted = readings.listed !== null && 'value' in readings.listed && !readings.listed.value;
    if (!unlisted || Date.now() + POLL_MS > deadline) break;
    await pause(POLL_MS, signal);
  }
  readings.mntr = await attempt(() => local.mntr(), signal);
  const verdict = evaluateObserver(readings);
  ctx.progress(verdict.ok ? `ok: observer at zxid ${verdict.zxid}` : `not ok: ${verdict.problems[0] ?? ''}`, 100);
  return verdict;
});
