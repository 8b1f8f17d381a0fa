// The zoo.cfg of a server joining an ensemble as an OBSERVER (ZooKeeper 3.5+), rendered from the
// agent's local config and the voters an order names. A worked example (myid 11, two voters):
//
//   dataDir=/var/lib/zookeeper            clientPort=2181
//   peerType=observer                     standaloneEnabled=false
//   reconfigEnabled=true                  (method reconfig only)
//   4lw.commands.whitelist=srvr,mntr,conf,ruok
//   admin.enableServer=false              (or true + admin.serverPort when adminPort is set)
//   initLimit=10  syncLimit=5  tickTime=2000   (defaults, extraConfig overrides)
//   server.1=zk1:2888:3888:participant;2181
//   server.2=zk2:2888:3888:participant;2181
//   server.11=zk11:2888:3888:observer;2181
//
// ZooKeeper itself may later move the server lines into `zoo.cfg.dynamic.<version>` and rewrite this
// file (it does on every config it learns with reconfigEnabled): the file is the starting point, the
// ensemble's /zookeeper/config is the truth afterwards.
import { InvalidInputError, type ZooKeeperNodeConfig, type ZooKeeperVoter } from '@drover/shared';
import { formatServerLine } from './server-line.ts';

/** Words the agent's own checks use; ZooKeeper 3.5+ allows only `srvr` unless told. */
export const FOUR_LETTER_WHITELIST = ['srvr', 'mntr', 'conf', 'ruok'] as const;

/** Settings a quorum member needs that ZooKeeper does not default; extraConfig overrides them. */
const QUORUM_DEFAULTS: Readonly<Record<string, string>> = { tickTime: '2000', initLimit: '10', syncLimit: '5' };

export type ObserverNode = Pick<
  ZooKeeperNodeConfig,
  'myid' | 'host' | 'clientPort' | 'quorumPort' | 'electionPort' | 'adminPort' | 'dataDir' | 'extraConfig'
>;

export interface RenderedObserverConfig {
  /** The whole zoo.cfg. */
  text: string;
  /** This server's line, as every member must list it. */
  observerLine: string;
  /** The voters' lines, by id. */
  voterLines: string[];
}

/** The observer line, `server.<myid>=<host>:<quorum>:<election>:observer;<clientPort>`. */
export function observerLine(node: ObserverNode): string {
  return formatServerLine({ ...node, id: node.myid, role: 'observer' });
}

/**
 * Renders zoo.cfg for `node` as an observer of `voters`. Throws InvalidInputError when a voter has
 * this node's id, or an id or value is not what a server line may hold.
 */
export function renderObserverConfig(
  node: ObserverNode,
  voters: readonly ZooKeeperVoter[],
  options: { reconfigEnabled: boolean },
): RenderedObserverConfig {
  const ids = new Set<number>();
  for (const [i, voter] of voters.entries()) {
    if (voter.id === node.myid)
      throw new InvalidInputError(
        `params.ensemble.${i}.id`,
        voter.id,
        `a voter id other than this node's myid ${node.myid}`,
      );
    if (ids.has(voter.id)) throw new InvalidInputError(`params.ensemble.${i}.id`, voter.id, 'distinct voter ids');
    ids.add(voter.id);
  }
  const voterLines = voters
    .map((v, i) => {
      try {
        return { id: v.id, line: formatServerLine({ ...v, role: 'participant' }) };
      } catch (error) {
        if (error instanceof InvalidInputError)
          throw new InvalidInputError(`params.ensemble.${i}.${error.field}`, error.value, error.expected);
        throw error;
      }
    })
    .sort((a, b) => a.id - b.id)
    .map((v) => v.line);
  const own = observerLine(node);
  const settings: Array<[string, string]> = [
    ['dataDir', node.dataDir],
    ['clientPort', String(node.clientPort)],
    ['peerType', 'observer'],
    ['standaloneEnabled', 'false'],
    ...(options.reconfigEnabled ? [['reconfigEnabled', 'true'] as [string, string]] : []),
    ['4lw.commands.whitelist', FOUR_LETTER_WHITELIST.join(',')],
    ...(node.adminPort === undefined
      ? [['admin.enableServer', 'false'] as [string, string]]
      : [
          ['admin.enableServer', 'true'] as [string, string],
          ['admin.serverPort', String(node.adminPort)] as [string, string],
        ]),
  ];
  const extra = { ...QUORUM_DEFAULTS, ...stringValues(node.extraConfig ?? {}) };
  for (const key of Object.keys(extra).sort()) settings.push([key, extra[key] as string]);
  const lines = [
    `# zoo.cfg of ZooKeeper server ${node.myid} (observer), rendered by the Drover agent (zookeeper.observer-join).`,
    '# ZooKeeper may move the server lines to a dynamic config file and rewrite this one.',
    ...settings.map(([key, value]) => `${key}=${value}`),
    ...voterLines,
    own,
  ];
  return { text: `${lines.join('\n')}\n`, observerLine: own, voterLines };
}

function stringValues(extra: Readonly<Record<string, string | number | boolean>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra)) {
    const text = String(value);
    // The config schema refuses these already; a config file is no place to find out it did not.
    if (!/^[A-Za-z][A-Za-z0-9._-]{0,127}$/.test(key) || /[\r\n\0]/.test(text))
      throw new InvalidInputError(`zookeeper.extraConfig.${key}`, value, 'a zoo.cfg key and a one-line value');
    out[key] = text;
  }
  return out;
}
