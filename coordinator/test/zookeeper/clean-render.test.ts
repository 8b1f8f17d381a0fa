// `drover zookeeper clean|restore` output and the --members flag: exact text (a dry run is compared
// byte for byte by the end-to-end test) and refusals that name the flag, the value and the form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError, type ZooKeeperCleanResultType } from '@drover/shared';
import { parseMembers, renderClean, renderRestore } from '../../src/zookeeper/index.ts';

const base: ZooKeeperCleanResultType = {
  dryRun: true,
  server: '127.0.0.1:2181',
  configMembers: [1, 2, 3],
  configVersion: '100000000',
  kept: { chroot: '/kafka-a', clusterId: 'AAAA' },
  chroots: [
    { chroot: '/kafka-c', clusterId: 'CCCC', znodes: 30, bytes: 700, backup: null, deleted: 0, batches: 0 },
    { chroot: '/kafka-b', clusterId: 'BBBB', znodes: 25, bytes: 1234, backup: null, deleted: 0, batches: 0 },
  ],
  deleted: 0,
  batches: 0,
};

test('dry run: one line per chroot, sorted by path, totals last', () => {
  assert.equal(
    renderClean(base, 'zk-1'),
    [
      'server 127.0.0.1:2181 (agent zk-1); /zookeeper/config lists server 1, 2, 3',
      'kept /kafka-a (cluster AAAA) and /zookeeper',
      'CHROOT    CLUSTER ID  ZNODES  BYTES',
      '/kafka-b  BBBB        25      1234',
      '/kafka-c  CCCC        30      700',
      'dry run: would delete 2 chroot(s), 55 znodes, 1934 bytes',
    ].join('\n'),
  );
  assert.match(renderClean({ ...base, chroots: [] }, 'zk-1'), /no other chroot: nothing to delete$/);
});

test('the real run says what was deleted and where each backup went', () => {
  const backup = (name: string, key: string | null) => ({
    name,
    file: `zookeeper-backups/${name}`,
    bucket: key ? 'logs' : null,
    key,
  });
  const text = renderClean(
    {
      ...base,
      dryRun: false,
      chroots: [
        {
          ...(base.chroots[1] as ZooKeeperCleanResultType['chroots'][number]),
          deleted: 25,
          batches: 2,
          backup: backup('kafka-b-20261203T041502123Z.json', 'a/zookeeper-backups/kafka-b-20261203T041502123Z.json'),
        },
      ],
      deleted: 25,
      batches: 2,
    },
    'zk-1',
  );
  assert.match(
    text,
    /\/kafka-b {2}BBBB {8}25 {6}1234 {3}25 {7}zookeeper-backups\/kafka-b-20261203T041502123Z\.json \+ logs\/a\//,
  );
  assert.match(text, /deleted 1 chroot\(s\): 25 znodes in 2 multi-op\(s\)/);
  assert.equal(
    renderRestore(
      {
        dryRun: false,
        server: 's:1',
        backup: 'b.json',
        chroot: '/kafka-b',
        clusterId: 'B',
        znodes: 3,
        created: 2,
        existed: 1,
      },
      'zk-1',
    ),
    '/kafka-b (cluster B) from b.json through s:1 (agent zk-1): 3 znodes, 2 created, 1 already there',
  );
});

test('--members: ID=HOST[:CLIENT_PORT], distinct ids; anything else names the flag and the part', () => {
  assert.deepEqual(parseMembers('1=zk1:2181, 2=10.0.0.2,3=zk3.example.com:2182'), [
    { id: 1, host: 'zk1', clientPort: 2181 },
    { id: 2, host: '10.0.0.2' },
    { id: 3, host: 'zk3.example.com', clientPort: 2182 },
  ]);
  for (const [text, value] of [
    ['1=zk1;rm', '1=zk1;rm'],
    ['0=zk1', '0=zk1'],
    ['256=zk1', '256=zk1'],
    ['1=zk1:0', '1=zk1:0'],
    ['zk1', 'zk1'],
    ['1=zk1,1=zk2', '1=zk1,1=zk2'],
    ['', ''],
  ] as const)
    assert.throws(
      () => parseMembers(text),
      (e: unknown) => e instanceof InvalidInputError && e.field === '--members' && e.value === value,
      text,
    );
});
