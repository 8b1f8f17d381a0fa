// Human lines for plan runs, used by `apply`, `runs`, `run describe|approve|resume|cancel|rollback`.
import type { PlanRun, PlanShow, RunEvent } from '../index.ts';
import { ago, renderTable } from './table.ts';

export function runEventLine(event: RunEvent): string {
  const time = new Date(event.at).toISOString().slice(11, 19);
  return `${time} [run${event.phase ? ` ${event.phase}` : ''}] ${event.message}`;
}

export function runsTable(runs: PlanRun[], now = Date.now()): string {
  return renderTable(
    ['RUN', 'PLAN', 'CLUSTER', 'STATE', 'PHASE', 'CREATED', 'DRIVEN BY'],
    runs.map((r) => [
      r.id,
      r.name,
      r.cluster ?? '',
      r.state,
      `${Math.min(r.phase + 1, r.phases.length)}/${r.phases.length} ${r.phases[r.phase]?.name ?? ''}`,
      ago(r.createdAt, now),
      r.owner && (r.leaseUntil ?? 0) > now ? r.owner : '',
    ]),
  );
}

export function runDescription(run: PlanRun): string {
  const lines = [
    `run ${run.id}: plan ${run.name}${run.cluster ? ` (cluster ${run.cluster})` : ''} from ${run.file}`,
    `state ${run.state} at phase ${run.phase + 1}/${run.phases.length} ${run.phases[run.phase]?.name ?? ''}${run.until ? `, until ${run.until}` : ''}`,
    ...(run.message ? [`message: ${run.message}`] : []),
    `created ${new Date(run.createdAt).toISOString()} by ${run.createdBy}; plan sha256 ${run.digest.slice(0, 16)}`,
    '',
  ];
  const rows: string[][] = [];
  for (const [pi, phase] of run.phases.entries()) {
    const approval = phase.approvedAt ? `approved by ${phase.approvedBy}` : '';
    rows.push([`${pi + 1}. ${phase.name}`, '', phase.state, '', approval]);
    for (const step of [...phase.steps, ...phase.rollback]) {
      if (step.kind === 'rollback' && step.state === 'pending') continue;
      rows.push([
        '',
        `${step.kind === 'step' ? '' : `${step.kind} `}${step.name}`,
        step.state,
        step.jobId ?? '',
        (step.message ?? '').slice(0, 100),
      ]);
    }
  }
  lines.push(renderTable(['PHASE', 'STEP', 'STATE', 'JOB', 'DETAIL'], rows));
  return lines.join('\n');
}

export function planShowText(shown: PlanShow): string {
  const lines = [`plan ${shown.name}: dry run, nothing dispatched`];
  for (const [pi, phase] of shown.phases.entries()) {
    lines.push(
      '',
      `phase ${pi + 1}/${shown.phases.length} ${phase.name}${phase.approval ? ' (waits for approval)' : ''}`,
    );
    for (const order of phase.orders) {
      const opts = order.options;
      const optText = [
        `concurrency ${'count' in opts.concurrency ? opts.concurrency.count : `${opts.concurrency.percent}%`}`,
        `maxErrors ${'count' in opts.maxErrors ? opts.maxErrors.count : `${opts.maxErrors.percent}%`}`,
        ...(opts.serialBy ? [`serialBy ${opts.serialBy}`] : []),
        ...(opts.timeoutMs ? [`timeout ${opts.timeoutMs / 1000}s`] : []),
      ].join(', ');
      lines.push(
        `  ${order.kind} ${order.name}: ${order.step} ${JSON.stringify(order.params)} -> ${order.targets.length} target(s) [${order.target}] (${optText})`,
      );
      if (order.expect) lines.push(`    expect ${JSON.stringify(order.expect)}`);
      if (order.targets.length > 0) lines.push(`    targets: ${order.targets.map((t) => t.id).join(', ')}`);
      if (order.offline.length > 0) lines.push(`    offline or stale (orders would wait): ${order.offline.join(', ')}`);
      if (order.missing.length > 0) lines.push(`    MISSING (not registered): ${order.missing.join(', ')}`);
    }
  }
  lines.push(
    '',
    shown.problems.length ? `problems:\n${shown.problems.map((p) => `  - ${p.message}`).join('\n')}` : 'no problems',
  );
  return lines.join('\n');
}
