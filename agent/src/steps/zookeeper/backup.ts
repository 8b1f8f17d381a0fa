// The chroot cleaner's backups: every znode of a chroot about to be deleted (path, data as base64,
// ACL, the stat fields worth keeping) in one JSON file under `<stateDir>/zookeeper-backups/`, written
// atomically (temporary file, fsync, rename, fsync of the directory), 0600 since znode data may hold
// secrets. `zookeeper.restore` reads one back by NAME only (validated by ZOOKEEPER_BACKUP_NAME): no
// path from the wire reaches the file system, and the content is checked again before it is used.
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, ZOOKEEPER_BACKUP_NAME, ZooKeeperChrootSchema } from '@drover/shared';
import { z } from 'zod';
import type { ZnodeRecord } from './tree.ts';

export const BACKUP_DIR = 'zookeeper-backups';
export const BACKUP_FORMAT = 'drover.zookeeper-backup/1';

const ZnodePath = z
  .string()
  .regex(/^(\/[^/\0]+)+$/, 'an absolute znode path')
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'a path without "." or ".." segments');

export const BackupSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    chroot: ZooKeeperChrootSchema,
    clusterId: z.string(),
    takenAt: z.string(),
    /** host:clientPort the znodes were read from, and the agent that read them. */
    server: z.string(),
    agentId: z.string(),
    /** Top-down: every parent before its children. */
    znodes: z.array(
      z
        .object({
          path: ZnodePath,
          data: z.base64(),
          acl: z
            .array(z.object({ perms: z.number().int().min(1).max(31), scheme: z.string().min(1), id: z.string() }))
            .min(1),
          stat: z.object({
            version: z.number(),
            cversion: z.number(),
            aversion: z.number(),
            dataLength: z.number(),
            numChildren: z.number(),
            ephemeralOwner: z.literal('0'),
            ctimeMs: z.number(),
            mtimeMs: z.number(),
          }),
        })
        .strict(),
    ),
  })
  .strict()
  .superRefine((backup, ctx) => {
    for (const [i, z] of backup.znodes.entries())
      if (z.path !== backup.chroot && !z.path.startsWith(`${backup.chroot}/`))
        ctx.addIssue({ code: 'custom', path: ['znodes', i, 'path'], message: `a path under ${backup.chroot}` });
  });
export type Backup = z.infer<typeof BackupSchema>;

/** `kafka-b-20261203T041502123Z.json`: the chroot's name and the UTC time, to the millisecond. */
export function backupName(chroot: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  const name = `${chroot.slice(1)}-${stamp}.json`;
  if (!ZOOKEEPER_BACKUP_NAME.test(name)) throw new InvalidInputError('chroot', chroot, 'a chroot a backup can name');
  return name;
}

export function makeBackup(
  records: readonly ZnodeRecord[],
  meta: { chroot: string; clusterId: string; takenAt: Date; server: string; agentId: string },
): Backup {
  return {
    format: BACKUP_FORMAT,
    chroot: meta.chroot,
    clusterId: meta.clusterId,
    takenAt: meta.takenAt.toISOString(),
    server: meta.server,
    agentId: meta.agentId,
    znodes: records.map((r) => ({
      path: r.path,
      data: r.data.toString('base64'),
      acl: r.acl.map((a) => ({ perms: a.perms, scheme: a.scheme, id: a.id })),
      stat: { ...r.stat, ephemeralOwner: '0' as const },
    })),
  };
}

export const backupBytes = (backup: Backup): Uint8Array => Buffer.from(`${JSON.stringify(backup, null, 1)}\n`);

/** Writes `<stateDir>/zookeeper-backups/<name>` atomically; returns its path relative to stateDir. */
export async function writeBackupFile(stateDir: string, name: string, bytes: Uint8Array): Promise<string> {
  if (!ZOOKEEPER_BACKUP_NAME.test(name)) throw new InvalidInputError('backup', name, 'a backup file name');
  const dir = path.join(stateDir, BACKUP_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, name);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return path.join(BACKUP_DIR, name);
}

/** Reads and checks a backup by name; a name not found is refused with the names there are. */
export async function readBackupFile(stateDir: string, name: string): Promise<Backup> {
  if (!ZOOKEEPER_BACKUP_NAME.test(name) || name.includes('..'))
    throw new InvalidInputError('params.backup', name, 'a backup file name');
  const dir = path.join(stateDir, BACKUP_DIR);
  let text: string;
  try {
    text = await readFile(path.join(dir, name), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const names = await readdir(dir).catch(() => [] as string[]);
    const there = names.filter((n) => ZOOKEEPER_BACKUP_NAME.test(n)).sort();
    throw new InvalidInputError(
      'params.backup',
      name,
      `a backup in ${BACKUP_DIR}/ of this agent's state dir (${there.length > 0 ? there.join(', ') : 'there is none'})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${BACKUP_DIR}/${name}`, text.slice(0, 40), 'a JSON backup file', { cause: error });
  }
  const checked = BackupSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new InvalidInputError(
      `${BACKUP_DIR}/${name}: ${issue?.path.join('.') ?? ''}`,
      '(file content)',
      issue?.message ?? 'a zookeeper.clean backup',
    );
  }
  return checked.data;
}
