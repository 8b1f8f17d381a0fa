// Cluster profiles through the CLI against a real nats-server: set (validated, with line and column
// on a bad file, nothing stored), get, diff (exit 1 when different), list, history kept, audited.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { KV_PROFILES, STREAM_AUDIT } from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir } from '../harness/process.ts';

let fleet: Fleet;

before(async () => {
  const nats = await startNats({ servers: 1 });
  fleet = createFleet(makeTempDir('profile'), nats.urls);
  const d = await connect(fleet);
  await d.close();
});

const PROFILE = `cluster: kafka-a
listeners:
  INTERNAL: { protocol: PLAINTEXT, port: 9091 }
  CLIENTS: { protocol: PLAINTEXT, port: 9092 }
interBrokerListener: INTERNAL
zookeeper: { connect: [zk-1:2181], chroot: /kafka-a }
`;

test('profile set, get, diff and list; a bad file is refused with its line and nothing is stored', async () => {
  const file = join(fleet.dir, 'kafka-a.yaml');
  const bad = join(fleet.dir, 'bad.yaml');
  writeFileSync(bad, PROFILE.replace('interBrokerListener: INTERNAL', 'interBrokerListener: NOPE'));
  const refused = await fleet.drover(['profile', 'set', '--file', bad]);
  assert.equal(refused.code, 2, refused.output);
  assert.match(
    refused.output,
    /bad\.yaml:5:\d+: interBrokerListener: got "NOPE", expected one of the profile's listeners/,
  );
  const none = await fleet.drover(['profile', 'get', '--cluster', 'kafka-a']);
  assert.equal(none.code, 2, 'nothing was stored');

  writeFileSync(file, PROFILE);
  const set = await fleet.drover(['profile', 'set', '--file', file, '--json']);
  assert.equal(set.code, 0, set.output);
  assert.equal((JSON.parse(set.stdout) as { revision: number }).revision > 0, true);
  const got = await fleet.drover(['profile', 'get', '--cluster', 'kafka-a', '--json']);
  assert.deepEqual((JSON.parse(got.stdout) as { listeners: unknown }).listeners, {
    INTERNAL: { protocol: 'PLAINTEXT', port: 9091 },
    CLIENTS: { protocol: 'PLAINTEXT', port: 9092 },
  });

  writeFileSync(file, PROFILE.replace('port: 9092', 'port: 9093').concat('overrides: { num.partitions: 6 }\n'));
  const diff = await fleet.drover(['profile', 'diff', '--file', file]);
  assert.equal(diff.code, 1, diff.output);
  assert.match(diff.output, /~ listeners\.CLIENTS\.port: 9092 -> 9093/);
  assert.match(diff.output, /\+ overrides\.num\.partitions: 6/);
  assert.equal((await fleet.drover(['profile', 'set', '--file', file])).code, 0);
  const same = await fleet.drover(['profile', 'diff', '--file', file]);
  assert.equal(same.code, 0, same.output);
  const list = await fleet.drover(['profile', 'list']);
  assert.match(list.output, /kafka\s+kafka-a\s+INTERNAL,CLIENTS\s+zk-1:2181\/kafka-a/);

  const d = await connect(fleet);
  try {
    const kv = await new Kvm(d.nc).open(KV_PROFILES);
    const history: number[] = [];
    for await (const e of await kv.history({ key: 'kafka.kafka-a' })) history.push(e.revision);
    assert.equal(history.length, 2, 'both revisions kept');
    const audit = await d.jsm.streams.getMessage(STREAM_AUDIT, { last_by_subj: 'drover.audit.profile.kafka-a' });
    assert.equal((audit?.json() as { type?: string } | undefined)?.type, 'profile-set');
  } finally {
    await d.close();
  }
});
