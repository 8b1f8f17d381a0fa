// The agent's step implementations by name: the only steps an order can run on this agent.
// Each entry carries its step's shared definition (name, parameter and result schemas), so an order
// is checked against the allow-list and its parameters before anything runs. The code of the Kafka,
// ZooKeeper and Cassandra steps and of `facts` (and the clients they pull in: systeminformation,
// node-zookeeper-client, the Kafka and Cassandra drivers) is imported only when a step of that kind
// is first ordered: most agents never run most steps, and an idle agent stays small (issue 12).
import {
  cassandraDecommissionStep,
  cassandraDescribeStep,
  cassandraKeyspacesExtendStep,
  cassandraNodePrepareStep,
  cassandraNodeWipeStep,
  cassandraRebuildStep,
  cassandraRebuildVerifyStep,
  cassandraStatusStep,
  factsStep,
  kafkaBrokerConfigureStep,
  kafkaDescribeStep,
  kafkaElectLeadersStep,
  kafkaReassignStep,
  kafkaVerifyStep,
  type StepDefinition,
  zookeeperCleanStep,
  zookeeperObserverJoinStep,
  zookeeperObserverLeaveStep,
  zookeeperObserverVerifyStep,
  zookeeperRestoreStep,
  zookeeperVotersAddObserversStep,
} from '@drover/shared';
import { commandImplementation } from './command.ts';
import type { StepImplementation } from './context.ts';
import { pingImplementation } from './ping.ts';
import { serviceImplementation } from './service.ts';
import { sleepImplementation } from './sleep.ts';

/**
 * A step whose code is imported on its first run. The module's own implementation must be for the
 * same definition (a unit test holds every entry to it); a failed import fails that order only.
 */
export function lazyStep<Def extends StepDefinition>(
  definition: Def,
  load: () => Promise<StepImplementation<Def>>,
): StepImplementation<Def> & { load(): Promise<StepImplementation<Def>> } {
  let loading: Promise<StepImplementation<Def>> | undefined;
  const loadOnce = () => {
    loading ??= load();
    return loading;
  };
  return {
    definition,
    load: loadOnce,
    run: async (ctx, params) => (await loadOnce()).run(ctx, params),
  };
}

/** The engine steps and `facts`, loaded on first use; each `load()` resolves to the module's implementation. */
export const LAZY_STEPS = {
  facts: lazyStep(factsStep, async () => (await import('./facts.ts')).factsImplementation),
  kafkaDescribe: lazyStep(
    kafkaDescribeStep,
    async () => (await import('./kafka/describe.ts')).kafkaDescribeImplementation,
  ),
  kafkaVerify: lazyStep(kafkaVerifyStep, async () => (await import('./kafka/verify.ts')).kafkaVerifyImplementation),
  kafkaReassign: lazyStep(
    kafkaReassignStep,
    async () => (await import('./kafka/reassign.ts')).kafkaReassignImplementation,
  ),
  kafkaElectLeaders: lazyStep(
    kafkaElectLeadersStep,
    async () => (await import('./kafka/elect-leaders.ts')).kafkaElectLeadersImplementation,
  ),
  kafkaBrokerConfigure: lazyStep(
    kafkaBrokerConfigureStep,
    async () => (await import('./kafka/broker-configure.ts')).kafkaBrokerConfigureImplementation,
  ),
  zookeeperObserverJoin: lazyStep(
    zookeeperObserverJoinStep,
    async () => (await import('./zookeeper/observer-join.ts')).zookeeperObserverJoinImplementation,
  ),
  zookeeperObserverVerify: lazyStep(
    zookeeperObserverVerifyStep,
    async () => (await import('./zookeeper/observer-verify.ts')).zookeeperObserverVerifyImplementation,
  ),
  zookeeperObserverLeave: lazyStep(
    zookeeperObserverLeaveStep,
    async () => (await import('./zookeeper/observer-leave.ts')).zookeeperObserverLeaveImplementation,
  ),
  zookeeperVotersAddObservers: lazyStep(
    zookeeperVotersAddObserversStep,
    async () => (await import('./zookeeper/voters-add-observers.ts')).zookeeperVotersAddObserversImplementation,
  ),
  zookeeperClean: lazyStep(
    zookeeperCleanStep,
    async () => (await import('./zookeeper/clean.ts')).zookeeperCleanImplementation,
  ),
  zookeeperRestore: lazyStep(
    zookeeperRestoreStep,
    async () => (await import('./zookeeper/restore.ts')).zookeeperRestoreImplementation,
  ),
  cassandraDescribe: lazyStep(
    cassandraDescribeStep,
    async () => (await import('./cassandra/describe.ts')).cassandraDescribeImplementation,
  ),
  cassandraNodePrepare: lazyStep(
    cassandraNodePrepareStep,
    async () => (await import('./cassandra/node-prepare.ts')).cassandraNodePrepareImplementation,
  ),
  cassandraKeyspacesExtend: lazyStep(
    cassandraKeyspacesExtendStep,
    async () => (await import('./cassandra/keyspaces-extend.ts')).cassandraKeyspacesExtendImplementation,
  ),
  cassandraRebuild: lazyStep(
    cassandraRebuildStep,
    async () => (await import('./cassandra/rebuild.ts')).cassandraRebuildImplementation,
  ),
  cassandraRebuildVerify: lazyStep(
    cassandraRebuildVerifyStep,
    async () => (await import('./cassandra/rebuild-verify.ts')).cassandraRebuildVerifyImplementation,
  ),
  cassandraDecommission: lazyStep(
    cassandraDecommissionStep,
    async () => (await import('./cassandra/decommission.ts')).cassandraDecommissionImplementation,
  ),
  cassandraNodeWipe: lazyStep(
    cassandraNodeWipeStep,
    async () => (await import('./cassandra/node-wipe.ts')).cassandraNodeWipeImplementation,
  ),
  cassandraStatus: lazyStep(
    cassandraStatusStep,
    async () => (await import('./cassandra/status.ts')).cassandraStatusImplementation,
  ),
};

// ping, sleep, command and service are small and their modules are loaded anyway (the config check
// uses the command allow-list, the agent manages its services): no reason to defer them.
export const STEP_IMPLEMENTATIONS: ReadonlyMap<string, StepImplementation> = new Map(
  [
    pingImplementation,
    LAZY_STEPS.facts,
    sleepImplementation,
    commandImplementation,
    serviceImplementation,
    LAZY_STEPS.kafkaDescribe,
    LAZY_STEPS.kafkaVerify,
    LAZY_STEPS.kafkaReassign,
    LAZY_STEPS.kafkaElectLeaders,
    LAZY_STEPS.kafkaBrokerConfigure,
    LAZY_STEPS.zookeeperObserverJoin,
    LAZY_STEPS.zookeeperObserverVerify,
    LAZY_STEPS.zookeeperObserverLeave,
    LAZY_STEPS.zookeeperVotersAddObservers,
    LAZY_STEPS.zookeeperClean,
    LAZY_STEPS.zookeeperRestore,
    LAZY_STEPS.cassandraDescribe,
    LAZY_STEPS.cassandraNodePrepare,
    LAZY_STEPS.cassandraKeyspacesExtend,
    LAZY_STEPS.cassandraRebuild,
    LAZY_STEPS.cassandraRebuildVerify,
    LAZY_STEPS.cassandraStatus,
    LAZY_STEPS.cassandraDecommission,
    LAZY_STEPS.cassandraNodeWipe,
  ].map((impl) => [impl.definition.name, impl as unknown as StepImplementation]),
);
