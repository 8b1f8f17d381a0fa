// Why a ZooKeeper step refuses to act or gives up: the node's state contradicts the order (another
// server holds its id, its dataDir belongs to another myid, it already serves in another role), or
// the observer did not catch up in time.
import { DroverError } from '@drover/shared';

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
