// The agent's local journal: the ground truth of what this agent ran. A `start` line is on disk
// (fdatasync) before a step runs and an `end` line before its result is published, so a redelivered
// or replayed order is recognised and never run twice, even after kill -9 or a NATS data loss.
// It also holds what replaced the work-queue ack (issue 12): the stream sequence up to which this
// agent has taken its orders (`cursor`, read back from there after a gap), cancels of orders it had
// not started (`cancel`: such an order never starts), and which results NATS has acknowledged
// (`reported`, not fsync'd: a lost one only means the result is published once more).
import { mkdirSync } from 'node:fs';
import { type FileHandle, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { OrderResult } from '@drover/shared';

export interface JournalEntry {
  orderId: string;
  jobId: string;
  step: string;
  startedAt: number;
  expiresAt: number;
  result?: OrderResult;
  /** The stream acknowledged the result (or this journal was written before that was recorded). */
  reported?: boolean;
}

/** An order cancelled before this agent started it: if it arrives later, it is refused, never run. */
export interface CancelEntry {
  orderId: string;
  jobId: string;
  at: number;
  reason: string;
}

type JournalLine =
  | { t: 'start'; orderId: string; jobId: string; step: string; at: number; expiresAt: number }
  | { t: 'end'; orderId: string; result: OrderResult }
  | { t: 'reported'; orderId: string }
  | { t: 'cancel'; orderId: string; jobId: string; at: number; reason: string }
  | { t: 'cursor'; seq: number };

/** Entries are kept this long after their order's expiry (a replay after expiry is refused anyway). */
const RETAIN_AFTER_EXPIRY_MS = 7 * 24 * 3600 * 1000;
/** Cancels are kept as long as the orders stream keeps an order (8 days), and a day more. */
const RETAIN_CANCEL_MS = 9 * 24 * 3600 * 1000;

export class Journal {
  readonly path: string;
  private readonly entries = new Map<string, JournalEntry>();
  private readonly cancels = new Map<string, CancelEntry>();
  private cursorSeq = 0;
  private handle: FileHandle | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  /** Told how long each append's fdatasync took (the agent's metrics); nothing by default. */
  onDatasync: (durationMs: number) => void = () => {};

  private constructor(path: string) {
    this.path = path;
  }

  static async open(stateDir: string, now = Date.now()): Promise<Journal> {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const journal = new Journal(join(stateDir, 'journal.jsonl'));
    await journal.load(now);
    journal.handle = await open(journal.path, 'a', 0o600);
    // A newly created file is durable only once its directory entry is: fsync the directory too.
    await syncDirectory(stateDir);
    return journal;
  }

  get(orderId: string): JournalEntry | undefined {
    return this.entries.get(orderId);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cancel of an order this agent had not started, if it was told of one. */
  cancelOf(orderId: string): CancelEntry | undefined {
    return this.cancels.get(orderId);
  }

  /** Every order this journal holds, in the order they started. */
  all(): JournalEntry[] {
    return [...this.entries.values()];
  }

  /** Every cancel of an order not started. */
  allCancels(): CancelEntry[] {
    return [...this.cancels.values()];
  }

  /** Orders started and never finished: a crash or kill interrupted them. */
  unfinished(): JournalEntry[] {
    return [...this.entries.values()].filter((e) => !e.result);
  }

  /** Orders finished whose result the stream has not (as far as this journal knows) acknowledged. */
  unreported(): JournalEntry[] {
    return [...this.entries.values()].filter((e) => e.result && !e.reported);
  }

  /** The stream sequence up to which every order on this agent's subject has been taken (0: none). */
  get cursor(): number {
    return this.cursorSeq;
  }

  /** Records that a step is about to run; resolves once the line is on disk. */
  begin(entry: Omit<JournalEntry, 'result'>): Promise<void> {
    this.entries.set(entry.orderId, { ...entry });
    return this.append({
      t: 'start',
      orderId: entry.orderId,
      jobId: entry.jobId,
      step: entry.step,
      at: entry.startedAt,
      expiresAt: entry.expiresAt,
    });
  }

  /** Records an order's outcome; resolves once the line is on disk. */
  finish(result: OrderResult): Promise<void> {
    const entry = this.entries.get(result.orderId);
    if (entry) entry.result = result;
    return this.append({ t: 'end', orderId: result.orderId, result });
  }

  /** Records that NATS acknowledged an order's result. Not fsync'd: losing it costs one re-publish. */
  markReported(orderId: string): Promise<void> {
    const entry = this.entries.get(orderId);
    if (!entry || entry.reported) return Promise.resolve();
    entry.reported = true;
    return this.append({ t: 'reported', orderId }, { sync: false });
  }

  /** Records a cancel of an order not started here; resolves once the line is on disk. */
  cancel(entry: CancelEntry): Promise<void> {
    this.cancels.set(entry.orderId, { ...entry });
    return this.append({ t: 'cancel', ...entry });
  }

  /**
   * Moves the cursor (on disk before it resolves). Only forward, except to 0, which says the stream
   * was made again and its sequences restarted.
   */
  advanceCursor(seq: number): Promise<void> {
    if (seq === this.cursorSeq || (seq < this.cursorSeq && seq !== 0)) return Promise.resolve();
    this.cursorSeq = seq;
    return this.append({ t: 'cursor', seq });
  }

  async close(): Promise<void> {
    await this.writes;
    await this.handle?.close();
    this.handle = undefined;
  }

  private append(line: JournalLine, options: { sync?: boolean } = {}): Promise<void> {
    const text = `${JSON.stringify(line)}\n`;
    const next = this.writes.then(async () => {
      if (!this.handle) throw new Error(`journal ${this.path} is closed`);
      await this.handle.appendFile(text);
      if (options.sync === false) return;
      const started = performance.now();
      await this.handle.datasync();
      this.onDatasync(performance.now() - started);
    });
    this.writes = next.catch(() => {});
    return next;
  }

  /** Reads the file, tolerating a torn last line (a crash mid-write), and drops entries past retention. */
  private async load(now: number): Promise<void> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let dropped = 0;
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      let line: JournalLine;
      try {
        line = JSON.parse(raw) as JournalLine;
      } catch {
        dropped++;
        continue;
      }
      // Any JSON value can sit on a line (`null`, a number, a torn object): only well-formed
      // records count; the rest is dropped at the next rewrite.
      if (!isJournalLine(line)) {
        dropped++;
        continue;
      }
      if (line.t === 'start') {
        this.entries.set(line.orderId, {
          orderId: line.orderId,
          jobId: line.jobId,
          step: line.step,
          startedAt: line.at,
          expiresAt: line.expiresAt,
        });
      } else if (line.t === 'end') {
        const entry = this.entries.get(line.orderId);
        if (entry) entry.result = line.result;
      } else if (line.t === 'reported') {
        const entry = this.entries.get(line.orderId);
        if (entry) entry.reported = true;
      } else if (line.t === 'cancel') {
        this.cancels.set(line.orderId, { orderId: line.orderId, jobId: line.jobId, at: line.at, reason: line.reason });
      } else if (line.t === 'cursor') {
        // The last line wins, forward or back to 0 (a stream made again), as it was written.
        dropped += this.cursorSeq === 0 ? 0 : 1;
        this.cursorSeq = line.seq;
      }
    }
    for (const [id, entry] of this.entries) {
      if (entry.result && entry.expiresAt + RETAIN_AFTER_EXPIRY_MS < now) {
        this.entries.delete(id);
        dropped++;
      }
    }
    for (const [id, cancel] of this.cancels) {
      if (cancel.at + RETAIN_CANCEL_MS < now) {
        this.cancels.delete(id);
        dropped++;
      }
    }
    if (dropped > 0) await this.rewrite();
  }

  /** Rewrites the journal with only the kept entries (atomically: temp file, then rename). */
  private async rewrite(): Promise<void> {
    const lines: string[] = [];
    for (const e of this.entries.values()) {
      lines.push(
        JSON.stringify({
          t: 'start',
          orderId: e.orderId,
          jobId: e.jobId,
          step: e.step,
          at: e.startedAt,
          expiresAt: e.expiresAt,
        }),
      );
      if (e.result) lines.push(JSON.stringify({ t: 'end', orderId: e.orderId, result: e.result }));
      if (e.reported) lines.push(JSON.stringify({ t: 'reported', orderId: e.orderId }));
    }
    for (const c of this.cancels.values()) lines.push(JSON.stringify({ t: 'cancel', ...c }));
    if (this.cursorSeq > 0) lines.push(JSON.stringify({ t: 'cursor', seq: this.cursorSeq }));
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, lines.length ? `${lines.join('\n')}\n` : '', { mode: 0o600, flush: true });
    await rename(tmp, this.path);
    await syncDirectory(dirname(this.path));
  }
}

function isJournalLine(value: unknown): value is JournalLine {
  if (value === null || typeof value !== 'object') return false;
  const line = value as Record<string, unknown>;
  if (line.t === 'cursor') return Number.isSafeInteger(line.seq) && (line.seq as number) >= 0;
  if (typeof line.orderId !== 'string') return false;
  if (line.t === 'reported') return true;
  if (line.t === 'cancel')
    return typeof line.jobId === 'string' && typeof line.at === 'number' && typeof line.reason === 'string';
  if (line.t === 'start')
    return (
      typeof line.jobId === 'string' &&
      typeof line.step === 'string' &&
      typeof line.at === 'number' &&
      typeof line.expiresAt === 'number'
    );
  return line.t === 'end' && line.result !== null && typeof line.result === 'object';
}

/** fsync of a directory: makes a file's creation or rename in it durable. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
