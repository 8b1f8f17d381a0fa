// `command` step: runs one entry of the agent's LOCAL allow-list (config `commands`). The policy —
// entry lookup, full-match patterns, substitution into the configured argv — is exec/allow-list.ts;
// running it without a shell, in its own process group, with capped output, is exec/spawn.ts. This
// file only joins them to the step context and turns the outcome into the step's result or error.
import { commandStep, describeValue } from '@drover/shared';
import { StepFailedError } from '../errors.ts';
import { type ResolvedCommand, resolveCommand, runProcess, SpawnError } from '../exec/index.ts';
import { implementStep, type StepContext } from './context.ts';

// config.ts checks the allow-list at load time through this module.
export { checkCommandAllowList } from '../exec/index.ts';

/** How much of stderr (or stdout) an error message quotes; the full output went out as log events. */
const MESSAGE_TAIL_CHARS = 512;
/** How much of each stream a failure's details keep. */
const DETAILS_TAIL_CHARS = 4096;

function tail(text: string, chars: number): string {
  const trimmed = text.trimEnd();
  return trimmed.length > chars ? `...${trimmed.slice(trimmed.length - chars)}` : trimmed;
}

async function run(ctx: StepContext, command: ResolvedCommand) {
  ctx.signal.throwIfAborted();
  ctx.logger.info('command starting', { name: command.name });
  let result: Awaited<ReturnType<typeof runProcess>>;
  try {
    result = await runProcess({
      argv: command.argv,
      cwd: command.cwd,
      timeoutMs: command.timeoutMs,
      signal: ctx.signal,
      onOutput: (stream, text) => ctx.output(stream, text),
    });
  } catch (error) {
    if (error instanceof SpawnError) {
      throw new StepFailedError(
        `command ${describeValue(command.name)}: ${error.message}`,
        { exitCode: null, signal: null },
        { cause: error },
      );
    }
    if (ctx.signal.aborted) ctx.logger.warn('command stopped', { name: command.name, reason: 'aborted' });
    throw error;
  }
  const { exitCode, signal, durationMs } = result;
  ctx.logger.info('command finished', { name: command.name, exitCode, signal, durationMs });
  const details = {
    exitCode,
    signal,
    stdoutTail: tail(result.stdout, DETAILS_TAIL_CHARS),
    stderrTail: tail(result.stderr, DETAILS_TAIL_CHARS),
    durationMs,
  };
  if (result.timedOut) {
    throw new StepFailedError(
      `command ${describeValue(command.name)}: did not finish within its timeoutMs ${command.timeoutMs} (stopped by ${signal ?? 'exit'})`,
      { ...details, timedOut: true },
    );
  }
  if (exitCode !== 0) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const quoted = tail(result.stderr || result.stdout, MESSAGE_TAIL_CHARS);
    throw new StepFailedError(
      `command ${describeValue(command.name)} ${how}, expected exit code 0${quoted ? `: ${quoted}` : ''}`,
      details,
    );
  }
  const { timedOut: _, ...stepResult } = result;
  return stepResult;
}

export const commandImplementation = implementStep(commandStep, async (ctx, params) =>
  run(ctx, resolveCommand(ctx.agent.commands, params)),
);
