// Failures of `drover serve`, one class each (see shared/src/errors.ts for the base).
import { DroverError } from '@drover/shared';

/** No token, or one that cannot be used: the server refuses to start (an open page would show the fleet to anyone). */
export class ServeTokenError extends DroverError {
  /** Where the token was looked for (a file path or the variable's name), never the token itself. */
  readonly source: string;
  constructor(source: string, problem: string, cause?: unknown) {
    super(`drover serve needs an access token: ${problem} (${source})`, cause === undefined ? {} : { cause });
    this.name = 'ServeTokenError';
    this.source = source;
  }
}
