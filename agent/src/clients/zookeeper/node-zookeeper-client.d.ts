// The part of node-zookeeper-client 1.1.x (plain JavaScript, no published types) this client uses:
// a session to read znodes. Named exports, which Node finds in its CommonJS `exports.x = …`.
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

  export interface Stat {
    version: number;
    numChildren: number;
    dataLength: number;
  }

  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getData(path: string, callback: (error: Error | null, data?: Buffer, stat?: Stat) => void): void;
    getChildren(path: string, callback: (error: Error | null, children?: string[], stat?: Stat) => void): void;
  }

  export function createClient(connectionString: string, options?: ClientOptions): Client;

  /** A ZooKeeper error code (`getCode()`, e.g. -101 NO_NODE) with its name. */
  export class Exception extends Error {
    getCode(): number;
    getName(): string;
    getPath(): string | undefined;
    static readonly NO_NODE: number;
    static readonly CONNECTION_LOSS: number;
    static readonly NO_AUTH: number;
  }
}
