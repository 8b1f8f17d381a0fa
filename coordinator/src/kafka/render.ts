// Human rendering of a plan: one line per phase (moves, elections, bytes, batches, brokers touched),
// then the findings, errors first. Returns text; the command prints it.

import type { Finding, MigrationPlan, Severity } from './types.ts';

/** 1234567 → "1.23 MB" (decimal units, as the throttle's MB). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(2)} ${units[unit]}`;
}

/** 50000000 → "50 MB/s"; otherwise bytes/s as is. */
export function formatRate(bytesPerSec: number): string {
  return bytesPerSec % 1_000_000 === 0 ? `${bytesPerSec / 1_000_000} MB/s` : `${bytesPerSec} B/s`;
}

/** [1,2,3,5,101,102] → "1-3,5,101-102". */
export function formatBrokerIds(ids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function renderPlan(plan: MigrationPlan, maxFindings = 20): string {
  const partitions = Object.keys(plan.mapping).length;
  const o = plan.options;
  const lines = [
    `plan: ${partitions} partitions, placement ${o.placement}${o.rf === null ? '' : ` (rf ${o.rf})`}, ` +
      `${o.perBrokerMoves} moves per broker, throttle ${formatRate(o.throttleBytesPerSec)}, ${o.order}`,
    '',
  ];
  const rows = [['phase', 'moves', 'elections', 'bytes', 'batches', 'brokers touched']];
  for (const phase of plan.phases) {
    const s = phase.summary;
    const bytes =
      phase.name === 'shrink'
        ? `${formatBytes(s.bytes)} freed`
        : phase.name === 'expand'
          ? `${formatBytes(s.bytes)} copied`
          : '-';
    rows.push([
      phase.name,
      String(s.moves),
      String(s.elections),
      bytes,
      String(s.batches),
      `${s.brokersTouched.length} (${formatBrokerIds(s.brokersTouched)})`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows)
    lines.push(
      row
        .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    );
  lines.push('', renderFindings(plan.findings, maxFindings));
  return lines.join('\n');
}

export function renderFindings(findings: readonly Finding[], max: number): string {
  if (findings.length === 0) return 'findings: none';
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const sorted = [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const lines = [`findings: ${count('error')} errors, ${count('warning')} warnings, ${count('info')} info`];
  for (const f of sorted.slice(0, max)) lines.push(`  ${f.severity.padEnd(7)} ${f.subject}: ${f.message}`);
  if (sorted.length > max) lines.push(`  … ${sorted.length - max} more (see --json)`);
  return lines.join('\n');
}
