// `zookeeper.observer-join`: this node's ZooKeeper server joins the voters' ensemble as an OBSERVER
// (check → act → read the change back and report it, as Salt's zookeeper state does):
//   1. check: params and the rendered zoo.cfg are valid; the ensemble config (from a voter) does not
//      give this node's id to another server and lists exactly the voters named; the local service
//      is not serving in another role. Nothing is written before these pass.
//   2. no-op when the node already serves as an observer the ensemble lists (static: as an observer).
//   3. act: write myid and zoo.cfg; `reconfig`: `reconfig -add <observer line>` through the leading
//      voter (the ensemble config is read again if the CLI fails: a previous attempt may have
//      committed it); then start the service, so its first sync already names it an observer.
//   4. read back: `reconfig` waits until the observer has the leader's zxid and znode count.
import {
  InvalidInputError,
  issuesToErrors,
  type ZooKeeperNodeConfig,
  ZooKeeperObserverJoinParams,
  type ZooKeeperObserverJoinParamsType,
  type ZooKeeperVoter,
  zookeeperObserverJoinStep,
} from '@drover/shared';
import type { z } from 'zod';
import {
  type EnsembleConfig,
  formatAddress,
  renderObserverConfig,
  type ServerEntry,
  type ServerLineInput,
  sameServer,
  type ZooKeeperAddress,
  ZooKeeperClient,
  ZooKeeperReconfigError,
} from '../../clients/zookeeper/index.ts';
import { implementStep, localNode, type StepContext } from '../context.ts';
import { attempt, findLeader, lists, readEnsembleConfig, waitUntilAnswering, waitUntilCaughtUp } from './ensemble.ts';
import { ZooKeeperMemberConflictError, ZooKeeperRoleConflictError, ZooKeeperSyncTimeoutError } from './errors.ts';
import { evaluateObserver } from './evaluate.ts';
import { ensureMyid, writeFileAtomic } from './files.ts';

type Result = z.infer<typeof zookeeperObserverJoinStep.result>;

const describeEntry = (m: ServerEntry): string =>
  `server.${m.id}=${m.host}:${m.quorumPort}:${m.electionPort}:${m.role}${m.clientPort === null ? '' : `;${m.clientHost ? `${m.clientHost}:` : ''}${m.clientPort}`}`;

/** The voters named must be the ensemble's voters, with the same addresses. */
export function checkVoters(config: EnsembleConfig, ensemble: readonly ZooKeeperVoter[]): void {
  const participants = config.members.filter((m) => m.role === 'participant');
  for (const [i, voter] of ensemble.entries()) {
    const listed = participants.find((m) => m.id === voter.id);
    if (!listed || !sameServer(listed, { ...voter, role: 'participant' }))
      throw new InvalidInputError(
        `params.ensemble.${i}`,
        voter,
        listed
          ? `server.${voter.id} as the ensemble lists it (${describeEntry(listed)})`
          : `a voter of the ensemble (it lists ${participants.map((m) => `server.${m.id}`).join(', ') || 'none'})`,
      );
  }
  const missing = participants.filter((m) => !ensemble.some((v) => v.id === m.id));
  if (missing.length > 0)
    throw new InvalidInputError(
      'params.ensemble',
      ensemble.map((v) => v.id),
      `every voter of the ensemble (missing ${missing.map(describeEntry).join(', ')})`,
    );
}

function parseParams(raw: unknown): ZooKeeperObserverJoinParamsType {
  const parsed = ZooKeeperObserverJoinParams.safeParse(raw);
  if (!parsed.success) throw issuesToErrors('params', raw, parsed.error);
  return parsed.data;
}

export const zookeeperObserverJoinImplementation = implementStep(zookeeperObserverJoinStep, async (ctx, raw) => {
  // Validated again here: nothing from the order reaches a file or a command line unchecked.
  const params = parseParams(raw);
  const node = localNode(ctx, 'zookeeper');
  const services = ctx.services;
  if (!services) throw new InvalidInputError('zookeeper.service', node.service, 'a service this agent declares');
  const signal = ctx.signal;
  const rendered = renderObserverConfig(node, params.ensemble, { reconfigEnabled: params.method === 'reconfig' });
  const self: ServerLineInput = { ...node, id: node.myid, role: 'observer' };
  const voters: ZooKeeperAddress[] = params.ensemble.map((v) => ({ host: v.host, port: v.clientPort }));
  const local = new ZooKeeperClient({ host: node.host, port: node.clientPort }, { signal });
  const notes: string[] = [];

  // 1. check
  ctx.progress(`reading the ensemble config from ${voters.map(formatAddress).join(', ')}`, 5);
  let config: EnsembleConfig | null = null;
  try {
    config = (await readEnsembleConfig(voters, signal)).config;
  } catch (error) {
    // 3.4 has no /zookeeper/config: the static way does without it, reconfig cannot.
    if (params.method === 'reconfig') throw error;
    notes.push(`the ensemble config could not be read (${(error as Error).message}); membership not checked`);
  }
  if (config) {
    checkVoters(config, params.ensemble);
    const taken = config.members.find((m) => m.id === node.myid);
    if (taken && !sameServer(taken, self))
      throw new ZooKeeperMemberConflictError(node.myid, describeEntry(taken), rendered.observerLine);
  }
  const listed = config !== null && lists(config, self);
  const status = await services.status(node.service);
  const running = status.state === 'running';
  const before = running ? await attempt(() => local.srvr(), signal) : null;
  const mode = before && 'value' in before ? before.value.mode : null;
  if (mode !== null && mode !== 'observer') throw new ZooKeeperRoleConflictError(local.name, mode);

  // 2. already done? (then only the read back)
  const done = mode === 'observer' && (listed || params.method === 'static');
  let wrote = false;
  let serviceOutcome: Result['serviceOutcome'] = 'untouched';
  let reconfigVia: string | null = null;
  if (done) ctx.progress(`${local.name} already serves as observer server.${node.myid}`, 50);
  else {
    // 3. act
    if (!running) {
      ctx.progress(`writing ${node.configFile} and myid ${node.myid}`, 15);
      ensureMyid(node.dataDir, node.myid);
      writeFileAtomic(node.configFile, rendered.text);
      wrote = true;
    }
    // Added BEFORE the start: a server that syncs with a leader whose config does not list it becomes
    // a non-voting follower (ZooKeeper's QuorumPeer.updateLearnerType), and once it did, a later
    // config naming it an observer did not always turn it back (seen in CI: "serves as follower"
    // for 120 s). The leader does not wait for observers, so the add commits with the server down.
    if (params.method === 'reconfig' && !listed)
      reconfigVia = await addByReconfig(ctx, voters, node.cliArgv, rendered.observerLine, self);
    if (!running) {
      ctx.progress(`starting service ${node.service}`, 25);
      serviceOutcome = (await services.start(node.service)).outcome === 'started' ? 'started' : 'already-running';
    } else {
      // Running but not serving yet (an earlier attempt started it): it is left to finish starting.
      notes.push(`service ${node.service} was running already (not serving yet); its zoo.cfg was left as it is`);
      serviceOutcome = 'already-running';
    }
    if (!(await waitUntilAnswering(local, { timeoutMs: params.syncTimeoutMs, signal })))
      throw new ZooKeeperSyncTimeoutError(params.syncTimeoutMs, `${local.name} does not answer after the start`);
  }

  // 4. read back: a reconfig join ends with the observer caught up; so does a static one whose voters
  // were restarted with its line already (zookeeper.voters-add-observers ran first); a static one
  // before that cannot catch up yet.
  const listedNow =
    params.method === 'static' &&
    (await (async () => {
      const read = await attempt(() => readEnsembleConfig(voters, signal), signal);
      return 'value' in read && lists(read.value.config, self);
    })());
  if (params.method === 'reconfig' || listedNow) {
    ctx.progress('waiting for the observer to reach the leader zxid', 80);
    const waited = await waitUntilCaughtUp(local, voters, node.myid, { timeoutMs: params.syncTimeoutMs, signal });
    if (!waited.caughtUp)
      throw new ZooKeeperSyncTimeoutError(params.syncTimeoutMs, evaluateObserver(waited.readings).problems.join('; '));
  }
  return finish(ctx, node, params, rendered.observerLine, {
    // A server left running by an earlier attempt, with nothing to add, is no change either.
    changed: wrote || serviceOutcome === 'started' || reconfigVia !== null,
    rendered: wrote,
    serviceOutcome,
    reconfigVia,
    notes,
  });
});

/** `reconfig -add` through the leader (else the first voter); a failure is checked against the config. */
async function addByReconfig(
  ctx: StepContext,
  voters: readonly ZooKeeperAddress[],
  cliArgv: readonly string[] | undefined,
  line: string,
  self: ServerLineInput,
): Promise<string> {
  const { leader } = await findLeader(voters, ctx.signal);
  const target = leader?.server ?? voters[0];
  if (!target) throw new InvalidInputError('params.ensemble', voters, 'at least one voter');
  const via = new ZooKeeperClient(target, { signal: ctx.signal, cliArgv });
  ctx.progress(`reconfig -add ${line} through ${via.name}`, 50);
  try {
    await via.reconfigAdd(line, { onOutput: (stream, text) => ctx.output(stream, text) });
  } catch (error) {
    if (!(error instanceof ZooKeeperReconfigError)) throw error;
    // Committed by an earlier attempt, or by this one before the CLI failed: the config tells.
    const again = await attempt(() => via.getConfig(), ctx.signal);
    if (!('value' in again) || !lists(again.value, self)) throw error;
    ctx.logger.warn('reconfig failed, but the ensemble already lists the observer', { error: error.message });
  }
  return via.name;
}

/** Reads the outcome back (the local srvr, the leader's zxid, the config) and reports it. */
async function finish(
  ctx: StepContext,
  node: ZooKeeperNodeConfig,
  params: ZooKeeperObserverJoinParamsType,
  observerLine: string,
  done: Pick<Result, 'changed' | 'rendered' | 'serviceOutcome' | 'reconfigVia' | 'notes'>,
): Promise<Result> {
  const voters = params.ensemble.map((v) => ({ host: v.host, port: v.clientPort }));
  const local = new ZooKeeperClient({ host: node.host, port: node.clientPort }, { signal: ctx.signal });
  const [search, srvr, config] = await Promise.all([
    findLeader(voters, ctx.signal),
    attempt(() => local.srvr(), ctx.signal),
    attempt(() => readEnsembleConfig(voters, ctx.signal), ctx.signal),
  ]);
  const listed = 'value' in config && lists(config.value.config, { ...node, id: node.myid, role: 'observer' });
  const votersMustRestart = params.method === 'static' && !listed;
  const notes = [...done.notes];
  if (votersMustRestart)
    notes.push(
      `every voter must be restarted, one at a time, with ${observerLine} in its config` +
        ' (zookeeper.voters-add-observers on the voters, one at a time); then run zookeeper.observer-verify',
    );
  const result: Result = {
    method: params.method,
    changed: done.changed,
    myid: node.myid,
    observerLine,
    rendered: done.rendered,
    service: node.service,
    serviceOutcome: done.serviceOutcome,
    reconfigured: done.reconfigVia !== null,
    reconfigVia: done.reconfigVia,
    configVersion: 'value' in config ? config.value.config.version : null,
    mode: 'value' in srvr ? srvr.value.mode : null,
    zxid: 'value' in srvr ? srvr.value.zxid : null,
    leaderZxid: search.leader?.srvr.zxid ?? null,
    votersMustRestart,
    notes,
  };
  ctx.progress(
    `server.${node.myid}: ${result.changed ? 'joined' : 'already joined'} as ${result.mode ?? 'unknown'}`,
    100,
  );
  return result;
}
