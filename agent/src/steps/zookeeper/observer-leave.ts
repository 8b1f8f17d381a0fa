// `zookeeper.observer-leave`: the undo of `zookeeper.observer-join` (the observers phase's rollback).
// With `reconfig` (the ensemble has reconfigEnabled): when the ensemble config lists THIS node's
// observer line (same id, address and ports), `reconfig -remove <myid>` through the leading voter
// (the config is read again if the CLI fails: an earlier attempt may have committed it); an id the
// config gives to another server is refused, never removed. Then the local service stops. With
// `static`: the service stops only (the voters' lines are removed by zookeeper.voters-add-observers
// action remove). Idempotent: a node not listed and stopped changes nothing.
import {
  InvalidInputError,
  issuesToErrors,
  ZooKeeperObserverLeaveParams,
  zookeeperObserverLeaveStep,
} from '@drover/shared';
import type { z } from 'zod';
import {
  type ServerLineInput,
  sameServer,
  ZooKeeperClient,
  ZooKeeperReconfigError,
} from '../../clients/zookeeper/index.ts';
import { implementStep, localNode } from '../context.ts';
import { attempt, findLeader, readEnsembleConfig } from './ensemble.ts';
import { ZooKeeperMemberConflictError } from './errors.ts';
import { checkVoters } from './observer-join.ts';

type Result = z.infer<typeof zookeeperObserverLeaveStep.result>;

export const zookeeperObserverLeaveImplementation = implementStep(zookeeperObserverLeaveStep, async (ctx, raw) => {
  const parsed = ZooKeeperObserverLeaveParams.safeParse(raw);
  if (!parsed.success) throw issuesToErrors('params', raw, parsed.error);
  const params = parsed.data;
  const node = localNode(ctx, 'zookeeper');
  const services = ctx.services;
  if (!services) throw new InvalidInputError('zookeeper.service', node.service, 'a service this agent declares');
  const signal = ctx.signal;
  const voters = params.ensemble.map((v) => ({ host: v.host, port: v.clientPort }));
  const self: ServerLineInput = { ...node, id: node.myid, role: 'observer' };
  const notes: string[] = [];
  let removed = false;
  let reconfigVia: string | null = null;
  let configVersion: string | null = null;

  if (params.method === 'reconfig') {
    ctx.progress('reading the ensemble config', 10);
    const { config } = await readEnsembleConfig(voters, signal);
    checkVoters(config, params.ensemble);
    const listed = config.members.find((m) => m.id === node.myid);
    if (listed && !sameServer(listed, self))
      throw new ZooKeeperMemberConflictError(
        node.myid,
        `${listed.host}:${listed.quorumPort}:${listed.electionPort}:${listed.role}`,
        `this node's observer; refusing to remove another server`,
      );
    configVersion = config.version;
    if (listed) {
      const { leader } = await findLeader(voters, signal);
      const target = leader?.server ?? voters[0];
      if (!target) throw new InvalidInputError('params.ensemble', voters, 'at least one voter');
      const via = new ZooKeeperClient(target, { signal, cliArgv: node.cliArgv });
      ctx.progress(`reconfig -remove ${node.myid} through ${via.name}`, 40);
      try {
        const done = await via.reconfigRemove(node.myid, { onOutput: (stream, text) => ctx.output(stream, text) });
        configVersion = done.committed.version;
      } catch (error) {
        if (!(error instanceof ZooKeeperReconfigError)) throw error;
        const again = await attempt(() => via.getConfig(), signal);
        if (!('value' in again) || again.value.members.some((m) => m.id === node.myid)) throw error;
        configVersion = again.value.version;
        ctx.logger.warn('reconfig -remove failed, but the ensemble no longer lists the observer', {
          error: error.message,
        });
      }
      removed = true;
      reconfigVia = via.name;
    } else notes.push(`the ensemble config does not list server.${node.myid}: nothing to remove`);
  } else notes.push('static: the voters keep their lines until zookeeper.voters-add-observers action remove runs');

  ctx.progress(`stopping service ${node.service}`, 80);
  const stopped = await services.stop(node.service);
  const result: Result = {
    method: params.method,
    myid: node.myid,
    removed,
    reconfigVia,
    configVersion,
    serviceOutcome: stopped.outcome === 'stopped' ? 'stopped' : 'already-stopped',
    notes,
  };
  ctx.progress(`server.${node.myid}: ${removed ? 'removed from the ensemble and ' : ''}${result.serviceOutcome}`, 100);
  return result;
});
