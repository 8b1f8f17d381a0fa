// Public entry of @drover/agent (for tests and benchmarks that run agents in-process).
export { type AgentHandle, type AgentOptions, startAgent } from './agent.ts';
export { loadAgentConfig, parseAgentConfig } from './config.ts';
export { Journal } from './journal.ts';
export { createLogger, silentLogger } from './log.ts';
export type { StepContext, StepImplementation } from './steps/context.ts';
export { AGENT_VERSION } from './version.ts';
