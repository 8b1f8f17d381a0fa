// Empty destination nodes for a Kafka migration on loopback, each with its own address
// (127.0.0.<broker id>) and one Drover agent daemon that declares a ZooKeeper observer and a Kafka
// broker, both run as processes the agent supervises (argv and paths from the agent's LOCAL config).
// The agents render, start and join them when a plan says so. Also writes the cluster profile those
// brokers render from. Shared by the seven-step e2e test and the demo.
import fs from 'node:fs';
import path from 'node:path';
import { writeLogConfig } from '../harness/kafka-config.ts';
import { freePort, type ProcessHandle } from '../harness/process.ts';
import { javaBinary, KAFKA_ZK_VERSION, mavenClasspath, zookeeperJar } from '../harness/versions.ts';
import type { ZooKeeperEnsemble } from '../harness/zookeeper.ts';
import type { Fleet } from './fleet.ts';

const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];

export interface DestinationNodes {
  /** The port every destination broker listens on (each at its own address). */
  kafkaPort: number;
  /** `host:clientPort` of each node's ZooKeeper observer. */
  observers: string[];
  /** `--zookeeper-ensemble` for `drover kafka migrate`: the source voters. */
  ensemble: string;
  /** A profile file for `drover profile set`. */
  profileFile: string;
  /** `127.0.0.<id>:<port>` of each destination broker. */
  bootstrap: string[];
  /**
   * Stops the agents gracefully, which stops the engines they supervise (the observers and brokers
   * run in their own process groups, so the harness's kill at exit would not reach them).
   */
  stop(): Promise<void>;
}

export async function startDestinationNodes(
  fleet: Fleet,
  zk: ZooKeeperEnsemble,
  options: { cluster: string; chroot: string; ids: number[]; racks?: string[] },
): Promise<DestinationNodes> {
  const java = javaBinary();
  const zkClasspath = [path.join(zk.dir, 'conf'), zookeeperJar(), ...LOGGING_JARS.filter((j) => fs.existsSync(j))].join(
    ':',
  );
  const kafkaPort = await freePort();
  const logConfig = writeLogConfig(fleet.dir, 'zookeeper');
  const observers: string[] = [];
  const agents: ProcessHandle[] = [];
  for (const [i, id] of options.ids.entries()) {
    const host = `127.0.0.${id}`;
    const rack = options.racks?.[i];
    const home = path.join(fleet.dir, `node-${id}`);
    const zookeeper = {
      service: 'zookeeper',
      configFile: path.join(home, 'zk', 'zoo.cfg'),
      dataDir: path.join(home, 'zk', 'data'),
      myid: 11 + i,
      host: '127.0.0.1',
      clientPort: await freePort(),
      quorumPort: await freePort(),
      electionPort: await freePort(),
      adminPort: await freePort(),
      cliArgv: [java, '-Xmx64m', '-cp', zkClasspath, 'org.apache.zookeeper.ZooKeeperMain'],
      extraConfig: { tickTime: 1000, initLimit: 20, syncLimit: 10, skipACL: 'yes' },
    };
    observers.push(`${zookeeper.host}:${zookeeper.clientPort}`);
    const configFile = path.join(home, 'kafka', 'server.properties');
    const agent = await fleet.startAgent({
      id: `${options.cluster}-${id}`,
      labels: { cluster: options.cluster, role: 'destination', ...(rack ? { rack } : {}) },
      node: {
        zookeeper,
        kafka: {
          bootstrap: `${host}:${kafkaPort}`,
          brokerId: id,
          ...(rack ? { rack } : {}),
          host,
          logDirs: [path.join(home, 'kafka', 'data')],
          configFile,
        },
        services: {
          zookeeper: {
            manager: 'process',
            argv: [
              java,
              '-Xmx128m',
              '-XX:+UseSerialGC',
              '-cp',
              zkClasspath,
              'org.apache.zookeeper.server.quorum.QuorumPeerMain',
              zookeeper.configFile,
            ],
            logFile: path.join(home, 'zk.log'),
            readyPort: { host: '127.0.0.1', port: zookeeper.clientPort },
          },
          kafka: {
            manager: 'process',
            argv: [
              java,
              '-Xmx384m',
              '-Xms64m',
              '-XX:+UseSerialGC',
              '-XX:TieredStopAtLevel=1',
              `-Dlog4j.configuration=file:${logConfig}`,
              `-Dkafka.logs.dir=${home}`,
              '-cp',
              mavenClasspath('kafka-zk', KAFKA_ZK_VERSION),
              'kafka.Kafka',
              configFile,
            ],
            logFile: path.join(home, 'kafka.log'),
            readyPort: { host, port: kafkaPort },
            readyTimeoutMs: 120_000,
          },
        },
      },
    });
    agents.push(agent);
  }
  const profileFile = path.join(fleet.dir, `${options.cluster}.profile.yaml`);
  fs.writeFileSync(
    profileFile,
    `cluster: ${options.cluster}
listeners:
  PLAINTEXT: { protocol: PLAINTEXT, port: ${kafkaPort} }
interBrokerListener: PLAINTEXT
zookeeper: { connect: [${observers.join(', ')}], chroot: ${options.chroot} }
overrides: { offsets.topic.replication.factor: 3, zookeeper.session.timeout.ms: 18000, num.partitions: 1 }
`,
  );
  return {
    kafkaPort,
    observers,
    ensemble: zk.voters.map((v) => `${v.id}=${v.host}:${v.clientPort}:${v.quorumPort}:${v.electionPort}`).join(','),
    profileFile,
    bootstrap: options.ids.map((id) => `127.0.0.${id}:${kafkaPort}`),
    stop: async () => {
      await Promise.all(agents.map((a) => a.stop('SIGTERM', 60_000)));
    },
  };
}
