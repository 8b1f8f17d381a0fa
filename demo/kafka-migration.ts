// `npm run demo` (the README's first command): a real Kafka shared-cluster migration on loopback,
// the seed's procedure done by Drover's agents. A 3-node ZooKeeper ensemble and 3 source Kafka 3.9
// brokers holding a topic with data, each broker with its agent; 3 empty destination nodes (own
// loopback addresses) whose agents declare a ZooKeeper observer and a Kafka broker; a producer
// (acks=all, idempotent) and a consumer group running the whole time. `drover profile set` stores
// the cluster profile; `drover kafka migrate` reads the live cluster through a delegate agent and
// writes the plan; `drover apply` carries it out with live progress: the observers join the source
// ensemble and are verified in sync, the destination brokers are rendered from the profile and
// started, then expand, leaders, shrink, cleanup; it stops at the approval to repoint clients and
// `drover run approve` finishes it. Then the proof: records produced, consumed, lost, out of order,
// and where every replica and leader now is. Everything is stopped when the demo ends (--keep
// leaves it running).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KafkaAdmin } from '../agent/src/clients/kafka/index.ts';
import { createFleet, DROVER_BIN, NODE } from '../test/fleet/fleet.ts';
import { startBrokerAgents } from '../test/fleet/kafka-agents.ts';
import { startDestinationNodes } from '../test/fleet/kafka-nodes.ts';
import { KafkaWorkload } from '../test/fleet/kafka-workload.ts';
import { startLiveStatus } from '../test/fleet/serve.ts';
import { startKafka } from '../test/harness/kafka.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir, waitFor } from '../test/harness/process.ts';
import { startZooKeeper } from '../test/harness/zookeeper.ts';

const { values } = parseArgs({
  options: { keep: { type: 'boolean', default: false }, partitions: { type: 'string', default: '12' } },
});
const TOPIC = 'orders';
const started = Date.now();
const say = (text: string) => process.stdout.write(`\n=== ${text}\n`);

/** Runs the drover CLI with its output shown live; returns what it printed. */
function drover(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [DROVER_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const forward = (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.once('close', (code) => resolve({ code, output }));
  });
}

say('a local nats-server (JetStream) and a 3-node ZooKeeper ensemble on loopback');
const nats = await startNats({ servers: 1, secure: true });
const fleet = createFleet(makeTempDir('demo-kafka'), nats.urls, nats.security);
const zookeeper = await startZooKeeper({ voters: 3 });
process.stdout.write(`nats ${nats.urls[0]}; zookeeper ${zookeeper.connectString}\n`);

say('the source cluster kafka-a: 3 Kafka 3.9 brokers (ZooKeeper mode, chroot /kafka-a), topic with data');
const kafka = await startKafka({
  mode: 'zookeeper',
  zookeeper,
  chroot: '/kafka-a',
  brokers: [
    { id: 1, rack: 'a' },
    { id: 2, rack: 'b' },
    { id: 3, rack: 'c' },
  ],
  config: { 'offsets.topic.replication.factor': 3, 'offsets.topic.num.partitions': 6 },
});
const setup = kafka.admin('drover-demo');
await setup.createTopics({ topics: [TOPIC], partitions: Number(values.partitions), replicas: 3 });
await setup.close();
process.stdout.write(`brokers ${kafka.bootstrap.join(', ')}; topic ${TOPIC}: ${values.partitions} partitions, RF 3\n`);

say('clients: an idempotent producer (acks=all, keyed records with per-key sequence numbers) and a consumer group');
const workload = new KafkaWorkload({ bootstrap: kafka.bootstrap, topic: TOPIC, groupId: 'demo-consumers' });
workload.start();
await waitFor(() => workload.counts.acknowledged >= 1000, { timeoutMs: 60_000, what: 'the producer running' });
process.stdout.write(
  `${workload.counts.acknowledged} records acknowledged, ${workload.counts.consumed} consumed so far\n`,
);

say('one Drover agent per source broker; 3 empty destination nodes, each with an agent (observer + broker declared)');
await drover(['jobs', '--json'], fleet.env).then(() => undefined); // creates Drover's streams and buckets
process.stdout.write('\n');
const live = await startLiveStatus(fleet);
process.stdout.write(
  `live status (drover serve): ${live.url}?token=$(cat ${live.tokenFile})  (fleet, plan runs, per-target progress)\n`,
);
await startBrokerAgents(fleet, kafka, { cluster: 'kafka-a' });
const nodes = await startDestinationNodes(fleet, zookeeper, {
  cluster: 'kafka-a',
  chroot: '/kafka-a',
  ids: [101, 102, 103],
  racks: ['a', 'b', 'c'],
});
await drover(['agents'], fleet.env);

/** Stops what the agents started, then exits non-zero. */
async function fail(): Promise<never> {
  await nodes.stop();
  process.exit(1);
}

say('drover profile set: the cluster profile the destination brokers render their server.properties from');
await drover(['profile', 'set', '--file', nodes.profileFile], fleet.env);

say('drover kafka migrate: read the live cluster through agent kafka-a-1, plan, write the plan file');
const planFile = join(fleet.dir, 'kafka-a.plan.yaml');
const migrate = await drover(
  [
    'kafka',
    'migrate',
    '--cluster',
    'kafka-a',
    '--delegate',
    'kafka-a-1',
    '--map',
    '1=101,2=102,3=103',
    '--observers',
    'cluster=kafka-a,role=destination',
    '--zookeeper-ensemble',
    nodes.ensemble,
    '--destination-agents',
    'cluster=kafka-a,role=destination',
    '--throttle',
    '20MB/s',
    '--per-broker',
    '3',
    '-o',
    planFile,
  ],
  fleet.env,
);
if (migrate.code !== 0) await fail();
await drover(['plan', 'validate', planFile], fleet.env);

say(
  'drover apply: preflight, observers, brokers, expand, leaders, shrink, cleanup; then the approval to repoint clients',
);
const applied = await drover(['apply', planFile, '--quiet'], fleet.env);
const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(applied.output)?.[1] ?? '';
if (!runId || applied.code !== 0) await fail();

say(
  'the clients reach the destination brokers through metadata (a real fleet repoints bootstrap servers here): approve',
);
const approved = await drover(['run', 'approve', runId, '--by', 'demo', '--quiet'], fleet.env);

say('the proof');
await new Promise((resolve) => setTimeout(resolve, 2000));
await workload.stop();
const check = await workload.verify();
const admin = new KafkaAdmin({ bootstrap: [nodes.bootstrap[0] ?? ''] });
const partitions = await admin.readAssignment();
const throttles = await admin.describeThrottles();
await admin.close();
const onDestination = partitions.filter((p) => p.replicas.every((r) => r > 100) && p.leader > 100);
process.stdout.write(
  [
    `records produced ${check.produced}, acknowledged ${check.acknowledged}, consumed by the group ${check.consumedByGroup}`,
    `read back after the migration: ${check.readBack}; lost ${check.lost}; out of order ${check.reordered}; duplicated ${check.duplicated}`,
    `partitions on destination brokers only, led by a destination broker: ${onDestination.length}/${partitions.length} (internal topics included)`,
    `throttles left: ${throttles.length}`,
    '',
    'TOPIC               PART  REPLICAS       LEADER  ISR',
    ...partitions
      .filter((p) => p.topic === TOPIC || p.partition < 2)
      .map(
        (p) =>
          `${p.topic.padEnd(20)}${String(p.partition).padEnd(6)}${`[${p.replicas}]`.padEnd(15)}${String(p.leader).padEnd(8)}[${p.isr}]`,
      ),
    `(and ${partitions.length - partitions.filter((p) => p.topic === TOPIC || p.partition < 2).length} more __consumer_offsets partitions)`,
    '',
  ].join('\n'),
);
const ok =
  approved.code === 0 &&
  check.lost === 0 &&
  check.reordered === 0 &&
  onDestination.length === partitions.length &&
  throttles.length === 0;
say(`demo ${ok ? 'succeeded' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s (run ${runId})`);
if (!values.keep) await nodes.stop(); // the agents stop the observers and brokers they started
if (values.keep) {
  process.stdout.write(
    `keeping everything running (Ctrl-C to stop): set -a; . ${fleet.envFile}; set +a; npx drover runs\n`,
  );
  await new Promise(() => setInterval(() => {}, 60_000));
}
process.exit(ok ? 0 : 1);
