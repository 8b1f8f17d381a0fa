// What the ZooKeeper client returns: plain JSON-safe objects (zxids as ZooKeeper prints them, hex), so
// a step can put them in its result as they are.

/** A server's client address. */
export interface ZooKeeperAddress {
  host: string;
  port: number;
}

export type FourLetterWord = 'srvr' | 'mntr' | 'conf' | 'ruok';

/** `srvr` Mode: leader, follower, observer, standalone or read-only. */
export type ServerMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'read-only';

/** `srvr`: the server's role and how far it is. */
export interface SrvrStats {
  version: string;
  mode: ServerMode;
  /** Last processed zxid, normalized `0x…` lowercase hex (epoch in the high 32 bits). */
  zxid: string;
  /** Znodes in the server's data tree ("Node count"). */
  nodeCount: number;
  connections: number;
  outstanding: number;
  received: number;
  sent: number;
  latencyMs: { min: number; avg: number; max: number };
}

/** `mntr`: the figures a check needs, and every field as text. */
export interface MntrStats {
  version: string;
  /** zk_server_state: leader, follower, observer, standalone… */
  serverState: string;
  /** zk_peer_state (3.6+), e.g. `observing - broadcast`; null when absent. */
  peerState: string | null;
  znodeCount: number;
  ephemeralsCount: number | null;
  watchCount: number | null;
  outstandingRequests: number | null;
  aliveConnections: number | null;
  /** Leader only: learners, synced followers and observers. */
  learners: number | null;
  syncedFollowers: number | null;
  syncedObservers: number | null;
  fields: Record<string, string>;
}

export type ServerRole = 'participant' | 'observer';

/** One `server.N=host:quorum:election[:role][;[clientHost:]clientPort]` line. */
export interface ServerEntry {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: ServerRole;
  /** null when the line gives no client address (or only a port: then `clientHost` is null). */
  clientHost: string | null;
  clientPort: number | null;
}

/** The ensemble's dynamic configuration (`/zookeeper/config`, or `conf`'s membership part). */
export interface EnsembleConfig {
  members: ServerEntry[];
  /** `version=…` (hex, as ZooKeeper writes it), null when absent. */
  version: string | null;
}

/** `conf`: the server's own settings and the membership it knows. */
export interface ConfStats {
  serverId: number | null;
  clientPort: number | null;
  dataDir: string | null;
  /** peerType 0 = participant, 1 = observer; null when standalone (no peerType line). */
  peerType: ServerRole | null;
  membership: EnsembleConfig;
  fields: Record<string, string>;
}

/** One ACL entry of a znode: permission bits (READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16) and who. */
export interface ZnodeAcl {
  perms: number;
  /** world, digest, ip, sasl, x509… */
  scheme: string;
  id: string;
}

/** What a znode's stat says that the cleaner keeps or checks (times as epoch milliseconds). */
export interface ZnodeStat {
  version: number;
  cversion: number;
  aversion: number;
  dataLength: number;
  numChildren: number;
  /** The owning session's id in hex; "0" for a persistent znode. */
  ephemeralOwner: string;
  ctimeMs: number;
  mtimeMs: number;
}
