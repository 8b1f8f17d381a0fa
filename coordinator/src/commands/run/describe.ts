import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { finish } from '../../cli/drive-run.ts';
import { RunProgress, wantsLiveProgress, watchRun } from '../../cli/progress/index.ts';
import { tailLine } from '../../cli/render-job.ts';
import { runDescription, runEventLine } from '../../cli/render-run.ts';
import { type Drover, openRunStore, type PlanRun, type RunEvent, type RunStore, readRun } from '../../index.ts';

export default class RunDescribe extends DroverCommand<PlanRun> {
  static override summary = 'Show a plan run: every phase and step, their jobs, states and messages, approvals.';
  static override description =
    'With --watch, follow the run until it ends, pauses or waits for approval: bars per phase, step and target on a terminal, event lines otherwise; the exit code is then the one apply would give.';
  static override examples = [
    '<%= config.bin %> run describe r-20261202-131500-abcdef',
    '<%= config.bin %> run describe r-20261202-131500-abcdef --watch',
  ];
  static override args = { run: Args.string({ required: true, description: 'run id' }) };
  static override flags = {
    ...natsFlags,
    watch: Flags.boolean({
      char: 'w',
      summary: 'Follow the run until it ends, pauses or waits for approval.',
      default: false,
    }),
  };

  async run(): Promise<PlanRun> {
    const { args, flags } = await this.parse(RunDescribe);
    const d = await connectFromFlags(flags);
    try {
      const store = await openRunStore(d);
      if (!flags.watch) {
        const { run } = await readRun(store, args.run);
        this.log(runDescription(run));
        return run;
      }
      return finish(await this.watch(d, store, args.run), (line) => this.log(line));
    } finally {
      await d.close();
    }
  }

  private async watch(d: Drover, store: RunStore, runId: string): Promise<PlanRun> {
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    const live = wantsLiveProgress({ json: this.jsonEnabled() }) ? new RunProgress(d) : undefined;
    let described = false;
    try {
      return await watchRun(
        d,
        store,
        runId,
        {
          onRun: (run) => {
            if (live) {
              if (!described) {
                this.log(`run ${run.id}: plan ${run.name} from ${run.file}`);
                live.start(run);
              }
              live.dispatch({ type: 'run', run });
            } else if (!described && !this.jsonEnabled()) this.log(runDescription(run));
            described = true;
          },
          onEvent: (event) => {
            if (live) live.dispatch({ type: 'event', event });
            else if (!this.jsonEnabled())
              this.log(event.kind === 'run' ? runEventLine(event.data as unknown as RunEvent) : tailLine(event));
          },
        },
        { signal: abort.signal },
      );
    } finally {
      process.removeListener('SIGINT', onSigint);
      await live?.close();
    }
  }
}
