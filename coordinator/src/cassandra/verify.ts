// The plan verifier: recomputes placement from the topology and checks every invariant a rebuild
// plan must keep, whoever wrote it. Invariants, per keyspace and range:
//   covered-once   each destination-DC replica of each range appears exactly once, in a rebuild or
//                  in atRisk;
//   source-replica every rebuild's source is a source-DC replica of each of its ranges, and the node
//                  a destination-DC replica of them; each range is one whole ring range (nodetool
//                  rejects ranges spanning a ring token); the argv is the one nodetool needs;
//   at-risk        an at-risk entry has its cause: the destination down, no source replica, or a
//                  source replica down;
//   distinct       destinations of a range copy distinct sources unless every up source replica of
//                  the range is already copied (the source RF does not allow more);
//   order          every rebuild appears exactly once in the waves, a node at most once per wave,
//                  a source at most maxStreamsPerSource times per wave.

import { InvalidInputError } from '@drover/shared';
import { rebuildArgv } from './nodetool.ts';
import { type DcReplicas, type Placement, placeReplicas } from './placement.ts';
import { parseReplication, placementKey } from './replication.ts';
import { positionsByToken, type Ring, rangeAt } from './ring.ts';
import type { RebuildPlan, TokenRange, Topology } from './types.ts';

export type Invariant =
  | 'known-names'
  | 'covered-once'
  | 'source-replica'
  | 'node-replica'
  | 'whole-ring-range'
  | 'argv'
  | 'up-nodes'
  | 'distinct-sources'
  | 'at-risk-justified'
  | 'order';

export interface Violation {
  invariant: Invariant;
  keyspace?: string;
  node?: string;
  range?: TokenRange;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Total number of violations found (only the first `maxViolations` are listed). */
  violationCount: number;
  violations: Violation[];
  checked: { keyspaces: number; rebuilds: number; replicaRanges: number; waves: number };
}

export interface VerifyOptions {
  /** Violations listed in the result; the count covers all. @default 1000 */
  maxViolations?: number;
}

/** Checks `plan` against `topology`; never throws for a wrong plan, only reports. */
export function verifyPlan(
  topology: Topology,
  ring: Ring,
  plan: RebuildPlan,
  options: VerifyOptions = {},
): VerifyResult {
  const max = options.maxViolations ?? 1000;
  const violations: Violation[] = [];
  let violationCount = 0;
  const report = (v: Violation) => {
    violationCount++;
    if (violations.length < max) violations.push(v);
  };
  const checked = { keyspaces: 0, rebuilds: 0, replicaRanges: 0, waves: plan.order.length };
  const result = () => ({ ok: violationCount === 0, violationCount, violations, checked });

  const sourceDc = ring.dcId.get(plan.sourceDc);
  const destDc = ring.dcId.get(plan.destDc);
  for (const [role, dc, id] of [
    ['sourceDc', plan.sourceDc, sourceDc] as const,
    ['destDc', plan.destDc, destDc] as const,
  ]) {
    if (id === undefined) report({ invariant: 'known-names', message: `${role} ${dc} is not a DC of the topology` });
  }
  if (sourceDc === undefined || destDc === undefined) return result();
  if (sourceDc === destDc) report({ invariant: 'known-names', message: 'sourceDc and destDc are the same DC' });

  const isDown = new Uint8Array(ring.nodes.length);
  for (const address of plan.down) {
    const id = ring.nodeId.get(address);
    if (id === undefined)
      report({ invariant: 'known-names', node: address, message: `down node ${address} is unknown` });
    else isDown[id] = 1;
  }
  const positions = positionsByToken(ring);
  const placements = new Map<string, Placement>();
  const seenKeyspaces = new Set<string>();
  for (const keyspace of plan.keyspaces) {
    const ks = keyspace.name;
    const definition = topology.keyspaces.find((k) => k.name === ks);
    if (definition === undefined || seenKeyspaces.has(ks)) {
      const why = definition === undefined ? 'is not in the topology' : 'appears twice in the plan';
      report({ invariant: 'known-names', keyspace: ks, message: `keyspace ${ks} ${why}` });
      continue;
    }
    seenKeyspaces.add(ks);
    checked.keyspaces++;
    const strategy = parseReplication(`keyspaces[${ks}].replication`, definition.replication);
    const key = placementKey(strategy);
    let placement = placements.get(key);
    if (placement === undefined) {
      placement = placeReplicas(ring, strategy);
      placements.set(key, placement);
    }
    const src = placement.byDc[sourceDc];
    const dst = placement.byDc[destDc];
    const width = dst?.width ?? 0;
    const covered = new Int32Array(ring.size * width);
    const copies = new Int32Array(ring.size * width).fill(-1);

    // Marks (node, range) as covered; returns the destination slot index or -1.
    const cover = (address: string, range: TokenRange, what: string): [position: number, slot: number] => {
      const where = () => `${ks}: ${what} (${range[0]},${range[1]}] on ${address}`;
      const position = positions.get(range[1]);
      if (position === undefined || ring.tokens[position === 0 ? ring.size - 1 : position - 1] !== range[0]) {
        const message = `${where()} is not one ring range (nodetool accepts only ranges inside one owned range)`;
        report({ invariant: 'whole-ring-range', keyspace: ks, node: address, range, message });
        return [-1, -1];
      }
      const node = ring.nodeId.get(address) ?? -1;
      const slot = indexIn(dst, position, node);
      if (slot === -1) {
        const message = `${where()}: ${address} is not a replica of this range in ${plan.destDc}`;
        report({ invariant: 'node-replica', keyspace: ks, node: address, range, message });
        return [position, -1];
      }
      covered[position * width + slot] = covered[position * width + slot]! + 1;
      return [position, slot];
    };

    for (const rebuild of keyspace.rebuilds) {
      checked.rebuilds++;
      const node = ring.nodeId.get(rebuild.node);
      const source = ring.nodeId.get(rebuild.source);
      const who = `${ks}: rebuild on ${rebuild.node} from ${rebuild.source}`;
      if (node === undefined || ring.nodeDc[node] !== destDc) {
        const message = `${who}: ${rebuild.node} is not a node of ${plan.destDc}`;
        report({ invariant: 'known-names', keyspace: ks, node: rebuild.node, message });
        continue;
      }
      if (source === undefined || ring.nodeDc[source] !== sourceDc) {
        const message = `${who}: ${rebuild.source} is not a node of ${plan.sourceDc}`;
        report({ invariant: 'known-names', keyspace: ks, node: rebuild.node, message });
        continue;
      }
      for (const address of [rebuild.node, rebuild.source]) {
        if (isDown[ring.nodeId.get(address)!]) {
          report({ invariant: 'up-nodes', keyspace: ks, node: rebuild.node, message: `${who}: ${address} is down` });
        }
      }
      checkArgv(ks, rebuild.ranges, rebuild.source, plan.sourceDc, rebuild.argv, (message) =>
        report({ invariant: 'argv', keyspace: ks, node: rebuild.node, message: `${who}: ${message}` }),
      );
      for (const range of rebuild.ranges) {
        const [position, slot] = cover(rebuild.node, range, 'rebuild of');
        if (position === -1) continue;
        if (indexIn(src, position, source) === -1) {
          const message = `${who}: ${rebuild.source} is not a replica of (${range[0]},${range[1]}] in ${plan.sourceDc}`;
          report({ invariant: 'source-replica', keyspace: ks, node: rebuild.node, range, message });
        }
        if (slot !== -1) copies[position * width + slot] = source;
      }
    }
    for (const risk of keyspace.atRisk) {
      const [position, slot] = cover(risk.node, risk.range, 'at-risk range');
      if (slot === -1) continue;
      const sources = sourcesOf(src, position);
      const justified =
        risk.kind === 'destination-down'
          ? isDown[ring.nodeId.get(risk.node)!] === 1
          : risk.kind === 'no-source-replica'
            ? sources.length === 0
            : sources.some((s) => isDown[s]);
      if (!justified) {
        const message = `${ks}: (${risk.range[0]},${risk.range[1]}] on ${risk.node} is listed at risk (${risk.kind}) without cause`;
        report({ invariant: 'at-risk-justified', keyspace: ks, node: risk.node, range: risk.range, message });
      }
    }

    const used: number[] = [];
    for (let position = 0; position < ring.size; position++) {
      const [base, count] = view(dst, position);
      if (count === 0) continue;
      checked.replicaRanges += count;
      used.length = 0;
      for (let j = 0; j < count; j++) {
        const times = covered[position * width + j]!;
        if (times !== 1) {
          const range = rangeAt(ring, position);
          const address = ring.nodes[dst!.replicas[base + j]!]!.address;
          const message = `${ks}: (${range[0]},${range[1]}] on ${address} is covered ${times} times, not once`;
          report({ invariant: 'covered-once', keyspace: ks, node: address, range, message });
        }
        const from = copies[position * width + j]!;
        if (from !== -1) used.push(from);
      }
      if (hasRepeat(used)) {
        const up = sourcesOf(src, position).filter((s) => !isDown[s]);
        checkDistinct(ring, ks, rangeAt(ring, position), used, up, report);
      }
    }
  }
  checkOrder(plan, report);
  return result();
}

function view(d: DcReplicas | undefined, position: number): [base: number, count: number] {
  if (d === undefined) return [0, 0];
  const slot = d.slotOf[position]!;
  return [slot * d.width, d.counts === undefined ? d.width : d.counts[slot]!];
}

function sourcesOf(d: DcReplicas | undefined, position: number): number[] {
  const [base, count] = view(d, position);
  return d === undefined ? [] : Array.from(d.replicas.subarray(base, base + count));
}

function indexIn(d: DcReplicas | undefined, position: number, node: number | undefined): number {
  const [base, count] = view(d, position);
  for (let j = 0; d !== undefined && j < count; j++) if (d.replicas[base + j] === node) return j;
  return -1;
}

function checkArgv(
  keyspace: string,
  ranges: readonly TokenRange[],
  source: string,
  sourceDc: string,
  argv: readonly string[],
  fail: (message: string) => void,
): void {
  if (ranges.length === 0) {
    fail('no ranges (-s is ignored without -ts)');
    return;
  }
  let expected: string[];
  try {
    expected = rebuildArgv(keyspace, ranges, source, sourceDc);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    fail(error.message);
    return;
  }
  const i = expected.findIndex((arg, k) => argv[k] !== arg);
  if (i !== -1) {
    const got = argv[i];
    // Show the neighbourhood of the first differing character: -ts values are long.
    let c = 0;
    while (got !== undefined && c < got.length && got[c] === expected[i]![c]) c++;
    const around = (text: string) => JSON.stringify(`${c > 30 ? '…' : ''}${text.slice(Math.max(0, c - 30), c + 30)}`);
    fail(`argv[${i}] is ${got === undefined ? 'missing' : around(got)}, expected ${around(expected[i]!)}`);
  } else if (argv.length !== expected.length) {
    fail(
      `argv has ${argv.length} arguments, expected ${expected.length}: ${JSON.stringify(expected.slice(5))} at the end`,
    );
  }
  if ((expected[4]?.length ?? 0) > 131_072) fail('-ts is longer than the 128 KiB Linux allows for one argument');
}

function hasRepeat(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) for (let j = 0; j < i; j++) if (values[i] === values[j]) return true;
  return false;
}

function checkDistinct(
  ring: Ring,
  keyspace: string,
  range: TokenRange,
  used: readonly number[],
  upSources: readonly number[],
  report: (v: Violation) => void,
): void {
  const distinct = new Set(used);
  if (distinct.size === used.length) return;
  const idle = upSources.filter((s) => !distinct.has(s));
  if (idle.length === 0) return;
  const twice = used.find((s, i) => used.indexOf(s) !== i)!;
  const name = (id: number) => ring.nodes[id]!.address;
  report({
    invariant: 'distinct-sources',
    keyspace,
    range,
    message:
      `${keyspace}: (${range[0]},${range[1]}]: ${name(twice)} feeds several destination replicas while ` +
      `up source replica(s) ${idle.map(name).join(', ')} feed none`,
  });
}

function checkOrder(plan: RebuildPlan, report: (v: Violation) => void): void {
  const key = (node: string, keyspace: string, source: string, part: number | undefined) =>
    JSON.stringify([node, keyspace, source, part ?? null]);
  const pending = new Map<string, number>();
  for (const keyspace of plan.keyspaces) {
    for (const r of keyspace.rebuilds) {
      const k = key(r.node, keyspace.name, r.source, r.part);
      pending.set(k, (pending.get(k) ?? 0) + 1);
    }
  }
  plan.order.forEach((wave, w) => {
    const nodes = new Set<string>();
    const streams = new Map<string, number>();
    for (const item of wave) {
      const what = `wave ${w + 1}: ${item.keyspace} on ${item.node} from ${item.source}`;
      const k = key(item.node, item.keyspace, item.source, item.part);
      const left = pending.get(k);
      if (left === undefined || left === 0) {
        const why = left === undefined ? 'matches no rebuild of the plan' : 'is ordered more than once';
        report({ invariant: 'order', keyspace: item.keyspace, node: item.node, message: `${what} ${why}` });
      } else {
        pending.set(k, left - 1);
      }
      if (nodes.has(item.node)) {
        const message = `${what}: ${item.node} already runs a rebuild in this wave`;
        report({ invariant: 'order', keyspace: item.keyspace, node: item.node, message });
      }
      nodes.add(item.node);
      const count = (streams.get(item.source) ?? 0) + 1;
      streams.set(item.source, count);
      if (count === plan.maxStreamsPerSource + 1) {
        const message = `${what}: ${item.source} feeds more than ${plan.maxStreamsPerSource} rebuilds in this wave`;
        report({ invariant: 'order', keyspace: item.keyspace, node: item.node, message });
      }
    }
  });
  for (const [k, left] of pending) {
    if (left === 0) continue;
    const [node, keyspace, source] = JSON.parse(k) as [string, string, string];
    report({ invariant: 'order', keyspace, node, message: `${keyspace} on ${node} from ${source} is in no wave` });
  }
}
