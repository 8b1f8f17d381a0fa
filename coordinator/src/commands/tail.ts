import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../cli/connection.ts';
import { tailLine } from '../cli/render-job.ts';
import { type TailEvent, tailEvents } from '../engine/index.ts';

export interface TailResult {
  events: TailEvent[];
}

export default class Tail extends DroverCommand<TailResult> {
  static override summary =
    "Follow live events: one job's (from its start, until it ends) or every job's (until Ctrl-C).";
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
    try {
      for await (const event of tailEvents(d, { ...(args.job ? { jobId: args.job } : {}), signal: abort.signal })) {
        if (flags['no-logs'] && event.kind === 'log') continue;
        if (this.jsonEnabled()) collected.push(event);
        else this.log(tailLine(event));
      }
      return { events: collected };
    } finally {
      process.removeListener('SIGINT', onSigint);
      await d.close();
    }
  }
}
