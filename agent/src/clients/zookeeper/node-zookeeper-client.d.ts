// The part of node-zookeeper-client 1.1.x (plain JavaScript, no published types) this client uses:
// a session to read znodes, and the writes of the chroot cleaner (create, multi-op delete). Named exports, which Node finds in its CommonJS `exports.x = …`.
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface ClientOptions {
    /** @default 30000 */
    sessionTimeout?: number;
    /** Delay between connection attempts. @default 1000 */
    spinDelay?: number;
    /** Retries of a failed request. @default 0 */
    retries?: number;
  }

  /** Longs (zxids, times, the ephemeral owner's session id) come as 8-byte big-endian buffers. */
  export interface Stat {
    czxid: Buffer;
    mzxid: Buffer;
    ctime: Buffer;
    mtime: Buffer;
    version: number;
    cversion: number;
    aversion: number;
    ephemeralOwner: Buffer;
    dataLength: number;
    numChildren: number;
    pzxid: Buffer;
  }

  export class Id {
    constructor(scheme: string, id: string);
    scheme: string;
    id: string;
  }

  export class ACL {
    constructor(permission: number, id: Id);
    permission: number;
    id: Id;
  }

  export const CreateMode: { PERSISTENT: number; EPHEMERAL: number };

  export interface Transaction {
    create(path: string, data?: Buffer, acls?: ACL[], mode?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    check(path: string, version?: number): Transaction;
    commit(callback: (error: Error | null, results?: unknown[]) => void): void;
  }

  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getData(path: string, callback: (error: Error | null, data?: Buffer, stat?: Stat) => void): void;
    getChildren(path: string, callback: (error: Error | null, children?: string[], stat?: Stat) => void): void;
    getACL(path: string, callback: (error: Error | null, acls?: ACL[], stat?: Stat) => void): void;
    exists(path: string, callback: (error: Error | null, stat?: Stat | null) => void): void;
    create(
      path: string,
      data: Buffer | undefined,
      acls: ACL[],
      mode: number,
      callback: (error: Error | null, path?: string) => void,
    ): void;
    remove(path: string, version: number, callback: (error: Error | null) => void): void;
    setData(path: string, data: Buffer, version: number, callback: (error: Error | null, stat?: Stat) => void): void;
    transaction(): Transaction;
  }

  export function createClient(connectionString: string, options?: ClientOptions): Client;

  /** A ZooKeeper error code (`getCode()`, e.g. -101 NO_NODE) with its name. */
  export class Exception extends Error {
    getCode(): number;
    getName(): string;
    getPath(): string | undefined;
    static readonly NO_NODE: number;
    static readonly NODE_EXISTS: number;
    static readonly NOT_EMPTY: number;
    static readonly CONNECTION_LOSS: number;
    static readonly NO_AUTH: number;
  }
}
