// A TCP relay on loopback that a test can cut and heal: the network between two real servers (a NATS
// leaf node and its hub, for instance) failing as a link fails. `cut()` drops every relayed
// connection at once (both sides see a reset) and refuses new ones until `heal()`; bytes are relayed
// unchanged, so TLS passes through as it would through a router.
import net from 'node:net';
import { freePort } from './process.ts';

export interface TcpProxy {
  /** The port to connect to instead of the target's. */
  readonly port: number;
  /** Connections relayed since the start. */
  readonly accepted: number;
  /** Whether the link is cut now. */
  readonly isCut: boolean;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  /** Lets connections through again. */
  heal(): void;
  close(): Promise<void>;
}

/** Relays 127.0.0.1:`port` (a free one by default) to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number, options: { port?: number } = {}): Promise<TcpProxy> {
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort());
  const open = new Set<net.Socket>();
  let isCut = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const upstream = net.connect(targetPort, host);
    open.add(client).add(upstream);
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port,
    get accepted() {
      return accepted;
    },
    get isCut() {
      return isCut;
    },
    cut() {
      isCut = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    heal() {
      isCut = false;
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
