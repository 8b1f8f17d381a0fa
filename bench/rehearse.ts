// Rehearses the seed-shaped fleet (212 clusters, 2,129 nodes): generates it, plans every cluster
// with the real planners and carries the plans out on the simulated data plane: through a private
// nats-server with the real plan runner, engine and agents (the default), or with `--model` by the
// in-process model of the runner (seconds, no NATS).
// LAST line: rehearse clusters=N nodes=N wall_s=… simulated_days=… agents_peak=…
//   wall_s: real seconds for the whole rehearsal (planning + simulation) in this process;
//   simulated_days: the forecast's fleet wall time; agents_peak: most simulated agents (nodes of
//   every cluster migrating at once, ZooKeeper observers included) taking part at the same time.
// The forecast is also written as JSON and as its HTML timeline to --out (default
// test-output/rehearse/: seed-fleet.json for `drover serve --forecast`, seed-fleet.html).
// Usage: npm run bench:rehearse [-- --seed N] [--model] [--nats-server PATH] [--out DIR]. The npm script caps the heap at 900 MB: V8 otherwise
// lets garbage pile up to gigabytes before collecting; the live set (the plans of the clusters
// migrating at once) stays well under it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDuration } from '@drover/shared';
import { parseFleetText } from '../coordinator/src/rehearse/fleet-file.ts';
import { forecastFleet } from '../coordinator/src/rehearse/forecast.ts';
import { fleetYaml, generateSeedFleet } from '../coordinator/src/rehearse/generate.ts';
import { forecastHtml } from '../coordinator/src/rehearse/render.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    model: { type: 'boolean', default: false },
    'nats-server': { type: 'string' },
    out: { type: 'string', default: new URL('../test-output/rehearse/', import.meta.url).pathname },
  },
});
const started = performance.now();
const fleet = parseFleetText(fleetYaml(generateSeedFleet({ seed: Number(values.seed) })), 'seed-like fleet');
const forecast = await forecastFleet(fleet, {
  ...(values.model ? {} : { nats: values['nats-server'] ? { natsServer: values['nats-server'] } : {} }),
  onClusterEnd: (c) => {
    if (process.env.BENCH_VERBOSE)
      process.stderr.write(
        `${((performance.now() - started) / 1000).toFixed(1)} s: ${c.cluster} ${c.outcome} at ${formatDuration(c.endMs)}, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB\n`,
      );
  },
});
const wallSeconds = (performance.now() - started) / 1000;
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'seed-fleet.json'), `${JSON.stringify(forecast, null, 2)}\n`);
writeFileSync(join(values.out, 'seed-fleet.html'), forecastHtml(forecast));
// Peak resident memory of this process (planner, simulation and every plan in flight).
const rss = process.resourceUsage().maxRSS / 1024;
const longest = [...forecast.clusters].sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))[0];
process.stdout.write(
  [
    `planning ${(forecast.planningMs / 1000).toFixed(1)} s, simulation ${(forecast.simulationMs / 1000).toFixed(1)} s, peak rss ${rss.toFixed(0)} MB`,
    forecast.nats
      ? `through NATS (nats-server ${forecast.nats.natsServer}): ${forecast.nats.runs} runs, ${forecast.nats.agentsStarted} agents started, ${forecast.nats.stepsRun} simulated steps, ${forecast.nats.forcedAdvances} forced clock moves`
      : 'by the in-process model of the plan runner (--model)',
    `fleet wall time ${formatDuration(forecast.totalMs)}; longest cluster ${longest?.cluster} ${formatDuration((longest?.endMs ?? 0) - (longest?.startMs ?? 0))}`,
    `critical path (${forecast.criticalPath.length} clusters): ${forecast.criticalPath.join(' -> ')}`,
    `busiest links: ${forecast.busiestLinks.map((l) => `${l.name} ${(l.saturatedShare * 100).toFixed(1)}%`).join('; ')}`,
    `rehearse clusters=${forecast.clusters.length} nodes=${forecast.nodes} wall_s=${wallSeconds.toFixed(1)} simulated_days=${(forecast.totalMs / 86_400_000).toFixed(2)} agents_peak=${forecast.agentsPeak}`,
  ].join('\n') + '\n',
);
