// The agent's version, compiled in (a single binary has no package.json to read at run time).
export const AGENT_VERSION = '0.1.0';
