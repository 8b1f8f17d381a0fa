// Human lines for targets and jobs, used by `run`, `job describe`, `job resume` and `tail`.
import { isFinalTargetState } from '@drover/shared';
import { formatCounts, type JobSummary, type RunRecord, type TailEvent } from '../engine/index.ts';
import { renderTable } from './table.ts';

export function runLine(run: RunRecord): string {
  const took =
    run.finishedAt && run.dispatchedAt ? ` in ${((run.finishedAt - run.dispatchedAt) / 1000).toFixed(1)}s` : '';
  const detail = run.result?.error
    ? `: ${run.result.error.name}: ${run.result.error.message}`
    : run.reason
      ? `: ${run.reason}`
      : '';
  return `${run.state.padEnd(11)} ${run.agentId}${took}${detail}${run.late ? ' (late result)' : ''}`;
}

export function shouldPrint(run: RunRecord): boolean {
  return isFinalTargetState(run.state);
}

export function summaryText(summary: JobSummary): string {
  const { job, counts } = summary;
  return `job ${job.id} ${job.state}: ${formatCounts(counts)}`;
}

export function runsTable(runs: RunRecord[]): string {
  return renderTable(
    ['AGENT', 'GROUP', 'STATE', 'ORDER', 'DETAIL'],
    runs.map((r) => [
      r.agentId,
      r.group,
      r.state,
      r.order?.orderId ?? r.orderId ?? '',
      (r.result?.error?.message ?? r.reason ?? '').slice(0, 80),
    ]),
  );
}

export function tailLine(event: TailEvent): string {
  const line = tailText(event);
  // A forged or unsigned agent event is shown for what it is, never as the agent's.
  return event.unverified ? `${line}  [UNVERIFIED, not from ${event.agentId}'s key: ${event.unverified}]` : line;
}

function tailText(event: TailEvent): string {
  const time = new Date(event.at).toISOString().slice(11, 23);
  const d = event.data;
  switch (event.kind) {
    case 'job':
      return `${time} [job ${event.jobId}] ${String(d.message ?? d.type)}`;
    case 'accepted':
      return `${time} ${event.agentId} accepted ${String(d.step ?? '')}`;
    case 'progress':
      return `${time} ${event.agentId} ${typeof d.percent === 'number' ? `${Math.round(d.percent)}% ` : ''}${String(d.message ?? '')}`;
    case 'log':
      return `${time} ${event.agentId} [${String(d.stream)}] ${String(d.text ?? '').trimEnd()}`;
    case 'result': {
      const error = d.error as { name?: string; message?: string } | undefined;
      return `${time} ${event.agentId} ${String(d.status)}${error ? `: ${error.message}` : ''}${d.replayed ? ' (re-reported)' : ''}`;
    }
    default:
      return `${time} ${event.agentId} ${event.kind}`;
  }
}
