// The only thing a step implementation imports from the agent: its context (modelled on Temporal's
// activity context). The runner that builds it lives in ../runner.ts.
import {
  type AgentConfig,
  type CassandraNodeConfig,
  InvalidInputError,
  type KafkaNodeConfig,
  type KafkaProfile,
  type StepDefinition,
  type ZooKeeperNodeConfig,
} from '@drover/shared';
import type { z } from 'zod';
import type { ServiceActionResult, ServiceStatus } from '../clients/services/index.ts';

export interface StepInfo {
  jobId: string;
  orderId: string;
  agentId: string;
  step: string;
  /** When the step must have finished (the runner aborts `signal` then). */
  deadline: number;
}

export interface StepLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface StepContext {
  info: StepInfo;
  /** Aborted on cancellation or timeout; `signal.reason` says which. Steps must stop promptly. */
  signal: AbortSignal;
  /** Streams a progress event (rate-limited by the runner) and keeps the order's delivery alive. */
  progress(message: string, percent?: number): void;
  /** Streams one chunk of output (capped by the runner). */
  output(stream: 'stdout' | 'stderr', text: string): void;
  logger: StepLogger;
  /** The agent's identity and local allow-list; never secrets (NATS credentials are removed). */
  agent: {
    id: string;
    version: string;
    labels: Readonly<Record<string, string>>;
    commands: AgentConfig['commands'];
  };
  /**
   * The node's services by name. The runner always sets it; it is optional only so that contexts made
   * by hand for steps that do not use it (tests) may leave it out.
   */
  services?: StepServices;
  /** What the agent's local config says this node runs (a Kafka broker…); paths stay on the node. */
  node: StepNode;
  /** Central per-cluster profiles (KV drover-profiles), read when a step needs one. */
  profiles?: StepProfiles;
  /**
   * The agent's own state directory (config `stateDir`), for files a step keeps on the node (the
   * ZooKeeper cleaner's backups). The runner sets it; contexts made by hand may leave it out.
   */
  stateDir?: string;
  /** The customer's bucket, when this agent ships logs (issue 13); undefined otherwise. */
  bucket?: StepBucket;
}

/** An object in the customer's bucket, under this agent's own prefix (`<prefix>/agent/<id>/<name>`). */
export interface StepBucket {
  put(name: string, body: Uint8Array, contentType?: string): Promise<{ bucket: string; key: string }>;
}

export interface StepProfiles {
  /** The cluster's Kafka profile, or undefined when none is stored. */
  kafka(cluster: string): Promise<KafkaProfile | undefined>;
}

/** The node's own declarations, from the agent's config (never from an order). */
export interface StepNode {
  /** The agent's `cluster` label, if any. */
  cluster?: string | undefined;
  kafka?: KafkaNodeConfig | undefined;
  zookeeper?: ZooKeeperNodeConfig | undefined;
  cassandra?: CassandraNodeConfig | undefined;
}

/**
 * The node's local services, by the NAME the agent's config gives them (`services`): a step can drive
 * them but never sees their argv, unit or paths. Calls honour the step's `signal`. Unknown names are
 * refused with UnknownServiceError; each call is idempotent and reports what it did.
 */
export interface StepServices {
  start(name: string): Promise<ServiceActionResult>;
  stop(name: string): Promise<ServiceActionResult>;
  restart(name: string): Promise<ServiceActionResult>;
  status(name: string): Promise<ServiceStatus>;
}

/** One step's implementation: `definition` comes from the shared catalog, `run` from this agent. */
export interface StepImplementation<Def extends StepDefinition = StepDefinition> {
  definition: Def;
  run(ctx: StepContext, params: z.infer<Def['params']>): Promise<z.infer<Def['result']>>;
}

const NODE_KINDS = { kafka: 'a Kafka broker', zookeeper: 'a ZooKeeper server', cassandra: 'a Cassandra node' } as const;

/** What the agent's config declares for this kind of node; a clear refusal when it declares none. */
export function localNode<K extends keyof typeof NODE_KINDS>(ctx: StepContext, kind: K): NonNullable<StepNode[K]> {
  const node = ctx.node[kind];
  if (!node)
    throw new InvalidInputError(
      'step',
      ctx.info.step,
      `an agent whose config declares ${NODE_KINDS[kind]} (agent ${ctx.agent.id} has none)`,
    );
  return node as NonNullable<StepNode[K]>;
}

export function implementStep<Def extends StepDefinition>(
  definition: Def,
  run: (ctx: StepContext, params: z.infer<Def['params']>) => Promise<z.infer<Def['result']>>,
): StepImplementation<Def> {
  return { definition, run };
}
