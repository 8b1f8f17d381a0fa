// `npm run bench:kafka-migrate -- --mb 300`: what the safety of three phases costs in time. A Kafka
// 3.9 cluster (ZooKeeper mode) on loopback with 3 source and 3 destination brokers and a topic
// holding --mb megabytes; Drover moves every partition 1,2,3 -> 101,102,103 through its plan
// (expand, leaders, shrink, cleanup, each gated), then, in the same run, Kafka's own
// kafka-reassign-partitions tool (its class from the Kafka jars) moves them back 101,102,103 ->
// 1,2,3 in one reassignment at the same throttle, polled with --verify until done. Same bytes, same
// machine, same throttle. Figures, not a test.
// LAST line: kafka-migrate bytes=… drover_s=… krp_s=… ratio=…
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PlanRun } from '@drover/coordinator';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { KafkaAdmin } from '../agent/src/clients/kafka/index.ts';
import { createFleet } from '../test/fleet/fleet.ts';
import { connect } from '../test/fleet/jobs.ts';
import { startBrokerAgents } from '../test/fleet/kafka-agents.ts';
import { runCommand } from '../test/harness/commands.ts';
import { startKafka } from '../test/harness/kafka.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir } from '../test/harness/process.ts';
import { javaBinary, KAFKA_ZK_VERSION, mavenClasspath } from '../test/harness/versions.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '300' },
    partitions: { type: 'string', default: '12' },
    throttle: { type: 'string', default: '100MB/s' },
  },
});
const TOPIC = 'bench';
const throttleBytes = Number.parseInt(values.throttle, 10) * (values.throttle.includes('MB') ? 1_000_000 : 1);

const nats = await startNats({ servers: 1 });
const fleet = createFleet(makeTempDir('bench-kafka-migrate'), nats.urls);
await (await connect(fleet)).close();
const kafka = await startKafka({
  mode: 'zookeeper',
  brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
  heap: '512m',
  config: { 'offsets.topic.replication.factor': 3, 'offsets.topic.num.partitions': 3 },
});
const setup = kafka.admin('bench');
await setup.createTopics({ topics: [TOPIC], partitions: Number(values.partitions), replicas: 3 });
await setup.close();

process.stdout.write(`filling ${values.mb} MB… `);
const producer = new Producer({
  clientId: 'bench-fill',
  bootstrapBrokers: kafka.bootstrap,
  serializers: stringSerializers,
  acks: 1,
});
const value = 'x'.repeat(50_000);
const records = Math.ceil((Number(values.mb) * 1_000_000) / value.length);
for (let i = 0; i < records; i += 16)
  await producer.send({
    messages: Array.from({ length: Math.min(16, records - i) }, (_, j) => ({
      topic: TOPIC,
      key: `k${(i + j) % 997}`,
      value,
    })),
  });
await producer.close();
process.stdout.write('done\n');

await kafka.addBrokers([{ id: 101 }, { id: 102 }, { id: 103 }]);
await startBrokerAgents(fleet, kafka, { cluster: 'bench' });
const admin = new KafkaAdmin({ bootstrap: [kafka.brokers[0]?.address ?? ''] });
const sizes = await admin.describeLogDirs({ topics: [TOPIC] });
const bytes = sizes.filter((s) => s.broker <= 3 && !s.future).reduce((n, s) => n + s.sizeBytes, 0);

// Drover: the generated plan, every phase gated, through the CLI.
const planFile = join(fleet.dir, 'bench.plan.yaml');
const planned = await fleet.drover([
  'kafka',
  'migrate',
  '--cluster',
  'bench',
  '--delegate',
  'bench-101',
  '--map',
  '1=101,2=102,3=103',
  '--throttle',
  values.throttle,
  '-o',
  planFile,
]);
if (planned.code !== 0) throw new Error(planned.output);
const t0 = Date.now();
const applied = await fleet.drover(['apply', planFile, '--yes', '--json'], { timeoutMs: 3_600_000 });
const droverS = (Date.now() - t0) / 1000;
if (applied.code !== 0) throw new Error(applied.output);
process.stdout.write(`drover: ${droverS.toFixed(1)} s for ${(bytes / 1e6).toFixed(0)} MB (all replicas)\n`);
// Each phase's time from the run record (bench/rehearse-calibration.ts sets them beside the model's).
const run = JSON.parse(applied.stdout) as PlanRun;
process.stdout.write(
  `phases: ${run.phases.map((p) => `${p.name}=${(((p.finishedAt ?? 0) - (p.startedAt ?? 0)) / 1000).toFixed(1)}`).join(' ')}\n`,
);

// kafka-reassign-partitions: the same partitions back onto 1,2,3 in one reassignment.
const back = (await admin.readAssignment())
  .filter((p) => p.topic === TOPIC || p.topic === '__consumer_offsets')
  .map((p) => ({ topic: p.topic, partition: p.partition, replicas: p.replicas.map((r) => r - 100) }));
const json = join(fleet.dir, 'krp.json');
writeFileSync(json, JSON.stringify({ version: 1, partitions: back }));
const tool = (args: string[]) =>
  runCommand(
    javaBinary(),
    [
      '-cp',
      mavenClasspath('kafka-zk', KAFKA_ZK_VERSION),
      'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
      '--bootstrap-server',
      kafka.bootstrap[0] ?? '',
      '--reassignment-json-file',
      json,
      ...args,
    ],
    { timeoutMs: 600_000 },
  );
const t1 = Date.now();
const executed = await tool(['--execute', '--throttle', String(throttleBytes)]);
if (executed.code !== 0) throw new Error(executed.output);
for (;;) {
  const verified = await tool(['--verify']);
  if (!/is still in progress|not complete/i.test(verified.output)) break;
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
const krpS = (Date.now() - t1) / 1000;
process.stdout.write(`kafka-reassign-partitions: ${krpS.toFixed(1)} s\n`);
await admin.close();
process.stdout.write(
  `kafka-migrate bytes=${bytes} drover_s=${droverS.toFixed(1)} krp_s=${krpS.toFixed(1)} ratio=${(droverS / krpS).toFixed(2)}\n`,
);
process.exit(0);
