// The text of the progress display: task titles and one line per target with a bar when the agent
// reports a percent. Pure (the listr2 display only places these strings), so tests can read them.
import { isFinalStep, isFinalTarget, type PhaseView, type StepView, type TargetView } from './model.ts';

const BAR_WIDTH = 20;

/** `[██████░░░░░░░░░░░░░░]  30%`; plain `#`/`-` where the terminal has no Unicode. */
export function bar(percent: number, unicode = true): string {
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * BAR_WIDTH);
  const [full, empty] = unicode ? ['█', '░'] : ['#', '-'];
  return `[${full.repeat(filled)}${empty.repeat(BAR_WIDTH - filled)}] ${String(Math.round(percent)).padStart(3)}%`;
}

export function targetLine(t: TargetView, idWidth: number, unicode = true): string {
  const head = `${t.agentId.padEnd(idWidth)}  ${t.state.padEnd(11)}`;
  const showBar = t.percent !== undefined && (!isFinalTarget(t.state) || t.state === 'succeeded');
  const detail = [showBar ? bar(t.percent as number, unicode) : '', t.message ?? ''].filter(Boolean).join(' ');
  return detail ? `${head} ${detail}` : head.trimEnd();
}

/** Every target of a step, one line each; the queued ones the driver counted but nobody has seen yet summed. */
export function stepOutput(step: StepView, unicode = true): string {
  const width = Math.max(0, ...step.targets.map((t) => t.agentId.length));
  const lines = step.targets.map((t) => targetLine(t, width, unicode));
  const unseen = (step.total ?? 0) - step.targets.length;
  if (unseen > 0) lines.push(`${unseen} more queued`);
  return lines.join('\n');
}

export function stepTitle(step: StepView): string {
  const kind = step.kind === 'step' ? '' : `${step.kind} `;
  const total = Math.max(step.total ?? 0, step.targets.length);
  const done = step.targets.filter((t) => isFinalTarget(t.state)).length;
  const counts = total > 0 ? ` ${done}/${total}` : '';
  const state = isFinalStep(step.state) || step.state === 'pending' ? ` ${step.state}` : '';
  return `${kind}${step.name}${counts}${state}${step.jobId ? ` (job ${step.jobId})` : ''}`;
}

export function phaseTitle(phase: PhaseView, index: number, count: number): string {
  return `phase ${index + 1}/${count} ${phase.name}: ${phase.state}`;
}
