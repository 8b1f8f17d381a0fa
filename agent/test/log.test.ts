// The agent's log: one JSON object per line with `level`, `ts` and `msg`, child fields carried, levels
// honoured, and every secret-named key redacted wherever it sits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, redactPaths } from '../src/log.ts';

function capture(level: 'debug' | 'info' = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ agentId: 'a1' }, level, (line) => lines.push(line));
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('one JSON object per line, with level, ts, msg and the base and child fields', () => {
  const { logger, lines, parsed } = capture();
  logger.child({ component: 'orders' }).info('agent ready', { durable: 'agent-a1' });
  logger.debug('not shown');
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]?.includes('\n'));
  assert.match(lines[0] ?? '', /"msg":"agent ready"/);
  const [line] = parsed();
  assert.equal(line?.level, 'info');
  assert.equal(line?.agentId, 'a1');
  assert.equal(line?.component, 'orders');
  assert.equal(line?.durable, 'agent-a1');
  assert.ok(!Number.isNaN(Date.parse(String(line?.ts))));
});

test('secret fields are redacted at the top, nested, in child bindings; other fields stay', () => {
  const { logger, lines, parsed } = capture('debug');
  logger.warn('connecting', {
    user: 'agent-1',
    pass: 'hunter2',
    nats: { servers: ['nats://x'], token: 'tok-123', tls: { credentials: 'creds-456' } },
    shipping: { bucket: { auth: { secretAccessKey: 'AKIA-secret-789' } } },
    headers: { authorization: 'Bearer abc', Authorization: 'Bearer def' },
  });
  logger.child({ password: 'child-pw' }).error('failed', { secret: 's3cr3t' });
  const text = lines.join('\n');
  for (const secret of ['hunter2', 'tok-123', 'creds-456', 'AKIA-secret-789', 'Bearer abc', 'Bearer def', 's3cr3t'])
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  const first = parsed()[0] as {
    user: string;
    pass: string;
    nats: { servers: string[] };
    shipping: { bucket: { auth: { secretAccessKey: string } } };
  };
  assert.equal(first.user, 'agent-1');
  assert.equal(first.pass, '[redacted]');
  assert.deepEqual(first.nats.servers, ['nats://x']);
  assert.equal(first.shipping.bucket.auth.secretAccessKey, '[redacted]');
  assert.ok(!text.includes('child-pw'), 'child bindings are redacted too');
});

test('redact paths reach four levels below the top', () => {
  assert.deepEqual(redactPaths(['token'], 2), ['token', '*.token', '*.*.token']);
});
