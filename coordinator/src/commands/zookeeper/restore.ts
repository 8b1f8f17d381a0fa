// `drover zookeeper restore`: recreates a chroot deleted by `drover zookeeper clean` from its backup on
// the agent that took it (step zookeeper.restore). The backup is a file NAME in that agent's
// <stateDir>/zookeeper-backups/ (as the clean printed it), never a path.
import {
  InvalidInputError,
  ZooKeeperBackupNameSchema,
  ZooKeeperRestoreResult,
  type ZooKeeperRestoreResultType,
  zookeeperRestoreStep,
} from '@drover/shared';
import { Flags } from '@oclif/core';
import { runOnAgent } from '../../cli/agent-step.ts';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { loadSigner, parseDurationMs } from '../../engine/index.ts';
import { renderRestore } from '../../zookeeper/index.ts';

export type ZooKeeperRestoreCommandResult = ZooKeeperRestoreResultType & { agent: string; jobId: string };

export default class ZooKeeperRestore extends DroverCommand<ZooKeeperRestoreCommandResult> {
  static override summary = 'Recreate a chroot from a zookeeper clean backup (data and ACLs; existing znodes kept).';
  static override description =
    `Runs ${zookeeperRestoreStep.name} on the agent that took the backup: its znodes are created top-down
through the agent's own ZooKeeper server with their data and ACLs; znodes that exist are left as they are.`;
  static override examples = [
    '<%= config.bin %> zookeeper restore --agent zk-101 --backup kafka-b-20261203T041502123Z.json',
  ];
  static override flags = {
    ...natsFlags,
    agent: Flags.string({ required: true, summary: 'The agent that took the backup.' }),
    backup: Flags.string({ required: true, summary: "The backup's file name (in the agent's zookeeper-backups/)." }),
    'dry-run': Flags.boolean({ summary: 'Only count what would be created.', default: false }),
    timeout: Flags.string({ default: '30m', summary: 'How long the step may run (e.g. 30m).' }),
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  };

  async run(): Promise<ZooKeeperRestoreCommandResult> {
    const { flags } = await this.parse(ZooKeeperRestore);
    const backup = ZooKeeperBackupNameSchema.safeParse(flags.backup);
    if (!backup.success)
      throw new InvalidInputError('--backup', flags.backup, backup.error.issues[0]?.message ?? 'a backup file name');
    const timeoutMs = parseDurationMs('--timeout', flags.timeout);
    const signer = loadSigner(flags.key);
    const d = await connectFromFlags(flags);
    try {
      const me = coordinatorId();
      const { output, jobId } = await runOnAgent(d, {
        agent: flags.agent,
        step: zookeeperRestoreStep.name,
        params: { backup: backup.data, dryRun: flags['dry-run'] },
        result: ZooKeeperRestoreResult,
        timeoutMs,
        coordinatorId: me,
        signer,
      });
      if (!this.jsonEnabled()) this.log(renderRestore(output, flags.agent));
      return { ...output, agent: flags.agent, jobId };
    } finally {
      await d.close();
    }
  }
}
