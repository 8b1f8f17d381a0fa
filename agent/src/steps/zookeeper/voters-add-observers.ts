// `zookeeper.voters-add-observers`: the static way to add observers to an ensemble WITHOUT
// reconfigEnabled (the only way before 3.5): each voter's own zoo.cfg gains the observers' lines and
// the voter restarts with them. A plan runs it on the voters one at a time (`concurrency: 1`), so the
// other voters keep the quorum while one restarts. Check → act → read back:
//   1. check: params; the agent's zoo.cfg (path from the LOCAL config) is a static voter config that
//      lists this node as a participant, has no reconfigEnabled (then `reconfig -add` is the way) and
//      no dynamic config file; the new text is computed (an id the file gives to another server is
//      refused) — nothing is written before these pass.
//   2. no-op when the file has the lines and the running server's membership (`conf`) has them too.
//   3. refuse when another voter does not serve: a restart now could lose the quorum.
//   4. act: write zoo.cfg atomically, restart the service through the service manager.
//   5. read back: waits until this server serves as leader or follower with the lines in its
//      membership, and a majority of the voters serve with a leader among them.
// `remove` is the rollback (the lines out, a restart); `inspect` only reports (for the generator).
import fs from 'node:fs';
import {
  DroverError,
  InvalidInputError,
  issuesToErrors,
  ZooKeeperVotersAddObserversParams,
  zookeeperVotersAddObserversStep,
} from '@drover/shared';
import type { z } from 'zod';
import { formatServerLine, type ServerEntry, ZooKeeperClient } from '../../clients/zookeeper/index.ts';
import { implementStep, localNode } from '../context.ts';
import { pause } from '../pause.ts';
import { attempt, POLL_MS } from './ensemble.ts';
import { writeFileAtomic } from './files.ts';
import { addObserverLines, membershipHas, readVoterConfig, removeObserverLines } from './voter-config.ts';

type Result = z.infer<typeof zookeeperVotersAddObserversStep.result>;

/** Restarting this voter now could cost the ensemble its quorum. */
export class ZooKeeperQuorumAtRiskError extends DroverError {
  readonly answers: string[];
  constructor(myid: number, answers: string[]) {
    super(
      `refusing to restart voter server.${myid}: not every other voter serves (${answers.join('; ')}); a restart now could lose the quorum`,
      { retryable: true },
    );
    this.name = 'ZooKeeperQuorumAtRiskError';
    this.answers = answers;
  }
}

/** The restarted voter did not serve again with the wanted membership and a quorum in time. */
export class ZooKeeperVoterNotBackError extends DroverError {
  constructor(myid: number, timeoutMs: number, last: string) {
    super(`voter server.${myid} did not serve again with a quorum within ${timeoutMs} ms: ${last}`, {
      retryable: true,
    });
    this.name = 'ZooKeeperVoterNotBackError';
  }
}

const SERVING = new Set(['leader', 'follower']);

const lineOf = (m: ServerEntry): string =>
  `server.${m.id}=${m.host}:${m.quorumPort}:${m.electionPort}:${m.role}${m.clientPort === null ? '' : `;${m.clientPort}`}`;

interface QuorumReading {
  serving: number;
  leader: boolean;
  answers: string[];
}

/** `srvr` of each voter: how many serve as leader or follower, and whether one leads. */
async function readQuorum(voters: readonly ServerEntry[], signal: AbortSignal, skip?: number): Promise<QuorumReading> {
  const reads = await Promise.all(
    voters.map(async (v) => {
      if (v.id === skip) return { id: v.id, mode: null as string | null, answer: '' };
      const port = v.clientPort;
      if (port === null) return { id: v.id, mode: null, answer: `server.${v.id}: no client port in zoo.cfg` };
      const client = new ZooKeeperClient({ host: v.host, port }, { signal, timeoutMs: 3000 });
      const read = await attempt(() => client.srvr(), signal);
      return 'value' in read
        ? { id: v.id, mode: read.value.mode, answer: `server.${v.id} (${client.name}): Mode ${read.value.mode}` }
        : { id: v.id, mode: null, answer: `server.${v.id} (${client.name}): ${read.error}` };
    }),
  );
  const counted = reads.filter((r) => r.id !== skip);
  return {
    serving: counted.filter((r) => r.mode !== null && SERVING.has(r.mode)).length,
    leader: counted.some((r) => r.mode === 'leader'),
    answers: counted.map((r) => r.answer),
  };
}

export const zookeeperVotersAddObserversImplementation = implementStep(
  zookeeperVotersAddObserversStep,
  async (ctx, raw) => {
    const parsed = ZooKeeperVotersAddObserversParams.safeParse(raw);
    if (!parsed.success) throw issuesToErrors('params', raw, parsed.error);
    const params = parsed.data;
    const node = localNode(ctx, 'zookeeper');
    const signal = ctx.signal;
    const source = node.configFile;

    // 1. check
    let text: string;
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (error) {
      throw new InvalidInputError(
        'zookeeper.configFile',
        source,
        `a readable zoo.cfg of this voter (${(error as Error).message})`,
      );
    }
    const facts = readVoterConfig(text, source);
    const voters = facts.servers.filter((s) => s.role === 'participant');
    const self = voters.find((s) => s.id === node.myid);
    const local = new ZooKeeperClient({ host: node.host, port: node.clientPort }, { signal });
    const notes: string[] = [];
    const report = async (done: Pick<Result, 'changedFile' | 'restarted' | 'linesChanged'>): Promise<Result> => {
      const [srvr, conf, quorum] = await Promise.all([
        attempt(() => local.srvr(), signal),
        attempt(() => local.conf(), signal),
        readQuorum(voters, signal),
      ]);
      return {
        action: params.action,
        myid: node.myid,
        reconfigEnabled: facts.reconfigEnabled,
        ...done,
        membership: 'value' in conf ? conf.value.membership.members.map(lineOf) : [],
        mode: 'value' in srvr ? srvr.value.mode : null,
        votersServing: quorum.serving,
        voters: voters.length,
        notes,
      };
    };
    if (params.action === 'inspect') {
      ctx.progress(`server.${node.myid}: reconfigEnabled=${facts.reconfigEnabled}`, 100);
      return report({ changedFile: false, restarted: false, linesChanged: [] });
    }
    if (!self)
      throw new InvalidInputError(
        'zookeeper.myid',
        node.myid,
        `a voter (participant) that ${source} lists (it lists ${facts.servers.map(lineOf).join(', ') || 'no server'})`,
      );
    if (facts.dynamicConfigFile !== null || facts.reconfigEnabled)
      throw new InvalidInputError(
        'step',
        'zookeeper.voters-add-observers',
        `a voter with a static config (${source} has ${facts.reconfigEnabled ? 'reconfigEnabled=true' : `dynamicConfigFile=${facts.dynamicConfigFile}`}: add observers by zookeeper.observer-join method reconfig)`,
      );
    for (const [i, o] of params.observers.entries()) {
      if (voters.some((v) => v.id === o.id))
        throw new InvalidInputError(`params.observers.${i}.id`, o.id, `an id no voter has (server.${o.id} is a voter)`);
      formatServerLine({ ...o, role: 'observer' });
    }
    const change =
      params.action === 'add'
        ? addObserverLines(text, params.observers, source)
        : removeObserverLines(text, params.observers, source);
    const want = params.action === 'add';

    // 2. already done?
    const services = ctx.services;
    if (!services) throw new InvalidInputError('zookeeper.service', node.service, 'a service this agent declares');
    const [srvr, conf] = await Promise.all([attempt(() => local.srvr(), signal), attempt(() => local.conf(), signal)]);
    const serving = 'value' in srvr && SERVING.has(srvr.value.mode);
    const leading = 'value' in srvr && srvr.value.mode === 'leader';
    // Without `conf` the step cannot tell what the server runs with, before or after the restart.
    if (serving && 'error' in conf)
      throw new InvalidInputError(
        'zookeeper',
        `${local.name} conf`,
        `a server that answers the four-letter word conf (4lw.commands.whitelist): ${conf.error}`,
      );
    const running = 'value' in conf && membershipHas(conf.value.membership.members, params.observers, want);
    if (change.changed.length === 0 && serving && running) {
      ctx.progress(`server.${node.myid} already runs with the observer lines ${want ? 'added' : 'removed'}`, 100);
      return report({ changedFile: false, restarted: false, linesChanged: [] });
    }

    // 3. every other voter must serve: this restart takes one away.
    ctx.progress(`checking the other ${voters.length - 1} voters serve before restarting server.${node.myid}`, 10);
    const others = await readQuorum(voters, signal, node.myid);
    if (others.serving < voters.length - 1 || !(others.leader || leading))
      throw new ZooKeeperQuorumAtRiskError(node.myid, others.answers);

    // 4. act
    if (change.changed.length > 0) {
      ctx.progress(`${want ? 'adding' : 'removing'} ${change.changed.join(', ')} in ${source}`, 20);
      writeFileAtomic(source, change.text);
    } else notes.push(`${source} already had the lines; the server ran without them`);
    ctx.progress(`restarting service ${node.service} (server.${node.myid})`, 30);
    await services.restart(node.service);
    signal.throwIfAborted();

    // 5. read back
    const deadline = Date.now() + params.serveTimeoutMs;
    for (;;) {
      signal.throwIfAborted();
      const [s, c, q] = await Promise.all([
        attempt(() => local.srvr(), signal),
        attempt(() => local.conf(), signal),
        readQuorum(voters, signal),
      ]);
      const mode = 'value' in s ? s.value.mode : null;
      const listed = 'value' in c && membershipHas(c.value.membership.members, params.observers, want);
      const quorum = q.leader && q.serving > voters.length / 2;
      if (mode !== null && SERVING.has(mode) && listed && quorum) break;
      const last = `Mode ${mode ?? ('error' in s ? s.error : '?')}; membership ${listed ? 'as wanted' : 'not yet as wanted'}; ${q.serving}/${voters.length} voters serve${q.leader ? '' : ', no leader'}`;
      ctx.progress(`waiting for server.${node.myid}: ${last}`, 60);
      if (Date.now() + POLL_MS > deadline) throw new ZooKeeperVoterNotBackError(node.myid, params.serveTimeoutMs, last);
      await pause(POLL_MS, signal);
    }
    const result = await report({
      changedFile: change.changed.length > 0,
      restarted: true,
      linesChanged: change.changed,
    });
    ctx.progress(
      `server.${node.myid} serves as ${result.mode} with ${result.votersServing}/${result.voters} voters`,
      100,
    );
    return result;
  },
);
