// The agent daemon's entry: `drover-agent --config FILE [--check-config] [--version]`.
// Runs until SIGTERM/SIGINT, then finishes running orders and marks itself offline (systemd's
// KillMode=mixed gives it the time before SIGKILL).
import { parseArgs } from 'node:util';
import { InvalidInputErrors } from '@drover/shared';
import { startAgent } from './agent.ts';
import { loadAgentConfig } from './config.ts';
import { createLogger } from './log.ts';
import { releaseStartupMemory } from './memory.ts';
import { AGENT_VERSION } from './version.ts';

const USAGE = `drover-agent ${AGENT_VERSION}
Usage: drover-agent --config FILE [--check-config]
  --config FILE     agent config (JSON); see 'drover agent init'
  --check-config    validate the config and exit (0 = valid)
  --version         print the version
  --help            this text`;

export async function main(argv: string[]): Promise<number> {
  let values: { config?: string; 'check-config'?: boolean; version?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        'check-config': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  if (values.help || !values.config) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const logger = createLogger();
  let loaded: ReturnType<typeof loadAgentConfig>;
  try {
    loaded = loadAgentConfig(values.config);
  } catch (error) {
    const message =
      error instanceof InvalidInputErrors
        ? error.problems.map((p) => p.message).join('\n  ')
        : (error as Error).message;
    process.stderr.write(`invalid config ${values.config}:\n  ${message}\n`);
    return 1;
  }
  if (values['check-config']) {
    process.stdout.write(
      `config ${values.config} is valid (agent ${loaded.config.id}, ${loaded.trustedKeys.size} trusted key(s))\n`,
    );
    return 0;
  }
  const agent = await startAgent(loaded, { logger });
  // The daemon now mostly waits: give back what start-up left behind (see memory.ts).
  releaseStartupMemory();
  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    agent.stop().catch((error: Error) => logger.error('shutdown failed', { error: error.message }));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await agent.done;
  return 0;
}
