// Rehearsal forecasts on the live page (`drover serve --forecast FILE`): the JSON that `drover
// rehearse run --json` writes, checked against the forecast's shape when serve starts (every
// problem with file, line, column and field, and nothing served until the files are good), then
// shown as the rehearsal's HTML timeline at /forecasts/NAME (NAME: the file's name without .json),
// listed at /forecasts, and as JSON at /api/forecasts/NAME. Read from local files: serve stays a
// read-only NATS identity.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { formatDuration, InvalidInputError } from '@drover/shared';
import { z } from 'zod';
import { parseYamlFile, YamlFileError } from '../files/yaml.ts';
import type { Forecast } from '../rehearse/forecast.ts';
import { escapeHtml, forecastHtml } from '../rehearse/render.ts';

const Span = z.object({ name: z.string(), startMs: z.number().min(0), endMs: z.number().min(0) });
const Busy = z.object({ name: z.string(), bytes: z.number(), saturatedShare: z.number() });

/** What the page reads of a forecast (other fields are kept as they are). */
export const ForecastFileSchema = z.looseObject({
  fleet: z.string().min(1),
  clusters: z.array(
    z.looseObject({
      cluster: z.string().min(1),
      kind: z.enum(['kafka', 'cassandra']),
      nodes: z.number().int().min(0),
      agents: z.number().int().min(0),
      bytes: z.number().min(0),
      startMs: z.number().min(0),
      endMs: z.number().min(0),
      outcome: z.enum(['succeeded', 'rolled-back', 'rollback-failed']),
      failure: z.object({ phase: z.string(), step: z.string(), reason: z.string() }).optional(),
      phases: z.array(Span),
      rollback: z.array(Span),
      after: z.string().nullable(),
      planningMs: z.number(),
    }),
  ),
  totalMs: z.number().min(0),
  criticalPath: z.array(z.string()),
  busiestLinks: z.array(Busy),
  busiestBrokers: z.array(Busy),
  agentsPeak: z.number().int().min(0),
  nodes: z.number().int().min(0),
  planningMs: z.number(),
  simulationMs: z.number(),
  through: z.enum(['model', 'nats']),
});

export interface ServedForecast {
  name: string;
  file: string;
  forecast: Forecast;
  /** The timeline page, rendered once. */
  html: string;
}

/** A forecast file's problems. */
export class ForecastFileError extends YamlFileError {
  constructor(file: string, problems: InvalidInputError[]) {
    super(file, problems);
    this.name = 'ForecastFileError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Reads and checks every file; throws on the first bad one, naming it (nothing is served then). */
export function loadForecasts(files: readonly string[]): Map<string, ServedForecast> {
  const served = new Map<string, ServedForecast>();
  for (const file of files) {
    const name = basename(file).replace(/\.json$/, '');
    if (!NAME.test(name))
      throw new InvalidInputError(
        '--forecast',
        file,
        'a file named with letters, digits, ".", "_" or "-" (its name, without .json, is its address)',
      );
    const other = served.get(name);
    if (other)
      throw new InvalidInputError(
        '--forecast',
        file,
        `a file name not already served (${other.file} is /forecasts/${name})`,
      );
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new InvalidInputError('--forecast', file, `a readable forecast file (${(cause as Error).message})`);
    }
    const forecast = parseYamlFile(text, file, ForecastFileSchema, (f, problems) => new ForecastFileError(f, problems))
      .value as unknown as Forecast;
    served.set(name, { name, file, forecast, html: forecastHtml(forecast, { back: '/forecasts' }) });
  }
  return served;
}

/** The list at /forecasts. */
export function forecastsIndexHtml(forecasts: ReadonlyMap<string, ServedForecast>): string {
  const rows = [...forecasts.values()]
    .map(({ name, forecast: f }) => {
      const stopped = f.clusters.filter((c) => c.outcome !== 'succeeded').length;
      return `<tr><td><a href="/forecasts/${encodeURIComponent(name)}">${escapeHtml(name)}</a></td><td>${escapeHtml(f.fleet)}</td><td>${f.clusters.length}</td><td>${f.nodes}</td><td>${escapeHtml(formatDuration(f.totalMs))}</td><td>${stopped}</td><td>${f.through}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drover — rehearsal forecasts</title>
<style>body{font:13px sans-serif;margin:1em}td,th{padding:2px 8px;text-align:left}</style></head>
<body><p><a href="/">Live page</a></p><h1>Rehearsal forecasts</h1>
${
  forecasts.size === 0
    ? '<p>None served. Start <code>drover serve --forecast FILE</code> with the JSON of <code>drover rehearse run FLEET --json</code>.</p>'
    : `<table><tr><th>Forecast</th><th>Fleet</th><th>Clusters</th><th>Nodes</th><th>Wall time</th><th>Stopped</th><th>Through</th></tr>\n${rows}</table>`
}
</body></html>
`;
}
