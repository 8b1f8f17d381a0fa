// Errors of the Kafka migration planner. Bad operator input (cluster file, --map, --rf, --throttle,
// plan file) is reported with InvalidInputError(s) from @drover/shared; the classes here are for
// failures that are not the operator's input.

import { DroverError, type DroverErrorOptions } from '@drover/shared';

/**
 * The planner produced something that breaks one of its own invariants (a bug, never bad input):
 * e.g. a batch over its per-broker cap, or an expand list that does not start with the sources.
 * Not retryable: the same input gives the same plan.
 */
export class PlanInvariantError extends DroverError {
  readonly invariant: string;
  readonly subject: string;
  constructor(invariant: string, subject: string, options: DroverErrorOptions = {}) {
    super(`plan invariant broken for ${subject}: ${invariant}`, { ...options, retryable: false });
    this.name = 'PlanInvariantError';
    this.invariant = invariant;
    this.subject = subject;
  }
}
