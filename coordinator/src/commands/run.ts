import { parseSelector, validateStepParams } from '@drover/shared';
import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../cli/connection.ts';
import { runLine, shouldPrint, summaryText } from '../cli/render-job.ts';
import { parseParams, type RunResult, toResult } from '../cli/run-result.ts';
import { formatLabels, renderTable } from '../cli/table.ts';
import {
  createJob,
  driveJob,
  loadSigner,
  parseCountOrPercent,
  parseDurationMs,
  prepareJob,
  retryAfterSetup,
} from '../engine/index.ts';

export default class Run extends DroverCommand<RunResult> {
  static override summary = 'Run one step on every agent a label selector matches, with rate control.';
  static override examples = [
    '<%= config.bin %> run ping --selector cluster=kafka-a',
    '<%= config.bin %> run sleep --param seconds=3 --selector "dc in (use1,usw2)" --serial-by rack --concurrency 50%',
    '<%= config.bin %> run command --param name=systemctl-status --param args.unit=kafka --selector role=broker --max-errors 1',
  ];
  static override args = {
    step: Args.string({
      required: true,
      description: 'step name (drover run --help lists the catalog: ping, facts, sleep, command, service, kafka.*)',
    }),
  };
  static override flags = {
    ...natsFlags,
    selector: Flags.string({
      char: 'l',
      summary: 'Label selector: cluster=a,role=broker / dc in (a,b) / rack!=1c.',
      default: '',
    }),
    all: Flags.boolean({
      summary: 'Target every registered agent (offline ones included) when no --selector is given.',
      default: false,
    }),
    param: Flags.string({
      char: 'p',
      summary: 'Step parameter KEY=VALUE (repeatable; VALUE may be JSON).',
      multiple: true,
      default: [],
    }),
    concurrency: Flags.string({
      summary: 'Targets with an order in flight at once: a number or a % of targets.',
      default: '100%',
    }),
    'max-errors': Flags.string({
      summary: 'Errors tolerated before dispatching stops: a number or a % of targets.',
      default: '0',
    }),
    'serial-by': Flags.string({ summary: 'Label whose values run one group after another (e.g. rack).' }),
    timeout: Flags.string({ summary: "How long a step may run once started (e.g. 30s, 5m). Default: the step's own." }),
    'delivery-timeout': Flags.string({
      summary: 'How long an order waits for an offline agent before no-response.',
      default: '5m',
    }),
    'dry-run': Flags.boolean({
      summary: 'Check everything and show the targets and groups; dispatch nothing.',
      default: false,
    }),
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only the summary.', default: false }),
  };

  async run(): Promise<RunResult> {
    const { args, flags } = await this.parse(Run);
    const options = {
      concurrency: parseCountOrPercent('--concurrency', flags.concurrency),
      maxErrors: parseCountOrPercent('--max-errors', flags['max-errors']),
      ...(flags['serial-by'] ? { serialBy: flags['serial-by'] } : {}),
      ...(flags.timeout ? { timeoutMs: parseDurationMs('--timeout', flags.timeout) } : {}),
      deliveryTimeoutMs: parseDurationMs('--delivery-timeout', flags['delivery-timeout']),
    };
    // Everything the operator typed is checked before any connection is made.
    const params = validateStepParams(args.step, parseParams(flags.param));
    parseSelector(flags.selector);
    const signer = flags['dry-run'] ? undefined : loadSigner(flags.key);
    const d = await connectFromFlags(flags);
    try {
      const me = coordinatorId();
      const prepared = await retryAfterSetup(() =>
        prepareJob(d, {
          step: args.step,
          params,
          selector: flags.selector,
          all: flags.all,
          options,
          createdBy: me,
        }),
      );
      if (flags['dry-run']) {
        const byId = new Map(prepared.targets.map((t) => [t.id, t]));
        this.log(
          `dry run: ${args.step} on ${prepared.targets.length} target(s) in ${prepared.job.groups.length} group(s); nothing dispatched`,
        );
        const rows = prepared.job.groups.flatMap((g) =>
          g.agents.map((id) => [g.key, id, byId.get(id)?.liveness ?? '', formatLabels(byId.get(id)?.labels ?? {})]),
        );
        this.log(renderTable(['GROUP', 'AGENT', 'STATUS', 'LABELS'], rows));
        return {
          dryRun: true,
          jobId: prepared.job.id,
          state: 'dry-run',
          counts: {},
          targets: prepared.job.groups.flatMap((g) =>
            g.agents.map((id) => ({
              agentId: id,
              group: g.key,
              state: 'pending',
              liveness: byId.get(id)?.liveness ?? 'unknown',
            })),
          ),
        };
      }
      const job = await createJob(d, prepared);
      this.log(
        `job ${job.id}: ${job.step} on ${prepared.targets.length} target(s) (resume with 'drover job resume ${job.id}')`,
      );
      const away = prepared.targets.filter((t) => t.liveness !== 'online');
      if (away.length > 0)
        this.log(
          `[job] ${away.length} of ${prepared.targets.length} target(s) not online (${away
            .slice(0, 5)
            .map((t) => `${t.id} ${t.liveness}`)
            .join(
              ', ',
            )}${away.length > 5 ? ', …' : ''}): their orders wait for them up to the delivery timeout, then end no-response`,
        );
      const summary = await driveJob(d, job.id, {
        coordinatorId: me,
        signer: signer!,
        onRun: (run) => {
          if (!flags.quiet && shouldPrint(run)) this.log(runLine(run));
        },
        onJobEvent: (event) => {
          if (!flags.quiet && event.type !== 'verdict') this.log(`[job] ${event.message}`);
        },
      });
      this.log(summaryText(summary));
      if (summary.job.state !== 'succeeded') process.exitCode = 1;
      return toResult(summary);
    } finally {
      await d.close();
    }
  }
}
