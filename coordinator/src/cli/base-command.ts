// Base of every drover command: turns on --json (the command's return value is the JSON output)
// and renders Drover's typed errors as one clear line instead of a stack trace.

import { DroverError, InvalidInputErrors } from '@drover/shared';
import { Command } from '@oclif/core';

export abstract class DroverCommand<Result> extends Command {
  static override enableJsonFlag = true;

  abstract override run(): Promise<Result>;

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    let message: string | undefined;
    if (error instanceof InvalidInputErrors) {
      message = `invalid input:\n${error.problems.map((p) => `  - ${p.message}`).join('\n')}`;
    } else if (error instanceof DroverError) {
      message = `${error.name}: ${error.message}`;
    }
    if (message === undefined) return super.catch(error);
    // Printed as is (oclif would wrap it at 80 columns, splitting file:line:col and values apart).
    if (!this.jsonEnabled()) {
      process.stderr.write(`Error: ${message}\n`);
      process.exitCode = 2;
      return undefined;
    }
    return super.catch(Object.assign(new Error(message), { oclif: { exit: 2 } }));
  }
}
