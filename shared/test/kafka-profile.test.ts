// Kafka cluster profiles: what a profile may say (and the node-owned keys it may not), and the
// server.properties a broker renders from it plus its own facts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaProfileSchema, renderBrokerProperties } from '@drover/shared';

const profile = KafkaProfileSchema.parse({
  cluster: 'kafka-a',
  listeners: {
    INTERNAL: { protocol: 'PLAINTEXT', port: 9091 },
    CLIENTS: { protocol: 'SASL_SSL', port: 9094, bind: '0.0.0.0' },
  },
  interBrokerListener: 'INTERNAL',
  zookeeper: { connect: ['zk-1:2181', 'zk-2:2181'], chroot: '/kafka-a' },
  overrides: { 'num.partitions': 6, 'auto.leader.rebalance.enable': false },
});

test('a broker renders the custom listener map, ZooKeeper chroot and overrides with its own facts', () => {
  const text = renderBrokerProperties(profile, {
    brokerId: 101,
    rack: 'euw1a',
    host: 'kafka-101.new',
    logDirs: ['/d1', '/d2'],
  });
  assert.equal(
    text,
    [
      '# Rendered by drover kafka.broker-configure from profile kafka.kafka-a; do not edit by hand.',
      'broker.id=101',
      'broker.rack=euw1a',
      'log.dirs=/d1,/d2',
      'listeners=CLIENTS://0.0.0.0:9094,INTERNAL://kafka-101.new:9091',
      'advertised.listeners=CLIENTS://kafka-101.new:9094,INTERNAL://kafka-101.new:9091',
      'listener.security.protocol.map=CLIENTS:SASL_SSL,INTERNAL:PLAINTEXT',
      'inter.broker.listener.name=INTERNAL',
      'zookeeper.connect=zk-1:2181,zk-2:2181/kafka-a',
      'auto.leader.rebalance.enable=false',
      'num.partitions=6',
      '',
    ].join('\n'),
  );
});

test('a profile cannot override what the node owns, and its inter-broker listener must exist', () => {
  const bad = KafkaProfileSchema.safeParse({
    cluster: 'kafka-a',
    listeners: { A: { protocol: 'PLAINTEXT', port: 1 }, B: { protocol: 'PLAINTEXT', port: 1 } },
    interBrokerListener: 'C',
    overrides: { 'broker.id': 7, 'log.dirs': '/tmp' },
  });
  assert.equal(bad.success, false);
  const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
  assert.ok(
    messages.some((m) => /^interBrokerListener: one of the profile's listeners \(A, B\)/.test(m)),
    messages.join('\n'),
  );
  assert.ok(messages.some((m) => /^listeners: a distinct port per listener/.test(m)));
  assert.ok(messages.some((m) => /^overrides\.broker\.id: not broker\.id/.test(m)));
  assert.ok(messages.some((m) => /^overrides\.log\.dirs: not log\.dirs/.test(m)));
});

test('a node host that is not a host name is refused before anything is rendered', () => {
  assert.throws(
    () => renderBrokerProperties(profile, { brokerId: 1, host: 'evil\nzookeeper.connect=x', logDirs: ['/d'] }),
    /kafka\.host: got .*expected a host name or address/,
  );
});
