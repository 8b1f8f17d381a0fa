// Human renderings of a rebuild plan and of a verification (the --json output is the objects).

import { compareNatural } from './ring.ts';
import type { RebuildPlan } from './types.ts';
import type { VerifyResult } from './verify.ts';

/** Left-aligned text table; numbers are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c]?.length ?? 0)));
  return cells
    .map((row, r) =>
      row
        .map((cell, c) =>
          r > 0 && typeof rows[r - 1]?.[c] === 'number' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

interface NodeLine {
  keyspaces: Set<string>;
  ranges: number;
  sources: Set<string>;
  rebuilds: number;
  firstWave: number;
  lastWave: number;
  atRisk: number;
}

/**
 * What every destination node needs before the first rebuild: the plan runs several rebuilds of one
 * keyspace on a node (one per source), which Cassandra aborts without it (CASSANDRA-17679).
 */
export const RESUME_REQUIREMENT =
  'Requires -Dcassandra.reset_bootstrap_progress=false on every destination node (cassandra.node-prepare sets it): ' +
  'without it the second rebuild of a keyspace on a node aborts with "Discovered existing bootstrap data".';

/** Summary, findings, per-keyspace and per-node tables (ranges, sources, estimated waves). */
export function renderPlan(plan: RebuildPlan, rackOf: (address: string) => string = () => ''): string {
  const lines: string[] = [];
  const rebuilds = plan.keyspaces.reduce((sum, k) => sum + k.rebuilds.length, 0);
  lines.push(
    `Rebuild ${plan.destDc} from ${plan.sourceDc}: ${plan.keyspaces.length} keyspace(s), ${rebuilds} rebuild(s) in ` +
      `${plan.order.length} wave(s) (one rebuild per node at a time, at most ${plan.maxStreamsPerSource} per source)`,
  );
  if (plan.down.length > 0) lines.push(`Down: ${plan.down.join(', ')}`);
  lines.push(RESUME_REQUIREMENT);
  for (const f of plan.findings) lines.push(`[${f.severity}] ${f.message}`);

  lines.push('', 'Keyspaces:');
  lines.push(
    table(
      ['KEYSPACE', 'STRATEGY', 'REPLICAS', 'REBUILDS', 'RANGES', 'AT RISK', 'UNCOPIED'],
      plan.keyspaces.map((k) => [
        k.name,
        k.strategy,
        `${k.sourceReplicas} -> ${k.destReplicas}`,
        k.rebuilds.length,
        k.rebuilds.reduce((sum, r) => sum + r.ranges.length, 0),
        k.atRisk.length,
        k.uncopied.reduce((sum, u) => sum + u.ranges.length, 0),
      ]),
    ),
  );

  const nodes = new Map<string, NodeLine>();
  const line = (node: string) => {
    let entry = nodes.get(node);
    if (entry === undefined) {
      entry = {
        keyspaces: new Set(),
        ranges: 0,
        sources: new Set(),
        rebuilds: 0,
        firstWave: 0,
        lastWave: 0,
        atRisk: 0,
      };
      nodes.set(node, entry);
    }
    return entry;
  };
  for (const k of plan.keyspaces) {
    for (const r of k.rebuilds) {
      const entry = line(r.node);
      entry.keyspaces.add(k.name);
      entry.ranges += r.ranges.length;
      entry.sources.add(r.source);
      entry.rebuilds++;
    }
    for (const risk of k.atRisk) line(risk.node).atRisk++;
  }
  plan.order.forEach((wave, w) => {
    for (const item of wave) {
      const entry = line(item.node);
      if (entry.firstWave === 0) entry.firstWave = w + 1;
      entry.lastWave = w + 1;
    }
  });
  lines.push('', 'Nodes (estimated order: the waves each node rebuilds in):');
  lines.push(
    table(
      ['NODE', 'RACK', 'KEYSPACES', 'RANGES', 'SOURCES', 'REBUILDS', 'WAVES', 'AT RISK'],
      [...nodes]
        .sort(([a], [b]) => compareNatural(a, b))
        .map(([node, e]) => [
          node,
          rackOf(node),
          e.keyspaces.size,
          e.ranges,
          e.sources.size,
          e.rebuilds,
          e.firstWave === 0 ? '-' : `${e.firstWave}-${e.lastWave}`,
          e.atRisk,
        ]),
    ),
  );
  return lines.join('\n');
}

/** "plan OK" with what was checked, or the violations (the first `limit`). */
export function renderVerification(result: VerifyResult, limit = 50): string {
  const { keyspaces, rebuilds, replicaRanges, waves } = result.checked;
  const checked = `${keyspaces} keyspace(s), ${rebuilds} rebuild(s), ${replicaRanges} replica range(s), ${waves} wave(s)`;
  if (result.ok) return `plan OK: every invariant holds (checked ${checked})\n${RESUME_REQUIREMENT}`;
  const lines = [`plan BROKEN: ${result.violationCount} violation(s) (checked ${checked})`];
  for (const v of result.violations.slice(0, limit)) lines.push(`  - [${v.invariant}] ${v.message}`);
  if (result.violationCount > limit) lines.push(`  … and ${result.violationCount - limit} more (--json lists them)`);
  lines.push(RESUME_REQUIREMENT);
  return lines.join('\n');
}
