// The shipper's checkpoint: per file generation, how far it is confirmed in the bucket, and the piece
// being uploaded (so a restart uploads exactly that piece again, to the same key, instead of a
// differently cut one that would duplicate lines). Written atomically (temp file, fsync, rename,
// fsync of the folder) and advanced only after the bucket confirmed an upload.
import { mkdirSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FileGeneration {
  /** The source (journal, audit, service-kafka, server-log…). */
  source: string;
  /** `<first seen, base 36>-<inode>`: names the file in object keys for as long as it lives. */
  generation: string;
  dev: number;
  ino: number;
  /** Where it was last seen (a rotated file moves). */
  path: string;
  /** Bytes confirmed in the bucket, from the file's start. */
  shipped: number;
  /** The piece on its way: uploaded again, byte for byte, after a restart. */
  pending?: { start: number; end: number } | undefined;
  /** The file's size when last seen. */
  size: number;
  /** Since when unshipped data has waited (undefined while caught up). */
  behindSince?: number | undefined;
}

export interface CheckpointState {
  version: 1;
  files: FileGeneration[];
  /** Per source: bytes deleted (a rotated file removed) before they were shipped. */
  lostBytes: Record<string, number>;
}

export class Checkpoint {
  readonly path: string;
  state: CheckpointState;
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(path: string, state: CheckpointState) {
    this.path = path;
    this.state = state;
  }

  static async open(path: string): Promise<Checkpoint> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let state: CheckpointState = { version: 1, files: [], lostBytes: {} };
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as CheckpointState;
      if (parsed?.version === 1 && Array.isArray(parsed.files))
        state = { version: 1, files: parsed.files, lostBytes: parsed.lostBytes ?? {} };
    } catch (error) {
      // Missing: a first start. Unreadable (never written half: it is renamed into place) is a bug
      // worth a loud failure rather than shipping everything again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new Checkpoint(path, state);
  }

  /** Writes the state durably; resolves once it is on disk. Writes are serialized. */
  save(): Promise<void> {
    const text = `${JSON.stringify(this.state)}\n`;
    const next = this.writes.then(async () => {
      const tmp = `${this.path}.tmp`;
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
      const dir = await open(dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    });
    this.writes = next.catch(() => {});
    return next;
  }
}
