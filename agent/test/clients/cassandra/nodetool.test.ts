// nodetool through the agent's runner: output far past the default capture (a big cluster's
// `describering` is megabytes) is parsed whole, never cut to its last bytes; a failure carries
// Cassandra's own error line. The "nodetool" here is a tiny Node program printing what nodetool would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Nodetool, NodetoolError } from '../../../src/clients/cassandra/index.ts';
import { describeRing } from '../../../src/steps/cassandra/ring.ts';

const fake = (script: string) => new Nodetool([process.execPath, '-e', script, '--']);

test('describering of 3,000 ranges (1.5 MB of output) is parsed whole', async () => {
  const nodetool = fake(
    `for (let i = 0; i < 3000; i++) console.log('\\tTokenRange(start_token:' + i + ', end_token:' + (i + 1) +
      ', endpoints:[10.0.0.1], rpc_endpoints:[10.0.0.1], endpoint_details:[EndpointDetails(host:10.0.0.1, datacenter:dc1, rack:r1)])' +
      ' '.repeat(350))`,
  );
  const ring = await describeRing(nodetool, 'ks', {});
  assert.equal(ring.length, 3000);
  assert.deepEqual(ring[0]?.range, ['0', '1'], 'the first range is there, not only the last bytes');
});

test('a failing nodetool is a NodetoolError with the error line', async () => {
  const nodetool = fake(
    "console.error('error: Node is still rebuilding. Check nodetool netstats.\\n-- StackTrace --'); process.exit(2)",
  );
  await assert.rejects(
    () => nodetool.run(['rebuild']),
    (e: unknown) =>
      e instanceof NodetoolError &&
      e.exitCode === 2 &&
      e.cassandraError === 'Node is still rebuilding. Check nodetool netstats.',
  );
});
