// Errors of the Cassandra placement and rebuild planner. Bad operator input (topology file, flags,
// plan file) is reported with InvalidInputError(s) from @drover/shared; the classes here are for the
// failures that are not a malformed field.

import { DroverError, type DroverErrorOptions } from '@drover/shared';

/**
 * Keyspaces whose destination DC holds replicas but whose source DC holds none: there is nothing to
 * copy from, so a rebuild would leave the new replicas empty. Every such keyspace is named at once.
 * Not retryable: the replication settings (or the --keyspaces choice) must change first.
 */
export class NoSourceReplicasError extends DroverError {
  readonly keyspaces: readonly string[];
  readonly sourceDc: string;
  readonly destDc: string;
  constructor(keyspaces: readonly string[], sourceDc: string, destDc: string, options: DroverErrorOptions = {}) {
    super(
      `keyspace${keyspaces.length === 1 ? '' : 's'} ${keyspaces.join(', ')}: replicated in destination DC ` +
        `${destDc} but with no replica in source DC ${sourceDc}, so there is nothing to rebuild from ` +
        `(add ${sourceDc} to the replication, or leave the keyspace out with --keyspaces)`,
      { ...options, retryable: false },
    );
    this.name = 'NoSourceReplicasError';
    this.keyspaces = keyspaces;
    this.sourceDc = sourceDc;
    this.destDc = destDc;
  }
}

/**
 * Placement or planning produced something that breaks one of its own invariants (a bug, never bad
 * input): e.g. a DC that could not be filled although it has enough nodes and racks.
 * Not retryable: the same input gives the same result.
 */
export class PlannerInvariantError extends DroverError {
  readonly invariant: string;
  readonly subject: string;
  constructor(invariant: string, subject: string, options: DroverErrorOptions = {}) {
    super(`cassandra planner invariant broken for ${subject}: ${invariant}`, { ...options, retryable: false });
    this.name = 'PlannerInvariantError';
    this.invariant = invariant;
    this.subject = subject;
  }
}
