// `drover zookeeper clean`: deletes other Kafka clusters' chroots from a destination ZooKeeper
// ensemble after its split from the source (step zookeeper.clean on ONE agent whose config declares a
// ZooKeeper server of that ensemble). The membership is given with --members: agents register host
// facts, not ZooKeeper ids, and it is the operator's statement the step checks /zookeeper/config
// against. --dry-run prints what would go; the real run backs up first (see the step).
import {
  InvalidInputError,
  ZooKeeperChrootSchema,
  ZooKeeperCleanResult,
  type ZooKeeperCleanResultType,
  zookeeperCleanStep,
} from '@drover/shared';
import { Flags } from '@oclif/core';
import { runOnAgent } from '../../cli/agent-step.ts';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { loadSigner, parseDurationMs } from '../../engine/index.ts';
import { parseMembers, renderClean } from '../../zookeeper/index.ts';

export type ZooKeeperCleanCommandResult = ZooKeeperCleanResultType & { agent: string; jobId: string };

export default class ZooKeeperClean extends DroverCommand<ZooKeeperCleanCommandResult> {
  static override summary =
    "Delete other Kafka clusters' chroots from a split-off ZooKeeper ensemble (after checks and a backup).";
  static override description =
    `Runs ${zookeeperCleanStep.name} on one agent of the destination ensemble, through its own ZooKeeper
server. Refused, with nothing deleted, while /zookeeper/config lists a server not in --members, when --keep
is missing or holds no cluster/id, or when any other top-level znode (besides /zookeeper) is not a Kafka
chroot of another cluster with no registered broker, no controller and no ephemeral znode. Before
deleting, every chroot is backed up to <stateDir>/zookeeper-backups/ on the agent (and to the customer's
bucket when the agent has one); 'drover zookeeper restore' brings one back. Deletes run bottom-up in
multi-ops; a stopped run can be started again and finishes.`;
  static override examples = [
    '<%= config.bin %> zookeeper clean --agent zk-101 --keep /kafka-a --members 101=zk101,102=zk102,103=zk103 --dry-run',
    '<%= config.bin %> zookeeper clean --agent zk-101 --keep /kafka-a --members 101=zk101:2181,102=zk102:2181,103=zk103:2181',
  ];
  static override flags = {
    ...natsFlags,
    agent: Flags.string({ required: true, summary: 'The agent (its ZooKeeper server) the cleaner works through.' }),
    keep: Flags.string({ required: true, summary: "The chroot to keep, e.g. /kafka-a (the migrated cluster's)." }),
    members: Flags.string({
      required: true,
      summary: 'Every server of the destination ensemble: ID=HOST[:CLIENT_PORT],…',
    }),
    'dry-run': Flags.boolean({ summary: 'Only print what would be deleted.', default: false }),
    'batch-max-ops': Flags.integer({ min: 1, max: 1000, summary: 'Deletes per multi-op (default 1000).' }),
    timeout: Flags.string({ default: '30m', summary: 'How long the step may run (e.g. 30m).' }),
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  };

  async run(): Promise<ZooKeeperCleanCommandResult> {
    const { flags } = await this.parse(ZooKeeperClean);
    const keep = ZooKeeperChrootSchema.safeParse(flags.keep);
    if (!keep.success) throw new InvalidInputError('--keep', flags.keep, keep.error.issues[0]?.message ?? 'a chroot');
    const members = parseMembers(flags.members);
    const timeoutMs = parseDurationMs('--timeout', flags.timeout);
    const signer = loadSigner(flags.key);
    const d = await connectFromFlags(flags);
    try {
      const me = coordinatorId();
      const { output, jobId } = await runOnAgent(d, {
        agent: flags.agent,
        step: zookeeperCleanStep.name,
        params: {
          keep: keep.data,
          members,
          dryRun: flags['dry-run'],
          ...(flags['batch-max-ops'] === undefined ? {} : { batchMaxOps: flags['batch-max-ops'] }),
        },
        result: ZooKeeperCleanResult,
        timeoutMs,
        coordinatorId: me,
        signer,
      });
      if (!this.jsonEnabled()) this.log(renderClean(output, flags.agent));
      return { ...output, agent: flags.agent, jobId };
    } finally {
      await d.close();
    }
  }
}
