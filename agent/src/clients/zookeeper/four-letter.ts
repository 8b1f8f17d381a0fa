// Four-letter words over TCP: write the word on the client port, read until the server closes. The
// server answers some refusals as plain text on the same socket; they become typed errors here, so a
// caller never mistakes "not serving" for an empty answer.
import net from 'node:net';
import { FourLetterWordNotAllowedError, ZooKeeperNotServingError, ZooKeeperUnreachableError } from './errors.ts';
import type { FourLetterWord, ZooKeeperAddress } from './types.ts';

/** Answer size beyond which the server is not a ZooKeeper (mntr on a busy 3.8 leader is ~30 KiB). */
const MAX_ANSWER_BYTES = 1024 * 1024;
export const DEFAULT_FOUR_LETTER_TIMEOUT_MS = 5_000;

export interface FourLetterOptions {
  /** For connecting and for the whole answer. @default 5000 */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export const formatAddress = (address: ZooKeeperAddress): string => `${address.host}:${address.port}`;

/** Sends `word`, resolves with the raw answer; rejects with a typed error (see ./errors.ts). */
export function sendFourLetterWord(
  address: ZooKeeperAddress,
  word: FourLetterWord,
  options: FourLetterOptions = {},
): Promise<string> {
  const where = formatAddress(address);
  const timeoutMs = options.timeoutMs ?? DEFAULT_FOUR_LETTER_TIMEOUT_MS;
  const { signal } = options;
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket = net.connect({ host: address.host, port: address.port });
    const finish = (error: Error | undefined, answer?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer ?? '');
    };
    const onAbort = () => finish(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
    const timer = setTimeout(
      () =>
        finish(new ZooKeeperUnreachableError(where, word, { cause: new Error(`no answer within ${timeoutMs} ms`) })),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        finish(
          new ZooKeeperUnreachableError(where, word, { cause: new Error(`answer over ${MAX_ANSWER_BYTES} bytes`) }),
        );
        return;
      }
      chunks.push(chunk);
    });
    socket.once('error', (cause) => finish(new ZooKeeperUnreachableError(where, word, { cause })));
    socket.once('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      if (/is not executed because it is not in the whitelist/.test(answer))
        finish(new FourLetterWordNotAllowedError(where, word));
      else if (/is not currently serving requests/.test(answer)) finish(new ZooKeeperNotServingError(where));
      else if (answer === '')
        finish(new ZooKeeperUnreachableError(where, word, { cause: new Error('connection closed without an answer') }));
      else finish(undefined, answer);
    });
  });
}
