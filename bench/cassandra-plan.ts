// Benchmark of the Cassandra consistent-rebuild planner: 2 DCs of 100 nodes x 256 vnodes (random
// tokens, as num_tokens 256 gives), 3 racks each, one keyspace at RF 3 in both; then the same with
// 200 nodes per DC. Timed: validate the topology, build the ring, place replicas, assign sources,
// build argv and order the waves (parseTopology + buildRing + planRebuild), median of 7 runs after
// warm-up, the two sizes interleaved, a full GC before each. The last line is the summary:
//   cassandra-plan ranges=… ms=… ms_2x=… growth=…     (targets: ms <= 1000, growth <= 2.2)

import v8 from 'node:v8';
import vm from 'node:vm';
import { buildRing, parseTopology, planRebuild, verifyPlan } from '../coordinator/src/cassandra/index.ts';
import type { Topology, TopologyNode } from '../coordinator/src/cassandra/types.ts';

// gc() without --expose-gc on the command line (the npm script runs plain `node`).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

const VNODES = 256;
const RACKS = 3;
const RUNS = 7;
const DCS = ['aws-use1', 'gcp-use1'];

/** splitmix64: deterministic random signed 64-bit tokens. */
function tokenSource(seed: bigint): () => bigint {
  let state = seed;
  return () => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return BigInt.asIntN(64, z ^ (z >> 31n));
  };
}

function syntheticTopology(nodesPerDc: number): Topology {
  const next = tokenSource(BigInt(nodesPerDc));
  const seen = new Set<bigint>();
  const nodes: TopologyNode[] = DCS.flatMap((dc, d) =>
    Array.from({ length: nodesPerDc }, (_, k) => {
      const tokens: string[] = [];
      while (tokens.length < VNODES) {
        const token = next();
        if (seen.has(token)) continue;
        seen.add(token);
        tokens.push(token.toString());
      }
      return { address: `10.${d}.${k >> 8}.${k & 255}`, dc, rack: `${dc}-${'abc'[k % RACKS]}`, tokens };
    }),
  );
  const replication = { class: 'NetworkTopologyStrategy', [DCS[0]!]: '3', [DCS[1]!]: '3' };
  return { partitioner: 'Murmur3Partitioner', nodes, keyspaces: [{ name: 'ks1', replication }] };
}

function plan(input: Topology) {
  const topology = parseTopology(input);
  const ring = buildRing(topology);
  return { topology, ring, plan: planRebuild(topology, ring, { sourceDc: DCS[0]!, destDc: DCS[1]! }) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Case {
  nodesPerDc: number;
  input: Topology;
  /** Wall-clock ms per run. */
  times: number[];
  /** CPU ms of the main thread per run: what the planner costs, whatever else loads the machine. */
  cpu: number[];
  last?: ReturnType<typeof plan>;
}

/**
 * One timed plan. The previous result is dropped and a full GC run first, so that a run pays for
 * its own garbage only, as `drover cassandra plan-rebuild` does in a fresh process.
 */
function timeOnce(c: Case): void {
  c.last = undefined;
  collectGarbage();
  const cpu = process.threadCpuUsage();
  const start = performance.now();
  c.last = plan(c.input);
  c.times.push(performance.now() - start);
  const used = process.threadCpuUsage(cpu);
  c.cpu.push((used.user + used.system) / 1000);
}

function report(c: Case): void {
  const { topology, ring, plan: result } = c.last!;
  const ringStart = performance.now();
  buildRing(topology);
  const ringMs = performance.now() - ringStart;
  const verifyStart = performance.now();
  const verification = verifyPlan(topology, ring, result);
  const verifyMs = performance.now() - verifyStart;
  const jsonStart = performance.now();
  const json = JSON.stringify(result);
  const jsonMs = performance.now() - jsonStart;
  const ks = result.keyspaces[0]!;
  const assignments = ks.rebuilds.reduce((sum, r) => sum + r.ranges.length, 0);
  console.log(
    `  ${c.nodesPerDc} nodes/DC: ${ring.size} ranges, plan ${median(c.times).toFixed(0)} ms (runs ` +
      `${c.times.map((t) => t.toFixed(0)).join('/')}; main-thread CPU ${median(c.cpu).toFixed(0)} ms; ring alone ` +
      `${ringMs.toFixed(0)} ms), ${ks.rebuilds.length} ` +
      `rebuilds of ${assignments} ranges in ${result.order.length} waves; verify ${verifyMs.toFixed(0)} ms ` +
      `(${verification.ok ? 'OK' : 'BROKEN'}); JSON ${(json.length / 1e6).toFixed(1)} MB in ${jsonMs.toFixed(0)} ms`,
  );
  if (!verification.ok) throw new Error(`plan does not verify: ${verification.violations[0]?.message}`);
}

console.log(`cassandra-plan: 2 DCs, ${VNODES} vnodes/node, ${RACKS} racks/DC, RF 3 in both, median of ${RUNS}`);
// Warm-up: let V8 optimise the hot loops before anything is timed.
for (let i = 0; i < 3; i++) plan(syntheticTopology(20));
const base: Case = { nodesPerDc: 100, input: syntheticTopology(100), times: [], cpu: [] };
const doubled: Case = { nodesPerDc: 200, input: syntheticTopology(200), times: [], cpu: [] };
plan(base.input);
plan(doubled.input);
// Interleaved, so that both sizes see the same load from whatever else runs on the machine.
for (let run = 0; run < RUNS; run++) {
  timeOnce(base);
  timeOnce(doubled);
}
report(base);
report(doubled);
const ms = median(base.times);
const ms2x = median(doubled.times);
const cpuGrowth = median(doubled.cpu) / median(base.cpu);
console.log(`  growth by main-thread CPU time: ${cpuGrowth.toFixed(2)} (by wall clock on the last line)`);
console.log(
  `cassandra-plan ranges=${base.last!.ring.size} ms=${ms.toFixed(1)} ms_2x=${ms2x.toFixed(1)} growth=${(ms2x / ms).toFixed(2)}`,
);
