// What the ZooKeeper steps read from the ensemble: which voter leads, the ensemble config, the local
// server's state, and the wait until the local observer has caught up. Reads only; failures of a
// single server are reported in the readings, not thrown.
import {
  type EnsembleConfig,
  type ServerLineInput,
  type SrvrStats,
  sameServer,
  type ZooKeeperAddress,
  ZooKeeperClient,
  ZooKeeperNotServingError,
  ZooKeeperUnreachableError,
} from '../../clients/zookeeper/index.ts';
import { pause } from '../pause.ts';
import { caughtUp, type ObserverReadings, type Read } from './evaluate.ts';

export const POLL_MS = 250;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function attempt<T>(read: () => Promise<T>, signal: AbortSignal): Promise<Read<T>> {
  try {
    return { value: await read() };
  } catch (error) {
    // A cancelled step stops here, not with a reading that says "aborted".
    signal.throwIfAborted();
    return { error: messageOf(error) };
  }
}

export interface LeaderSearch {
  leader: { address: string; server: ZooKeeperAddress; srvr: SrvrStats } | null;
  /** `host:port: Mode follower` or `host:port: <error>`, per voter. */
  answers: string[];
}

/** Asks every voter `srvr` at once; the one saying Mode: leader leads. */
export async function findLeader(voters: readonly ZooKeeperAddress[], signal: AbortSignal): Promise<LeaderSearch> {
  const clients = voters.map((v) => new ZooKeeperClient(v, { signal }));
  const reads = await Promise.all(clients.map((c) => attempt(() => c.srvr(), signal)));
  let leader: LeaderSearch['leader'] = null;
  const answers = reads.map((read, i) => {
    const name = clients[i]?.name ?? '';
    if ('error' in read) return `${name}: ${read.error}`;
    if (read.value.mode === 'leader' && !leader)
      leader = { address: name, server: voters[i] as ZooKeeperAddress, srvr: read.value };
    return `${name}: Mode ${read.value.mode}`;
  });
  return { leader, answers };
}

/**
 * The ensemble config from the first voter that gives it (leader first when known). Throws the last
 * voter's error when none does.
 */
export async function readEnsembleConfig(
  voters: readonly ZooKeeperAddress[],
  signal: AbortSignal,
): Promise<{ config: EnsembleConfig; from: string }> {
  let last: unknown = new ZooKeeperUnreachableError('(no voter)', 'getConfig');
  for (const voter of voters) {
    const client = new ZooKeeperClient(voter, { signal });
    try {
      return { config: await client.getConfig(), from: client.name };
    } catch (error) {
      signal.throwIfAborted();
      last = error;
    }
  }
  throw last;
}

/** Whether `config` lists the server as `expected` says (same id, address, ports and role). */
export const lists = (config: EnsembleConfig, expected: ServerLineInput): boolean =>
  config.members.some((m) => sameServer(m, expected));

/** One round of reads: the leader first, then the local server (so "equal" means caught up). */
export async function readObserver(
  local: ZooKeeperClient,
  voters: readonly ZooKeeperAddress[],
  myid: number,
  signal: AbortSignal,
): Promise<ObserverReadings> {
  const search = await findLeader(voters, signal);
  const srvr = await attempt(() => local.srvr(), signal);
  return {
    local: local.name,
    srvr,
    mntr: null,
    leader: search.leader,
    voterAnswers: search.answers,
    listed: null,
    myid,
  };
}

/**
 * Reads until the local server is a caught-up observer or `timeoutMs` passes; returns the last
 * readings and whether it caught up. `onRound` hears each round (for progress).
 */
export async function waitUntilCaughtUp(
  local: ZooKeeperClient,
  voters: readonly ZooKeeperAddress[],
  myid: number,
  options: { timeoutMs: number; signal: AbortSignal; onRound?: (readings: ObserverReadings) => void },
): Promise<{ readings: ObserverReadings; caughtUp: boolean }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const readings = await readObserver(local, voters, myid, options.signal);
    if (caughtUp(readings)) return { readings, caughtUp: true };
    options.onRound?.(readings);
    if (Date.now() + POLL_MS > deadline) return { readings, caughtUp: false };
    await pause(POLL_MS, options.signal);
    options.signal.throwIfAborted();
  }
}

/** Waits until the local server answers at all (serving or not), e.g. right after its start. */
export async function waitUntilAnswering(
  local: ZooKeeperClient,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const answered = await attempt(async () => {
      try {
        await local.srvr();
      } catch (error) {
        if (!(error instanceof ZooKeeperNotServingError)) throw error;
      }
    }, options.signal);
    if ('value' in answered) return true;
    if (Date.now() + POLL_MS > deadline) return false;
    await pause(POLL_MS, options.signal);
    options.signal.throwIfAborted();
  }
}
