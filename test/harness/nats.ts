// Real nats-server processes on loopback for tests: one server, or a 3-server JetStream cluster,
// from Debian's package (2.9.10) or the current release built by setup.sh. Every server gets its own
// config file (so cluster and JetStream options are explicit and visible in the kept test folder),
// client/cluster/monitoring ports, store dir and log file. With `leafnodes`, the servers are a hub
// that region servers (leaf nodes, no JetStream of their own) join: a region's agents connect to
// their leaf, and their JetStream requests reach the hub through it.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@drover/shared';
import { type NatsSecurity, reloadServer, secureConfig } from './nats-secure.ts';
import {
  freePort,
  makeTempDir,
  memberLifecycle,
  type ProcessHandle,
  ProcessMember,
  selectMembers,
  startMembers,
  startProcess,
  waitFor,
} from './process.ts';
import { natsServerBinary } from './versions.ts';

export interface StartNatsOptions {
  /** Number of servers; more than one forms a cluster (JetStream-clustered when jetstream is on). @default 1 */
  servers?: number;
  /** 'debian': /usr/sbin/nats-server 2.9.10; 'current': the pinned release from versions.env. @default 'debian' */
  version?: 'debian' | 'current';
  /** @default true */
  jetstream?: boolean;
  /** JetStream `sync_interval: always` (fsync every write; 2.10+, so only with version 'current'). @default false */
  syncAlways?: boolean;
  /** Budget for the whole start, including JetStream meta-leader election. @default 60000 */
  startTimeoutMs?: number;
  /**
   * TLS (a throwaway CA) and accounts with Drover's shipped permissions: a coordinator user and one
   * user per agent (added with `security.addAgents`). No anonymous client can connect. @default false
   */
  secure?: boolean;
  /**
   * The servers accept leaf-node connections (see NatsCluster.startLeaf). `advertisePort`: the port
   * the hub tells leaves to use (a relay's, from startTcpProxy with that port), so a leaf that
   * reconnects never goes around the relay. @default false
   */
  leafnodes?: boolean | { advertisePort?: number };
}

export interface StartLeafOptions {
  /** The leaf server's name (a region): `region-b`. */
  name: string;
  /**
   * Where the leaf dials the hub: the hub's leaf-node port by default, or a relay's (startTcpProxy)
   * in front of it, so a test can cut the link between the region and the hub.
   */
  hubPort?: number;
}

/** A region's NATS server: a leaf node of the hub, without JetStream of its own. */
export interface NatsLeaf {
  readonly server: NatsServer;
  /** nats://127.0.0.1:PORT: what the region's agents connect to. */
  readonly urls: string[];
  /** Whether the leaf's link to the hub is up (the leaf's /leafz). */
  connected(): Promise<boolean>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export interface NatsServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Route port; undefined for a single server. */
  readonly clusterPort: number | undefined;
  /** HTTP monitoring port (/varz, /jsz, /healthz). */
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly configFile: string;
  readonly logFile: string;
  /** Pid of the current incarnation (changes on restart). */
  readonly pid: number;
  readonly process: ProcessHandle;
  readonly running: boolean;
}

export interface NatsCluster {
  /** 'debian' or the pinned version (e.g. v2.15.2). */
  readonly version: string;
  readonly binary: string;
  /** nats://127.0.0.1:PORT of every server, in order. */
  readonly urls: string[];
  readonly servers: NatsServer[];
  readonly logFiles: string[];
  /** The run folder: configs, stores, logs (kept if the test process fails). */
  readonly dir: string;
  /** Wall time of startNats until every server reported healthy. */
  readonly startupMs: number;
  /** Graceful stop (SIGTERM) of server i, or of all servers. */
  stop(i?: number): Promise<void>;
  /** SIGKILL of server i, or of all servers. */
  kill(i?: number): Promise<void>;
  /** Starts server i again (same ports, config, store dir); stops it first if running; resolves when healthy. */
  restart(i: number): Promise<void>;
  /** GET a monitoring endpoint ('varz', 'jsz', 'healthz', …) of server i as JSON. */
  monitor(i: number, endpoint: string): Promise<unknown>;
  /** Secure mode's CA, identities and agent enrolment; undefined without `secure`. */
  readonly security: NatsSecurity | undefined;
  /** The port each server takes leaf-node connections on (`leafnodes`), in server order. */
  readonly leafPorts: number[];
  /** Starts a leaf-node server for a region, joined to the hub; needs `leafnodes`. */
  startLeaf(options: StartLeafOptions): Promise<NatsLeaf>;
}

class Server extends ProcessMember implements NatsServer {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number | undefined;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly configFile: string;
  /** The port leaf nodes connect to (hub servers started with `leafnodes`). */
  leafPort: number | undefined;

  constructor(name: string, port: number, clusterPort: number | undefined, monitorPort: number, dir: string) {
    super();
    this.name = name;
    this.port = port;
    this.clusterPort = clusterPort;
    this.monitorPort = monitorPort;
    this.storeDir = path.join(dir, name, 'store');
    this.configFile = path.join(dir, name, 'nats-server.conf');
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
}

/** Starts the servers, waits until each reports healthy (/healthz: JetStream meta leader known). */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsCluster> {
  const started = Date.now();
  const count = options.servers ?? 1;
  const kind = options.version ?? 'debian';
  const jetstream = options.jetstream ?? true;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  if (!Number.isInteger(count) || count < 1) throw new InvalidInputError('servers', count, 'an integer >= 1');
  if (options.syncAlways && kind === 'debian') {
    throw new InvalidInputError('syncAlways', true, "version 'current' (sync_interval needs nats-server 2.10+)");
  }
  const { binary, version } = natsServerBinary(kind);
  const dir = makeTempDir(`nats-${count}`);

  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const clusterPort = count > 1 ? await freePort() : undefined;
    const server = new Server(`nats-${i + 1}`, await freePort(), clusterPort, await freePort(), dir);
    if (options.leafnodes) server.leafPort = await freePort();
    servers.push(server);
  }
  const leaves: Server[] = [];
  const secure = options.secure
    ? secureConfig(dir, async () => {
        for (const server of [...servers, ...leaves])
          if (server.running) await reloadServer(server.pid, server.logFile);
      })
    : undefined;
  // The hub's side of a leaf-node link: its own user, bound to Drover's account in secure mode.
  const leafUser = { user: 'leaf', pass: randomBytes(18).toString('base64url') };
  const leafAdvertisePort = typeof options.leafnodes === 'object' ? options.leafnodes.advertisePort : undefined;
  for (const server of servers) {
    fs.mkdirSync(server.storeDir, { recursive: true });
    fs.writeFileSync(
      server.configFile,
      renderConfig(server, servers, jetstream, options.syncAlways ?? false) +
        (server.leafPort === undefined
          ? ''
          : renderLeafListen(server.leafPort, leafAdvertisePort, leafUser, secure?.tls)) +
        (secure ? `${secure.lines.join('\n')}\n` : ''),
    );
  }

  const launch = async (server: Server): Promise<void> => {
    server.process = await startProcess({
      name: server.name,
      command: binary,
      args: ['-c', server.configFile],
      logDir: dir,
    });
  };
  const waitHealthy = (server: Server): Promise<unknown> =>
    waitFor(() => healthz(server.monitorPort), {
      what: `${server.name} (${server.url}) to report healthy on /healthz; log ${server.logFile}`,
      timeoutMs,
      intervalMs: 200,
      processes: [server.process],
    });

  await startMembers(servers, launch, waitHealthy);

  const select = (i: number | undefined): Server[] => selectMembers(servers, i, 'server index');

  const startLeaf = async (leafOptions: StartLeafOptions): Promise<NatsLeaf> => {
    const hubPort = leafOptions.hubPort ?? servers[0]?.leafPort;
    if (hubPort === undefined) throw new InvalidInputError('leafnodes', false, 'startNats({ leafnodes: true })');
    const leaf = new Server(leafOptions.name, await freePort(), undefined, await freePort(), dir);
    fs.mkdirSync(path.dirname(leaf.configFile), { recursive: true });
    fs.writeFileSync(leaf.configFile, renderLeaf(leaf, hubPort, leafUser, secure));
    leaves.push(leaf);
    await launch(leaf);
    await waitHealthy(leaf);
    // The leaf's own view of its link (GET /leafz on the leaf): one connection while it is up.
    const connected = async () => {
      const response = await fetch(`http://127.0.0.1:${leaf.monitorPort}/leafz`, { signal: AbortSignal.timeout(2000) });
      return ((await response.json()) as { leafnodes?: number }).leafnodes === 1;
    };
    await waitFor(connected, { timeoutMs, intervalMs: 100, what: `leaf ${leaf.name} connected to the hub` });
    return {
      server: leaf,
      urls: [leaf.url],
      connected,
      stop: async () => {
        await leaf.process.stop('SIGTERM', 15_000);
      },
      kill: async () => {
        await leaf.process.kill();
      },
      async restart() {
        if (leaf.running) await leaf.process.stop('SIGTERM', 15_000);
        await launch(leaf);
        await waitHealthy(leaf);
      },
    };
  };

  return {
    security: secure?.security,
    version,
    binary,
    dir,
    startupMs: Date.now() - started,
    servers,
    get urls() {
      return servers.map((s) => s.url);
    },
    get logFiles() {
      return servers.map((s) => s.logFile);
    },
    leafPorts: servers.flatMap((s) => (s.leafPort === undefined ? [] : [s.leafPort])),
    startLeaf,
    ...memberLifecycle(select, launch, waitHealthy),
    async monitor(i, endpoint) {
      const [server] = select(i);
      const response = await fetch(`http://127.0.0.1:${server!.monitorPort}/${endpoint}`, {
        signal: AbortSignal.timeout(5000),
      });
      return response.json();
    },
  };
}

function renderConfig(server: Server, all: Server[], jetstream: boolean, syncAlways: boolean): string {
  const lines = [
    `# ${server.name}, written by test/harness/nats.ts`,
    `server_name: "${server.name}"`,
    `listen: "127.0.0.1:${server.port}"`,
    `http: "127.0.0.1:${server.monitorPort}"`,
  ];
  if (jetstream) {
    lines.push(
      'jetstream {',
      `  store_dir: "${server.storeDir}"`,
      '  max_memory_store: 64MB',
      '  max_file_store: 1GB',
      ...(syncAlways ? ['  sync_interval: always'] : []),
      '}',
    );
  }
  if (server.clusterPort !== undefined) {
    const routes = all.filter((s) => s !== server).map((s) => `"nats-route://127.0.0.1:${s.clusterPort}"`);
    lines.push(
      'cluster {',
      '  name: "drover-test"',
      `  listen: "127.0.0.1:${server.clusterPort}"`,
      // Clients use the servers they are given, never ones they learn: a client given relays (a test
      // that cuts the network) must not reconnect around them.
      '  no_advertise: true',
      `  routes: [${routes.join(', ')}]`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A hub server's leaf-node listener: TLS and the leaf user bound to Drover's account when secure. */
function renderLeafListen(
  port: number,
  advertisePort: number | undefined,
  user: { user: string; pass: string },
  tls: { certFile: string; keyFile: string } | undefined,
): string {
  const secure = tls !== undefined;
  const lines = [
    'leafnodes {',
    `  listen: "127.0.0.1:${port}"`,
    // A leaf learns the hub's own leaf-node address otherwise, and would go around a relay in front
    // of it (the way a test cuts the link).
    ...(advertisePort === undefined ? [] : [`  advertise: "127.0.0.1:${advertisePort}"`]),
    ...(tls ? [`  tls { cert_file: "${tls.certFile}", key_file: "${tls.keyFile}", timeout: 5 }`] : []),
    '  authorization {',
    `    users: [{ user: ${user.user}, password: "${user.pass}"${secure ? ', account: DROVER' : ''} }]`,
    '  }',
    '}',
    // Without this the hub refuses every JetStream request (and KV write) arriving over a leaf link.
    `default_js_domain: { ${secure ? 'DROVER' : '$G'}: "" }`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * A region's leaf server: no JetStream (its clients' JetStream requests go to the hub), the same
 * users and permissions as the hub in secure mode (agents are added to both), and one remote: the
 * hub, dialled again every second after the link drops.
 */
function renderLeaf(
  leaf: Server,
  hubPort: number,
  user: { user: string; pass: string },
  secure: { leafLines: string[]; tls: { caFile: string } } | undefined,
): string {
  const scheme = secure ? 'tls' : 'nats-leaf';
  const lines = [
    `# ${leaf.name}, a leaf node written by test/harness/nats.ts`,
    `server_name: "${leaf.name}"`,
    `listen: "127.0.0.1:${leaf.port}"`,
    `http: "127.0.0.1:${leaf.monitorPort}"`,
    'leafnodes {',
    '  reconnect: 1',
    '  remotes: [',
    '    {',
    `      url: "${scheme}://${user.user}:${user.pass}@127.0.0.1:${hubPort}"`,
    ...(secure ? ['      account: DROVER', `      tls { ca_file: "${secure.tls.caFile}", timeout: 5 }`] : []),
    '    }',
    '  ]',
    '}',
    // JetStream requests cross a leaf link only for an account mapped to a JetStream domain: the
    // hub's, which has no name ("").
    `default_js_domain: { ${secure ? 'DROVER' : '$G'}: "" }`,
    ...(secure ? secure.leafLines : []),
  ];
  return `${lines.join('\n')}\n`;
}

async function healthz(monitorPort: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  const body = await response.text();
  if (!response.ok) throw new Error(`/healthz ${response.status}: ${body.trim()}`);
  return true;
}
