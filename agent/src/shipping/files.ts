// What an agent ships and how a file is cut into objects. A source is a live file plus, optionally,
// its rotated siblings (`server.log.1`, `server.log.2026-12-03-04`…). Files are followed by inode:
// a rotation renames the live file, so its generation keeps its key prefix and offset under its new
// name, and the new live file is a new generation shipped from byte 0.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AgentConfig } from '@drover/shared';

export interface FileSource {
  name: string;
  /** The live file. */
  path: string;
  /** Rotated siblings: file names in the live file's folder matching this. */
  rotated?: RegExp | undefined;
}

/** The sources of an agent's config: journal, audit records, service logs, and `shipping.files`. */
export function fileSources(config: AgentConfig): FileSource[] {
  const shipping = config.shipping;
  const sources: FileSource[] = [];
  if (shipping?.journal !== false) sources.push({ name: 'journal', path: join(config.stateDir, 'journal.jsonl') });
  if (shipping?.audit !== false) sources.push({ name: 'audit', path: join(config.stateDir, 'audit.jsonl') });
  if (shipping?.services !== false)
    for (const [name, service] of Object.entries(config.services ?? {})) {
      const logFile =
        service.logFile ??
        (service.manager === 'process' ? join(config.stateDir, 'services', `${name}.log`) : undefined);
      if (logFile) sources.push({ name: `service-${name}`, path: logFile });
    }
  for (const [name, file] of Object.entries(shipping?.files ?? {}))
    sources.push({ name, path: file.path, rotated: file.rotated ? namePattern(file.rotated) : undefined });
  return sources;
}

/** A file-name pattern with "*" and "?" wildcards as an anchored regex (nothing else is special). */
export function namePattern(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

export interface FoundFile {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  live: boolean;
}

/** The source's files that exist now: rotated ones (oldest first), then the live one. */
export async function findFiles(source: FileSource): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const look = async (path: string, live: boolean) => {
    try {
      const s = await stat(path);
      if (s.isFile()) found.push({ path, dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, live });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  };
  if (source.rotated) {
    let names: string[] = [];
    try {
      names = await readdir(dirname(source.path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const live = basename(source.path);
    for (const name of names.sort())
      if (name !== live && source.rotated.test(name)) await look(join(dirname(source.path), name), false);
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
  }
  await look(source.path, true);
  // The same inode under two names (a hard link, or a rename seen mid-way) is one file.
  const seen = new Set<string>();
  return found.filter((f) => {
    const id = `${f.dev}:${f.ino}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * The next piece of a file to upload, from `start`: at most `max` bytes, cut after the last complete
 * line unless the file is finished (rotated away) or a single line is longer than `max`. Undefined
 * when there is nothing (or only a line still being written) to ship.
 */
export async function nextPiece(
  path: string,
  start: number,
  size: number,
  max: number,
  finished: boolean,
): Promise<{ start: number; end: number; body: Buffer } | undefined> {
  if (size <= start) return undefined;
  const want = Math.min(max, size - start);
  const body = await readRange(path, start, start + want);
  if (body.length === 0) return undefined;
  let length = body.length;
  const reachesEnd = start + body.length >= size;
  if (!(finished && reachesEnd)) {
    const lastNewline = body.lastIndexOf(0x0a);
    if (lastNewline >= 0) length = lastNewline + 1;
    else if (body.length < max) return undefined; // a line still being written
  }
  return { start, end: start + length, body: body.subarray(0, length) };
}

/** Bytes [start, end) of a file (fewer if it is shorter now). */
export async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buffer.subarray(0, read);
  } finally {
    await handle.close();
  }
}
