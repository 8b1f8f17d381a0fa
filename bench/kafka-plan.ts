// Benchmark of the Kafka migration planner: plans a synthetic cluster of 100,000 partitions (RF 3,
// 30 source → 30 destination brokers, 3 racks, automatic placement) and one of 200,000, after a
// warm-up; reports the best of a few runs (median printed too). Last line (read by scripts):
//   kafka-plan partitions=… ms=… ms_2x=… growth=…

import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Cluster, planMigration } from '../coordinator/src/kafka/index.ts';

const SOURCE_BROKERS = 30;
const DESTINATION_BROKERS = 30;
const RACKS = 3;
const RF = 3;
const PARTITIONS_PER_TOPIC = 500;
const RUNS = 5;

// A full collection before each timed run, so no run pays for the garbage of the one before.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Deterministic sizes (a small LCG), so every run plans the same cluster. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Source replicas laid out like Kafka's rack-aware assignment: consecutive brokers, distinct racks. */
function syntheticCluster(partitions: number): Cluster {
  const random = lcg(partitions);
  const broker = (id: number, rack: number, role: 'source' | 'destination') => ({
    id,
    host: `kafka-${id}.example`,
    rack: `rack-${rack}`,
    role,
    listeners: ['PLAINTEXT'],
    bytesInPerSec: null,
    throttles: [],
  });
  const brokers = [
    ...Array.from({ length: SOURCE_BROKERS }, (_, i) => broker(i + 1, i % RACKS, 'source')),
    ...Array.from({ length: DESTINATION_BROKERS }, (_, i) => broker(101 + i, i % RACKS, 'destination')),
  ];
  const topics: Cluster['topics'] = [];
  for (let t = 0; t * PARTITIONS_PER_TOPIC < partitions; t++) {
    const name = t === 0 ? '__consumer_offsets' : `topic-${String(t).padStart(4, '0')}`;
    const count = Math.min(PARTITIONS_PER_TOPIC, partitions - t * PARTITIONS_PER_TOPIC);
    topics.push({
      name,
      internal: t === 0,
      throttles: [],
      partitions: Array.from({ length: count }, (_, p) => {
        const first = (t * 7 + p) % SOURCE_BROKERS;
        const replicas = Array.from({ length: RF }, (_, r) => ((first + r) % SOURCE_BROKERS) + 1);
        return {
          topic: name,
          partition: p,
          replicas,
          leader: replicas[0]!,
          isr: [...replicas],
          offlineReplicas: [],
          addingReplicas: [],
          removingReplicas: [],
          sizeBytes: Math.floor(random() * 10e9),
          bytesInPerSec: null,
        };
      }),
    });
  }
  return { brokers, topics, clientListeners: null };
}

/**
 * Wall times of RUNS plans after two untimed runs. The machine is shared (builds, JVMs), so the
 * best run is the figure (the cost of planning itself); the median is printed beside it.
 */
function timePlan(partitions: number): { best: number; median: number; figures: string } {
  const cluster = syntheticCluster(partitions);
  const options = { placement: { mode: 'auto' as const } };
  for (let i = 0; i < 2; i++) planMigration(cluster, options);
  const times: number[] = [];
  let figures = '';
  for (let i = 0; i < RUNS; i++) {
    collectGarbage();
    const start = performance.now();
    const plan = planMigration(cluster, options);
    times.push(performance.now() - start);
    figures = plan.phases
      .map((p) => `${p.name} ${p.summary.moves} moves/${p.summary.elections} elections/${p.summary.batches} batches`)
      .join(', ');
  }
  times.sort((a, b) => a - b);
  return { best: times[0]!, median: times[Math.floor(RUNS / 2)]!, figures };
}

// Warm-up: let the JIT settle on a smaller cluster before anything is timed.
for (let i = 0; i < 3; i++) planMigration(syntheticCluster(20_000), { placement: { mode: 'auto' } });

const one = timePlan(100_000);
const two = timePlan(200_000);
for (const [n, r] of [
  [100_000, one],
  [200_000, two],
] as const) {
  console.log(
    `${n} partitions: best ${r.best.toFixed(1)} ms, median ${r.median.toFixed(1)} ms of ${RUNS}: ${r.figures}`,
  );
}
console.log(`median growth ${(two.median / one.median).toFixed(2)}`);
console.log(
  `kafka-plan partitions=100000 ms=${Math.round(one.best)} ms_2x=${Math.round(two.best)} growth=${(two.best / one.best).toFixed(2)}`,
);
