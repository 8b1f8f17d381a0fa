// Options of the Kafka client: defaults in one place, addresses checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveKafkaAdminOptions } from '../../../src/clients/kafka/index.ts';

test('defaults', () => {
  assert.deepEqual(resolveKafkaAdminOptions({ bootstrap: ['localhost:9092', '[::1]:9093'] }), {
    bootstrap: [
      { host: 'localhost', port: 9092 },
      { host: '::1', port: 9093 },
    ],
    clientId: 'drover-agent',
    connectTimeoutMs: 5000,
    requestTimeoutMs: 30000,
    controllerRetries: 3,
  });
});

test('bad values name the field', () => {
  const bad: [object, RegExp][] = [
    [{ bootstrap: [] }, /^bootstrap: got \[\], expected at least one host:port/],
    [{ bootstrap: ['localhost'] }, /^bootstrap\[0\]: got "localhost", expected host:port/],
    [{ bootstrap: ['h:0'] }, /^bootstrap\[0\]/],
    [{ bootstrap: ['h:70000'] }, /^bootstrap\[0\]/],
    [{ bootstrap: ['h:1'], requestTimeoutMs: 0 }, /^requestTimeoutMs: got 0, expected an integer from 100/],
    [{ bootstrap: ['h:1'], connectTimeoutMs: 1.5 }, /^connectTimeoutMs/],
    [{ bootstrap: ['h:1'], clientId: 'a b' }, /^clientId/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => resolveKafkaAdminOptions(options as never), { name: 'InvalidInputError', message });
  }
});
