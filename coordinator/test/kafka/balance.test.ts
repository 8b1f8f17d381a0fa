// Automatic placement against a brute-force reference on tiny clusters: whenever some valid
// placement has replica counts within 1 (rack rules kept), ours does; whenever the leaders can be
// levelled within our replica sets, they are; and the repair never breaks the rack rules.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { partitionsInPlanOrder, placeDestinations, resolvePlanOptions } from '../../src/kafka/index.ts';
import { type BrokerSpec, makeCluster } from './helpers.ts';

/** Every valid replica set (as sorted broker indices) for `rf` over brokers with these racks. */
function validSets(racks: string[], rf: number): number[][] {
  const rackCount = new Set(racks).size;
  const floor = Math.floor(rf / rackCount);
  const ceil = Math.ceil(rf / rackCount);
  const out: number[][] = [];
  const pick = (from: number, chosen: number[]) => {
    if (chosen.length === rf) {
      const use = new Map<string, number>();
      for (const b of chosen) use.set(racks[b]!, (use.get(racks[b]!) ?? 0) + 1);
      const ok = [...new Set(racks)].every((r) => (use.get(r) ?? 0) >= floor && (use.get(r) ?? 0) <= ceil);
      if (ok) out.push([...chosen]);
      return;
    }
    for (let b = from; b < racks.length; b++) pick(b + 1, [...chosen, b]);
  };
  pick(0, []);
  return out;
}

function spreadOf(counts: number[]): number {
  return Math.max(...counts) - Math.min(...counts);
}

/** The smallest max − min of replica counts over all valid placements. */
function bestReplicaSpread(racks: string[], rfs: number[]): number {
  const options = rfs.map((rf) => validSets(racks, rf));
  let best = Number.POSITIVE_INFINITY;
  const loads = new Array<number>(racks.length).fill(0);
  const walk = (p: number) => {
    if (p === options.length) {
      best = Math.min(best, spreadOf(loads));
      return;
    }
    for (const set of options[p]!) {
      for (const b of set) loads[b]!++;
      walk(p + 1);
      for (const b of set) loads[b]!--;
    }
  };
  walk(0);
  return best;
}

/** The smallest max − min of leader counts choosing one leader inside each given set. */
function bestLeaderSpread(sets: number[][], n: number): number {
  let best = Number.POSITIVE_INFINITY;
  const loads = new Array<number>(n).fill(0);
  const walk = (p: number) => {
    if (p === sets.length) {
      best = Math.min(best, spreadOf(loads));
      return;
    }
    for (const b of sets[p]!) {
      loads[b]!++;
      walk(p + 1);
      loads[b]!--;
    }
  };
  walk(0);
  return best;
}

test('replicas and leaders are level whenever a valid placement allows it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
      (rackList, rfList) => {
        const n = rackList.length;
        const rfs = rfList.map((rf) => Math.min(rf, n));
        const brokers: BrokerSpec[] = [
          { id: 1, role: 'source' },
          { id: 2, role: 'source' },
          { id: 3, role: 'source' },
          ...rackList.map((rack, i) => ({ id: 101 + i, rack, role: 'destination' as const })),
        ];
        const cluster = makeCluster(brokers, { t: rfs.map((rf) => [1, 2, 3].slice(0, rf)) });
        const partitions = partitionsInPlanOrder(cluster);
        const { destinations } = placeDestinations(
          cluster,
          partitions,
          resolvePlanOptions({ placement: { mode: 'auto' } }),
        );
        const racks = rackList.map((r, i) => r ?? `own-${i}`);
        const sets = destinations.map((d) => d.map((id) => id - 101));
        const valid = rfs.map((rf) => new Set(validSets(racks, rf).map((s) => s.join())));
        for (const [p, set] of sets.entries()) {
          assert.ok(valid[p]!.has([...set].sort((a, b) => a - b).join()), `set ${set} keeps the rack rules`);
        }
        const replicaLoads = new Array<number>(n).fill(0);
        const leaderLoads = new Array<number>(n).fill(0);
        for (const set of sets) {
          for (const b of set) replicaLoads[b]!++;
          leaderLoads[set[0]!]!++;
        }
        if (bestReplicaSpread(racks, rfs) <= 1) assert.ok(spreadOf(replicaLoads) <= 1, `replicas ${replicaLoads}`);
        if (bestLeaderSpread(sets, n) <= 1) assert.ok(spreadOf(leaderLoads) <= 1, `leaders ${leaderLoads}`);
      },
    ),
    { numRuns: 200 },
  );
});
