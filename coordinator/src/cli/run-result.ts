// The result type of `drover run` / `drover job resume` (their --json output) and the --param parser.
import { InvalidInputError } from '@drover/shared';
import type { JobSummary } from '../engine/index.ts';

export interface RunResult {
  dryRun: boolean;
  jobId: string;
  state: string;
  counts: Record<string, number>;
  targets: Array<{
    agentId: string;
    group: string;
    state: string;
    liveness?: string;
    error?: unknown;
    reason?: string;
    output?: unknown;
  }>;
}

/** `--param k=v`: the value is JSON when it parses as JSON (numbers, booleans, objects), else a string. */
export function parseParams(entries: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0)
      throw new InvalidInputError(
        '--param',
        entry,
        'KEY=VALUE (VALUE may be JSON, e.g. seconds=5 or args={"unit":"kafka"})',
      );
    const key = entry.slice(0, eq);
    const raw = entry.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {}
    const path = key.split('.');
    let node = params;
    for (const part of path.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  return params;
}

export function toResult(summary: JobSummary, dryRun = false): RunResult {
  return {
    dryRun,
    jobId: summary.job.id,
    state: summary.job.state,
    counts: summary.counts,
    targets: summary.runs.map((r) => ({
      agentId: r.agentId,
      group: r.group,
      state: r.state,
      ...(r.result?.error ? { error: r.result.error } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.result?.output !== undefined ? { output: r.result.output } : {}),
    })),
  };
}
