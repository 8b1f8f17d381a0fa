// Failures of the agent's Cassandra client, one class per failure. A node that does not answer is
// retryable (it may be restarting); an error Cassandra itself reports for a rebuild carries its own
// text, and whether a retry can help is decided by the rebuild step (a dropped table: yes).
import { DroverError, type DroverErrorOptions } from '@drover/shared';

const rootMessage = (cause: unknown): string => {
  let message = '';
  for (let e = cause, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) message = e.message;
  return message;
};

/** The local node does not answer CQL (down, starting, or the address is wrong). */
export class CassandraUnreachableError extends DroverError {
  readonly address: string;
  constructor(address: string, operation: string, options: DroverErrorOptions = {}) {
    const why = rootMessage(options.cause);
    super(`Cassandra ${address} unreachable (${operation})${why ? `: ${why}` : ''}`, { retryable: true, ...options });
    this.name = 'CassandraUnreachableError';
    this.address = address;
  }
}

/** nodetool exited non-zero; `cassandraError` is the error line Cassandra (or nodetool) printed. */
export class NodetoolError extends DroverError {
  readonly subcommand: string;
  readonly exitCode: number | null;
  readonly cassandraError: string;
  constructor(subcommand: string, exitCode: number | null, cassandraError: string, options: DroverErrorOptions = {}) {
    super(`nodetool ${subcommand} failed (exit ${exitCode}): ${cassandraError}`, options);
    this.name = 'NodetoolError';
    this.subcommand = subcommand;
    this.exitCode = exitCode;
    this.cassandraError = cassandraError;
  }
}

/** The agent's config has no `cassandra` section, so no Cassandra step can run here. */
export class CassandraNotConfiguredError extends DroverError {
  constructor(agentId: string) {
    super(`agent ${agentId} declares no Cassandra node (agent config "cassandra" section)`);
    this.name = 'CassandraNotConfiguredError';
  }
}

/** The running node would abort a second rebuild of a keyspace (CASSANDRA-17679): the property is missing. */
export class RebuildNotResumableError extends DroverError {
  constructor(address: string, value: string | null) {
    super(
      `node ${address} runs with cassandra.reset_bootstrap_progress=${value ?? '(unset)'}, expected false: a second ` +
        'rebuild of a keyspace (one per source, as the consistent plan does) would abort with "Discovered existing ' +
        'bootstrap data"; run cassandra.node-prepare on it first',
    );
    this.name = 'RebuildNotResumableError';
  }
}
