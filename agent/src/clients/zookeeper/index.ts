// Public entry of the agent's ZooKeeper client (agent/src/clients/zookeeper): four-letter words parsed
// into objects, the ensemble config (/zookeeper/config, via node-zookeeper-client), `reconfig -add`
// through ZooKeeper's Java CLI, server lines and the observer's zoo.cfg.
export {
  DEFAULT_RECONFIG_TIMEOUT_MS,
  type ReconfigAddOptions,
  type ReconfigAddResult,
  reconfigAdd,
  reconfigAddArgv,
  reconfigRemove,
  reconfigRemoveArgv,
} from './cli.ts';
export { ZooKeeperClient, type ZooKeeperClientOptions } from './client.ts';
export {
  FourLetterWordNotAllowedError,
  ZooKeeperCliNotConfiguredError,
  ZooKeeperCodes,
  ZooKeeperNotServingError,
  ZooKeeperReconfigError,
  ZooKeeperRequestError,
  ZooKeeperResponseError,
  ZooKeeperUnreachableError,
} from './errors.ts';
export {
  DEFAULT_FOUR_LETTER_TIMEOUT_MS,
  type FourLetterOptions,
  formatAddress,
  sendFourLetterWord,
} from './four-letter.ts';
export {
  formatServerLine,
  parseEnsembleConfig,
  parseServerLine,
  type ServerLineInput,
  sameServer,
  ZOOKEEPER_HOST,
} from './server-line.ts';
export { DEFAULT_SESSION_TIMEOUT_MS, Session, type SessionOptions, withSession } from './session.ts';
export { compareZxid, normalizeZxid, parseConf, parseMntr, parseSrvr, splitZxid } from './stats.ts';
export type * from './types.ts';
export {
  FOUR_LETTER_WHITELIST,
  type ObserverNode,
  observerLine,
  type RenderedObserverConfig,
  renderObserverConfig,
} from './zoo-cfg.ts';
