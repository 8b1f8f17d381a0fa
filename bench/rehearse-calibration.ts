// The rehearsal's model against two real measurements of this repository (README, Figures): the
// Kafka migration bench (3 -> 3 brokers on loopback, 12 partitions of 25 MB with RF 3 and
// __consumer_offsets, 100MB/s throttle: `drover apply` took 14.8, 16.9 and 20.2 s in three runs)
// and the Cassandra rebuild bench (3 -> 3 nodes, 200 MiB per replica, each source capped at
// 2 MiB/s, one stream per source, 4 random tokens: the rebuild phase took 167.5 s). The same fleet
// described in a fleet file, forecast with the default costs; prints predicted beside measured.
// Figures, not a test. Usage: node bench/rehearse-calibration.ts
import { FleetSchema } from '@drover/shared';
import { forecastFleet } from '../coordinator/src/rehearse/forecast.ts';

const fleet = FleetSchema.parse({
  apiVersion: 'drover/v1',
  kind: 'Fleet',
  metadata: { name: 'calibration' },
  regions: [{ name: 'loopback', cloud: 'local' }],
  network: { defaultBandwidth: '10GB/s' },
  migration: {
    clustersAtOnce: 1,
    kafka: { throttle: '100MB/s', perBrokerMoves: 5 },
    cassandra: { streamThroughput: '2MiB/s', maxStreamsPerSource: 1 },
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
        { name: 'bench', partitions: 12, replication: 3, bytesPerPartition: '25MB' },
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
      vnodes: 4,
      keyspaces: [{ name: 'bench', replication: 3, bytesPerNode: '200MiB' }],
    },
  ],
});
const forecast = await forecastFleet(fleet);
const seconds = (cluster: string, phases: string[]) =>
  (forecast.clusters.find((c) => c.cluster === cluster)?.phases ?? [])
    .filter((p) => phases.includes(p.name))
    .reduce((s, p) => s + (p.endMs - p.startMs) / 1000, 0);
// The Kafka bench's plan has no brokers or stop-source phase (its brokers are started by the harness).
const kafka = seconds('bench', ['preflight', 'expand', 'leaders', 'shrink', 'cleanup', 'repoint-clients']);
const rebuild = seconds('rebuild', ['rebuild']);
process.stdout.write(
  `kafka-migrate apply: predicted ${kafka.toFixed(1)} s, measured 14.8 / 16.9 / 20.2 s\n` +
    `cassandra-rebuild phase: predicted ${rebuild.toFixed(1)} s, measured 167.5 s\n`,
);
