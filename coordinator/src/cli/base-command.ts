// Base of every drover command: turns on --json (the command's return value is the JSON output)
// and renders Drover's typed errors as one clear line instead of a stack trace.

import { DroverError, InvalidInputErrors } from '@drover/shared';
import { Command } from '@oclif/core';

export abstract class DroverCommand<Result> extends Command {
  static override enableJsonFlag = true;

  abstract override run(): Promise<Result>;

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof InvalidInputErrors) {
      const lines = error.problems.map((p) => `  - ${p.message}`).join('\n');
      return super.catch(Object.assign(new Error(`invalid input:\n${lines}`), { oclif: { exit: 2 } }));
    }
    if (error instanceof DroverError) {
      return super.catch(Object.assign(new Error(`${error.name}: ${error.message}`), { oclif: { exit: 2 } }));
    }
    return super.catch(error);
  }
}
