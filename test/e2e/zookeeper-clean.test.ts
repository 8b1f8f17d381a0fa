// The ZooKeeper chroot cleaner end to end: a real 3-voter ZooKeeper 3.8 ensemble holding THREE Kafka
// 3.9 clusters' chroots made by real ZooKeeper-mode brokers: /kafka-a (kept, its broker running
// throughout), /kafka-b and /kafka-c (brokers started, a topic created, then stopped cleanly, so their
// brokers/ids and controller are gone). One Drover agent declares the ensemble's server 1 and runs
// `drover zookeeper clean|restore` on secure NATS. The test reads the tree itself (its own session on
// the same server) to count what the dry run must list, to check that refusals change nothing, and
// that a restore gives back the same paths, data and ACLs.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ZooKeeperCleanParams } from '@drover/shared';
import { ACL, type Client, CreateMode, createClient, Id } from 'node-zookeeper-client';
import { silentLogger } from '../../agent/src/log.ts';
import type { StepContext } from '../../agent/src/steps/context.ts';
import { zookeeperCleanImplementation } from '../../agent/src/steps/zookeeper/clean.ts';
import { createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect } from '../fleet/jobs.ts';
import { type KafkaCluster, startKafka } from '../harness/kafka.ts';
import { consume, produce } from '../harness/kafka-clients.ts';
import { startNats } from '../harness/nats.ts';
import { makeTempDir } from '../harness/process.ts';
import { type S3Server, startS3 } from '../harness/s3.ts';
import { startZooKeeper, type ZooKeeperEnsemble } from '../harness/zookeeper.ts';

const AGENT = 'zk-1';
const OPEN = [new ACL(31, new Id('world', 'anyone'))];
let zk: ZooKeeperEnsemble;
let kept: KafkaCluster;
let fleet: Fleet;
let zkClient: Client;
let members: string;
/** /kafka-b as it was before the clean (for the restore). */
let kafkaB: Znode[];

interface Znode {
  path: string;
  data: string;
  acl: string[];
}

const call = <T>(start: (done: (error: Error | null, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));

/** Every znode under `root`, depth first, sorted: path, data (base64) and ACL. */
async function walk(root: string): Promise<Znode[]> {
  const out: Znode[] = [];
  const visit = async (path: string): Promise<void> => {
    const data = await call<Buffer | undefined>((done) => zkClient.getData(path, (e, d) => done(e, d)));
    const acl = await call<ACL[]>((done) => zkClient.getACL(path, (e, a) => done(e, a)));
    out.push({
      path,
      data: (data ?? Buffer.alloc(0)).toString('base64'),
      acl: acl.map((a) => `${a.id.scheme}:${a.id.id}:${a.permission}`).sort(),
    });
    const children = await call<string[]>((done) => zkClient.getChildren(path, (e, c) => done(e, c)));
    for (const child of children.sort()) await visit(`${path}/${child}`);
  };
  await visit(root);
  return out;
}

const topLevel = async (): Promise<string[]> =>
  (await call<string[]>((done) => zkClient.getChildren('/', (e, c) => done(e, c)))).sort();

const clusterIdOf = async (chroot: string): Promise<string> =>
  JSON.parse(
    (await call<Buffer>((done) => zkClient.getData(`${chroot}/cluster/id`, (e, d) => done(e, d)))).toString('utf8'),
  ).id;

/** Every chroot but the kept one, as it is now (what a refusal must leave unchanged). */
async function others(): Promise<Map<string, Znode[]>> {
  const map = new Map<string, Znode[]>();
  for (const name of await topLevel())
    if (name !== 'kafka-a' && name !== 'zookeeper') map.set(name, await walk(`/${name}`));
  return map;
}

async function stoppedCluster(chroot: string, topic: string): Promise<void> {
  const cluster = await startKafka({ mode: 'zookeeper', zookeeper: zk, chroot, brokers: [{ id: 1 }] });
  const admin = cluster.admin('drover-e2e-clean');
  try {
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  } finally {
    await admin.close();
  }
  await produce(cluster.bootstrap, topic, 20);
  await cluster.stop();
}

// The customer's bucket (a real S3-compatible server): the agent ships there, so backups go there too.
const BUCKET = 'zk-backups';
let s3: S3Server;
let s3Client: S3Client;

before(async () => {
  const nats = await startNats({ servers: 1, secure: true });
  fleet = createFleet(makeTempDir('zookeeper-clean'), nats.urls, nats.security);
  s3 = await startS3();
  s3Client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await s3Client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const credentialsFile = join(fleet.dir, 's3-credentials.ini');
  writeFileSync(
    credentialsFile,
    `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  (await connect(fleet)).close();
  zk = await startZooKeeper({ voters: 3 });
  kept = await startKafka({ mode: 'zookeeper', zookeeper: zk, chroot: '/kafka-a', brokers: [{ id: 1 }] });
  await stoppedCluster('/kafka-b', 'b-orders');
  await stoppedCluster('/kafka-c', 'c-orders');
  const server = zk.members[0];
  assert.ok(server);
  // The test's own session on the agent's server: what it writes, the agent reads at once.
  zkClient = createClient(server.address, { sessionTimeout: 10_000, spinDelay: 250 });
  await new Promise<void>((resolve) => {
    zkClient.once('connected', () => resolve());
    zkClient.connect();
  });
  // A znode with its own ACL (the harness runs skipACL=yes: stored, not enforced), for the restore.
  await call((done) =>
    zkClient.create(
      '/kafka-b/config/drover-acl-test',
      Buffer.from([0, 1, 2, 255]),
      [new ACL(31, new Id('digest', 'ops:HASHhashHASHhash=')), new ACL(1, new Id('world', 'anyone'))],
      CreateMode.PERSISTENT,
      (e) => done(e),
    ),
  );
  members = zk.members.map((m) => `${m.id}=${m.host}:${m.clientPort}`).join(',');
  await fleet.startAgent({
    id: AGENT,
    labels: { cluster: 'zk-destination' },
    node: {
      zookeeper: {
        service: 'zookeeper',
        configFile: server.configFile,
        dataDir: server.dataDir,
        myid: server.id,
        host: server.host,
        clientPort: server.clientPort,
        quorumPort: server.quorumPort,
        electionPort: server.electionPort,
      },
      shipping: {
        settings: { endpoint: s3.endpoint, bucket: BUCKET, prefix: 'acme', forcePathStyle: true, intervalMs: 1000 },
        credentialsFile,
      },
    },
  });
});

after(async () => {
  s3Client?.destroy();
  await s3?.stop();
  zkClient?.close();
  await kept?.stop();
  await zk?.stop();
});

const clean = (extra: string[]) =>
  fleet.drover(['zookeeper', 'clean', '--agent', AGENT, '--keep', '/kafka-a', ...extra], { timeoutMs: 180_000 });

test('the dry run lists the two stopped clusters, counted exactly, and deletes nothing', async () => {
  assert.deepEqual(await topLevel(), ['kafka-a', 'kafka-b', 'kafka-c', 'zookeeper']);
  const before = await others();
  const rows = await Promise.all(
    ['/kafka-b', '/kafka-c'].map(async (chroot) => {
      const tree = before.get(chroot.slice(1)) ?? [];
      const bytes = tree.reduce((sum, z) => sum + Buffer.from(z.data, 'base64').length, 0);
      return [chroot, await clusterIdOf(chroot), String(tree.length), String(bytes)];
    }),
  );
  assert.ok(
    rows.every((r) => Number(r[2]) > 10),
    'real Kafka chroots',
  );
  const headers = ['CHROOT', 'CLUSTER ID', 'ZNODES', 'BYTES'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const znodes = rows.reduce((sum, r) => sum + Number(r[2]), 0);
  const bytes = rows.reduce((sum, r) => sum + Number(r[3]), 0);
  const expected = [
    `server ${zk.members[0]?.address} (agent ${AGENT}); /zookeeper/config lists server 1, 2, 3`,
    `kept /kafka-a (cluster ${await clusterIdOf('/kafka-a')}) and /zookeeper`,
    line(headers),
    ...rows.map(line),
    `dry run: would delete 2 chroot(s), ${znodes} znodes, ${bytes} bytes`,
  ].join('\n');

  const dry = await clean(['--members', members, '--dry-run']);
  assert.equal(dry.code, 0, dry.output);
  assert.equal(dry.stdout.trimEnd(), expected);
  process.stdout.write(`# zookeeper clean --dry-run:\n${dry.stdout.trimEnd().replace(/^/gm, '#   ')}\n`);
  assert.deepEqual(await others(), before, 'a dry run deletes nothing');
  assert.equal(existsSync(join(fleet.stateDir(AGENT), 'zookeeper-backups')), false, 'and writes no backup');
});

test('refused, with nothing deleted: a server outside the destination, a live broker, a znode that is not a chroot, no kept chroot', async () => {
  const before = await others();
  const refused = async (args: string[], why: RegExp) => {
    const run = await clean(args);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /ZooKeeperCleanRefusedError: refusing to clean, nothing deleted/);
    assert.match(run.output, why);
  };
  // server.3 is still in /zookeeper/config but not among the destination members given.
  const two = zk.members
    .slice(0, 2)
    .map((m) => `${m.id}=${m.host}:${m.clientPort}`)
    .join(',');
  await refused(
    ['--members', two],
    /\/zookeeper\/config: got "server\.3=127\.0\.0\.1:\d+:\d+:participant;\d+", expected only destination servers \(params\.members: 1, 2\)/,
  );

  // A broker of kafka-b registered (an ephemeral brokers/ids/7 owned by a live session).
  await call((done) =>
    zkClient.create(
      '/kafka-b/brokers/ids/7',
      Buffer.from('{}'),
      [new ACL(31, new Id('world', 'anyone'))],
      CreateMode.EPHEMERAL,
      (e) => done(e),
    ),
  );
  try {
    await refused(['--members', members], /\/kafka-b\/brokers\/ids: got \["7"\], expected no registered broker/);
  } finally {
    await call((done) => zkClient.remove('/kafka-b/brokers/ids/7', -1, (e) => done(e)));
  }

  // A top-level znode that is no Kafka chroot.
  await call((done) => zkClient.create('/not-kafka', Buffer.from('x'), OPEN, CreateMode.PERSISTENT, (e) => done(e)));
  await call((done) =>
    zkClient.create('/not-kafka/data', Buffer.from('y'), OPEN, CreateMode.PERSISTENT, (e) => done(e)),
  );
  try {
    await refused(
      ['--members', members],
      /\/not-kafka\/cluster\/id: got null, expected a Kafka cluster id \(a top-level znode that is not a Kafka chroot is never deleted\)/,
    );
  } finally {
    await call((done) => zkClient.remove('/not-kafka/data', -1, (e) => done(e)));
    await call((done) => zkClient.remove('/not-kafka', -1, (e) => done(e)));
  }

  const missing = await fleet.drover([
    'zookeeper',
    'clean',
    '--agent',
    AGENT,
    '--keep',
    '/kafka-x',
    '--members',
    members,
  ]);
  assert.equal(missing.code, 1, missing.output);
  assert.match(missing.output, /\/kafka-x\/cluster\/id: got null, expected the kept cluster's id/);

  assert.deepEqual(await others(), before, 'nothing deleted by any refusal');
  assert.equal(existsSync(join(fleet.stateDir(AGENT), 'zookeeper-backups')), false, 'no backup taken');
});

test('the clean (finishing a chroot a stopped run had half deleted) leaves /zookeeper and the kept chroot; its broker still works', async () => {
  kafkaB = await walk('/kafka-b');
  // What a run stopped midway leaves: leaves and whole subtrees gone deepest first, the identity kept.
  const topics = (await walk('/kafka-c/brokers/topics')).map((z) => z.path).reverse();
  for (const path of topics) await call((done) => zkClient.remove(path, -1, (e) => done(e)));
  const leftC = (await walk('/kafka-c')).length;

  const run = await clean(['--members', members, '--batch-max-ops', '7', '--json']);
  assert.equal(run.code, 0, run.output);
  const result = JSON.parse(run.stdout) as {
    deleted: number;
    chroots: Array<{
      chroot: string;
      znodes: number;
      deleted: number;
      batches: number;
      backup: { name: string; file: string; bucket: string | null; key: string | null };
    }>;
  };
  assert.deepEqual(
    result.chroots.map((c) => [c.chroot, c.znodes, c.deleted]),
    [
      ['/kafka-b', kafkaB.length, kafkaB.length],
      ['/kafka-c', leftC, leftC],
    ],
  );
  for (const c of result.chroots) {
    assert.ok(c.batches >= Math.ceil(c.znodes / 7), `${c.chroot}: ${c.batches} multi-ops of at most 7`);
    assert.ok(existsSync(join(fleet.stateDir(AGENT), c.backup.file)), c.backup.file);
    // The same backup in the customer's bucket, byte for byte.
    assert.equal(c.backup.bucket, BUCKET);
    assert.equal(c.backup.key, `acme/agent/${AGENT}/zookeeper-backups/${c.backup.name}`);
    const object = await s3Client.send(new GetObjectCommand({ Bucket: BUCKET, Key: c.backup.key ?? '' }));
    assert.equal(
      Buffer.from((await object.Body?.transformToByteArray()) ?? []).toString('utf8'),
      readFileSync(join(fleet.stateDir(AGENT), c.backup.file), 'utf8'),
    );
  }
  assert.deepEqual(await topLevel(), ['kafka-a', 'zookeeper']);

  const admin = kept.admin('drover-e2e-after-clean');
  try {
    await admin.createTopics({ topics: ['after-clean'], partitions: 2, replicas: 1 });
  } finally {
    await admin.close();
  }
  await produce(kept.bootstrap, 'after-clean', 50);
  const read = await consume(kept.bootstrap, 'after-clean', 50, 'drover-e2e-after-clean');
  assert.equal(read.length, 50, 'the kept cluster produces and consumes after the clean');

  const again = await clean(['--members', members]);
  assert.equal(again.code, 0, again.output);
  assert.match(again.stdout, /no other chroot: nothing to delete/);
});

test('the backup restores a deleted chroot: same paths, data and ACLs; a second restore creates nothing', async () => {
  const backups = readdirSync(join(fleet.stateDir(AGENT), 'zookeeper-backups'));
  const name = backups.find((n) => n.startsWith('kafka-b-'));
  assert.ok(name, backups.join(', '));
  const restore = await fleet.drover(['zookeeper', 'restore', '--agent', AGENT, '--backup', name, '--json']);
  assert.equal(restore.code, 0, restore.output);
  const result = JSON.parse(restore.stdout) as { chroot: string; znodes: number; created: number; existed: number };
  assert.deepEqual(
    [result.chroot, result.znodes, result.created, result.existed],
    ['/kafka-b', kafkaB.length, kafkaB.length, 0],
  );
  assert.deepEqual(await walk('/kafka-b'), kafkaB);
  assert.ok(
    kafkaB.some(
      (z) => z.path === '/kafka-b/config/drover-acl-test' && z.acl.includes('digest:ops:HASHhashHASHhash=:31'),
    ),
  );

  const twice = await fleet.drover(['zookeeper', 'restore', '--agent', AGENT, '--backup', name]);
  assert.equal(twice.code, 0, twice.output);
  assert.match(twice.stdout, new RegExp(`${kafkaB.length} znodes, 0 created, ${kafkaB.length} already there`));
  const unknown = await fleet.drover([
    'zookeeper',
    'restore',
    '--agent',
    AGENT,
    '--backup',
    'kafka-q-20261203T041502123Z.json',
  ]);
  assert.equal(unknown.code, 1, unknown.output);
  assert.match(
    unknown.output,
    /params\.backup: got "kafka-q-20261203T041502123Z\.json", expected a backup in zookeeper-backups\/ of this agent's state dir \(kafka-b-/,
  );
});

test('a run stopped midway (cancelled after its first multi-op) is started again and finishes', async () => {
  // /kafka-b is back from the restore. The step itself, with a hand-made context whose signal is
  // aborted as soon as the first batch is reported deleted (what a cancel or a timeout does).
  const total = (await walk('/kafka-b')).length;
  const controller = new AbortController();
  const server = zk.members[0];
  assert.ok(server);
  const ctx: StepContext = {
    info: { jobId: 'j', orderId: 'o', agentId: AGENT, step: 'zookeeper.clean', deadline: Date.now() + 60_000 },
    signal: controller.signal,
    progress: (message) => {
      if (/znodes deleted/.test(message)) controller.abort(new Error('stopped by the test'));
    },
    output: () => {},
    logger: silentLogger(),
    agent: { id: AGENT, version: '0', labels: {}, commands: {} },
    node: {
      zookeeper: {
        service: 'zookeeper',
        configFile: server.configFile,
        dataDir: server.dataDir,
        myid: server.id,
        host: server.host,
        clientPort: server.clientPort,
        quorumPort: server.quorumPort,
        electionPort: server.electionPort,
      },
    },
    stateDir: makeTempDir('zookeeper-clean-stopped'),
  };
  const params = ZooKeeperCleanParams.parse({
    keep: '/kafka-a',
    members: zk.members.map((m) => ({ id: m.id, host: m.host, clientPort: m.clientPort })),
    batchMaxOps: 5,
  });
  await assert.rejects(zookeeperCleanImplementation.run(ctx, params), /stopped by the test/);
  const left = await walk('/kafka-b');
  assert.equal(left.length, total - 5, 'one multi-op of 5 deleted, then it stopped');
  assert.ok(
    left.some((z) => z.path === '/kafka-b/cluster/id'),
    'the identity is deleted last',
  );

  const run = await clean(['--members', members, '--json']);
  assert.equal(run.code, 0, run.output);
  const result = JSON.parse(run.stdout) as { chroots: Array<{ chroot: string; deleted: number }> };
  assert.deepEqual(
    result.chroots.map((c) => [c.chroot, c.deleted]),
    [['/kafka-b', total - 5]],
  );
  assert.deepEqual(await topLevel(), ['kafka-a', 'zookeeper']);
});
