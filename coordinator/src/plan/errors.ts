// Failures of plan runs, one class each (see shared/src/errors.ts for the base).
import { DroverError } from '@drover/shared';

export class RunNotFoundError extends DroverError {
  readonly runId: string;
  constructor(runId: string, why = "see 'drover runs'") {
    super(`plan run ${runId} not found (${why})`);
    this.name = 'RunNotFoundError';
    this.runId = runId;
  }
}

/** Another coordinator drives the run: two coordinators must never drive one run. */
export class RunLeasedError extends DroverError {
  readonly owner: string;
  readonly leaseUntil: number;
  constructor(runId: string, owner: string, until: number) {
    super(
      `plan run ${runId} is being driven by ${owner} , which renews its lease (last until ${new Date(until).toISOString()} by its clock); nothing done`,
      { retryable: true },
    );
    this.name = 'RunLeasedError';
    this.owner = owner;
    this.leaseUntil = until;
  }
}

/** The coordinator lost the run's lease while driving it (it stops at once; the new owner carries on). */
export class RunLeaseLostError extends DroverError {
  constructor(runId: string, owner: string | undefined) {
    super(`plan run ${runId}: lease lost to ${owner ?? 'nobody'}; this coordinator stopped driving it`);
    this.name = 'RunLeaseLostError';
  }
}

/** The run is in a state that does not allow what was asked (e.g. approving a finished run). */
export class RunStateError extends DroverError {
  readonly state: string;
  constructor(runId: string, state: string, what: string) {
    super(`plan run ${runId} is ${state}: ${what}`);
    this.name = 'RunStateError';
    this.state = state;
  }
}

export class RunConflictError extends DroverError {
  constructor(runId: string) {
    super(`plan run ${runId}: too many concurrent updates`, { retryable: true });
    this.name = 'RunConflictError';
  }
}
