// The node-zookeeper-client session is bounded: nobody listening, or a server that never answers the
// handshake, is a retryable ZooKeeperUnreachableError within the timeout (the library alone retries
// forever), and a cancelled step is not kept waiting.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { ZooKeeperClient, ZooKeeperUnreachableError } from '../../../src/clients/zookeeper/index.ts';

test('getConfig from a closed port or a silent server fails within its timeout', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  for (const port of [1, (silent.address() as net.AddressInfo).port]) {
    const started = Date.now();
    await assert.rejects(
      new ZooKeeperClient({ host: '127.0.0.1', port }, { timeoutMs: 400 }).getConfig(),
      (e: unknown) => e instanceof ZooKeeperUnreachableError && e.retryable && e.operation === 'session',
    );
    assert.ok(Date.now() - started < 3_000, `port ${port}: ${Date.now() - started} ms`);
  }
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
  await assert.rejects(
    new ZooKeeperClient({ host: '127.0.0.1', port: 1 }, { signal: controller.signal }).getConfig(),
    /cancelled by test/,
  );
});
