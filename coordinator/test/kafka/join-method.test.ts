// `drover kafka migrate` chooses how observers join from what the voters' agents report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '@drover/shared';
import { chooseJoinMethod } from '../../src/kafka/index.ts';

const ensemble = [1, 2, 3].map((id) => ({
  id,
  host: `zk-${id}`,
  clientPort: 2181,
  quorumPort: 2888,
  electionPort: 3888,
}));
const servers = [{ id: 11, host: 'zk-11', clientPort: 2181, quorumPort: 2888, electionPort: 3888 }];
const voters = (reconfig: boolean[]) =>
  reconfig.map((r, i) => ({ agentId: `zk-${i + 1}`, myid: i + 1, reconfigEnabled: r }));

test('every voter with reconfigEnabled: reconfig; one without: static', () => {
  assert.equal(chooseJoinMethod(voters([true, true, true]), ensemble, undefined).method, 'reconfig');
  const choice = chooseJoinMethod(voters([true, false, true]), ensemble, servers);
  assert.equal(choice.method, 'static');
  assert.match(choice.reason, /server\.2 without reconfigEnabled/);
});

test('static without observer lines, a failed agent, or agents that are not the ensemble: refused', () => {
  const refused = (fn: () => unknown, field: string, expected: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof InvalidInputError && e.field === field && expected.test(e.message));
  refused(
    () => chooseJoinMethod(voters([false, false, false]), ensemble, undefined),
    '--zookeeper-observers',
    /server\.1, server\.2, server\.3 have no reconfigEnabled/,
  );
  refused(
    () =>
      chooseJoinMethod(
        [...voters([false, false]), { agentId: 'zk-3', myid: null, reconfigEnabled: null, error: 'boom' }],
        ensemble,
        servers,
      ),
    '--zookeeper-voter-agents',
    /zk-3: boom/,
  );
  refused(
    () => chooseJoinMethod(voters([false, false]), ensemble, servers),
    '--zookeeper-voter-agents',
    /servers 1, 2, 3/,
  );
});
