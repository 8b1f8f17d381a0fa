// A short ZooKeeper session (node-zookeeper-client, pure JavaScript): opened for one call or one step,
// always closed. Reads, plus the few writes the chroot cleaner needs (create, and deletes as one
// multi-op). The library retries a connection forever on its own, so the wait for the session is
// bounded here, and its error codes become ZooKeeperRequestError (NO_NODE is `null` where a caller
// asks "if any").
import { ACL, type Client, CreateMode, createClient, Exception, Id, type Stat } from 'node-zookeeper-client';
import { ZooKeeperRequestError, ZooKeeperUnreachableError } from './errors.ts';
import type { ZnodeAcl, ZnodeStat } from './types.ts';

export interface SessionOptions {
  /** How long to wait for the session, and for each request. @default 10000 */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

/** Connects to `connectString` (host:port[,host:port]), runs `use`, closes the session whatever happens. */
export async function withSession<T>(
  connectString: string,
  options: SessionOptions,
  use: (session: Session) => Promise<T>,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  options.signal?.throwIfAborted();
  // Session timeout of at least 4 s: ZooKeeper refuses less than 2 ticks, and a short one is enough.
  const client = createClient(connectString, { sessionTimeout: Math.max(4_000, timeoutMs), spinDelay: 250 });
  try {
    await bounded(connectString, 'session', timeoutMs, options.signal, (done) => {
      client.once('connected', () => done(undefined));
      client.once('authenticationFailed', () => done(new Error('authentication failed')));
      client.connect();
    });
    return await use(new Session(client, connectString, timeoutMs, options.signal));
  } finally {
    client.close();
  }
}

export class Session {
  private readonly client: Client;
  private readonly address: string;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  constructor(client: Client, address: string, timeoutMs: number, signal: AbortSignal | undefined) {
    this.client = client;
    this.address = address;
    this.timeoutMs = timeoutMs;
    this.signal = signal;
  }

  /** host:port this session talks to. */
  get server(): string {
    return this.address;
  }

  /** The data of `path` as UTF-8 text and its data version. */
  getData(path: string): Promise<{ text: string; version: number }> {
    return this.request(`getData ${path}`, path, (done) =>
      this.client.getData(path, (error, data, stat) =>
        done(error ?? undefined, { text: data ? data.toString('utf8') : '', version: stat?.version ?? -1 }),
      ),
    );
  }

  getChildren(path: string): Promise<string[]> {
    return this.request(`getChildren ${path}`, path, (done) =>
      this.client.getChildren(path, (error, children) => done(error ?? undefined, children ?? [])),
    );
  }

  /** The children's names, or null when `path` does not exist. */
  listChildren(path: string): Promise<string[] | null> {
    return ifExists(this.getChildren(path));
  }

  /** The raw data and stat of `path`, or null when it does not exist. */
  getNode(path: string): Promise<{ data: Buffer; stat: ZnodeStat } | null> {
    return ifExists(
      this.request(`getData ${path}`, path, (done) =>
        this.client.getData(path, (error, data, stat) =>
          done(error ?? undefined, { data: data ?? Buffer.alloc(0), stat: readStat(stat) }),
        ),
      ),
    );
  }

  /** The ACL of `path`, or null when it does not exist. */
  getACL(path: string): Promise<ZnodeAcl[] | null> {
    return ifExists(
      this.request(`getACL ${path}`, path, (done) =>
        this.client.getACL(path, (error, acls) =>
          done(
            error ?? undefined,
            (acls ?? []).map((a) => ({ perms: a.permission, scheme: a.id.scheme, id: a.id.id })),
          ),
        ),
      ),
    );
  }

  /** The stat of `path`, or null when it does not exist. */
  exists(path: string): Promise<ZnodeStat | null> {
    return this.request(`exists ${path}`, path, (done) =>
      this.client.exists(path, (error, stat) => done(error ?? undefined, stat ? readStat(stat) : null)),
    );
  }

  /** Creates a persistent znode; `existed` when it was there already (left as it is). */
  async create(path: string, data: Buffer, acl: readonly ZnodeAcl[]): Promise<'created' | 'existed'> {
    const acls = acl.map((a) => new ACL(a.perms, new Id(a.scheme, a.id)));
    try {
      await this.request(`create ${path}`, path, (done) =>
        this.client.create(path, data, acls, CreateMode.PERSISTENT, (error) => done(error ?? undefined)),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ZooKeeperRequestError && error.code === Exception.NODE_EXISTS) return 'existed';
      throw error;
    }
  }

  /**
   * Deletes `paths` in one multi-op, in the order given (children before parents): all or none. A
   * failure is the first failing op's code (NO_NODE, NOT_EMPTY…), reported on the first path.
   */
  removeAll(paths: readonly string[]): Promise<void> {
    const first = paths[0] ?? '/';
    return this.request(`multi delete of ${paths.length} znodes from ${first}`, first, (done) => {
      const transaction = this.client.transaction();
      for (const path of paths) transaction.remove(path, -1);
      transaction.commit((error) => done(error ?? undefined));
    });
  }

  private async request<T>(
    operation: string,
    path: string,
    send: (done: (error: Error | undefined, value?: T) => void) => void,
  ): Promise<T> {
    try {
      return await bounded(this.address, operation, this.timeoutMs, this.signal, send);
    } catch (error) {
      if (error instanceof Exception) {
        if (error.getCode() === Exception.CONNECTION_LOSS)
          throw new ZooKeeperUnreachableError(this.address, operation, { cause: error });
        throw new ZooKeeperRequestError(this.address, path, error.getCode(), error.getName(), { cause: error });
      }
      throw error;
    }
  }
}

async function ifExists<T>(pending: Promise<T>): Promise<T | null> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof ZooKeeperRequestError && error.code === Exception.NO_NODE) return null;
    throw error;
  }
}

const long = (b: Buffer | undefined): bigint => (b && b.length === 8 ? b.readBigInt64BE(0) : 0n);

function readStat(stat: Stat | undefined): ZnodeStat {
  return {
    version: stat?.version ?? -1,
    cversion: stat?.cversion ?? -1,
    aversion: stat?.aversion ?? -1,
    dataLength: stat?.dataLength ?? 0,
    numChildren: stat?.numChildren ?? 0,
    ephemeralOwner: long(stat?.ephemeralOwner).toString(16),
    ctimeMs: Number(long(stat?.ctime)),
    mtimeMs: Number(long(stat?.mtime)),
  };
}

/** Runs a callback-style call; a timeout is ZooKeeperUnreachableError, an abort rejects with its reason. */
function bounded<T>(
  address: string,
  operation: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  start: (done: (error: Error | undefined, value?: T) => void) => void,
): Promise<T> {
  signal?.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value as T);
    };
    const onAbort = () => finish(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
    const timer = setTimeout(
      () =>
        finish(
          new ZooKeeperUnreachableError(address, operation, { cause: new Error(`no answer within ${timeoutMs} ms`) }),
        ),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    start((error, value) => {
      if (error && operation === 'session' && !(error instanceof Exception))
        finish(new ZooKeeperUnreachableError(address, operation, { cause: error }));
      else finish(error, value);
    });
  });
}
