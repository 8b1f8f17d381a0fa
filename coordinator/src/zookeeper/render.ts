// What `drover zookeeper clean` and `restore` print: one line per chroot, sorted by path as the step
// returns them, no clock in it, so a dry run's output can be compared byte for byte.
import type { ZooKeeperCleanResultType, ZooKeeperRestoreResultType } from '@drover/shared';
import { renderTable } from '../cli/table.ts';

export function renderClean(result: ZooKeeperCleanResultType, agent: string): string {
  const chroots = [...result.chroots].sort((a, b) => (a.chroot < b.chroot ? -1 : a.chroot > b.chroot ? 1 : 0));
  const znodes = chroots.reduce((sum, c) => sum + c.znodes, 0);
  const bytes = chroots.reduce((sum, c) => sum + c.bytes, 0);
  const lines = [
    `server ${result.server} (agent ${agent}); /zookeeper/config lists server ${result.configMembers.join(', ')}`,
    `kept ${result.kept.chroot} (cluster ${result.kept.clusterId}) and /zookeeper`,
  ];
  if (chroots.length === 0) return [...lines, 'no other chroot: nothing to delete'].join('\n');
  const headers = ['CHROOT', 'CLUSTER ID', 'ZNODES', 'BYTES'];
  if (result.dryRun) {
    lines.push(
      renderTable(
        headers,
        chroots.map((c) => [c.chroot, c.clusterId, String(c.znodes), String(c.bytes)]),
      ),
    );
    lines.push(`dry run: would delete ${chroots.length} chroot(s), ${znodes} znodes, ${bytes} bytes`);
  } else {
    lines.push(
      renderTable(
        [...headers, 'DELETED', 'BACKUP'],
        chroots.map((c) => [
          c.chroot,
          c.clusterId,
          String(c.znodes),
          String(c.bytes),
          String(c.deleted),
          c.backup ? `${c.backup.file}${c.backup.key ? ` + ${c.backup.bucket}/${c.backup.key}` : ''}` : '-',
        ]),
      ),
    );
    lines.push(
      `deleted ${chroots.length} chroot(s): ${result.deleted} znodes in ${result.batches} multi-op(s); backups in the agent's state dir (restore: drover zookeeper restore --agent ${agent} --backup NAME)`,
    );
  }
  return lines.join('\n');
}

export function renderRestore(result: ZooKeeperRestoreResultType, agent: string): string {
  const verb = result.dryRun ? 'would create' : 'created';
  return `${result.dryRun ? 'dry run: ' : ''}${result.chroot} (cluster ${result.clusterId}) from ${result.backup} through ${result.server} (agent ${agent}): ${result.znodes} znodes, ${result.created} ${verb}, ${result.existed} already there`;
}
