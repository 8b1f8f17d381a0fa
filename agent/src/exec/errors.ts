// Failures of running local programs. A program that ran and exited non-zero is not an error here:
// its exit code is in the result, and the caller knows what that code means.
import { DroverError, type DroverErrorOptions } from '@drover/shared';

/** The program could not be started at all (missing, not executable, bad cwd): `cause` has the errno. */
export class SpawnError extends DroverError {
  readonly program: string;
  /** The system error code, e.g. ENOENT or EACCES. */
  readonly code: string | undefined;
  constructor(program: string, options: DroverErrorOptions = {}) {
    const code = (options.cause as NodeJS.ErrnoException | undefined)?.code;
    super(
      `cannot run ${JSON.stringify(program)}: ${(options.cause as Error | undefined)?.message ?? 'unknown error'}`,
      options,
    );
    this.name = 'SpawnError';
    this.program = program;
    this.code = code;
  }
}
