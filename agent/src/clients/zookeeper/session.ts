// A short ZooKeeper session (node-zookeeper-client, pure JavaScript) for reads: opened for one call,
// always closed. The library retries a connection forever on its own, so the wait for the session is
// bounded here, and its error codes become ZooKeeperRequestError.
import { type Client, createClient, Exception } from 'node-zookeeper-client';
import { ZooKeeperRequestError, ZooKeeperUnreachableError } from './errors.ts';

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
