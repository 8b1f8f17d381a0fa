// Cluster profiles through the CLI against a real nats-server: set (validated, with line and column
// on a bad file, nothing stored), get, diff (exit 1 when different), list, history kept, audited.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
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
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('profile'), nats.urls, nats.security);
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

test('kafka.broker-configure renders each broker from the profile; a replacement node gets the same custom listeners', async () => {
  const file = join(fleet.dir, 'kafka-c.yaml');
  writeFileSync(
    file,
    `cluster: kafka-c
listeners:
  REPLICATION: { protocol: PLAINTEXT, port: 19091 }
  CLIENTS: { protocol: SASL_PLAINTEXT, port: 19092 }
interBrokerListener: REPLICATION
zookeeper: { connect: [zk-1:2181, zk-2:2181], chroot: /kafka-c }
`,
  );
  assert.equal((await fleet.drover(['profile', 'set', '--file', file])).code, 0);
  const node = (id: number) => ({
    kafka: {
      bootstrap: `127.0.0.1:${19000 + id}`,
      brokerId: id,
      host: `broker-${id}.new`,
      logDirs: [join(fleet.dir, `data-${id}`)],
      configFile: join(fleet.dir, `broker-${id}`, 'server.properties'),
    },
  });
  await Promise.all(
    [101, 102].map((id) => fleet.startAgent({ id: `kafka-c-${id}`, labels: { cluster: 'kafka-c' }, node: node(id) })),
  );
  const run = await fleet.drover(['run', 'kafka.broker-configure', '--selector', 'cluster=kafka-c', '--json']);
  assert.equal(run.code, 0, run.output);
  const props = (id: number) => readFileSync(join(fleet.dir, `broker-${id}`, 'server.properties'), 'utf8');
  for (const id of [101, 102]) {
    assert.match(props(id), new RegExp(`^broker.id=${id}$`, 'm'));
    assert.match(
      props(id),
      new RegExp(`^advertised.listeners=CLIENTS://broker-${id}.new:19092,REPLICATION://broker-${id}.new:19091$`, 'm'),
    );
    assert.match(props(id), /^listener.security.protocol.map=CLIENTS:SASL_PLAINTEXT,REPLICATION:PLAINTEXT$/m);
    assert.match(props(id), /^inter.broker.listener.name=REPLICATION$/m);
    assert.match(props(id), /^zookeeper.connect=zk-1:2181,zk-2:2181\/kafka-c$/m);
  }
  const again = await fleet.drover(['run', 'kafka.broker-configure', '--selector', 'cluster=kafka-c', '--json']);
  const unchanged = JSON.parse(again.stdout) as { targets: Array<{ output?: { changed: boolean } }> };
  assert.ok(
    unchanged.targets.every((t) => t.output?.changed === false),
    'a second render changes nothing',
  );

  // A node replaced later (new id, new host) renders the same custom configuration from the profile.
  await fleet.startAgent({ id: 'kafka-c-104', labels: { cluster: 'kafka-c' }, node: node(104) });
  const replaced = await fleet.drover(['run', 'kafka.broker-configure', '--selector', 'cluster=kafka-c', '--json']);
  assert.equal(replaced.code, 0, replaced.output);
  const strip = (text: string, id: number) =>
    text
      .split('\n')
      .filter((l) => !l.startsWith('broker.id') && !l.startsWith('log.dirs'))
      .join('\n')
      .replaceAll(`broker-${id}.new`, 'HOST');
  assert.equal(strip(props(104), 104), strip(props(101), 101));

  // An agent without a profile for its cluster refuses and writes nothing.
  await fleet.startAgent({ id: 'kafka-d-1', labels: { cluster: 'kafka-d' }, node: node(201) });
  const none = await fleet.drover(['run', 'kafka.broker-configure', '--selector', 'cluster=kafka-d', '--json']);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /a stored profile \(drover profile set\)/);
});
