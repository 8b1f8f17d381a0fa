// Runs many agents in one process, each with its own NATS connection, journal and order intake:
// how tests and benchmarks put 50 to 2,000+ real agents on a 2-core machine.
// Usage: node test/fleet/agent-host.ts CONFIGS.json   (a JSON array of agent configs)
import { readFileSync } from 'node:fs';
import { type AgentHandle, parseAgentConfig, silentLogger, startAgent } from '@drover/agent';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: agent-host.ts CONFIGS.json\n');
  process.exit(2);
}
const configs = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
const agents: AgentHandle[] = [];
const started = Date.now();
// Start in small batches: a burst of thousands of connections at once only queues in the server.
for (let i = 0; i < configs.length; i += 50) {
  const batch = configs.slice(i, i + 50).map((raw) =>
    startAgent(parseAgentConfig(raw), {
      logger: silentLogger(),
      collectFacts: async () => ({ hostname: 'agent-host', summaryOnly: true }),
    }),
  );
  agents.push(...(await Promise.all(batch)));
}
process.stdout.write(`ready ${agents.length} agents in ${Date.now() - started} ms\n`);
const stop = async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
