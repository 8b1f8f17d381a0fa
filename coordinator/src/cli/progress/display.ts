// The terminal display of a ProgressView with listr2: a task per phase, a subtask per step (its
// title counts finished targets, its output is a line per target with a bar), drawn in place. The
// tasks do no work: each waits until the model says its phase or step is over (or the command ends
// the display), so the run's driver stays the only thing that acts. Used only on a TTY without
// --json; listr2 leaves colour out under NO_COLOR.
import { isUnicodeSupported, Listr, type ListrTask } from 'listr2';
import { isFinalStep, type PhaseView, type ProgressAction, type ProgressView, reduce, type StepView } from './model.ts';
import { phaseTitle, stepOutput, stepTitle } from './text.ts';

export interface ProgressDisplay {
  readonly view: ProgressView;
  dispatch(action: ProgressAction): void;
  /** Ends the display: what has not finished is shown as it stands; resolves once the terminal is released. */
  close(): Promise<void>;
}

export interface DisplayOptions {
  /**
   * `phases`: a task per phase of the view as it is now (plan runs, one job); `single`: one task
   * whose output is every phase and step, for views whose jobs come and go (`tail` of every job).
   */
  layout: 'phases' | 'single';
}

type Listener = () => void;

export function startDisplay(initial: ProgressView, options: DisplayOptions): ProgressDisplay {
  let view = initial;
  let closed = false;
  const listeners = new Set<Listener>();
  const unicode = isUnicodeSupported();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  /** Calls `render` on every change; resolves when `done` holds or the display is closed. */
  const follow = (render: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = () => {
        if (render() || closed) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
    });

  const stepTask = (pi: number, si: number): ListrTask => {
    const current = (): StepView | undefined => view.phases[pi]?.steps[si];
    return {
      title: stepTitle(current() as StepView),
      rendererOptions: { persistentOutput: true, outputBar: true },
      task: async (_ctx, task) => {
        await follow(() => {
          const step = current();
          if (!step) return true;
          task.title = stepTitle(step);
          if (step.targets.length > 0 || step.total) task.output = stepOutput(step, unicode);
          return isFinalStep(step.state);
        });
        const step = current();
        if (!step || !isFinalStep(step.state)) task.skip(step ? stepTitle(step) : 'gone');
        else if (step.state !== 'succeeded') throw new Error(stepTitle(step));
      },
    };
  };

  const phaseTask = (pi: number): ListrTask => {
    const phase = view.phases[pi] as PhaseView;
    return {
      title: phaseTitle(phase, pi, view.phases.length),
      task: (_ctx, task) => {
        // The title follows the phase for the whole display (approved, failed after its steps…).
        listeners.add(() => {
          const p = view.phases[pi];
          if (p) task.title = phaseTitle(p, pi, view.phases.length);
        });
        return task.newListr(
          phase.steps.map((_s, si) => stepTask(pi, si)),
          { concurrent: false, exitOnError: false },
        );
      },
    };
  };

  const singleTask: ListrTask = {
    title: initial.title,
    rendererOptions: { persistentOutput: true, outputBar: true },
    task: async (_ctx, task) => {
      await follow(() => {
        task.output = view.phases
          .flatMap((p, pi) => [
            phaseTitle(p, pi, view.phases.length),
            ...p.steps.flatMap((s) => [`  ${stepTitle(s)}`, ...indent(stepOutput(s, unicode), '    ')]),
          ])
          .join('\n');
        return false;
      });
    },
  };

  const tasks = options.layout === 'single' ? [singleTask] : view.phases.map((_p, pi) => phaseTask(pi));
  const listr = new Listr(tasks, {
    concurrent: false,
    exitOnError: false,
    renderer: 'default',
    registerSignalListeners: false,
    rendererOptions: { collapseSubtasks: false, collapseErrors: false, formatOutput: 'truncate' },
  });
  const running = listr.run().catch(() => {
    // exitOnError is off: a failed step is drawn as failed; the command reports the outcome itself.
  });

  return {
    get view() {
      return view;
    },
    dispatch(action) {
      view = reduce(view, action);
      notify();
    },
    async close() {
      closed = true;
      notify();
      await running;
    },
  };
}

function indent(text: string, prefix: string): string[] {
  return text ? text.split('\n').map((line) => `${prefix}${line}`) : [];
}
