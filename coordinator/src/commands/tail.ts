import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../cli/connection.ts';
import { emptyView, type ProgressDisplay, startDisplay, viewOfJob, wantsLiveProgress } from '../cli/progress/index.ts';
import { tailLine } from '../cli/render-job.ts';
import { readJob, type TailEvent, tailEvents } from '../engine/index.ts';

export interface TailResult {
  events: TailEvent[];
}

export default class Tail extends DroverCommand<TailResult> {
  static override summary =
    "Follow live events: one job's (from its start, until it ends) or every job's (until Ctrl-C).";
  static override description =
    'On a terminal: a bar or the latest progress message per target; piped or with --json: one line per event.';
  static override examples = ['<%= config.bin %> tail', '<%= config.bin %> tail j-20261125-120000-abcdef'];
  static override args = { job: Args.string({ required: false, description: 'job id' }) };
  static override flags = {
    ...natsFlags,
    'no-logs': Flags.boolean({ summary: 'Hide step output lines.', default: false }),
  };

  async run(): Promise<TailResult> {
    const { args, flags } = await this.parse(Tail);
    const d = await connectFromFlags(flags);
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    const collected: TailEvent[] = [];
    let live: ProgressDisplay | undefined;
    try {
      if (wantsLiveProgress({ json: this.jsonEnabled() })) {
        if (args.job) {
          const { job } = await readJob(d.jobs, args.job);
          const agents = job.groups.flatMap((g) => g.agents);
          live = startDisplay(viewOfJob(job.id, job.step, agents), { layout: 'phases' });
        } else live = startDisplay(emptyView('every job (Ctrl-C to stop)'), { layout: 'single' });
      }
      for await (const event of tailEvents(d, { ...(args.job ? { jobId: args.job } : {}), signal: abort.signal })) {
        if (flags['no-logs'] && event.kind === 'log') continue;
        if (this.jsonEnabled()) collected.push(event);
        else if (live) {
          if (event.kind !== 'log' && !event.unverified) live.dispatch({ type: 'event', event });
        } else this.log(tailLine(event));
      }
      return { events: collected };
    } finally {
      process.removeListener('SIGINT', onSigint);
      await live?.close();
      await d.close();
    }
  }
}
