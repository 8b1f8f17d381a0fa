import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { summaryText } from '../../cli/render-job.ts';
import { driveJob, loadSigner, readJob, requestCancel } from '../../engine/index.ts';

export interface JobCancelResult {
  jobId: string;
  state: string;
  /** Whether this command finished the cancel itself (no live coordinator was driving the job). */
  drovenHere: boolean;
}

export default class JobCancel extends DroverCommand<JobCancelResult> {
  static override summary =
    'Cancel a job: nothing more is dispatched, queued orders are withdrawn, running ones asked to stop.';
  static override examples = ['<%= config.bin %> job cancel j-20261125-120000-abcdef'];
  static override args = { id: Args.string({ required: true, description: 'job id' }) };
  static override flags = {
    ...natsFlags,
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  };

  async run(): Promise<JobCancelResult> {
    const { args, flags } = await this.parse(JobCancel);
    const d = await connectFromFlags(flags);
    try {
      const { job } = await requestCancel(d.jobs, args.id);
      if (job.state !== 'running') {
        this.log(`job ${job.id} already ${job.state}`);
        return { jobId: job.id, state: job.state, drovenHere: false };
      }
      const current = await readJob(d.jobs, args.id);
      if (current.job.owner && (current.job.leaseUntil ?? 0) > Date.now()) {
        this.log(
          `cancel requested; ${current.job.owner} is driving the job and will stop it (follow with 'drover tail ${job.id}')`,
        );
        return { jobId: job.id, state: 'cancel-requested', drovenHere: false };
      }
      // Nobody drives it: finish the cancellation here.
      const summary = await driveJob(d, job.id, { coordinatorId: coordinatorId(), signer: loadSigner(flags.key) });
      this.log(summaryText(summary));
      return { jobId: job.id, state: summary.job.state, drovenHere: true };
    } finally {
      await d.close();
    }
  }
}
