// Real Cassandra clusters on loopback for tests, from Maven Central's cassandra-all 5.0 (Java 17) and its
// dependencies, cached by setup.sh. Every node is its own CassandraDaemon JVM on its own loopback
// address (127.0.B.2, 127.0.B.3, …, so storage/native ports stay the defaults 7000/9042), with its own
// cassandra.yaml, cassandra-rackdc.properties (GossipingPropertyFileSnitch), JMX port and log file.
// Nodes start one after another (concurrent joins race for tokens); a new datacenter can be added to
// a running cluster with auto_bootstrap: false, which is how a Cassandra migration begins.

import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@drover/shared';
import cassandra from 'cassandra-driver';
import {
  assertAddressFree,
  JVM17_OPTIONS,
  LOW_FOOTPRINT,
  pickAddressBlock,
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
  readonly logFile: string;
  readonly pid: number;
  readonly process: ProcessHandle;
  readonly running: boolean;
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
          `node${nodes.length + created.length + 1}`,
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

  const launch = async (node: Node): Promise<void> => {
    const jvm = [
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
    node.process = await startProcess({
      name: node.name,
      command: java,
      args: [...jvm, '-cp', classpath, 'org.apache.cassandra.service.CassandraDaemon'],
      logDir: dir,
    });
    await waitFor(() => canConnect(node.address, node.nativePort), {
      what: `Cassandra ${node.name} (${node.address}, ${node.datacenter}/${node.rack}) to accept CQL; log ${node.logFile}`,
      timeoutMs: nodeTimeoutMs,
      intervalMs: 1000,
      processes: [node.process],
    });
  };

  const seedAddress = () => nodes.find((n) => n.seed)?.address ?? '';
  const prepare = (node: Node): void => {
    for (const sub of ['conf', 'data', 'logs']) fs.mkdirSync(path.join(node.dir, sub), { recursive: true });
    fs.writeFileSync(node.configFile, renderYaml(node, { clusterName, numTokens, seeds: seedAddress() }));
    fs.writeFileSync(node.rackdcFile, `dc=${node.datacenter}\nrack=${node.rack}\nprefer_local=false\n`);
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
      await waitSettled(nodes, nodeTimeoutMs);
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
          await waitSettled(nodes, nodeTimeoutMs);
        },
        () => created.filter((n) => n.running).map((n) => n.process),
      );
      return created;
    },
    async nodetool(target, argv, nodetoolOptions = {}) {
      const [node] = resolve(target);
      const command = [
        '-Xmx128m',
        ...LOW_FOOTPRINT,
        ...JVM17_OPTIONS,
        `-Dcassandra.config=file://${node!.configFile}`,
        `-Dcassandra.storagedir=${path.join(node!.dir, 'data')}`,
        `-Dlogback.configurationFile=${logbackTools}`,
        '-cp',
        classpath,
        'org.apache.cassandra.tools.NodeTool',
        '-h',
        '127.0.0.1',
        '-p',
        String(node!.jmxPort),
        ...argv,
      ];
      const result = await runCommand(java, command, {
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
      await waitSettled(
        nodes.filter((n) => n.running),
        nodeTimeoutMs,
      );
    },
  };
}

/**
 * Waits until every running node's gossip (system_views.gossip_info, asked of each node itself) shows
 * every node NORMAL: an open CQL port only says the node itself joined, and schema changes such as
 * ALTER KEYSPACE are refused while the coordinator still sees a node joining.
 */
async function waitSettled(nodes: Node[], timeoutMs: number): Promise<void> {
  const running = nodes.filter((n) => n.running);
  const client = new cassandra.Client({
    contactPoints: running.map((n) => n.address),
    policies: { loadBalancing: new cassandra.policies.loadBalancing.RoundRobinPolicy() },
    socketOptions: { connectTimeout: 5000, readTimeout: 10_000 },
  });
  try {
    await waitFor(
      async () => {
        await client.connect();
        for (const node of running) {
          const host = client.hosts.get(`${node.address}:${node.nativePort}`);
          if (!host) throw new Error(`driver does not know ${node.address} yet`);
          // A node's own row has `status`; peers' rows (4.0+ messaging) only `status_with_port`.
          const query = 'SELECT address, status, status_with_port FROM system_views.gossip_info';
          const rows = (await client.execute(query, [], { host })).rows;
          const isNormal = (r: cassandra.types.Row) =>
            String(r.get('status_with_port') ?? r.get('status')).startsWith('NORMAL');
          const normal = new Set(rows.filter(isNormal).map((r) => String(r.get('address'))));
          const missing = running.filter((n) => !normal.has(n.address)).map((n) => n.address);
          if (missing.length > 0) throw new Error(`${node.name} does not see ${missing.join(',')} as NORMAL`);
        }
        return true;
      },
      {
        what: `every Cassandra node to see ${running.map((n) => n.name).join(',')} NORMAL in gossip`,
        timeoutMs,
        intervalMs: 1000,
        processes: running.map((n) => n.process),
      },
    );
  } finally {
    await client.shutdown();
  }
}
