// Failures of the agent's Kafka client that are not a broker's error code (those are in
// ../kafka-protocol/errors.ts): a broker that cannot be reached, an API it does not offer, a config
// op the agent refuses, a run of config ops that failed.
import { DroverError, type DroverErrorOptions, THROTTLE_CONFIG_KEYS } from '@drover/shared';
import type { KafkaResourceError } from '../kafka-protocol/index.ts';

/** The innermost message of an error chain ("connect ECONNREFUSED 127.0.0.1:9092", not "Connection failed."). */
function rootCause(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(rootCause).join('; ');
  let message = '';
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) message = e.message;
  return message;
}

/** No answer from a broker: refused, timed out, or the connection dropped. Names the address(es) tried. */
export class KafkaUnreachableError extends DroverError {
  /** host:port of every broker tried. */
  readonly addresses: string[];
  /** The broker id, when a known broker (not the bootstrap list) was asked. */
  readonly brokerId: number | null;
  /** What was being done, e.g. `Metadata` or `connect`. */
  readonly operation: string;
  constructor(operation: string, addresses: string[], brokerId: number | null, options: DroverErrorOptions = {}) {
    const who =
      brokerId === null ? `bootstrap ${addresses.join(', ')}` : `broker ${brokerId} at ${addresses.join(', ')}`;
    const cause = rootCause(options.cause);
    const why = cause ? `: ${cause}` : '';
    super(`Kafka ${who} unreachable (${operation})${why}`, { retryable: true, ...options });
    this.name = 'KafkaUnreachableError';
    this.addresses = addresses;
    this.brokerId = brokerId;
    this.operation = operation;
  }
}

/** The client was used after `close()`. */
export class KafkaClientClosedError extends DroverError {
  readonly operation: string;
  constructor(operation: string) {
    super(`Kafka client already closed (${operation})`);
    this.name = 'KafkaClientClosedError';
    this.operation = operation;
  }
}

/** The broker offers none of the versions of an API this client speaks (Kafka too old, or too new). */
export class KafkaUnsupportedApiError extends DroverError {
  readonly api: string;
  readonly address: string;
  /** The broker's range, null when it does not offer the API at all. */
  readonly offered: { min: number; max: number } | null;
  readonly supported: readonly number[];
  constructor(
    api: string,
    address: string,
    offered: { min: number; max: number } | null,
    supported: readonly number[],
  ) {
    const range = offered ? `versions ${offered.min}-${offered.max}` : 'no version';
    super(`Kafka broker ${address} offers ${range} of ${api}; this client speaks ${supported.join(', ')}`);
    this.name = 'KafkaUnsupportedApiError';
    this.api = api;
    this.address = address;
    this.offered = offered;
    this.supported = supported;
  }
}

export interface RefusedConfigOp {
  /** Position in the list given. */
  index: number;
  resource: string;
  key: string;
}

/** Config ops that name a key outside THROTTLE_CONFIG_KEYS: refused before any request is sent. */
export class ConfigKeyNotAllowedError extends DroverError {
  readonly refused: RefusedConfigOp[];
  readonly allowed: readonly string[] = THROTTLE_CONFIG_KEYS;
  constructor(refused: RefusedConfigOp[]) {
    const list = refused.map((r) => `#${r.index} ${r.resource} ${JSON.stringify(r.key)}`).join(', ');
    super(`config ops may change replication throttles only (${THROTTLE_CONFIG_KEYS.join(', ')}); refused: ${list}`);
    this.name = 'ConfigKeyNotAllowedError';
    this.refused = refused;
  }
}

/**
 * A run of IncrementalAlterConfigs ops failed for some resources. Runs before it were applied; this
 * run may be applied on the other resources; later runs were not sent.
 */
export class ConfigOpsFailedError extends DroverError {
  readonly failures: KafkaResourceError[];
  /** Ops of the runs before the failing one (all applied). */
  readonly appliedOps: number;
  /** Index of the failing run (0-based) among `runs`. */
  readonly run: number;
  readonly runs: number;
  constructor(failures: KafkaResourceError[], appliedOps: number, run: number, runs: number) {
    super(
      `IncrementalAlterConfigs run ${run + 1}/${runs} failed after ${appliedOps} op(s) applied: ` +
        failures.map((f) => f.message).join('; '),
      { retryable: failures.every((f) => f.retryable), cause: failures[0] },
    );
    this.name = 'ConfigOpsFailedError';
    this.failures = failures;
    this.appliedOps = appliedOps;
    this.run = run;
    this.runs = runs;
  }
}
