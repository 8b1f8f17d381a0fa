// The agent's configuration file (JSON), defined here because both sides use it: the agent reads it,
// `drover agent init` writes a template. Secrets (NATS password, token, creds) stay in this file and
// never reach logs or the registry.
import { z } from 'zod';
import { TokenSchema } from './envelopes.ts';
import { ShippingSettingsSchema } from './shipping.ts';
import { COORDINATOR_TOKEN } from './subjects.ts';

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]{0,63}$/;

export const AllowedCommandSchema = z
  .object({
    /** The argv to run, no shell. `{name}` in an element is replaced by the declared parameter's value. */
    argv: z.array(z.string().min(1)).min(1),
    /** Parameters an order may set, each with a regex its value must match in full. */
    params: z.record(z.string(), z.object({ pattern: z.string(), description: z.string().optional() })).default({}),
    timeoutMs: z.number().int().positive().optional(),
    cwd: z.string().optional(),
  })
  .strict();
export type AllowedCommand = z.infer<typeof AllowedCommandSchema>;

/** A local service's name, as orders and steps refer to it (also a file name in the agent's stateDir). */
export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** A systemd unit name: never starts with "-", so it cannot be read as a systemctl option. */
const UNIT_NAME = /^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]{0,254}$/;
const absolutePath = (what: string) =>
  z
    .string()
    .regex(/^\//, `expected an absolute path (${what})`)
    .refine((path) => !path.includes('\0'), {
      message: 'expected a path without NUL bytes',
    });

/**
 * A local service the agent may start, stop, restart and query by NAME (steps never see argv or
 * paths: they come only from this file). `process`: the agent runs `argv` as its own supervised child;
 * `systemd`: the agent drives `unit` through systemctl. Fields a manager does not use are refused, so a
 * unit file's job is not half-configured here.
 */
export const ServiceConfigSchema = z
  .object({
    manager: z.enum(['process', 'systemd']),
    /** systemd only (required there): the unit, e.g. `kafka.service`. */
    unit: z.string().regex(UNIT_NAME, 'expected a systemd unit name such as "kafka.service"').optional(),
    /** process only (required there): the program and its arguments, no shell. */
    argv: z.array(z.string().min(1)).min(1).optional(),
    /** process only: added to (and overriding) the agent's own environment. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
    /** process only: working directory. @default the agent's */
    cwd: absolutePath('the working directory').optional(),
    /** Where the child's stdout and stderr are appended (process), or whose tail a failed start quotes
     * (systemd). @default `<stateDir>/services/<name>.log` for process */
    logFile: absolutePath('the log file').optional(),
    /** When set, start() resolves only once this address accepts TCP connections. */
    readyPort: z
      .object({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) })
      .strict()
      .optional(),
    /** How long start() waits for readyPort (and systemctl start). @default 60000 */
    readyTimeoutMs: z.number().int().positive().optional(),
    /** How long stop() waits after SIGTERM before SIGKILL (process), or for systemctl stop. @default 30000 */
    stopTimeoutMs: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((service, ctx) => {
    const need = (field: 'unit' | 'argv') => {
      if (service[field] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${field} is required when manager is "${service.manager}"`,
        });
    };
    const refuse = (fields: Array<'unit' | 'argv' | 'env' | 'cwd'>, why: string) => {
      for (const field of fields)
        if (service[field] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `${field} is not used when manager is "${service.manager}" (${why})`,
          });
    };
    if (service.manager === 'process') {
      need('argv');
      refuse(['unit'], 'the agent runs argv itself');
    } else {
      need('unit');
      refuse(['argv', 'env', 'cwd'], 'the unit file sets them');
    }
  });
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/**
 * What this node's Kafka broker is, for the Kafka steps: the local address the delegate's admin
 * client talks to, and the node's own facts a rendered server.properties needs (the rest comes from
 * the cluster's profile). Paths live here, never in an order.
 */
export const KafkaNodeConfigSchema = z
  .object({
    /** The local broker's address for admin requests (host:port of a PLAINTEXT listener). */
    bootstrap: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}:\d{1,5}$/, 'host:port of the local broker'),
    /** The profile this broker renders from (`drover profile`); @default the agent's `cluster` label. */
    cluster: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
      .optional(),
    brokerId: z.number().int().min(0).max(2_147_483_647),
    rack: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,63}$/)
      .optional(),
    /** The address other brokers and clients reach this broker at. */
    host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a host name or address'),
    logDirs: z.array(absolutePath('a log directory')).min(1),
    /** Where kafka.broker-configure writes server.properties (the service's argv reads it). */
    configFile: absolutePath('the server.properties path'),
    /** The service (see `services`) that runs this broker. @default kafka */
    service: z.string().regex(SERVICE_NAME).default('kafka'),
  })
  .strict();
export type KafkaNodeConfig = z.infer<typeof KafkaNodeConfigSchema>;

/**
 * Keys the agent renders itself in a ZooKeeper node's zoo.cfg (zookeeper.observer-join): extraConfig may
 * not set them, nor any `server.N` line, so the membership and identity come only from validated values.
 */
export const ZOOKEEPER_RENDERED_KEYS = [
  'dataDir',
  'clientPort',
  'peerType',
  'reconfigEnabled',
  'standaloneEnabled',
  'dynamicConfigFile',
  '4lw.commands.whitelist',
  'admin.enableServer',
  'admin.serverAddress',
  'admin.serverPort',
] as const;

const zookeeperPort = z.number().int().min(1).max(65_535);

/**
 * What this node's ZooKeeper server is, for the ZooKeeper steps: its identity (`myid`, host, ports),
 * where the agent renders its zoo.cfg and myid, the service that runs it, and the argv prefix of
 * ZooKeeper's Java CLI for `reconfig`. Paths and argv live here, never in an order.
 */
export const ZooKeeperNodeConfigSchema = z
  .object({
    /** The service (see `services`) that runs this ZooKeeper server. @default zookeeper */
    service: z.string().regex(SERVICE_NAME).default('zookeeper'),
    /** Where the agent writes zoo.cfg (the service's argv reads it); ZooKeeper may rewrite it (reconfig). */
    configFile: absolutePath('the zoo.cfg path'),
    /** ZooKeeper's dataDir; the agent writes `myid` there. */
    dataDir: absolutePath('the ZooKeeper data directory'),
    myid: z.number().int().min(1).max(255),
    /** The address the other members and clients reach this server at. */
    host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a host name or IPv4 address'),
    clientPort: zookeeperPort,
    quorumPort: zookeeperPort,
    electionPort: zookeeperPort,
    /** AdminServer (Jetty) port; @default the AdminServer is disabled */
    adminPort: zookeeperPort.optional(),
    /**
     * The argv prefix of ZooKeeper's Java CLI, e.g. `["java", "-cp", "/usr/share/java/zookeeper.jar:…",
     * "org.apache.zookeeper.ZooKeeperMain"]`; the agent appends `-server host:port reconfig -add <line>`.
     * Required for the `reconfig` join method.
     */
    cliArgv: z.array(z.string().min(1)).min(1).optional(),
    /** More zoo.cfg settings (tickTime, initLimit, superDigest…); never the keys the agent renders. */
    extraConfig: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,127}$/, 'a zoo.cfg key'),
        z.union([z.string().regex(/^[^\r\n\0]*$/, 'a value on one line'), z.number(), z.boolean()]),
      )
      .optional(),
  })
  .strict()
  .superRefine((zk, ctx) => {
    const ports = [
      zk.clientPort,
      zk.quorumPort,
      zk.electionPort,
      ...(zk.adminPort === undefined ? [] : [zk.adminPort]),
    ];
    if (new Set(ports).size !== ports.length)
      ctx.addIssue({
        code: 'custom',
        path: ['clientPort'],
        message: 'client, quorum, election and admin ports must differ',
      });
    for (const key of Object.keys(zk.extraConfig ?? {}))
      if ((ZOOKEEPER_RENDERED_KEYS as readonly string[]).includes(key) || /^(server|group|weight)\./.test(key))
        ctx.addIssue({
          code: 'custom',
          path: ['extraConfig', key],
          message: `${key} is rendered by the agent from validated values; it cannot be set in extraConfig`,
        });
  });
export type ZooKeeperNodeConfig = z.infer<typeof ZooKeeperNodeConfigSchema>;

/**
 * What this node's Cassandra server is, for the Cassandra steps: the local CQL address the agent reads
 * system tables through, the argv prefix of `nodetool` (the agent appends validated subcommands), the
 * JVM options file node preparation writes to, and the service that runs the node. Paths and argv
 * live here, never in an order.
 */
export const CassandraNodeConfigSchema = z
  .object({
    /** The local node's native (CQL) address; the agent's CQL session talks to this node only. */
    cql: z
      .object({
        host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a host name or address'),
        port: z.number().int().min(1).max(65_535).default(9042),
      })
      .strict(),
    /** A file holding `username:password` for CQL (PasswordAuthenticator); never logged. */
    credentialsFile: absolutePath('the CQL credentials file').optional(),
    /**
     * The argv prefix of nodetool for this node, e.g. `["/usr/bin/nodetool", "-h", "127.0.0.1", "-p",
     * "7199"]`; the agent appends a subcommand it builds from validated values.
     */
    nodetoolArgv: z.array(z.string().min(1)).min(1),
    /**
     * A JVM options file the node's start script reads (one option per line, e.g.
     * `/etc/cassandra/jvm-server.options` or a file in `jvm.options.d/`): cassandra.node-prepare adds
     * `-Dcassandra.reset_bootstrap_progress=false` there.
     */
    jvmOptionsFile: absolutePath('the JVM options file'),
    /** The node's data directories (data_file_directories): a rebuilt node is wiped there before a retry. */
    dataDirs: z.array(absolutePath('a data directory')).min(1).optional(),
    /** The service (see `services`) that runs this node. @default cassandra */
    service: z.string().regex(SERVICE_NAME).default('cassandra'),
    /** Serve `GET /v1/cluster/status` on 127.0.0.1:<port> (the node-status signal). @default off */
    statusPort: z.number().int().min(1).max(65_535).optional(),
  })
  .strict();
export type CassandraNodeConfig = z.infer<typeof CassandraNodeConfigSchema>;

/**
 * Log shipping to the customer's bucket (issue 13). What is shipped: the agent's journal and audit
 * records, every process service's log file, and `files`. Where to: `settings` here, or else the
 * fleet setting of the agent's account (label `account`), so a new node ships without configuring
 * it. Credentials never come from NATS: `credentialsFile` (AWS shared-credentials format) or the
 * default chain (environment, ~/.aws, the instance role).
 */
export const AgentShippingConfigSchema = z
  .object({
    /** Local settings; when set they win over the account's fleet setting. */
    settings: ShippingSettingsSchema.optional(),
    /** An AWS shared-credentials file (ini) holding the bucket's keys; never logged. */
    credentialsFile: absolutePath('the credentials file').optional(),
    /** The profile of credentialsFile to use. @default default */
    profile: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('default'),
    /** More log files by source name: the live file and, optionally, its rotated siblings. */
    files: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a source name: a-z, 0-9, "-", starting with a letter'),
        z
          .object({
            path: absolutePath('the log file'),
            /** File names (in the same folder) of rotated generations, "*" and "?" as wildcards: `server.log.*`. */
            rotated: z
              .string()
              .regex(/^[^/\0]{1,128}$/, 'a file name pattern without "/"')
              .optional(),
          })
          .strict(),
      )
      .default({}),
    /** Ship the agent's journal, audit records and service logs. @default true */
    journal: z.boolean().default(true),
    audit: z.boolean().default(true),
    services: z.boolean().default(true),
    /** Off: the agent never ships, whatever the fleet setting says. @default true */
    enabled: z.boolean().default(true),
  })
  .strict();
export type AgentShippingConfig = z.infer<typeof AgentShippingConfigSchema>;

/**
 * The agent's Prometheus endpoint (`GET /metrics`): orders by outcome, step durations, journal fsync
 * latency, NATS reconnects. Off unless configured (prom-client is then not even loaded).
 */
export const AgentMetricsConfigSchema = z
  .object({
    /** TCP port; 0 picks a free one (logged at start). */
    port: z.number().int().min(0).max(65_535),
    /** Address to listen on. @default 127.0.0.1 (only the node itself scrapes; say 0.0.0.0 to open it) */
    host: z.string().min(1).default('127.0.0.1'),
  })
  .strict();
export type AgentMetricsConfig = z.infer<typeof AgentMetricsConfigSchema>;

export const AgentConfigSchema = z
  .object({
    /** Never "coordinator": events under that name are the coordinator's own (job and run events). */
    id: TokenSchema.refine((id) => id !== COORDINATOR_TOKEN, {
      message: `"${COORDINATOR_TOKEN}" is reserved for the coordinator's own events`,
    }),
    labels: z.record(z.string().regex(LABEL_KEY), z.string().regex(LABEL_VALUE)).default({}),
    nats: z
      .object({
        servers: z.array(z.string().min(1)).min(1),
        user: z.string().optional(),
        pass: z.string().optional(),
        token: z.string().optional(),
        credsFile: z.string().optional(),
        tlsCaFile: z.string().optional(),
      })
      .strict(),
    /** Coordinator public keys (ed25519 SPKI PEM text or a path to a .pem file) whose orders are obeyed. */
    trustedKeys: z.array(z.string().min(1)).min(1),
    stateDir: z.string().min(1),
    /**
     * The agent's own ed25519 private key (PKCS#8 PEM), which signs its results and accepted events.
     * Made on first start when missing (default <stateDir>/agent-key.pem; the public half next to it
     * as .pub, for `drover agent enroll`).
     */
    signingKeyFile: z.string().min(1).optional(),
    commands: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/), AllowedCommandSchema).default({}),
    heartbeatMs: z.number().int().min(100).default(10_000),
    /** How many orders may run at the same time. */
    maxConcurrentOrders: z.number().int().min(1).max(64).default(4),
    /**
     * Unused since orders stopped being a work queue (issue 12: nothing is acked; the journal keeps an
     * order from running twice). Still accepted so existing configs load.
     */
    ackWaitMs: z.number().int().min(1000).default(30_000),
    /** Tolerated clock difference with the coordinator when checking issue/expiry times. */
    clockSkewMs: z.number().int().min(0).default(30_000),
    /** Collect full host facts at registration (slow on some hosts); the summary is always sent. */
    registerFullFacts: z.boolean().default(true),
    /** Local services steps may drive by name (`ctx.services`); see ServiceConfigSchema. */
    services: z
      .record(
        z
          .string()
          .regex(SERVICE_NAME, 'expected a service name: a-z, 0-9, "-", at most 32 characters, starting with a letter'),
        ServiceConfigSchema,
      )
      .optional(),
    /** The systemctl binary for services with manager "systemd". */
    systemctlPath: absolutePath('the systemctl binary').default('/usr/bin/systemctl'),
    /** This node's Kafka broker, when it has one (see KafkaNodeConfigSchema). */
    kafka: KafkaNodeConfigSchema.optional(),
    /** This node's ZooKeeper server, when it has one (see ZooKeeperNodeConfigSchema). */
    zookeeper: ZooKeeperNodeConfigSchema.optional(),
    /** This node's Cassandra server, when it has one (see CassandraNodeConfigSchema). */
    cassandra: CassandraNodeConfigSchema.optional(),
    /** Log shipping (see AgentShippingConfigSchema). @default ships by the account's fleet setting */
    shipping: AgentShippingConfigSchema.optional(),
    /** A Prometheus endpoint on this agent (see AgentMetricsConfigSchema). @default none */
    metrics: AgentMetricsConfigSchema.optional(),
  })
  .strict();
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

/** What an agent writes about itself into KV drover-agents (no secrets). */
export const AgentRecordSchema = z.object({
  id: z.string(),
  labels: z.record(z.string(), z.string()),
  version: z.string(),
  startedAt: z.number(),
  lastSeen: z.number(),
  heartbeatMs: z.number(),
  status: z.enum(['online', 'offline']),
  steps: z.array(z.string()),
  facts: z.record(z.string(), z.unknown()),
  /** The key the agent signs with (whether the operator trusts it is KV drover-agent-keys). */
  keyId: z.string().optional(),
});
export type AgentRecord = z.infer<typeof AgentRecordSchema>;
