// KafkaAdmin without a broker: input refused before any connection, an unreachable bootstrap named in
// the error, a closed client refusing work. (Against real brokers: test/engines/kafka-admin.test.ts.)
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { InvalidInputErrors } from '@drover/shared';
import { KafkaAdmin, KafkaClientClosedError, KafkaUnreachableError } from '../../../src/clients/kafka/index.ts';

let closedPort: number;

before(async () => {
  // A port nobody listens on: bind one, note it, close it.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
});

let client: KafkaAdmin;
after(() => client?.close());

test('an unreachable bootstrap broker: KafkaUnreachableError naming its address, retryable', async () => {
  client = new KafkaAdmin({ bootstrap: [`127.0.0.1:${closedPort}`], connectTimeoutMs: 1000 });
  for (const call of [
    () => client.describeCluster(),
    () => client.readAssignment(),
    () => client.listReassignments(),
  ]) {
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof KafkaUnreachableError, String(error));
      assert.deepEqual(error.addresses, [`127.0.0.1:${closedPort}`]);
      assert.equal(error.brokerId, null);
      assert.equal(error.retryable, true);
      assert.match(
        error.message,
        new RegExp(`^Kafka bootstrap 127\\.0\\.0\\.1:${closedPort} unreachable \\(Metadata\\): `),
      );
      return true;
    });
  }
});

test('input is refused before any connection, every problem at once', async () => {
  const nowhere = new KafkaAdmin({ bootstrap: [`127.0.0.1:${closedPort}`] });
  try {
    await assert.rejects(
      nowhere.alterReassignments([
        { topic: 'a', partition: 0, replicas: [1, 2] },
        { topic: 'a b', partition: 0, replicas: [1] },
        { topic: 'a', partition: 0, replicas: [3] },
        { topic: 'a', partition: 1, replicas: [] },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputErrors, String(error));
        assert.deepEqual(
          error.problems.map((p) => p.field),
          ['reassignments[1]', 'reassignments[2]', 'reassignments[3]'],
        );
        assert.match(error.problems[1]!.message, /not already listed \(as reassignments\[0\]\)/);
        return true;
      },
    );
    await assert.rejects(nowhere.cancelReassignments([{ topic: 'a', partition: -1 }]), { name: 'InvalidInputError' });
    await assert.rejects(nowhere.electPreferred([{ topic: 'a', partition: 0, extra: 1 } as never]), {
      name: 'InvalidInputError',
    });
    // Nothing to do: no request, no connection.
    assert.deepEqual(await nowhere.alterReassignments([]), []);
    assert.deepEqual(await nowhere.cancelReassignments([]), []);
    assert.deepEqual(await nowhere.electPreferred([]), []);
    assert.deepEqual(await nowhere.incrementalAlterConfigs([]), { ops: 0, runs: 0, requests: 0 });
    assert.deepEqual(await nowhere.describeLogDirs({ topics: [] }), []);
  } finally {
    await nowhere.close();
  }
});

test('a closed client refuses work', async () => {
  const closed = new KafkaAdmin({ bootstrap: ['127.0.0.1:9092'] });
  await closed.close();
  await closed.close();
  await assert.rejects(closed.describeCluster(), KafkaClientClosedError);
});
