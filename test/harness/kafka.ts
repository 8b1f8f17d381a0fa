// Real Kafka clusters on loopback for tests, from Maven Central jars cached by setup.sh: ZooKeeper mode
// on the 3.9 line (the seed's clusters are ZooKeeper-based) and KRaft on a 4.x line. Every broker is
// its own JVM (kafka.Kafka) with its own server.properties, ports, data dir and log file; brokers can
// be added to a running cluster, which is what a migration does.

import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@drover/shared';
import { Admin } from '@platformatic/kafka';
import { brokerProperties, newClusterId, writeLogConfig } from './kafka-config.ts';
import {
  freePort,
  killOnFailure,
  makeTempDir,
  type ProcessHandle,
  ProcessMember,
  runCommandOk,
  startProcess,
  waitFor,
} from './process.ts';
import { javaBinary, KAFKA_KRAFT_VERSION, KAFKA_ZK_VERSION, mavenClasspath } from './versions.ts';
import { startZooKeeper, type ZooKeeperEnsemble } from './zookeeper.ts';

export type KafkaMode = 'zookeeper' | 'kraft';
/** KRaft roles; ZooKeeper-mode brokers are always 'broker'. */
export type KafkaRoles = 'broker' | 'controller' | 'broker,controller';

export interface KafkaBrokerSpec {
  /** broker.id (ZooKeeper mode) or node.id (KRaft). */
  id: number;
  /** broker.rack; none if omitted. */
  rack?: string;
  /** KRaft only. @default 'broker,controller' at start, 'broker' for addBrokers */
  roles?: KafkaRoles;
}

export interface StartKafkaOptions {
  mode: KafkaMode;
  brokers: KafkaBrokerSpec[];
  /**
   * ZooKeeper mode: an ensemble (or connect string) to use. If omitted, a 1-voter ensemble is started
   * and owned by the cluster (stopped with it).
   */
  zookeeper?: ZooKeeperEnsemble | string;
  /** ZooKeeper mode: chroot under which the cluster lives, e.g. '/kafka-a' (created by the broker). */
  chroot?: string;
  /** Max heap per broker JVM. @default '384m' */
  heap?: string;
  /** Extra server.properties for every broker (added last, so they override the harness defaults). */
  config?: Record<string, string | number | boolean>;
  /** Budget for every broker to register and answer metadata. @default 120000 */
  startTimeoutMs?: number;
}

export interface KafkaBroker {
  readonly id: number;
  readonly rack: string | undefined;
  readonly roles: KafkaRoles;
  readonly host: string;
  /** PLAINTEXT client port. */
  readonly port: number;
  /** host:port */
  readonly address: string;
  /** KRaft controller listener port (controllers only). */
  readonly controllerPort: number | undefined;
  readonly dataDir: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly pid: number;
  readonly process: ProcessHandle;
  readonly running: boolean;
}

export interface KafkaCluster {
  readonly mode: KafkaMode;
  /** Kafka version (from versions.env). */
  readonly version: string;
  /** KRaft: the formatted cluster.id; ZooKeeper mode: the id the cluster generated (from metadata). */
  readonly clusterId: string;
  readonly brokers: KafkaBroker[];
  /** host:port of every broker that serves clients. */
  readonly bootstrap: string[];
  /** ZooKeeper mode: zookeeper.connect of the brokers, chroot included. */
  readonly zookeeperConnect: string | undefined;
  /** ZooKeeper mode: the ensemble, when the harness started it (or it was passed in). */
  readonly zookeeper: ZooKeeperEnsemble | undefined;
  readonly logFiles: string[];
  readonly dir: string;
  readonly startupMs: number;
  /** Starts more brokers in the same cluster (same ZooKeeper chroot, or same cluster.id and controller quorum). */
  addBrokers(specs: KafkaBrokerSpec[]): Promise<KafkaBroker[]>;
  /**
   * Graceful stop (SIGTERM, controlled shutdown; SIGKILL after 30 s) of broker `id`, or of all brokers
   * (8 s grace) and then of an owned ZooKeeper.
   */
  stop(id?: number): Promise<void>;
  /** SIGKILL of broker `id`, or of all (and of an owned ZooKeeper). */
  kill(id?: number): Promise<void>;
  /** Starts broker `id` again with its config and data; resolves when it answers metadata. */
  restart(id: number): Promise<void>;
  /** A @platformatic/kafka Admin on this cluster (the caller closes it). */
  admin(clientId?: string): Admin;
}

class Broker extends ProcessMember implements KafkaBroker {
  readonly id: number;
  readonly rack: string | undefined;
  readonly roles: KafkaRoles;
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly controllerPort: number | undefined;
  readonly dataDir: string;
  readonly configFile: string;

  constructor(spec: KafkaBrokerSpec, roles: KafkaRoles, port: number, controllerPort: number | undefined, dir: string) {
    super();
    this.id = spec.id;
    this.rack = spec.rack;
    this.roles = roles;
    this.port = port;
    this.controllerPort = controllerPort;
    this.dataDir = path.join(dir, `kafka-${spec.id}`, 'data');
    this.configFile = path.join(dir, `kafka-${spec.id}`, 'server.properties');
  }
  get name(): string {
    return `kafka-${this.id}`;
  }
  get address(): string {
    return `${this.host}:${this.port}`;
  }
  get servesClients(): boolean {
    return this.roles !== 'controller';
  }
}

export async function startKafka(options: StartKafkaOptions): Promise<KafkaCluster> {
  const started = Date.now();
  const { mode } = options;
  if (mode !== 'zookeeper' && mode !== 'kraft') throw new InvalidInputError('mode', mode, "'zookeeper' or 'kraft'");
  if (options.brokers.length === 0) throw new InvalidInputError('brokers', options.brokers, 'at least one broker');
  if (options.chroot !== undefined && !/^\/[\w.-]+(\/[\w.-]+)*$/.test(options.chroot)) {
    throw new InvalidInputError('chroot', options.chroot, "an absolute znode path such as '/kafka-a'");
  }
  const version = mode === 'zookeeper' ? KAFKA_ZK_VERSION : KAFKA_KRAFT_VERSION;
  const classpath = mavenClasspath(mode === 'zookeeper' ? 'kafka-zk' : 'kafka-kraft', version);
  const java = javaBinary();
  const heap = options.heap ?? '384m';
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const dir = makeTempDir(`kafka-${mode}`);
  const logConfig = writeLogConfig(dir, mode);

  let ownedZooKeeper: ZooKeeperEnsemble | undefined;
  let zookeeper: ZooKeeperEnsemble | undefined;
  let zookeeperConnect: string | undefined;
  if (mode === 'zookeeper') {
    if (options.zookeeper === undefined) {
      ownedZooKeeper = await startZooKeeper({ voters: 1 });
      zookeeper = ownedZooKeeper;
    } else if (typeof options.zookeeper !== 'string') {
      zookeeper = options.zookeeper;
    }
    const base = typeof options.zookeeper === 'string' ? options.zookeeper : zookeeper!.connectString;
    zookeeperConnect = base + (options.chroot ?? '');
  }

  const brokers: Broker[] = [];
  const replicationFactor = Math.min(3, options.brokers.filter((b) => b.roles !== 'controller').length);
  const clusterId = mode === 'kraft' ? newClusterId() : '';
  let quorumVoters = '';

  const create = async (specs: KafkaBrokerSpec[], defaultRoles: KafkaRoles): Promise<Broker[]> => {
    const created: Broker[] = [];
    for (const spec of specs) {
      if (!Number.isInteger(spec.id) || spec.id < 0)
        throw new InvalidInputError('broker id', spec.id, 'an integer >= 0');
      if (brokers.some((b) => b.id === spec.id)) throw new InvalidInputError('broker id', spec.id, 'an unused id');
      const roles = mode === 'zookeeper' ? 'broker' : (spec.roles ?? defaultRoles);
      const controllerPort = roles.includes('controller') ? await freePort() : undefined;
      created.push(new Broker(spec, roles, await freePort(), controllerPort, dir));
    }
    return created;
  };

  const launch = async (broker: Broker): Promise<void> => {
    broker.process = await startProcess({
      name: broker.name,
      command: java,
      args: [
        `-Xmx${heap}`,
        '-Xms64m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${path.dirname(broker.dataDir)}`,
        mode === 'zookeeper' ? `-Dlog4j.configuration=file:${logConfig}` : `-Dlog4j2.configurationFile=${logConfig}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        broker.configFile,
      ],
      logDir: dir,
    });
  };

  const prepare = async (broker: Broker): Promise<void> => {
    fs.mkdirSync(broker.dataDir, { recursive: true });
    const properties = brokerProperties(broker, {
      mode,
      zookeeperConnect,
      quorumVoters,
      replicationFactor,
      extra: options.config ?? {},
    });
    fs.writeFileSync(broker.configFile, properties);
    if (mode === 'kraft') {
      await runCommandOk(
        java,
        [
          '-Xmx128m',
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1',
          `-Dlog4j2.configurationFile=${logConfig}`,
          '-cp',
          classpath,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          broker.configFile,
        ],
        { timeoutMs: 60_000, logFile: path.join(dir, 'storage-tool.log') },
      );
    }
  };

  const waitServing = async (broker: Broker, expectedIds: number[]): Promise<void> => {
    if (!broker.servesClients) {
      await waitFor(() => fs.readFileSync(broker.logFile, 'utf8').includes('Kafka Server started'), {
        what: `KRaft controller ${broker.name} to start; log ${broker.logFile}`,
        timeoutMs,
        intervalMs: 500,
        processes: [broker.process],
      });
      return;
    }
    await waitFor(
      async () => {
        const admin = new Admin({
          clientId: 'drover-harness',
          bootstrapBrokers: [broker.address],
          retries: 0,
          connectTimeout: 2000,
          timeout: 5000,
        });
        try {
          const metadata = await admin.metadata({ topics: [], forceUpdate: true });
          return expectedIds.every((id) => metadata.brokers.has(id)) ? metadata : undefined;
        } finally {
          await admin.close().catch(() => undefined);
        }
      },
      {
        what: `Kafka ${broker.name} (${broker.address}) to answer metadata listing brokers ${expectedIds.join(',')}; log ${broker.logFile}`,
        timeoutMs,
        intervalMs: 1000,
        processes: [broker.process],
      },
    );
  };

  const initial = await create(options.brokers, 'broker,controller');
  brokers.push(...initial);
  quorumVoters = brokers
    .filter((b) => b.controllerPort !== undefined)
    .map((b) => `${b.id}@${b.host}:${b.controllerPort}`)
    .join(',');
  if (mode === 'kraft' && quorumVoters === '') {
    throw new InvalidInputError('brokers', options.brokers, 'at least one KRaft controller');
  }
  const servingIds = () => brokers.filter((b) => b.servesClients).map((b) => b.id);
  const runningProcesses = (list: Broker[]) => [
    ...list.filter((b) => b.running).map((b) => b.process),
    ...(ownedZooKeeper?.members.filter((m) => m.running).map((m) => m.process) ?? []),
  ];
  await killOnFailure(
    async () => {
      await Promise.all(initial.map(prepare));
      for (const broker of initial) await launch(broker);
      await Promise.all(initial.map((b) => waitServing(b, servingIds())));
    },
    () => runningProcesses(initial),
  );

  const select = (id: number | undefined): Broker[] => {
    if (id === undefined) return brokers;
    const broker = brokers.find((b) => b.id === id);
    if (!broker) throw new InvalidInputError('broker id', id, `one of ${brokers.map((b) => b.id).join(',')}`);
    return [broker];
  };
  const bootstrap = () => brokers.filter((b) => b.servesClients && b.running).map((b) => b.address);
  const admin = (clientId = 'drover-test') => new Admin({ clientId, bootstrapBrokers: bootstrap() });

  const probe = admin('drover-harness');
  const generatedId = await probe.metadata({ topics: [] }).then((m) => m.id);
  await probe.close();

  return {
    mode,
    version,
    clusterId: mode === 'kraft' ? clusterId : generatedId,
    brokers,
    zookeeperConnect,
    zookeeper,
    dir,
    startupMs: Date.now() - started,
    get bootstrap() {
      return bootstrap();
    },
    get logFiles() {
      return brokers.map((b) => b.logFile);
    },
    async addBrokers(specs) {
      const added = await create(specs, 'broker');
      brokers.push(...added);
      await killOnFailure(
        async () => {
          await Promise.all(added.map(prepare));
          for (const broker of added) await launch(broker);
          await Promise.all(added.map((b) => waitServing(b, servingIds())));
        },
        () => added.filter((b) => b.running).map((b) => b.process),
      );
      return added;
    },
    async stop(id) {
      // A whole-cluster stop cannot finish controlled shutdowns once the controllers are going away
      // (KRaft loses its quorum), so it gets a short grace before SIGKILL; one broker gets 30 s.
      const graceMs = id === undefined ? 8_000 : 30_000;
      await Promise.all(select(id).map((b) => b.process.stop('SIGTERM', graceMs)));
      if (id === undefined && ownedZooKeeper) await ownedZooKeeper.stop();
    },
    async kill(id) {
      await Promise.all(select(id).map((b) => b.process.kill()));
      if (id === undefined && ownedZooKeeper) await ownedZooKeeper.kill();
    },
    async restart(id) {
      const [broker] = select(id);
      if (!broker) return;
      if (broker.running) await broker.process.stop('SIGTERM', 30_000);
      await launch(broker);
      await waitServing(broker, [broker.id]);
    },
    admin,
  };
}
