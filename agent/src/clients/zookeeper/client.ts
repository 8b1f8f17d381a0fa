// One ZooKeeper server as the agent sees it: its four-letter words parsed, the ensemble config it
// holds, and `reconfig -add` sent through it. Stateless: every call opens and closes its own
// connection (a step makes a handful of calls, and a held session would need its own keepalive).
import type { OutputStream } from '../../exec/index.ts';
import { type ReconfigAddResult, reconfigAdd, reconfigRemove } from './cli.ts';
import { DEFAULT_FOUR_LETTER_TIMEOUT_MS, formatAddress, sendFourLetterWord } from './four-letter.ts';
import { parseEnsembleConfig } from './server-line.ts';
import { withSession } from './session.ts';
import { parseConf, parseMntr, parseSrvr } from './stats.ts';
import type { ConfStats, EnsembleConfig, MntrStats, SrvrStats, ZooKeeperAddress } from './types.ts';

export interface ZooKeeperClientOptions {
  /** Per call: connect plus answer. @default 5000 for four-letter words, 10000 for a session */
  timeoutMs?: number | undefined;
  /** Aborts any call in flight (a step passes its own). */
  signal?: AbortSignal | undefined;
  /** The argv prefix of ZooKeeperMain, for reconfigAdd (local config only). */
  cliArgv?: readonly string[] | undefined;
}

export class ZooKeeperClient {
  readonly address: ZooKeeperAddress;
  private readonly options: ZooKeeperClientOptions;

  constructor(address: ZooKeeperAddress, options: ZooKeeperClientOptions = {}) {
    this.address = { host: address.host, port: address.port };
    this.options = options;
  }

  /** host:port */
  get name(): string {
    return formatAddress(this.address);
  }

  async srvr(): Promise<SrvrStats> {
    return parseSrvr(await this.word('srvr'), this.name);
  }

  async mntr(): Promise<MntrStats> {
    return parseMntr(await this.word('mntr'), this.name);
  }

  async conf(): Promise<ConfStats> {
    return parseConf(await this.word('conf'), this.name);
  }

  /** Answers `imok` when the server runs (serving or not); true then. */
  async ruok(): Promise<boolean> {
    return (await this.word('ruok')).trim() === 'imok';
  }

  /** Znodes in this server's data tree (`srvr` Node count: no tree walk, the server counts them). */
  async znodeCount(): Promise<number> {
    return (await this.srvr()).nodeCount;
  }

  /** The ensemble's dynamic config as this server holds it (`/zookeeper/config`, 3.5+). */
  getConfig(): Promise<EnsembleConfig> {
    return withSession(this.name, { timeoutMs: this.options.timeoutMs, signal: this.options.signal }, async (s) =>
      parseEnsembleConfig((await s.getData('/zookeeper/config')).text, `${this.name} /zookeeper/config`),
    );
  }

  /** `reconfig -add <line>` through this server (a voter), by ZooKeeper's Java CLI. */
  reconfigAdd(
    line: string,
    options: { timeoutMs?: number; onOutput?: (stream: OutputStream, text: string) => void } = {},
  ): Promise<ReconfigAddResult> {
    return reconfigAdd(line, {
      cliArgv: this.options.cliArgv,
      server: this.address,
      timeoutMs: options.timeoutMs,
      signal: this.options.signal,
      onOutput: options.onOutput,
    });
  }

  /** `reconfig -remove <id>` through this server (a voter), by ZooKeeper's Java CLI. */
  reconfigRemove(
    id: number,
    options: { timeoutMs?: number; onOutput?: (stream: OutputStream, text: string) => void } = {},
  ): Promise<{ server: string; committed: EnsembleConfig; durationMs: number }> {
    return reconfigRemove(id, {
      cliArgv: this.options.cliArgv,
      server: this.address,
      timeoutMs: options.timeoutMs,
      signal: this.options.signal,
      onOutput: options.onOutput,
    });
  }

  private word(word: 'srvr' | 'mntr' | 'conf' | 'ruok'): Promise<string> {
    return sendFourLetterWord(this.address, word, {
      timeoutMs: this.options.timeoutMs ?? DEFAULT_FOUR_LETTER_TIMEOUT_MS,
      signal: this.options.signal,
    });
  }
}
