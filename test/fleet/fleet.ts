// A local fleet for integration tests, benchmarks and the demo: a signing key, agent configs,
// agents as their own processes (one each, or many per host process), and the drover CLI as a process.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectDrover, type Drover, enrollAgent, type NatsOptions, writeKeyPair } from '@drover/coordinator';
import { type AgentConfigInput, loadOrCreateAgentKey } from '@drover/shared';
import type { NatsSecurity } from '../harness/nats-secure.ts';
import { type ProcessHandle, runCommand, startProcess, waitFor } from '../harness/process.ts';

export const REPO = resolve(import.meta.dirname, '../..');
/** The pinned Node 24 (npm scripts put it first in PATH; tests may be started by other means). */
export const NODE = process.execPath;
export const AGENT_BIN = join(REPO, 'agent/bin/drover-agent.ts');
export const DROVER_BIN = join(REPO, 'coordinator/bin/drover.js');
export const AGENT_HOST = join(REPO, 'test/fleet/agent-host.ts');

export interface AgentSpec {
  id: string;
  labels: Record<string, string>;
  /** The NATS servers this agent connects to, when not the fleet's: its region's leaf node. */
  natsUrls?: string[];
  commands?: AgentConfigInput['commands'];
  heartbeatMs?: number;
  ackWaitMs?: number;
  maxConcurrentOrders?: number;
  /** What the node runs (services, a Kafka broker): the agent config's own sections. */
  node?: Pick<AgentConfigInput, 'services' | 'kafka' | 'zookeeper' | 'cassandra' | 'shipping' | 'metrics'>;
  /** More environment for the agent's process (startAgent only), e.g. AWS_* as an instance role would give. */
  env?: Record<string, string>;
  /** The agent as this executable, e.g. the single binary (startAgent only). @default node agent/bin/drover-agent.ts */
  binary?: string;
}

export interface Fleet {
  dir: string;
  natsUrls: string[];
  /** How the coordinator side connects (servers, and in secure mode its identity and the CA). */
  natsOptions: NatsOptions;
  keyPath: string;
  publicKeyPath: string;
  /** Environment for drover CLI processes (NATS servers, identity, CA and key). */
  env: NodeJS.ProcessEnv;
  /** The same as a file (0600) to source in a shell: `set -a; . FILE; set +a` (secrets stay out of output). */
  envFile: string;
  config(spec: AgentSpec): AgentConfigInput;
  stateDir(agentId: string): string;
  /**
   * Makes each agent's signing key in its state dir (as the agent would on first start) and enrols
   * it, as an operator does with `drover agent enroll`. startAgent and startHost do this first.
   */
  enroll(specs: AgentSpec[]): Promise<void>;
  /** One agent in its own process (what systemd runs), started with the real daemon entry. */
  startAgent(spec: AgentSpec): Promise<ProcessHandle>;
  /** Many agents in one process (each with its own NATS connection), resolves when all are ready. */
  startHost(name: string, specs: AgentSpec[]): Promise<ProcessHandle>;
  /** Runs the drover CLI to completion. */
  drover(
    args: string[],
    options?: { timeoutMs?: number },
  ): Promise<{ code: number | null; stdout: string; output: string }>;
  /** Starts the drover CLI as a managed process (for kill tests and live output); `env` replaces `Fleet.env`. */
  startDrover(name: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ProcessHandle>;
  /** `env` with the read-only VIEWER identity in secure mode (what `drover serve` runs as). */
  viewerEnv: NodeJS.ProcessEnv;
  /** How many times this agent's journal says it started the order. */
  journalStarts(agentId: string, orderId: string): number;
}

/**
 * A fleet on `natsUrls`; with `security` (startNats({ secure: true })), every agent gets its own NATS
 * identity with the shipped per-agent permissions, the CLI and in-process coordinator connect as the
 * coordinator identity, and everyone checks the servers' TLS certificates against the test CA.
 */
export function createFleet(dir: string, natsUrls: string[], security?: NatsSecurity): Fleet {
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, 'coordinator.key');
  const { publicKeyPath } = writeKeyPair(keyPath, true);
  const natsOptions: NatsOptions = {
    servers: natsUrls,
    ...(security
      ? { user: security.coordinator.user, pass: security.coordinator.pass, tlsCaFile: security.caFile }
      : {}),
  };
  const env: Record<string, string> = {
    DROVER_NATS: natsUrls.join(','),
    DROVER_KEY: keyPath,
    ...(security
      ? {
          DROVER_NATS_USER: security.coordinator.user,
          DROVER_NATS_PASS: security.coordinator.pass,
          DROVER_NATS_CA: security.caFile,
        }
      : {}),
  };
  const envFile = join(dir, 'drover.env');
  writeFileSync(
    envFile,
    `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
  const logDir = join(dir, 'logs');
  const stateDir = (agentId: string) => join(dir, 'state', agentId);
  const config = (spec: AgentSpec): AgentConfigInput => ({
    id: spec.id,
    labels: spec.labels,
    nats: {
      servers: spec.natsUrls ?? natsUrls,
      ...(security
        ? { user: spec.id, pass: security.agentPassword(spec.id) ?? '(not added)', tlsCaFile: security.caFile }
        : {}),
    },
    trustedKeys: [publicKeyPath],
    stateDir: stateDir(spec.id),
    commands: spec.commands ?? {},
    heartbeatMs: spec.heartbeatMs ?? 2000,
    ackWaitMs: spec.ackWaitMs ?? 30_000,
    maxConcurrentOrders: spec.maxConcurrentOrders ?? 4,
    registerFullFacts: false,
    ...(spec.node ?? {}),
  });
  // Agents enrolled by this fleet with the key they still have: a restarted agent is not enrolled again
  // (as an operator enrols once), so restarts need no coordinator connection (chaos kills NATS servers).
  const enrolled = new Map<string, string>();
  async function enroll(specs: AgentSpec[]): Promise<void> {
    const keys = specs
      .map((spec) => ({
        id: spec.id,
        pem: loadOrCreateAgentKey(join(stateDir(spec.id), 'agent-key.pem')).signer.publicKeyPem,
      }))
      .filter((k) => enrolled.get(k.id) !== k.pem);
    if (keys.length === 0) return;
    await security?.addAgents(keys.map((k) => k.id));
    const d = await connectCoordinator(natsOptions);
    try {
      for (let i = 0; i < keys.length; i += 200)
        await Promise.all(keys.slice(i, i + 200).map((k) => enrollAgent(d.agentKeys, k.id, k.pem, 'test-fleet')));
      for (const k of keys) enrolled.set(k.id, k.pem);
    } finally {
      await d.close();
    }
  }
  return {
    dir,
    natsUrls,
    natsOptions,
    envFile,
    keyPath,
    publicKeyPath,
    env,
    config,
    stateDir,
    enroll,
    async startAgent(spec) {
      await enroll([spec]);
      const path = join(dir, `agent-${spec.id}.json`);
      writeFileSync(path, JSON.stringify(config(spec), null, 2));
      // A restarted agent appends to its log: only a line written after this start counts as ready.
      const logFile = join(logDir, `agent-${spec.id}.log`);
      const from = existsSync(logFile) ? statSync(logFile).size : 0;
      const handle = await startProcess({
        name: `agent-${spec.id}`,
        command: spec.binary ?? NODE,
        args: [...(spec.binary ? [] : [AGENT_BIN]), '--config', path],
        logDir,
        ...(spec.env ? { env: spec.env } : {}),
      });
      await waitFor(() => readFileSync(handle.logFile).subarray(from).includes('"agent ready"'), {
        timeoutMs: 30_000,
        what: `agent ${spec.id} ready (log ${handle.logFile})`,
      });
      return handle;
    },
    async startHost(name, specs) {
      await enroll(specs);
      const path = join(dir, `host-${name}.json`);
      writeFileSync(path, JSON.stringify(specs.map(config)));
      // Agents on separate machines fsync their journals in parallel; in one process they share
      // libuv's thread pool (4 threads by default), so give it one thread per few agents.
      const threads = String(Math.min(128, Math.max(4, Math.ceil(specs.length / 4))));
      const handle = await startProcess({
        name: `host-${name}`,
        command: NODE,
        args: [AGENT_HOST, path],
        logDir,
        env: { UV_THREADPOOL_SIZE: threads },
      });
      await waitFor(() => readFileSync(handle.logFile, 'utf8').includes('ready '), {
        timeoutMs: 120_000,
        what: `agent host ${name} (${specs.length} agents) ready (log ${handle.logFile})`,
      });
      return handle;
    },
    async drover(args, options = {}) {
      const result = await runCommand(NODE, [DROVER_BIN, ...args], {
        env: { ...process.env, ...env },
        timeoutMs: options.timeoutMs ?? 120_000,
      });
      return { code: result.code, stdout: result.stdout, output: result.output };
    },
    startDrover(name, args, processEnv = env) {
      return startProcess({ name, command: NODE, args: [DROVER_BIN, ...args], env: processEnv, logDir });
    },
    viewerEnv: security
      ? { ...env, DROVER_NATS_USER: security.viewer.user, DROVER_NATS_PASS: security.viewer.pass }
      : env,
    journalStarts(agentId, orderId) {
      let text = '';
      try {
        text = readFileSync(join(stateDir(agentId), 'journal.jsonl'), 'utf8');
      } catch {
        return 0;
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { t: string; orderId: string })
        .filter((l) => l.t === 'start' && l.orderId === orderId).length;
    },
  };
}

/**
 * connectDrover, tried again a few times on an authorization error (nats-server refuses connections
 * for an instant while it reloads its users, another agent being added in secure mode), JetStream not
 * answering for an instant after such a reload, or a timeout
 * (JetStream electing a leader after a server was killed), which a test must not take for a failure.
 * Agents reconnect by themselves.
 */
export async function connectCoordinator(options: NatsOptions): Promise<Drover> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectDrover(options);
    } catch (error) {
      // An authorization refusal during a config reload, JetStream not yet enabled again for the
      // account right after one ("no responders" to $JS.API.INFO, seen in CI while agents were being
      // added), or JetStream busy electing a leader.
      if (
        attempt >= 5 ||
        !/authoriz|timeout|jetstream is not enabled|no responders/i.test(String((error as Error).message))
      )
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
