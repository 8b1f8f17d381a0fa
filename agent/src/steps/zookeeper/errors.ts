// Why a ZooKeeper step refuses to act or gives up: the node's state contradicts the order (another
// server holds its id, its dataDir belongs to another myid, it already serves in another role), or
// the observer did not catch up in time.
import { DroverError, describeValue } from '@drover/shared';

/** The ensemble already lists this node's id for a different server. */
export class ZooKeeperMemberConflictError extends DroverError {
  readonly myid: number;
  /** The line the ensemble holds, and the one this node would add. */
  readonly listed: string;
  readonly wanted: string;
  constructor(myid: number, listed: string, wanted: string) {
    super(`the ensemble already lists server.${myid} as ${listed}, not this node (${wanted}): refusing to join`);
    this.name = 'ZooKeeperMemberConflictError';
    this.myid = myid;
    this.listed = listed;
    this.wanted = wanted;
  }
}

/** dataDir/myid holds another id: the data directory belongs to another server. */
export class ZooKeeperMyidConflictError extends DroverError {
  readonly file: string;
  readonly found: string;
  readonly myid: number;
  constructor(file: string, found: string, myid: number) {
    super(
      `${file} holds ${JSON.stringify(found.slice(0, 40))}, not ${myid}: refusing to reuse another server's dataDir`,
    );
    this.name = 'ZooKeeperMyidConflictError';
    this.file = file;
    this.found = found;
    this.myid = myid;
  }
}

/** The local server runs and serves in a role other than observer: it is not restarted by a join. */
export class ZooKeeperRoleConflictError extends DroverError {
  readonly mode: string;
  constructor(address: string, mode: string) {
    super(`ZooKeeper ${address} already serves as ${mode}; stop it before it joins as an observer`);
    this.name = 'ZooKeeperRoleConflictError';
    this.mode = mode;
  }
}

/** The observer did not serve as an observer with the leader's zxid within the time given. */
export class ZooKeeperSyncTimeoutError extends DroverError {
  readonly timeoutMs: number;
  readonly last: string;
  constructor(timeoutMs: number, last: string) {
    super(`the observer did not catch up with the leader within ${timeoutMs} ms: ${last}`, { retryable: true });
    this.name = 'ZooKeeperSyncTimeoutError';
    this.timeoutMs = timeoutMs;
    this.last = last;
  }
}

/** One reason the cleaner refuses: the znode or field, what it holds, what it must hold. */
export interface CleanProblem {
  /** A znode path (`/kafka-b/brokers/ids`) or a param (`params.members`). */
  field: string;
  value: unknown;
  expected: string;
}

/**
 * `zookeeper.clean` found something it must not delete (or cannot tell): the whole run is refused
 * and nothing is deleted. Every problem found is listed, each naming its chroot.
 */
export class ZooKeeperCleanRefusedError extends DroverError {
  readonly problems: CleanProblem[];
  /** Znodes deleted before the refusal (0 unless a check made again just before a chroot failed). */
  readonly deleted: number;
  constructor(problems: CleanProblem[], deleted = 0) {
    const what = deleted === 0 ? 'nothing deleted' : `stopped after deleting ${deleted} znodes of earlier chroots`;
    super(
      `refusing to clean, ${what}: ${problems.map((p) => `${p.field}: got ${describeValue(p.value)}, expected ${p.expected}`).join('; ')}`,
    );
    this.name = 'ZooKeeperCleanRefusedError';
    this.problems = problems;
    this.deleted = deleted;
  }
}

/** The backup of what would be deleted could not be written or uploaded: nothing is deleted. */
export class ZooKeeperBackupError extends DroverError {
  /** Where it was going: a file in the state dir, or the bucket. */
  readonly target: string;
  constructor(target: string, options: { cause: unknown }) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`backup to ${target} failed, nothing deleted: ${why}`, { retryable: true, cause: options.cause });
    this.name = 'ZooKeeperBackupError';
    this.target = target;
  }
}

/** A delete batch failed for a reason other than znodes already gone (NOT_EMPTY: something new appeared). */
export class ZooKeeperDeleteError extends DroverError {
  readonly chroot: string;
  readonly deleted: number;
  constructor(chroot: string, deleted: number, options: { cause: unknown }) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `deleting ${chroot} stopped after ${deleted} znodes: ${why} (a znode created since the checks? run the clean again to re-check)`,
      { cause: options.cause },
    );
    this.name = 'ZooKeeperDeleteError';
    this.chroot = chroot;
    this.deleted = deleted;
  }
}
