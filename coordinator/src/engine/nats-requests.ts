// A workaround for nats.js 3.4 (`@nats-io/nats-core`): every request it resolves then cancels itself
// (RequestOne.resolver → cancel), and cancel() rejects the already-settled promise with a NEW
// RequestError("cancelled"): a no-op that still captures a stack trace. At fleet scale the coordinator
// makes a few requests per target (order publish, run records), and those Error objects were ~12%
// of its CPU on a 2,129-target job (0.18 s of 1.4 s). Here cancel() without an error is given one
// shared instance, so nothing is built; a cancel with a real error (connection closed) is unchanged.
import { RequestError } from '@nats-io/nats-core';
import { RequestOne } from '@nats-io/nats-core/internal';

const CANCELLED = new RequestError('cancelled');
const cancel = RequestOne.prototype.cancel;
let patched = false;

/** Installs the workaround once per process (idempotent). */
export function shareCancelledRequestError(): void {
  if (patched) return;
  patched = true;
  RequestOne.prototype.cancel = function (this: RequestOne, err?: Error) {
    cancel.call(this, err ?? CANCELLED);
  };
}
