// What the simulated data plane charges for what is not bytes on a wire: process starts, admin
// requests, ISR joins, elections, job dispatch. Every figure is a default an operator can override,
// and each says where it comes from (measured here, see the README's figures, or the engines'
// documented defaults). Durations in simulated ms. jobMs, checkMs, electionMs and rebuildStartMs
// were calibrated on 2026-12-04 against the two real migration benchmarks (`npm run
// bench:calibration`: Kafka phases of one or two jobs took 0.0-0.7 s, a Cassandra rebuild phase
// 129.4 s where its streaming alone is 100 s).

export interface SimCosts {
  /** A Drover job from dispatch to recorded result (bench:calibration: a one-job phase under 0.1 s). @default 100 */
  jobMs: number;
  /** One Kafka admin request (IncrementalAlterConfigs, AlterPartitionReassignments). @default 50 */
  kafkaAdminMs: number;
  /** A replica caught up to joining the ISR (the follower's next fetch, the controller's update). @default 500 */
  isrJoinMs: number;
  /** One ElectLeaders request, until Metadata shows the new leaders (the leaders phase: 0.4 s in all). @default 200 */
  electionMs: number;
  /** Dropping replicas after a shrink (the log deletion is asynchronous). @default 200 */
  replicaDeleteMs: number;
  /** Rendering server.properties from the profile. @default 200 */
  brokerConfigureMs: number;
  /** A Kafka broker start until it registers. @default 20000 */
  kafkaStartMs: number;
  /** A ZooKeeper server start until it serves. @default 5000 */
  zookeeperStartMs: number;
  /** `reconfig -add` through a voter. @default 2000 */
  zookeeperReconfigMs: number;
  /** A Cassandra node start (JVM, commit log replay, gossip settle). @default 90000 */
  cassandraStartMs: number;
  /** A service stop. @default 10000 */
  serviceStopMs: number;
  /** One ALTER KEYSPACE and its schema agreement. @default 2000 */
  keyspaceAlterMs: number;
  /**
   * Before a rebuild streams: nodetool's JVM start and the session's setup; the node-status
   * announcement's 3 s grace comes once per node and order (calibrated: of a 129 s rebuild phase,
   * 29 s were not streaming; 4 s per rebuild puts the forecast at 134 s). @default 4000
   */
  rebuildStartMs: number;
  /** A gate's check on one target (kafka.verify, rebuild-verify, status). @default 100 */
  checkMs: number;
  /** Bytes/s of replication with no throttle set (a broker's network, not a quota). @default 1250000000 */
  unthrottledBytesPerSec: number;
}

export const DEFAULT_SIM_COSTS: SimCosts = {
  jobMs: 100,
  kafkaAdminMs: 50,
  isrJoinMs: 500,
  electionMs: 200,
  replicaDeleteMs: 200,
  brokerConfigureMs: 200,
  kafkaStartMs: 20_000,
  zookeeperStartMs: 5000,
  zookeeperReconfigMs: 2000,
  cassandraStartMs: 90_000,
  serviceStopMs: 10_000,
  keyspaceAlterMs: 2000,
  rebuildStartMs: 4000,
  checkMs: 100,
  unthrottledBytesPerSec: 1_250_000_000,
};

/** Every field given, else its default. */
export function resolveSimCosts(costs: Partial<SimCosts> = {}): SimCosts {
  const resolved = { ...DEFAULT_SIM_COSTS, ...costs };
  for (const [key, value] of Object.entries(resolved))
    if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value)))
      throw new RangeError(`costs.${key}: got ${String(value)}, expected a finite number >= 0`);
  return resolved;
}
