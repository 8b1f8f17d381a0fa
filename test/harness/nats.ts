// Real nats-server processes on loopback for tests: one server, or a 3-server JetStream cluster,
// from Debian's package (2.9.10) or the current release built by setup.sh. Every server gets its own
// config file (so cluster and JetStream options are explicit and visible in the kept test folder),
// client/cluster/monitoring ports, store dir and log file.

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
}

class Server extends ProcessMember implements NatsServer {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number | undefined;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly configFile: string;

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
    servers.push(new Server(`nats-${i + 1}`, await freePort(), clusterPort, await freePort(), dir));
  }
  const secure = options.secure
    ? secureConfig(dir, async () => {
        for (const server of servers) if (server.running) await reloadServer(server.pid, server.logFile);
      })
    : undefined;
  for (const server of servers) {
    fs.mkdirSync(server.storeDir, { recursive: true });
    fs.writeFileSync(
      server.configFile,
      renderConfig(server, servers, jetstream, options.syncAlways ?? false) +
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
      `  routes: [${routes.join(', ')}]`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function healthz(monitorPort: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  const body = await response.text();
  if (!response.ok) throw new Error(`/healthz ${response.status}: ${body.trim()}`);
  return true;
}
