// What a Kafka broker of the harness is started with: server.properties (ZooKeeper mode or KRaft),
// the log4j/log4j2 config that sends everything to the broker's log file, and a KRaft cluster.id.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { KafkaBroker, KafkaMode } from './kafka.ts';

type BrokerConfigInput = Pick<KafkaBroker, 'id' | 'rack' | 'roles' | 'host' | 'port' | 'controllerPort' | 'dataDir'> & {
  name: string;
  servesClients: boolean;
};

export interface PropertiesContext {
  mode: KafkaMode;
  zookeeperConnect: string | undefined;
  quorumVoters: string;
  replicationFactor: number;
  extra: Record<string, string | number | boolean>;
}

export function brokerProperties(broker: BrokerConfigInput, context: PropertiesContext): string {
  const p: Record<string, string | number | boolean> = {};
  const plaintext = `PLAINTEXT://${broker.host}:${broker.port}`;
  if (context.mode === 'zookeeper') {
    p['broker.id'] = broker.id;
    p['zookeeper.connect'] = context.zookeeperConnect ?? '';
    p['zookeeper.session.timeout.ms'] = 18_000;
    p['zookeeper.connection.timeout.ms'] = 30_000;
    p.listeners = plaintext;
    p['advertised.listeners'] = plaintext;
  } else {
    p['node.id'] = broker.id;
    p['process.roles'] = broker.roles;
    p['controller.quorum.voters'] = context.quorumVoters;
    p['controller.listener.names'] = 'CONTROLLER';
    p['listener.security.protocol.map'] = 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT';
    const listeners: string[] = [];
    if (broker.servesClients) listeners.push(plaintext);
    if (broker.controllerPort !== undefined) listeners.push(`CONTROLLER://${broker.host}:${broker.controllerPort}`);
    p.listeners = listeners.join(',');
    if (broker.servesClients) {
      p['advertised.listeners'] = plaintext;
      p['inter.broker.listener.name'] = 'PLAINTEXT';
    }
  }
  if (broker.rack !== undefined) p['broker.rack'] = broker.rack;
  p['log.dirs'] = broker.dataDir;
  p['num.partitions'] = 1;
  p['offsets.topic.replication.factor'] = context.replicationFactor;
  p['offsets.topic.num.partitions'] = 10;
  p['transaction.state.log.replication.factor'] = context.replicationFactor;
  p['transaction.state.log.min.isr'] = 1;
  p['group.initial.rebalance.delay.ms'] = 0;
  // Small thread pools and buffers: six brokers share two cores with the rest of the test run.
  p['num.network.threads'] = 2;
  p['num.io.threads'] = 2;
  p['background.threads'] = 2;
  p['num.recovery.threads.per.data.dir'] = 1;
  p['num.replica.fetchers'] = 1;
  p['log.cleaner.threads'] = 1;
  p['log.cleaner.dedupe.buffer.size'] = 4 * 1024 * 1024;
  p['socket.send.buffer.bytes'] = 102_400;
  p['socket.receive.buffer.bytes'] = 102_400;
  Object.assign(p, context.extra);
  const lines = Object.entries(p).map(([k, v]) => `${k}=${v}`);
  return `# ${broker.name}, written by test/harness/kafka.ts\n${lines.join('\n')}\n`;
}

/**
 * A KRaft cluster.id: 16 random bytes, URL-safe base64 without padding (what `kafka-storage
 * random-uuid` prints), never starting with '-' (Kafka's own Uuid.randomUuid avoids it too):
 * `kafka-storage format -t -…` reads such an id as an option and fails, which a CI run met.
 */
export function newClusterId(): string {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function writeLogConfig(dir: string, mode: KafkaMode): string {
  if (mode === 'zookeeper') {
    const file = path.join(dir, 'log4j.properties');
    fs.writeFileSync(
      file,
      [
        '# written by test/harness/kafka.ts: everything to stdout, i.e. the broker log file',
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.org.apache.zookeeper=WARN',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.state.change.logger=INFO',
        '',
      ].join('\n'),
    );
    return file;
  }
  const file = path.join(dir, 'log4j2.properties');
  fs.writeFileSync(
    file,
    [
      '# written by test/harness/kafka.ts: everything to stdout, i.e. the broker log file',
      'status = warn',
      'appender.stdout.type = Console',
      'appender.stdout.name = STDOUT',
      'appender.stdout.layout.type = PatternLayout',
      'appender.stdout.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = info',
      'rootLogger.appenderRef.stdout.ref = STDOUT',
      'logger.request.name = kafka.request.logger',
      'logger.request.level = warn',
      '',
    ].join('\n'),
  );
  return file;
}
