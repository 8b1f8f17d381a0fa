// How the destination's ZooKeeper observers join the source ensemble, decided from what the voters'
// agents report (`zookeeper.voters-add-observers` action `inspect`: each voter's own zoo.cfg):
// every voter has reconfigEnabled → `reconfig -add` by the joining observer (no voter restarts);
// otherwise → `static`: each voter restarts, one at a time, with the observers' lines first. Pure.
import { InvalidInputError, type ZooKeeperObserverServer, type ZooKeeperVoter } from '@drover/shared';

export interface VoterInspection {
  agentId: string;
  /** null when the agent's inspect did not succeed; then `error` says why. */
  myid: number | null;
  reconfigEnabled: boolean | null;
  error?: string;
}

export interface JoinMethodChoice {
  method: 'reconfig' | 'static';
  /** Why, in a sentence (printed by the CLI). */
  reason: string;
}

/**
 * Throws InvalidInputError when a voter agent failed, when the agents answering are not exactly the
 * ensemble's voters (by myid), or when the static way is needed and no observer lines were given.
 */
export function chooseJoinMethod(
  inspections: readonly VoterInspection[],
  ensemble: readonly ZooKeeperVoter[],
  servers: readonly ZooKeeperObserverServer[] | undefined,
): JoinMethodChoice {
  const failed = inspections.filter((i) => i.myid === null || i.reconfigEnabled === null);
  if (failed.length > 0)
    throw new InvalidInputError(
      '--zookeeper-voter-agents',
      failed.map((f) => f.agentId).join(','),
      `agents that read their voter's zoo.cfg (${failed.map((f) => `${f.agentId}: ${f.error ?? 'no result'}`).join('; ')})`,
    );
  const ids = inspections.map((i) => i.myid as number).sort((a, b) => a - b);
  const wanted = ensemble.map((v) => v.id).sort((a, b) => a - b);
  if (ids.join(',') !== wanted.join(','))
    throw new InvalidInputError(
      '--zookeeper-voter-agents',
      inspections.map((i) => `${i.agentId}=server.${i.myid}`).join(','),
      `one agent per voter of --zookeeper-ensemble (servers ${wanted.join(', ')})`,
    );
  const without = inspections.filter((i) => i.reconfigEnabled === false);
  if (without.length === 0)
    return { method: 'reconfig', reason: 'every voter has reconfigEnabled=true: observers join by reconfig -add' };
  if (!servers || servers.length === 0)
    throw new InvalidInputError(
      '--zookeeper-observers',
      servers,
      `the observers' server lines ID=HOST:CLIENT:QUORUM:ELECTION,… (voters ${without.map((i) => `server.${i.myid}`).join(', ')} have no reconfigEnabled: they must restart with them)`,
    );
  return {
    method: 'static',
    reason: `${without.map((i) => `server.${i.myid}`).join(', ')} without reconfigEnabled: every voter restarts, one at a time, with the observers' lines`,
  };
}
