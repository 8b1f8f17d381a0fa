// Whether the local server is a caught-up observer, judged from what was read (pure, so it is tested
// without ZooKeeper): `srvr` on the observer, `srvr` on the voter that leads, `mntr` on the observer
// and the leader's /zookeeper/config. Every failed check is a sentence in `problems`; ok = none.
import {
  compareZxid,
  type MntrStats,
  type SrvrStats,
  splitZxid,
  type ZooKeeperAddress,
} from '../../clients/zookeeper/index.ts';

/** A read that may have failed: the value, or the error's message. */
export type Read<T> = { value: T } | { error: string };

export interface ObserverReadings {
  /** host:port of the local server. */
  local: string;
  srvr: Read<SrvrStats>;
  /** Skipped when null (not asked); a failed mntr is no problem by itself (the whitelist may lack it). */
  mntr: Read<MntrStats> | null;
  /** The voter that said Mode: leader (`address` is host:port). */
  leader: { address: string; server: ZooKeeperAddress; srvr: SrvrStats } | null;
  /** Why no voter was found leading (each voter's answer). */
  voterAnswers: string[];
  /** Whether the leader's config lists this server as observer; the error when it could not be read. */
  listed: Read<boolean> | null;
  myid: number;
}

export interface ObserverVerdict {
  ok: boolean;
  mode: string | null;
  zxid: string | null;
  leaderZxid: string | null;
  znodes: number | null;
  leaderZnodes: number | null;
  leader: string | null;
  peerState: string | null;
  listed: boolean | null;
  problems: string[];
}

const OBSERVING = 'observing - broadcast';

/** Zxid and znode count equal to the leader's, and Mode observer. */
export function caughtUp(r: Pick<ObserverReadings, 'srvr' | 'leader'>): boolean {
  if (!('value' in r.srvr) || !r.leader) return false;
  const local = r.srvr.value;
  return (
    local.mode === 'observer' &&
    compareZxid(local.zxid, r.leader.srvr.zxid) === 0 &&
    local.nodeCount === r.leader.srvr.nodeCount
  );
}

export function evaluateObserver(r: ObserverReadings): ObserverVerdict {
  const problems: string[] = [];
  const local = 'value' in r.srvr ? r.srvr.value : null;
  const leader = r.leader?.srvr ?? null;
  if (!local) problems.push(`this server (${r.local}) does not answer srvr: ${(r.srvr as { error: string }).error}`);
  else if (local.mode !== 'observer') problems.push(`this server (${r.local}) serves as ${local.mode}, not observer`);
  if (!r.leader) problems.push(`no voter says Mode: leader (${r.voterAnswers.join('; ') || 'no voter asked'})`);
  if (local && leader) {
    const order = compareZxid(local.zxid, leader.zxid);
    if (order !== 0) problems.push(describeZxidGap(local.zxid, leader.zxid, r.leader?.address ?? ''));
    if (local.nodeCount !== leader.nodeCount)
      problems.push(`${local.nodeCount} znodes here, ${leader.nodeCount} on the leader`);
  }
  const peerState = r.mntr && 'value' in r.mntr ? r.mntr.value.peerState : null;
  if (peerState !== null && peerState !== OBSERVING) problems.push(`peer state is "${peerState}", not "${OBSERVING}"`);
  let listed: boolean | null = null;
  if (r.listed) {
    if ('value' in r.listed) {
      listed = r.listed.value;
      if (!listed) problems.push(`the ensemble config does not list server.${r.myid} as an observer`);
    } else problems.push(`the ensemble config could not be read: ${r.listed.error}`);
  }
  return {
    ok: problems.length === 0,
    mode: local?.mode ?? null,
    zxid: local?.zxid ?? null,
    leaderZxid: leader?.zxid ?? null,
    znodes: local?.nodeCount ?? null,
    leaderZnodes: leader?.nodeCount ?? null,
    leader: r.leader?.address ?? null,
    peerState,
    listed,
    problems,
  };
}

/** "zxid 0x100000003 is 2 transactions behind the leader's 0x100000005 (h:p)", or an epoch difference. */
export function describeZxidGap(zxid: string, leaderZxid: string, leader: string): string {
  const here = splitZxid(zxid);
  const there = splitZxid(leaderZxid);
  const where = leader ? ` (${leader})` : '';
  if (here.epoch !== there.epoch)
    return `zxid ${zxid} is in epoch ${here.epoch}, the leader's ${leaderZxid}${where} in epoch ${there.epoch}`;
  const gap = there.counter - here.counter;
  return gap > 0
    ? `zxid ${zxid} is ${gap} transaction${gap === 1 ? '' : 's'} behind the leader's ${leaderZxid}${where}`
    : `zxid ${zxid} is ahead of the leader's ${leaderZxid}${where} read just before (writes in between)`;
}
