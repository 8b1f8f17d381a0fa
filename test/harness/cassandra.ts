// Real Cassandra clusters on loopback for tests, from Maven Central's cassandra-all 5.0 (Java 17) and its
// dependencies, cached by setup.sh. Every node is its own CassandraDaemon JVM on its own loopback
// address (127.0.B.2, 127.0.B.3, …, so storage/native ports stay the defaults 7000/9042), with its own
// cassandra.yaml, cassandra-rackdc.properties (GossipingPropertyFileSnitch), JMX port and log file.
// Nodes start one after another (concurrent joins race for tokens); a new datacenter can be added to
// a running cluster with auto_bootstrap: false, which is how a Cassandra migration begins.
//
// Every node dir holds what a packaged node has: bin/cassandra (the launcher systemd runs; it reads
// conf/jvm-server.options at every start) and bin/nodetool. The harness starts its own nodes through
// bin/cassandra too. stageDatacenter() prepares a new datacenter's nodes without starting them, for
// Drover agents that run them as a service (test/fleet/cassandra-nodes.ts) and restart them after a
// step changed their JVM options.

import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@drover/shared';
import cassandra from 'cassandra-driver';
import {
  assertAddressFree,
  dataFileDirectory,
  initialJvmOptions,
  JVM17_OPTIONS,
  LOW_FOOTPRINT,
  pickAddressBlock,
  renderLauncher,
  renderNodetool,
  renderYaml,
  writeLogback,
} from './cassandra-config.ts';
import { CommandFailedError } from './errors.ts';
import {
  type CommandResult,
  canConnect,
  freePort,
  killOnFailure,
  makeTempDir,
  type ProcessHandle,
  ProcessMember,
  runCommand,
  startProcess,
  waitFor,
} from './process.ts';
import { CASSANDRA_VERSION, javaBinary, mavenClasspath } from './versions.ts';

export interface CassandraDatacenterSpec {
  name: string;
  /** Rack names; nodes are placed on them round-robin. @default ['rack1'] */
  racks?: string[];
  nodes: number;
}

export interface StartCassandraOptions {
  datacenters: CassandraDatacenterSpec[];
  /** num_tokens per node. @default 4 */
  numTokens?: number;
  /** Max heap per node. @default '512m' */
  heap?: string;
  /** Per-node start budget. @default 180000 */
  nodeStartTimeoutMs?: number;
}

export interface CassandraNode {
  /** node1, node2, … in start order. */
  readonly name: string;
  /** Listen, broadcast and native (CQL) address. */
  readonly address: string;
  readonly nativePort: number;
  readonly jmxPort: number;
  readonly datacenter: string;
  readonly rack: string;
  readonly seed: boolean;
  readonly autoBootstrap: boolean;
  readonly dir: string;
  readonly configFile: string;
  /** `<dir>/conf/jvm-server.options`: bin/cassandra adds each line starting with "-" to java's argv. */
  readonly jvmOptionsFile: string;
  /** `<dir>/bin/cassandra`: runs the node in the foreground (what systemd runs in production). */
  readonly launcher: string;
  /** The argv prefix that runs nodetool against this node: `[<dir>/bin/nodetool]`. */
  readonly nodetoolArgv: string[];
  /** The node's one data_file_directories entry. */
  readonly dataDir: string;
  readonly logFile: string;
  readonly pid: number;
  readonly process: ProcessHandle;
  readonly running: boolean;
}

/**
 * A node of a datacenter that stageDatacenter() prepared (dirs, cassandra.yaml with auto_bootstrap:
 * false and the running cluster's seeds, rackdc file, bin/cassandra, bin/nodetool, an empty JVM
 * options file) but did not start: whoever runs `launcher` (a Drover agent) owns its process.
 */
export interface StagedCassandraNode {
  readonly name: string;
  readonly address: string;
  readonly datacenter: string;
  readonly rack: string;
  readonly dir: string;
  readonly configFile: string;
  readonly jvmOptionsFile: string;
  /** `<dir>/bin/cassandra`, to be run with no arguments; stays in the foreground, logs to stdout. */
  readonly launcher: string;
  readonly nodetoolArgv: string[];
  readonly jmxPort: number;
  readonly nativePort: number;
  /** A suggested file for the launcher's output, `<dir>/logs/launcher.log` (nobody writes it yet). */
  readonly logFile: string;
  readonly dataDir: string;
}

export interface NodetoolOptions {
  /** @default 300000 */
  timeoutMs?: number;
  /** Throw CommandFailedError on a non-zero exit. @default true */
  check?: boolean;
}

export interface CassandraCluster {
  readonly version: string;
  readonly clusterName: string;
  readonly nodes: CassandraNode[];
  readonly datacenters: string[];
  /** address of the first node of each datacenter, for driver contact points. */
  contactPoints(datacenter?: string): string[];
  readonly logFiles: string[];
  readonly dir: string;
  readonly startupMs: number;
  /** Starts a new datacenter's nodes (auto_bootstrap: false) one after another. */
  addDatacenter(spec: CassandraDatacenterSpec): Promise<CassandraNode[]>;
  /**
   * Prepares a new datacenter's nodes (auto_bootstrap: false, the cluster's seeds) WITHOUT starting
   * them: they are not in `nodes`, and stop()/kill() of the cluster never reach them.
   */
  stageDatacenter(spec: CassandraDatacenterSpec): Promise<StagedCassandraNode[]>;
  /**
   * Waits until each of `addresses`, asked over CQL, sees all of them NORMAL in gossip (see the
   * exported waitSettled); harness-run nodes among them fail the wait at once if they exit.
   * @default timeoutMs the per-node start budget
   */
  waitSettled(addresses: string[], timeoutMs?: number): Promise<void>;
  /** Runs the real NodeTool class against the node's JMX port, e.g. nodetool(n, ['status']). */
  nodetool(node: CassandraNode | string, argv: string[], options?: NodetoolOptions): Promise<CommandResult>;
  /** Graceful stop (SIGTERM, drain hook; SIGKILL after 30 s) of one node (by name or handle) or of all. */
  stop(node?: CassandraNode | string): Promise<void>;
  /** SIGKILL of one node or of all. */
  kill(node?: CassandraNode | string): Promise<void>;
  /** Starts a stopped node again (same yaml, data, address); resolves when CQL answers. */
  restart(node: CassandraNode | string): Promise<void>;
}

class Node extends ProcessMember implements CassandraNode {
  readonly name: string;
  readonly address: string;
  readonly nativePort = 9042;
  readonly jmxPort: number;
  readonly datacenter: string;
  readonly rack: string;
  readonly seed: boolean;
  readonly autoBootstrap: boolean;
  readonly dir: string;

  constructor(
    name: string,
    address: string,
    jmxPort: number,
    placement: { datacenter: string; rack: string; seed: boolean; autoBootstrap: boolean },
    runDir: string,
  ) {
    super();
    this.name = name;
    this.address = address;
    this.jmxPort = jmxPort;
    this.datacenter = placement.datacenter;
    this.rack = placement.rack;
    this.seed = placement.seed;
    this.autoBootstrap = placement.autoBootstrap;
    this.dir = path.join(runDir, name);
  }
  get configFile(): string {
    return path.join(this.dir, 'conf', 'cassandra.yaml');
  }
  get rackdcFile(): string {
    return path.join(this.dir, 'conf', 'cassandra-rackdc.properties');
  }
  get jvmOptionsFile(): string {
    return path.join(this.dir, 'conf', 'jvm-server.options');
  }
  get launcher(): string {
    return path.join(this.dir, 'bin', 'cassandra');
  }
  get nodetoolScript(): string {
    return path.join(this.dir, 'bin', 'nodetool');
  }
  get nodetoolArgv(): string[] {
    return [this.nodetoolScript];
  }
  get dataDir(): string {
    return dataFileDirectory(this.dir);
  }
  staged(): StagedCassandraNode {
    return Object.freeze({
      name: this.name,
      address: this.address,
      datacenter: this.datacenter,
      rack: this.rack,
      dir: this.dir,
      configFile: this.configFile,
      jvmOptionsFile: this.jvmOptionsFile,
      launcher: this.launcher,
      nodetoolArgv: this.nodetoolArgv,
      jmxPort: this.jmxPort,
      nativePort: this.nativePort,
      logFile: path.join(this.dir, 'logs', 'launcher.log'),
      dataDir: this.dataDir,
    });
  }
}

export async function startCassandra(options: StartCassandraOptions): Promise<CassandraCluster> {
  const started = Date.now();
  if (options.datacenters.length === 0) throw new InvalidInputError('datacenters', [], 'at least one datacenter');
  const classpath = mavenClasspath('cassandra', CASSANDRA_VERSION);
  const jammJar = classpath.split(':').find((jar) => /\/jamm-[\d.]+\.jar$/.test(jar));
  const java = javaBinary();
  const heap = options.heap ?? '512m';
  const numTokens = options.numTokens ?? 4;
  const nodeTimeoutMs = options.nodeStartTimeoutMs ?? 180_000;
  const clusterName = 'drover-test';
  const dir = makeTempDir('cassandra');
  const logbackServer = writeLogback(path.join(dir, 'logback.xml'), 'INFO');
  const logbackTools = writeLogback(path.join(dir, 'logback-tools.xml'), 'WARN');

  const nodes: Node[] = [];
  /** Nodes of staged datacenters: named and addressed by the harness, run by someone else. */
  const staged: Node[] = [];
  const datacenters: string[] = [];
  const block = await pickAddressBlock(
    options.datacenters.reduce((n, dc) => n + dc.nodes, 0),
    (b, i) => `127.0.${b}.${i + 2}`,
  );
  let nextHost = 0;
  const address = () => `127.0.${block}.${nextHost++ + 2}`;

  const createDatacenter = async (spec: CassandraDatacenterSpec, autoBootstrap: boolean): Promise<Node[]> => {
    if (!/^[\w-]+$/.test(spec.name))
      throw new InvalidInputError('datacenter name', spec.name, 'letters, digits, - or _');
    if (datacenters.includes(spec.name)) throw new InvalidInputError('datacenter name', spec.name, 'a new datacenter');
    if (!Number.isInteger(spec.nodes) || spec.nodes < 1)
      throw new InvalidInputError('nodes', spec.nodes, 'an integer >= 1');
    const racks = spec.racks && spec.racks.length > 0 ? spec.racks : ['rack1'];
    const created: Node[] = [];
    for (let i = 0; i < spec.nodes; i++) {
      const addr = address();
      await assertAddressFree(addr);
      created.push(
        new Node(
          `node${nodes.length + staged.length + created.length + 1}`,
          addr,
          await freePort(),
          {
            datacenter: spec.name,
            rack: racks[i % racks.length]!,
            seed: nodes.length === 0 && i === 0,
            autoBootstrap,
          },
          dir,
        ),
      );
    }
    datacenters.push(spec.name);
    return created;
  };

  const serverJvm = (node: Node): string[] => [
    '-Xms128m',
    `-Xmx${heap}`,
    '-XX:MaxDirectMemorySize=256m',
    ...LOW_FOOTPRINT,
    ...JVM17_OPTIONS,
    ...(jammJar ? [`-javaagent:${jammJar}`] : []),
    '-Dcassandra-foreground=yes',
    `-Dcassandra.config=file://${node.configFile}`,
    `-Dcassandra-rackdc.properties=file://${node.rackdcFile}`,
    `-Dcassandra.storagedir=${path.join(node.dir, 'data')}`,
    `-Dcassandra.logdir=${path.join(node.dir, 'logs')}`,
    `-Dlogback.configurationFile=${logbackServer}`,
    `-Dcassandra.jmx.local.port=${node.jmxPort}`,
    '-Djava.rmi.server.hostname=127.0.0.1',
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.superuser_setup_delay_ms=0',
    '-Dchronicle.analytics.disable=true',
  ];
  const toolJvm = (node: Node): string[] => [
    '-Xmx128m',
    ...LOW_FOOTPRINT,
    ...JVM17_OPTIONS,
    `-Dcassandra.config=file://${node.configFile}`,
    `-Dcassandra.storagedir=${path.join(node.dir, 'data')}`,
    `-Dlogback.configurationFile=${logbackTools}`,
  ];

  const launch = async (node: Node): Promise<void> => {
    node.process = await startProcess({ name: node.name, command: node.launcher, args: [], logDir: dir });
    await waitFor(() => canConnect(node.address, node.nativePort), {
      what: `Cassandra ${node.name} (${node.address}, ${node.datacenter}/${node.rack}) to accept CQL; log ${node.logFile}`,
      timeoutMs: nodeTimeoutMs,
      intervalMs: 1000,
      processes: [node.process],
    });
  };

  /** waitSettled over the running harness nodes, failing at once if one of them exits. */
  const settle = (among: Node[]): Promise<void> => {
    const running = among.filter((n) => n.running);
    return waitSettled(
      running.map((n) => n.address),
      nodeTimeoutMs,
      { processes: running.map((n) => n.process) },
    );
  };

  const seedAddress = () => nodes.find((n) => n.seed)?.address ?? '';
  const prepare = (node: Node): void => {
    for (const sub of ['bin', 'conf', 'data', 'logs']) fs.mkdirSync(path.join(node.dir, sub), { recursive: true });
    fs.writeFileSync(node.configFile, renderYaml(node, { clusterName, numTokens, seeds: seedAddress() }));
    fs.writeFileSync(node.rackdcFile, `dc=${node.datacenter}\nrack=${node.rack}\nprefer_local=false\n`);
    fs.writeFileSync(node.jvmOptionsFile, initialJvmOptions(node));
    fs.writeFileSync(node.launcher, renderLauncher(node, { java, jvm: serverJvm(node), classpath }), { mode: 0o755 });
    fs.writeFileSync(node.nodetoolScript, renderNodetool(node, { java, jvm: toolJvm(node), classpath }), {
      mode: 0o755,
    });
  };

  // Nodes of the first datacenters join an empty cluster: nothing to stream, so no bootstrap (and no
  // ring-delay wait); data reaches later datacenters by rebuild, as in a migration.
  await killOnFailure(
    async () => {
      for (const spec of options.datacenters) {
        const created = await createDatacenter(spec, false);
        for (const node of created) {
          nodes.push(node);
          prepare(node);
          await launch(node);
        }
      }
      await settle(nodes);
    },
    () => nodes.filter((n) => n.running).map((n) => n.process),
  );

  const resolve = (node: CassandraNode | string | undefined): Node[] => {
    if (node === undefined) return nodes;
    const name = typeof node === 'string' ? node : node.name;
    const found = nodes.find((n) => n.name === name || n.address === name);
    if (!found) throw new InvalidInputError('node', name, `one of ${nodes.map((n) => n.name).join(',')}`);
    return [found];
  };

  return {
    version: CASSANDRA_VERSION,
    clusterName,
    nodes,
    datacenters,
    dir,
    startupMs: Date.now() - started,
    contactPoints(datacenter) {
      return nodes.filter((n) => datacenter === undefined || n.datacenter === datacenter).map((n) => n.address);
    },
    get logFiles() {
      return nodes.map((n) => n.logFile);
    },
    async addDatacenter(spec) {
      const created = await createDatacenter(spec, false);
      await killOnFailure(
        async () => {
          for (const node of created) {
            nodes.push(node);
            prepare(node);
            await launch(node);
          }
          await settle(nodes);
        },
        () => created.filter((n) => n.running).map((n) => n.process),
      );
      return created;
    },
    async stageDatacenter(spec) {
      const created = await createDatacenter(spec, false);
      for (const node of created) {
        staged.push(node);
        prepare(node);
      }
      return created.map((n) => n.staged());
    },
    async waitSettled(addresses, timeoutMs = nodeTimeoutMs) {
      const watched = nodes.filter((n) => n.running && addresses.includes(n.address)).map((n) => n.process);
      await waitSettled(addresses, timeoutMs, { processes: watched });
    },
    async nodetool(target, argv, nodetoolOptions = {}) {
      const [node] = resolve(target);
      const result = await runCommand(node!.nodetoolScript, argv, {
        timeoutMs: nodetoolOptions.timeoutMs ?? 300_000,
        logFile: path.join(dir, 'nodetool.log'),
      });
      if ((nodetoolOptions.check ?? true) && result.code !== 0) {
        throw new CommandFailedError(
          `nodetool -p ${node!.jmxPort} (${node!.name}) ${argv.join(' ')}`,
          result.code,
          result.output,
        );
      }
      return result;
    },
    async stop(node) {
      const graceMs = node === undefined ? 10_000 : 30_000;
      await Promise.all(resolve(node).map((n) => n.process.stop('SIGTERM', graceMs)));
    },
    async kill(node) {
      await Promise.all(resolve(node).map((n) => n.process.kill()));
    },
    async restart(target) {
      const [node] = resolve(target);
      if (!node) return;
      if (node.running) await node.process.stop('SIGTERM', 30_000);
      await launch(node);
      await settle(nodes);
    },
  };
}

export interface WaitSettledOptions {
  /** The native (CQL) port of every node. @default 9042 */
  nativePort?: number;
  /** Fail at once (with the log tail) if one of these exits while waiting. */
  processes?: ProcessHandle[];
}

/**
 * Waits until each of `addresses`, asked over CQL (system_views.gossip_info of that node itself), sees
 * every one of them NORMAL: an open CQL port only says the node itself joined, and schema changes such
 * as ALTER KEYSPACE are refused while the coordinator still sees a node joining. Works for nodes the
 * harness runs and for nodes someone else runs (an agent's service), as it needs only addresses.
 */
export async function waitSettled(
  addresses: string[],
  timeoutMs: number,
  options: WaitSettledOptions = {},
): Promise<void> {
  if (addresses.length === 0) return;
  const nativePort = options.nativePort ?? 9042;
  const client = new cassandra.Client({
    contactPoints: addresses,
    protocolOptions: { port: nativePort },
    policies: { loadBalancing: new cassandra.policies.loadBalancing.RoundRobinPolicy() },
    socketOptions: { connectTimeout: 5000, readTimeout: 10_000 },
  });
  try {
    await waitFor(
      async () => {
        await client.connect();
        for (const address of addresses) {
          const host = client.hosts.get(`${address}:${nativePort}`);
          if (!host) throw new Error(`driver does not know ${address} yet`);
          // A node's own row has `status`; peers' rows (4.0+ messaging) only `status_with_port`.
          const query = 'SELECT address, status, status_with_port FROM system_views.gossip_info';
          const rows = (await client.execute(query, [], { host })).rows;
          const isNormal = (r: cassandra.types.Row) =>
            String(r.get('status_with_port') ?? r.get('status')).startsWith('NORMAL');
          const normal = new Set(rows.filter(isNormal).map((r) => String(r.get('address'))));
          const missing = addresses.filter((a) => !normal.has(a));
          if (missing.length > 0) throw new Error(`${address} does not see ${missing.join(',')} as NORMAL`);
        }
        return true;
      },
      {
        what: `every Cassandra node to see ${addresses.join(',')} NORMAL in gossip`,
        timeoutMs,
        intervalMs: 1000,
        processes: options.processes ?? [],
      },
    );
  } finally {
    await client.shutdown();
  }
}
