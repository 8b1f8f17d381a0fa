// The cleaner's backups without ZooKeeper: file names, the atomic file and its check on the way back,
// the bucket hook (an in-memory bucket made by hand: the runner does not set one yet), and the
// refusals that come before any server is asked (params, no ZooKeeper declared, no state dir).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { InvalidInputError, InvalidInputErrors, type ZooKeeperNodeConfig } from '@drover/shared';
import { silentLogger } from '../../../src/log.ts';
import type { StepBucket, StepContext } from '../../../src/steps/context.ts';
import {
  BACKUP_DIR,
  backupBytes,
  backupName,
  makeBackup,
  readBackupFile,
  writeBackupFile,
} from '../../../src/steps/zookeeper/backup.ts';
import { backUp, zookeeperCleanImplementation } from '../../../src/steps/zookeeper/clean.ts';
import { ZooKeeperBackupError } from '../../../src/steps/zookeeper/errors.ts';
import { zookeeperRestoreImplementation } from '../../../src/steps/zookeeper/restore.ts';
import type { ZnodeRecord } from '../../../src/steps/zookeeper/tree.ts';

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-clean-backup-'));
after(() => fs.rmSync(stateDir, { recursive: true, force: true }));

const stat = {
  version: 0,
  cversion: 0,
  aversion: 0,
  dataLength: 0,
  numChildren: 0,
  ephemeralOwner: '0',
  ctimeMs: 1,
  mtimeMs: 2,
};
const open = [{ perms: 31, scheme: 'world', id: 'anyone' }];
const records: ZnodeRecord[] = [
  { path: '/kafka-b', data: Buffer.alloc(0), acl: open, stat },
  { path: '/kafka-b/cluster', data: Buffer.alloc(0), acl: open, stat },
  { path: '/kafka-b/cluster/id', data: Buffer.from('{"version":"1","id":"B"}'), acl: open, stat },
  { path: '/kafka-b/secret', data: Buffer.from([0, 255, 1]), acl: [{ perms: 1, scheme: 'digest', id: 'u:h=' }], stat },
];
const doomed = { chroot: '/kafka-b', clusterId: 'B', records, znodes: 4, bytes: 27 };

function context(over: Partial<StepContext> = {}): StepContext {
  return {
    info: { jobId: 'j', orderId: 'o', agentId: 'a', step: 'zookeeper.clean', deadline: Date.now() + 10_000 },
    signal: new AbortController().signal,
    progress: () => {},
    output: () => {},
    logger: silentLogger(),
    agent: { id: 'agent-1', version: '0', labels: {}, commands: {} },
    node: {},
    ...over,
  };
}

test('backup names: the chroot and the UTC time, nothing else', () => {
  assert.equal(backupName('/kafka-b', new Date('2026-12-03T04:15:02.123Z')), 'kafka-b-20261203T041502123Z.json');
});

test('a backup written atomically (0600) reads back the same: data bytes and ACLs', async () => {
  const backup = makeBackup(records, {
    chroot: '/kafka-b',
    clusterId: 'B',
    takenAt: new Date('2026-12-03T04:15:02.123Z'),
    server: '127.0.0.1:2181',
    agentId: 'agent-1',
  });
  const name = backupName('/kafka-b', new Date('2026-12-03T04:15:02.123Z'));
  const file = await writeBackupFile(stateDir, name, backupBytes(backup));
  assert.equal(file, path.join(BACKUP_DIR, name));
  assert.equal(fs.statSync(path.join(stateDir, file)).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(path.join(stateDir, BACKUP_DIR)), [name], 'no temporary file left');
  const back = await readBackupFile(stateDir, name);
  assert.deepEqual(back, backup);
  assert.deepEqual(Buffer.from(back.znodes[3]?.data ?? '', 'base64'), Buffer.from([0, 255, 1]));
  assert.deepEqual(back.znodes[3]?.acl, [{ perms: 1, scheme: 'digest', id: 'u:h=' }]);
});

test('reading a backup: names only; a missing one lists those there are; a tampered one is refused', async () => {
  for (const bad of ['../journal.jsonl', '/etc/passwd', 'kafka-b.json', 'a/b-20261203T041502123Z.json'])
    await assert.rejects(readBackupFile(stateDir, bad), (e: unknown) => e instanceof InvalidInputError);
  await assert.rejects(
    readBackupFile(stateDir, 'kafka-c-20261203T041502123Z.json'),
    (e: unknown) =>
      e instanceof InvalidInputError &&
      e.field === 'params.backup' &&
      e.expected.includes('kafka-b-20261203T041502123Z.json'),
  );
  const name = 'kafka-x-20261203T041502123Z.json';
  const outside = makeBackup([{ ...(records[0] as ZnodeRecord), path: '/kafka-a' }], {
    chroot: '/kafka-x',
    clusterId: 'X',
    takenAt: new Date(),
    server: 's',
    agentId: 'a',
  });
  await writeBackupFile(stateDir, name, backupBytes(outside));
  await assert.rejects(readBackupFile(stateDir, name), /znodes\.0\.path.*a path under \/kafka-x/);
});

test('the bucket gets the same bytes after the file; a failed upload is a ZooKeeperBackupError', async () => {
  const stored = new Map<string, { body: Uint8Array; contentType: string | undefined }>();
  const bucket: StepBucket = {
    put: async (name, body, contentType) => {
      stored.set(name, { body, contentType });
      return { bucket: 'customer-logs', key: `agent-1/${name}` };
    },
  };
  const location = await backUp(context({ bucket }), stateDir, '127.0.0.1:2181', doomed);
  assert.equal(location.bucket, 'customer-logs');
  assert.equal(location.key, `agent-1/${BACKUP_DIR}/${location.name}`);
  const upload = stored.get(`${BACKUP_DIR}/${location.name}`);
  assert.equal(upload?.contentType, 'application/json');
  assert.deepEqual(Buffer.from(upload?.body ?? []), fs.readFileSync(path.join(stateDir, location.file)));

  const failing: StepBucket = { put: async () => Promise.reject(new Error('403 Forbidden')) };
  await assert.rejects(
    backUp(context({ bucket: failing }), stateDir, '127.0.0.1:2181', doomed),
    (e: unknown) => e instanceof ZooKeeperBackupError && e.retryable && /403 Forbidden/.test(e.message),
  );
  // Without a bucket: the file only.
  const local = await backUp(context(), stateDir, '127.0.0.1:2181', doomed);
  assert.deepEqual([local.bucket, local.key], [null, null]);
});

const node: ZooKeeperNodeConfig = {
  service: 'zookeeper',
  configFile: '/etc/zookeeper/zoo.cfg',
  dataDir: '/var/lib/zookeeper',
  myid: 1,
  host: '127.0.0.1',
  clientPort: 1,
  quorumPort: 2,
  electionPort: 3,
};
const members = [{ id: 1, host: '127.0.0.1' }];

test('refused before any server is asked: bad params, no ZooKeeper declared, no state dir', async () => {
  for (const [params, field] of [
    [{ keep: '/kafka-a/..', members }, 'params.keep'],
    [{ keep: '/a/b', members }, 'params.keep'],
    [{ keep: '/zookeeper', members }, 'params.keep'],
    [{ keep: '/kafka-a', members: [] }, 'params.members'],
    [{ keep: '/kafka-a', members: [...members, ...members] }, 'params.members'],
    [{ keep: '/kafka-a', members: [{ id: 1, host: 'a;rm -rf /' }] }, 'params.members.0.host'],
    [{ keep: '/kafka-a', members, batchMaxBytes: 0xfffff }, 'params.batchMaxBytes'],
  ] as const)
    await assert.rejects(
      zookeeperCleanImplementation.run(context({ node: { zookeeper: node } }), params as never),
      (e: unknown) => e instanceof InvalidInputErrors && e.problems.some((p) => p.field === field),
      field,
    );
  await assert.rejects(
    zookeeperCleanImplementation.run(context(), {
      keep: '/kafka-a',
      members,
      dryRun: true,
      batchMaxOps: 1,
      batchMaxBytes: 4096,
    }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'step',
  );
  await assert.rejects(
    zookeeperCleanImplementation.run(context({ node: { zookeeper: node } }), {
      keep: '/kafka-a',
      members,
      dryRun: false,
      batchMaxOps: 1,
      batchMaxBytes: 4096,
    }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'stateDir',
  );
  for (const backup of ['../../etc/shadow', '/etc/shadow', 'x.json'])
    await assert.rejects(
      zookeeperRestoreImplementation.run(context({ node: { zookeeper: node }, stateDir }), { backup, dryRun: false }),
      (e: unknown) => e instanceof InvalidInputErrors && e.problems[0]?.field === 'params.backup',
      backup,
    );
});
