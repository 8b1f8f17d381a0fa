// The agent's record of a child it started, kept in its stateDir so that an agent restarted after a
// crash or upgrade finds that child again (and can stop it). The pid alone is not trusted: the
// start time from /proc/<pid>/stat must match too, or the pid now belongs to someone else.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ServiceStateFileError } from './errors.ts';

export const PidRecordSchema = z.object({
  v: z.literal(1),
  pid: z.number().int().positive(),
  /** Start time in clock ticks after boot (/proc/<pid>/stat field 22). */
  startTicks: z.number().int().nonnegative(),
  /** Epoch ms the agent started it. */
  since: z.number(),
  /** Set when the process ended without a stop() (or was stopped because it never became ready). */
  exit: z
    .object({
      exitCode: z.number().nullable(),
      signal: z.string().nullable(),
      at: z.number(),
      detail: z.string().optional(),
    })
    .optional(),
});
export type PidRecord = z.infer<typeof PidRecordSchema>;

/** The record, or undefined when there is none (the service is stopped). */
export function readPidRecord(service: string, path: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ServiceStateFileError(service, path, 'cannot be read', { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ServiceStateFileError(
      service,
      path,
      'is not valid JSON (remove it once the process is known to be gone)',
      {
        cause,
      },
    );
  }
  const parsed = PidRecordSchema.safeParse(raw);
  if (!parsed.success)
    throw new ServiceStateFileError(service, path, `has an unexpected shape: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Writes the record atomically (a crash leaves the old record or the new one, never half of one). */
export function writePidRecord(service: string, path: string, record: PidRecord): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o640 });
    renameSync(temporary, path);
  } catch (cause) {
    throw new ServiceStateFileError(service, path, 'cannot be written', { cause });
  }
}

export function removePidRecord(service: string, path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (cause) {
    throw new ServiceStateFileError(service, path, 'cannot be removed', { cause });
  }
}
