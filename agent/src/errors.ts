// Failures of the agent and its steps. The runner turns these into a result's `error`
// ({ name, message, retryable }); anything else is reported as an unexpected StepCrashedError.
import { DroverError, type DroverErrorOptions } from '@drover/shared';

/** A step ran and did not reach its goal (a command exited non-zero, a check failed…). */
export class StepFailedError extends DroverError {
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}, options: DroverErrorOptions = {}) {
    super(message, options);
    this.name = 'StepFailedError';
    this.details = details;
  }
}

/** An order named something the agent's local allow-list does not have, or a value that breaks its rules. */
export class NotAllowedError extends DroverError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'NotAllowedError';
    this.field = field;
  }
}

/** Why an order was refused before it ran (signature, target, expiry, schema, unknown step). */
export class OrderRejectedError extends DroverError {
  readonly reason: 'signature' | 'target' | 'expired' | 'not-yet-valid' | 'schema' | 'unknown-step' | 'params';
  constructor(reason: OrderRejectedError['reason'], message: string) {
    super(message);
    this.name = 'OrderRejectedError';
    this.reason = reason;
  }
}

/** The agent restarted while this order's step was running; it is not run again. */
export class InterruptedByRestartError extends DroverError {
  constructor(orderId: string) {
    super(`order ${orderId} was running when the agent stopped; it was not run again (outcome unknown)`);
    this.name = 'InterruptedByRestartError';
  }
}

export class ConfigError extends DroverError {
  constructor(message: string, options: DroverErrorOptions = {}) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
