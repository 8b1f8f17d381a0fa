// The two files an observer join writes on the node: zoo.cfg (replaced atomically, so ZooKeeper never
// reads half of it) and dataDir/myid (written once; another id there means another server's data).
import fs from 'node:fs';
import path from 'node:path';
import { ZooKeeperMyidConflictError } from './errors.ts';

/** Writes `text` to `file` through a temporary file in the same directory and a rename. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.drover-${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, text, { mode: 0o644 });
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** Creates dataDir and its myid; true when it wrote the file, false when it held this id already. */
export function ensureMyid(dataDir: string, myid: number): boolean {
  const file = path.join(dataDir, 'myid');
  let found: string | undefined;
  try {
    found = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (found !== undefined) {
    if (found.trim() !== String(myid)) throw new ZooKeeperMyidConflictError(file, found.trim(), myid);
    return false;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  writeFileAtomic(file, `${myid}\n`);
  return true;
}
