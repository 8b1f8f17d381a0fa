// `npm run bench:calibration`: the rehearsal's model against real migrations measured in the same
// run. It runs this repository's two migration benchmarks on real engines (loopback):
//   kafka-migrate      3 -> 3 brokers (Kafka 3.9, ZooKeeper mode), a topic of --kafka-mb MB in
//                      --partitions partitions with RF 3, --throttle: `drover apply` of the plan;
//   cassandra-rebuild  3 -> 3 nodes, --cassandra-mb MiB per replica, each source capped at
//                      --stream MiB/s, one stream per source, --tokens random tokens: the rebuild phase;
// reads the figure each prints on its LAST line (drover_s), describes the same two migrations as
// a fleet (same sizes, rates, tokens), forecasts it with the default costs, and prints predicted
// beside measured, phase by phase for Kafka. `--kafka-output FILE` / `--cassandra-output FILE` read
// a saved run of a bench (its output) instead of running it. Figures, not a test.
// LAST line: rehearse-calibration kafka_predicted_s=… kafka_measured_s=… kafka_ratio=… cassandra_predicted_s=… cassandra_measured_s=… cassandra_ratio=…
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FleetSchema } from '@drover/shared';
import { forecastFleet } from '../coordinator/src/rehearse/forecast.ts';

const { values } = parseArgs({
  options: {
    'kafka-mb': { type: 'string', default: '300' },
    partitions: { type: 'string', default: '12' },
    throttle: { type: 'string', default: '100MB/s' },
    'cassandra-mb': { type: 'string', default: '200' },
    stream: { type: 'string', default: '2' },
    tokens: { type: 'string', default: '16' },
    'kafka-output': { type: 'string' },
    'cassandra-output': { type: 'string' },
  },
});
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Each bench's output (its `phases:` line gives the measured time of every phase). */
const outputs: string[] = [];

/** Runs a bench (or reads a saved run of it), echoing its output, and returns its LAST line. */
function runBench(script: string, args: string[], saved: string | undefined): Promise<string> {
  if (saved !== undefined) {
    const out = readFileSync(saved, 'utf8');
    outputs.push(out);
    return Promise.resolve(out.trimEnd().split('\n').at(-1) ?? '');
  }
  say(`running bench/${script.slice(2)} …`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      process.stdout.write(`  | ${String(chunk).replace(/\n(?=.)/g, '\n  | ')}`);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      outputs.push(out);
      const last = out.trimEnd().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${script} exited ${code}`));
      else resolve(last);
    });
  });
}

function field(line: string, name: string, key: string): number {
  const match = new RegExp(`^${name} .*\\b${key}=([0-9.]+)`).exec(line.trim());
  if (!match) throw new Error(`expected a "${name} … ${key}=N" line, got: ${line}`);
  return Number(match[1]);
}

const kafkaLine = await runBench(
  './kafka-migrate.ts',
  ['--mb', values['kafka-mb'], '--partitions', values.partitions, '--throttle', values.throttle],
  values['kafka-output'],
);
const cassandraLine = await runBench(
  './cassandra-rebuild.ts',
  ['--mb', values['cassandra-mb'], '--throttle', values.stream, '--tokens', values.tokens],
  values['cassandra-output'],
);
const kafkaMeasured = field(kafkaLine, 'kafka-migrate', 'drover_s');
const cassandraMeasured = field(cassandraLine, 'cassandra-rebuild', 'drover_s');

const partitions = Number(values.partitions);
const fleet = FleetSchema.parse({
  apiVersion: 'drover/v1',
  kind: 'Fleet',
  metadata: { name: 'calibration' },
  regions: [{ name: 'loopback', cloud: 'local' }],
  network: { defaultBandwidth: '10GB/s' },
  migration: {
    clustersAtOnce: 1,
    kafka: { throttle: values.throttle, perBrokerMoves: 5 },
    cassandra: { streamThroughput: `${values.stream}MiB/s`, maxStreamsPerSource: 1 },
  },
  clusters: [
    {
      name: 'bench',
      kind: 'kafka',
      cloud: 'local',
      region: 'loopback',
      nodes: 3,
      size: 'loopback',
      topics: [
        {
          name: 'bench',
          partitions,
          replication: 3,
          bytesPerPartition: `${Math.round((Number(values['kafka-mb']) * 1e6) / partitions)}B`,
        },
        // The bench's cluster has __consumer_offsets with 3 partitions (kilobytes): it moves too.
        { name: '__consumer_offsets', partitions: 3, replication: 3, bytesPerPartition: '10kB' },
      ],
    },
    {
      name: 'rebuild',
      kind: 'cassandra',
      cloud: 'local',
      region: 'loopback',
      nodes: 3,
      size: 'loopback',
      vnodes: Number(values.tokens),
      keyspaces: [{ name: 'bench', replication: 3, bytesPerNode: `${values['cassandra-mb']}MiB` }],
    },
  ],
});
const forecast = await forecastFleet(fleet);
const seconds = (cluster: string, phases: string[]) =>
  (forecast.clusters.find((c) => c.cluster === cluster)?.phases ?? [])
    .filter((p) => phases.includes(p.name))
    .reduce((s, p) => s + (p.endMs - p.startMs) / 1000, 0);
// The Kafka bench's plan has no brokers or stop-source phase (the harness starts its brokers).
const kafkaPredicted = seconds('bench', ['preflight', 'expand', 'leaders', 'shrink', 'cleanup', 'repoint-clients']);
const cassandraPredicted = seconds('rebuild', ['rebuild']);
const row = (what: string, predicted: number, measured: number) =>
  `${what.padEnd(58)} ${predicted.toFixed(1).padStart(9)} s ${measured.toFixed(1).padStart(9)} s ${(measured >= 0.05 ? (predicted / measured).toFixed(2) : '-').padStart(7)}`;
say('');
say(`${'migration'.padEnd(58)} ${'predicted'.padStart(11)} ${'measured'.padStart(11)} ${'ratio'.padStart(7)}`);
say(
  row(
    `Kafka ${values['kafka-mb']} MB, ${partitions} partitions, ${values.throttle}: apply`,
    kafkaPredicted,
    kafkaMeasured,
  ),
);
// Phase by phase where the Kafka bench printed them (its run record).
const measuredPhases = new Map(
  [...(/^phases: (.*)$/m.exec(outputs.join('\n'))?.[1] ?? '').matchAll(/([a-z-]+)=([0-9.]+)/g)].map(
    (m) => [m[1] as string, Number(m[2])] as const,
  ),
);
for (const [name, measured] of measuredPhases) {
  const predicted = seconds('bench', [name]);
  say(row(`  ${name}`, predicted, measured));
}
say(
  row(
    `Cassandra ${values['cassandra-mb']} MiB/replica, ${values.stream} MiB/s, ${values.tokens} tokens: rebuild`,
    cassandraPredicted,
    cassandraMeasured,
  ),
);
say(
  `rehearse-calibration kafka_predicted_s=${kafkaPredicted.toFixed(1)} kafka_measured_s=${kafkaMeasured.toFixed(1)} kafka_ratio=${(kafkaPredicted / kafkaMeasured).toFixed(2)} cassandra_predicted_s=${cassandraPredicted.toFixed(1)} cassandra_measured_s=${cassandraMeasured.toFixed(1)} cassandra_ratio=${(cassandraPredicted / cassandraMeasured).toFixed(2)}`,
);
