// Failures of the agent's ZooKeeper client, one class per failure. Servers that cannot be reached or do
// not serve yet are retryable; answers the client does not understand, refused words and a failed
// reconfig are not (retrying the same thing gives the same answer).
import { DroverError, type DroverErrorOptions } from '@drover/shared';

const rootMessage = (cause: unknown): string => {
  let message = '';
  for (let e = cause, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) message = e.message;
  return message;
};

/** No answer: refused, timed out, or the connection dropped. */
export class ZooKeeperUnreachableError extends DroverError {
  /** host:port asked. */
  readonly address: string;
  /** What was being done: a four-letter word, `session`, `getData /zookeeper/config`… */
  readonly operation: string;
  constructor(address: string, operation: string, options: DroverErrorOptions = {}) {
    const why = rootMessage(options.cause);
    super(`ZooKeeper ${address} unreachable (${operation})${why ? `: ${why}` : ''}`, { retryable: true, ...options });
    this.name = 'ZooKeeperUnreachableError';
    this.address = address;
    this.operation = operation;
  }
}

/** The server answers but does not serve yet ("This ZooKeeper instance is not currently serving requests"). */
export class ZooKeeperNotServingError extends DroverError {
  readonly address: string;
  constructor(address: string) {
    super(`ZooKeeper ${address} is not serving requests (electing, syncing or not part of a quorum)`, {
      retryable: true,
    });
    this.name = 'ZooKeeperNotServingError';
    this.address = address;
  }
}

/** The server refuses a four-letter word: it is not in its `4lw.commands.whitelist`. */
export class FourLetterWordNotAllowedError extends DroverError {
  readonly address: string;
  readonly word: string;
  constructor(address: string, word: string) {
    super(`ZooKeeper ${address} does not allow "${word}" (add it to 4lw.commands.whitelist)`);
    this.name = 'FourLetterWordNotAllowedError';
    this.address = address;
    this.word = word;
  }
}

/** An answer the client cannot read (a field missing or not a number). */
export class ZooKeeperResponseError extends DroverError {
  readonly address: string;
  readonly operation: string;
  /** The start of the text received. */
  readonly received: string;
  constructor(address: string, operation: string, problem: string, received: string) {
    super(`ZooKeeper ${address} ${operation}: ${problem}`);
    this.name = 'ZooKeeperResponseError';
    this.address = address;
    this.operation = operation;
    this.received = received.slice(0, 500);
  }
}

/** The ZooKeeper error codes callers act on (ZooKeeperRequestError.code). */
export const ZooKeeperCodes = { NO_NODE: -101, NODE_EXISTS: -110, NOT_EMPTY: -111, NO_AUTH: -102 } as const;

/** A request answered with a ZooKeeper error code (NO_NODE, NO_AUTH…). */
export class ZooKeeperRequestError extends DroverError {
  readonly address: string;
  readonly path: string;
  /** ZooKeeper's code, e.g. -101, and its name, e.g. NO_NODE. */
  readonly code: number;
  readonly codeName: string;
  constructor(address: string, path: string, code: number, codeName: string, options: DroverErrorOptions = {}) {
    super(`ZooKeeper ${address}: ${path} failed with ${codeName} (${code})`, options);
    this.name = 'ZooKeeperRequestError';
    this.address = address;
    this.path = path;
    this.code = code;
    this.codeName = codeName;
  }
}

/** `reconfig` through ZooKeeper's CLI did not commit the change. */
export class ZooKeeperReconfigError extends DroverError {
  /** The voter asked (host:port). */
  readonly server: string;
  readonly line: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The last lines the CLI printed. */
  readonly output: string;
  constructor(
    server: string,
    line: string,
    outcome: { exitCode: number | null; timedOut: boolean; output: string },
    options: DroverErrorOptions = {},
  ) {
    const how = outcome.timedOut ? 'timed out' : `exited with ${outcome.exitCode}`;
    const last = outcome.output.trim().split('\n').slice(-3).join(' | ');
    super(`reconfig ${line.startsWith('-remove') ? line : `-add ${line}`} through ${server} ${how}: ${last}`, {
      retryable: outcome.timedOut,
      ...options,
    });
    this.name = 'ZooKeeperReconfigError';
    this.server = server;
    this.line = line;
    this.exitCode = outcome.exitCode;
    this.timedOut = outcome.timedOut;
    this.output = outcome.output.slice(-4096);
  }
}

/** A reconfig was asked for but the agent's config gives no `zookeeper.cliArgv`. */
export class ZooKeeperCliNotConfiguredError extends DroverError {
  constructor() {
    super("zookeeper.cliArgv is not set in the agent config: reconfig needs ZooKeeper's Java CLI (ZooKeeperMain)");
    this.name = 'ZooKeeperCliNotConfiguredError';
  }
}
