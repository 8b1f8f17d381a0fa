// The four-letter-word transport against a fake server on loopback: the word sent, refusals typed
// (not whitelisted, not serving), and no answer / nobody listening as retryable unreachable errors.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import {
  FourLetterWordNotAllowedError,
  sendFourLetterWord,
  ZooKeeperClient,
  ZooKeeperNotServingError,
  ZooKeeperUnreachableError,
} from '../../../src/clients/zookeeper/index.ts';

/** A server that answers each connection with `answer(word)` then closes (like ZooKeeper), or stays silent. */
async function fakeServer(answer: (word: string) => string | null): Promise<{ port: number; words: string[] }> {
  const words: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (data) => {
      const word = data.toString();
      words.push(word);
      const text = answer(word);
      if (text !== null) socket.end(text);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, words };
}

test('sends the word and returns the whole answer; the client parses it', async () => {
  const srvr =
    'Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x2\nMode: standalone\nNode count: 5\n';
  const fake = await fakeServer(() => srvr);
  assert.equal(await sendFourLetterWord({ host: '127.0.0.1', port: fake.port }, 'srvr'), srvr);
  const stats = await new ZooKeeperClient({ host: '127.0.0.1', port: fake.port }).srvr();
  assert.deepEqual([stats.mode, stats.zxid, stats.nodeCount], ['standalone', '0x2', 5]);
  assert.deepEqual(fake.words, ['srvr', 'srvr']);
});

test('refusals as typed errors: not whitelisted, not serving', async () => {
  const fake = await fakeServer((word) =>
    word === 'mntr'
      ? 'mntr is not executed because it is not in the whitelist.\n'
      : 'This ZooKeeper instance is not currently serving requests\n',
  );
  const address = { host: '127.0.0.1', port: fake.port };
  await assert.rejects(
    sendFourLetterWord(address, 'mntr'),
    (e: unknown) => e instanceof FourLetterWordNotAllowedError && e.word === 'mntr' && !e.retryable,
  );
  await assert.rejects(
    sendFourLetterWord(address, 'srvr'),
    (e: unknown) => e instanceof ZooKeeperNotServingError && e.retryable,
  );
});

test('silence and a closed port are retryable ZooKeeperUnreachableErrors; an abort ends the wait', async () => {
  const silent = await fakeServer(() => null);
  const started = Date.now();
  await assert.rejects(
    sendFourLetterWord({ host: '127.0.0.1', port: silent.port }, 'srvr', { timeoutMs: 200 }),
    (e: unknown) => e instanceof ZooKeeperUnreachableError && e.retryable && /within 200 ms/.test(e.message),
  );
  assert.ok(Date.now() - started < 2_000);
  await assert.rejects(
    sendFourLetterWord({ host: '127.0.0.1', port: 1 }, 'srvr'),
    (e: unknown) => e instanceof ZooKeeperUnreachableError && /ECONNREFUSED/.test(e.message),
  );
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('cancelled by test')), 50);
  await assert.rejects(
    sendFourLetterWord({ host: '127.0.0.1', port: silent.port }, 'srvr', { signal: controller.signal }),
    /cancelled by test/,
  );
});
