// The ZooKeeper observer steps (the seed's step 4: the destination's ZooKeeper nodes join the source
// ensemble as observers before the destination brokers start). `zookeeper.observer-join` renders this
// node's zoo.cfg from the agent's LOCAL config plus the voters named here, starts the node's service
// and, with `reconfig`, adds it to the running ensemble; `zookeeper.observer-verify` is the gate that
// says whether it serves as an observer with the leader's data. Params carry names and validated
// values only: paths, argv and the service come from the agent's config.
import { z } from 'zod';
import { defineStep } from './step.ts';

/** A host name or IPv4 address (no IPv6: a zoo.cfg server line would need it bracketed). */
export const ZooKeeperHostSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a host name or IPv4 address (letters, digits, "." and "-")');
export const ZooKeeperPortSchema = z.number().int().min(1).max(65_535);
/** A server id (`myid`, the N of `server.N`). */
export const ZooKeeperServerIdSchema = z.number().int().min(1).max(255);

/** A voting member of the ensemble the observer joins, as its `server.N` line names it. */
export const ZooKeeperVoterSchema = z
  .object({
    id: ZooKeeperServerIdSchema,
    host: ZooKeeperHostSchema,
    quorumPort: ZooKeeperPortSchema,
    electionPort: ZooKeeperPortSchema,
    clientPort: ZooKeeperPortSchema,
  })
  .strict();
export type ZooKeeperVoter = z.infer<typeof ZooKeeperVoterSchema>;

/** A voter's client address, for asking it which member leads. */
export const ZooKeeperClientAddressSchema = z
  .object({ host: ZooKeeperHostSchema, clientPort: ZooKeeperPortSchema })
  .strict();

export const ZOOKEEPER_JOIN_METHODS = ['reconfig', 'static'] as const;

export const ZooKeeperObserverJoinParams = z
  .object({
    /** Every voting member of the ensemble (not the observers). */
    ensemble: z
      .array(ZooKeeperVoterSchema)
      .min(1)
      .max(15)
      .refine((voters) => new Set(voters.map((v) => v.id)).size === voters.length, 'voter ids must be distinct'),
    /**
     * `reconfig`: ZooKeeper 3.5+ with reconfigEnabled=true on the voters: `reconfig -add` through a
     * voter, no restart. `static`: only render and start this observer; every voter must then be
     * restarted, one at a time, with the observer line (the result gives it).
     */
    method: z.enum(ZOOKEEPER_JOIN_METHODS).default('reconfig'),
    /** How long to wait for the observer to serve and reach the leader's zxid. @default 120000 */
    syncTimeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
  })
  .strict();
export type ZooKeeperObserverJoinParamsType = z.infer<typeof ZooKeeperObserverJoinParams>;

export const ZooKeeperObserverJoinResult = z.object({
  method: z.enum(ZOOKEEPER_JOIN_METHODS),
  /** False when the node already served as an observer listed in the ensemble (nothing was done). */
  changed: z.boolean(),
  myid: z.number(),
  /** The line every member's config must hold, e.g. `server.11=h:2888:3888:observer;2181`. */
  observerLine: z.string(),
  /** Whether zoo.cfg and myid were (re)written by this run. */
  rendered: z.boolean(),
  service: z.string(),
  /** What the service manager did: started it, found it running (and left it), or was not asked. */
  serviceOutcome: z.enum(['started', 'already-running', 'untouched']),
  /** Whether this run ran `reconfig -add`, and through which voter (host:clientPort). */
  reconfigured: z.boolean(),
  reconfigVia: z.string().nullable(),
  /** The ensemble's config version after the join (hex, from /zookeeper/config), when read. */
  configVersion: z.string().nullable(),
  /** The observer's `srvr` Mode and Zxid at the end, and the leader's Zxid then. */
  mode: z.string().nullable(),
  zxid: z.string().nullable(),
  leaderZxid: z.string().nullable(),
  /** `static`: the voters still need a rolling restart with `observerLine` (until then they do not list it). */
  votersMustRestart: z.boolean(),
  /** What was done or is left to do, as sentences. */
  notes: z.array(z.string()),
});

export const zookeeperObserverJoinStep = defineStep({
  name: 'zookeeper.observer-join',
  summary: "Renders this node's zoo.cfg as an observer of the given voters, starts it, and adds it by reconfig.",
  params: ZooKeeperObserverJoinParams,
  result: ZooKeeperObserverJoinResult,
  idempotent: true,
  defaultTimeoutMs: 15 * 60_000,
});

export const ZooKeeperObserverVerifyParams = z
  .object({
    /** Client addresses of the voters; each is asked whether it leads. */
    voters: z.array(ZooKeeperClientAddressSchema).min(1).max(15),
    /** How long zxid and znode counts may take to become equal (writes keep coming). @default 10000 */
    settleMs: z.number().int().min(0).max(600_000).default(10_000),
  })
  .strict();

export const ZooKeeperObserverVerifyResult = z.object({
  ok: z.boolean(),
  /** The local server's `srvr` Mode (observer, follower, leader…), null when it does not answer. */
  mode: z.string().nullable(),
  /** Zxids as ZooKeeper prints them (`0x100000004`). */
  zxid: z.string().nullable(),
  leaderZxid: z.string().nullable(),
  znodes: z.number().nullable(),
  leaderZnodes: z.number().nullable(),
  /** host:clientPort of the voter that said Mode: leader. */
  leader: z.string().nullable(),
  /** `mntr` zk_peer_state, e.g. `observing - broadcast`. */
  peerState: z.string().nullable(),
  /** Whether the ensemble config (/zookeeper/config) lists this server as an observer. */
  listed: z.boolean().nullable(),
  /** The problems found, as sentences. */
  problems: z.array(z.string()),
});

export const zookeeperObserverVerifyStep = defineStep({
  name: 'zookeeper.observer-verify',
  summary: "Checks that this node serves as an observer with the leader's zxid and znode count; changes nothing.",
  params: ZooKeeperObserverVerifyParams,
  result: ZooKeeperObserverVerifyResult,
  idempotent: true,
  defaultTimeoutMs: 120_000,
});

/**
 * An observer the voters must list, as its `server.N` line names it
 * (`server.<id>=<host>:<quorumPort>:<electionPort>:observer;<clientPort>`).
 */
export const ZooKeeperObserverServerSchema = ZooKeeperVoterSchema;
export type ZooKeeperObserverServer = z.infer<typeof ZooKeeperObserverServerSchema>;

export const ZOOKEEPER_VOTER_ACTIONS = ['add', 'remove', 'inspect'] as const;

export const ZooKeeperVotersAddObserversParams = z
  .object({
    /**
     * `add`: the observers' lines into this voter's static zoo.cfg, then a restart (unless it already
     * runs with them); `remove`: the lines out again, then a restart (the rollback); `inspect`:
     * changes nothing, reports whether the voter's config has reconfigEnabled and which lines it holds.
     */
    action: z.enum(ZOOKEEPER_VOTER_ACTIONS).default('add'),
    /** The observers to add or remove (ids distinct; never a voter's id: checked against zoo.cfg). */
    observers: z
      .array(ZooKeeperObserverServerSchema)
      .max(15)
      .refine((servers) => new Set(servers.map((s) => s.id)).size === servers.length, 'observer ids must be distinct')
      .default([]),
    /** How long the restarted voter may take to serve again with a quorum. @default 120000 */
    serveTimeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
  })
  .strict()
  .superRefine((params, ctx) => {
    if (params.action !== 'inspect' && params.observers.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['observers'],
        message: `at least one observer for action ${params.action}`,
      });
  });
export type ZooKeeperVotersAddObserversParamsType = z.infer<typeof ZooKeeperVotersAddObserversParams>;

export const ZooKeeperVotersAddObserversResult = z.object({
  action: z.enum(ZOOKEEPER_VOTER_ACTIONS),
  myid: z.number(),
  /** Whether this voter's zoo.cfg says reconfigEnabled=true (then `reconfig -add` is the way, not this step). */
  reconfigEnabled: z.boolean(),
  /** Whether zoo.cfg was rewritten by this run. */
  changedFile: z.boolean(),
  /** Whether the voter was restarted by this run (false: it already ran with the wanted lines). */
  restarted: z.boolean(),
  /** The lines added or removed by this run. */
  linesChanged: z.array(z.string()),
  /** The `server.N` lines of the voter's running membership (`conf`) at the end. */
  membership: z.array(z.string()),
  /** `srvr` Mode at the end (leader or follower after a restart). */
  mode: z.string().nullable(),
  /** How many voters served (leader or follower) at the end, and how many the ensemble has. */
  votersServing: z.number(),
  voters: z.number(),
  notes: z.array(z.string()),
});

export const zookeeperVotersAddObserversStep = defineStep({
  name: 'zookeeper.voters-add-observers',
  summary:
    "Adds (or removes) observers' server lines in this voter's static zoo.cfg and restarts it, once, keeping the quorum.",
  params: ZooKeeperVotersAddObserversParams,
  result: ZooKeeperVotersAddObserversResult,
  idempotent: true,
  defaultTimeoutMs: 15 * 60_000,
});

export const ZooKeeperObserverLeaveParams = z
  .object({
    /** Every voting member of the ensemble (as for observer-join). */
    ensemble: ZooKeeperObserverJoinParams.shape.ensemble,
    /**
     * `reconfig`: `reconfig -remove <myid>` through the leading voter when the ensemble lists this
     * observer, then the service stops. `static`: the service stops only (the voters' lines go by
     * zookeeper.voters-add-observers action remove). @default reconfig
     */
    method: z.enum(ZOOKEEPER_JOIN_METHODS).default('reconfig'),
  })
  .strict();
export type ZooKeeperObserverLeaveParamsType = z.infer<typeof ZooKeeperObserverLeaveParams>;

export const ZooKeeperObserverLeaveResult = z.object({
  method: z.enum(ZOOKEEPER_JOIN_METHODS),
  myid: z.number(),
  /** Whether this run removed the observer from the ensemble config (false: it was not listed). */
  removed: z.boolean(),
  /** The voter the reconfig went through (host:clientPort), when one was run. */
  reconfigVia: z.string().nullable(),
  /** The ensemble's config version afterwards (hex), when read. */
  configVersion: z.string().nullable(),
  /** What the service manager did. */
  serviceOutcome: z.enum(['stopped', 'already-stopped']),
  notes: z.array(z.string()),
});

export const zookeeperObserverLeaveStep = defineStep({
  name: 'zookeeper.observer-leave',
  summary:
    "Removes this node's observer from the ensemble by reconfig -remove (where it is listed) and stops it: observer-join's undo.",
  params: ZooKeeperObserverLeaveParams,
  result: ZooKeeperObserverLeaveResult,
  idempotent: true,
  defaultTimeoutMs: 10 * 60_000,
});
