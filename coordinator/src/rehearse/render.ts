// The forecast for people: a block per cluster (each phase's start and end from the fleet's start,
// its duration, the cluster's total), then the fleet's wall time, the critical path and the busiest
// links and brokers; and a small self-contained HTML timeline (no script, no network).
import { formatBytes, formatDuration } from '@drover/shared';
import type { Forecast } from './forecast.ts';

export function renderForecast(forecast: Forecast): string {
  const lines: string[] = [];
  for (const c of forecast.clusters) {
    lines.push(
      `${c.cluster} (${c.kind}, ${c.nodes} nodes, ${formatBytes(c.bytes)} moved): ${formatDuration(c.startMs)} -> ${formatDuration(c.endMs)}, total ${formatDuration(c.endMs - c.startMs)}`,
    );
    if (c.failure)
      lines.push(
        `  STOPPED in ${c.failure.phase} (${c.failure.step}): ${c.failure.reason}; rollback ${c.outcome === 'rolled-back' ? 'done' : 'FAILED'}`,
      );
    const width = Math.max(...c.phases.map((p) => p.name.length), ...c.rollback.map((p) => p.name.length + 9));
    for (const p of c.phases)
      lines.push(
        `  ${p.name.padEnd(width)}  ${formatDuration(p.startMs).padStart(12)}  ${formatDuration(p.endMs).padStart(12)}  ${formatDuration(p.endMs - p.startMs).padStart(12)}`,
      );
    for (const p of c.rollback)
      lines.push(
        `  ${`rollback ${p.name}`.padEnd(width)}  ${formatDuration(p.startMs).padStart(12)}  ${formatDuration(p.endMs).padStart(12)}  ${formatDuration(p.endMs - p.startMs).padStart(12)}`,
      );
  }
  const failed = forecast.clusters.filter((c) => c.outcome !== 'succeeded');
  lines.push('');
  if (failed.length > 0)
    lines.push(`stopped and rolled back: ${failed.map((c) => `${c.cluster} (in ${c.failure?.phase})`).join(', ')}`);
  lines.push(`fleet ${forecast.fleet}: ${forecast.clusters.length} clusters, ${forecast.nodes} nodes`);
  lines.push(`wall time: ${formatDuration(forecast.totalMs)} (${(forecast.totalMs / 86_400_000).toFixed(2)} days)`);
  lines.push(`critical path: ${forecast.criticalPath.join(' -> ')}`);
  const busy = (label: string, items: Forecast['busiestLinks']) =>
    items.length === 0
      ? `${label}: none`
      : `${label}: ${items.map((r) => `${r.name} (${formatBytes(r.bytes)}, saturated ${(r.saturatedShare * 100).toFixed(1)}% of the time)`).join('; ')}`;
  lines.push(busy('busiest links', forecast.busiestLinks));
  lines.push(busy('busiest brokers and sources', forecast.busiestBrokers));
  lines.push(`agents at once (peak): ${forecast.agentsPeak}`);
  return lines.join('\n');
}

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

// One colour per phase name for both plan kinds (14 names): Tableau 10, then 6 more, all distinct.
const COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1f3b73',
  '#8cd17d',
  '#d37295',
  '#499894',
  '#86bcb6',
  '#f1ce63',
];

/**
 * A timeline: a row per cluster, a bar per phase (its title says the phase and its times), rollbacks
 * hatched, stopped clusters marked. `back`: a link to put at the top (the live page's list).
 */
export function forecastHtml(forecast: Forecast, options: { back?: string } = {}): string {
  const total = Math.max(1, forecast.totalMs);
  const names = [...new Set(forecast.clusters.flatMap((c) => c.phases.map((p) => p.name)))];
  const colour = (name: string) => COLOURS[names.indexOf(name) % COLOURS.length];
  const rows = forecast.clusters
    .map((c) => {
      // A bar from a span's start to its end (at least a sliver), titled with what and when.
      const bar = (p: { name: string; startMs: number; endMs: number }, rollback: boolean) =>
        `<div class="bar${rollback ? ' rollback' : ''}" style="left:${((p.startMs / total) * 100).toFixed(3)}%;width:${Math.max(0.05, ((p.endMs - p.startMs) / total) * 100).toFixed(3)}%${rollback ? '' : `;background:${colour(p.name)}`}" title="${escapeHtml(`${c.cluster} ${rollback ? 'rollback of ' : ''}${p.name}: ${formatDuration(p.startMs)} -> ${formatDuration(p.endMs)}`)}"></div>`;
      const bars = c.phases
        .filter((p) => p.endMs > p.startMs)
        .map((p) => bar(p, false))
        .join('');
      const undo = c.rollback
        .filter((p) => p.endMs > p.startMs)
        .map((p) => bar(p, true))
        .join('');
      const critical = forecast.criticalPath.includes(c.cluster) ? ' critical' : '';
      const stopped = c.outcome === 'succeeded' ? '' : ' stopped';
      const why = c.failure
        ? ` title="${escapeHtml(`stopped in ${c.failure.phase}: ${c.failure.reason}; ${c.outcome}`)}"`
        : '';
      return `<div class="row${critical}${stopped}"><span class="name"${why}>${escapeHtml(c.cluster)}</span><div class="lane">${bars}${undo}</div></div>`;
    })
    .join('\n');
  const legend = names.map((n) => `<span style="background:${colour(n)}">${escapeHtml(n)}</span>`).join(' ');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Rehearsal forecast: ${escapeHtml(forecast.fleet)}</title>
<style>body{font:12px sans-serif;margin:1em}.row{display:flex;height:10px;margin:1px 0}.name{width:11em;font-size:9px}
.lane{position:relative;flex:1;background:#f4f4f4}.bar{position:absolute;top:0;bottom:0}.critical .name{font-weight:bold}
.legend span{color:#fff;padding:1px 4px;margin-right:4px}.stopped .name{color:#c00}
.rollback{background:repeating-linear-gradient(45deg,#c00 0 2px,#fff 2px 4px)}</style></head>
<body>${options.back ? `<p><a href="${escapeHtml(options.back)}">All forecasts</a></p>` : ''}<h1>${escapeHtml(forecast.fleet)}: ${formatDuration(forecast.totalMs)}</h1>
<p>${forecast.clusters.length} clusters, ${forecast.nodes} nodes; critical path (bold): ${escapeHtml(forecast.criticalPath.join(' -> '))}</p>
<p class="legend">${legend}${forecast.clusters.some((c) => c.rollback.length > 0) ? ' <span style="background:#fff;color:#c00;border:1px solid #c00">rollback: hatched red</span>' : ''}</p>
${
  forecast.clusters.some((c) => c.outcome !== 'succeeded')
    ? `<p>Stopped (red; hover for why): ${escapeHtml(
        forecast.clusters
          .filter((c) => c.outcome !== 'succeeded')
          .map((c) => `${c.cluster} in ${c.failure?.phase ?? '?'} (${c.outcome})`)
          .join(', '),
      )}</p>`
    : ''
}
${rows}
</body></html>
`;
}
