// The agent's step implementations by name: the only steps an order can run on this agent.
import { cassandraDescribeImplementation } from './cassandra/describe.ts';
import { cassandraKeyspacesExtendImplementation } from './cassandra/keyspaces-extend.ts';
import { cassandraNodePrepareImplementation } from './cassandra/node-prepare.ts';
import { cassandraRebuildImplementation } from './cassandra/rebuild.ts';
import { cassandraRebuildVerifyImplementation } from './cassandra/rebuild-verify.ts';
import { cassandraStatusImplementation } from './cassandra/status.ts';
import { commandImplementation } from './command.ts';
import type { StepImplementation } from './context.ts';
import { factsImplementation } from './facts.ts';
import { kafkaBrokerConfigureImplementation } from './kafka/broker-configure.ts';
import { kafkaDescribeImplementation } from './kafka/describe.ts';
import { kafkaElectLeadersImplementation } from './kafka/elect-leaders.ts';
import { kafkaReassignImplementation } from './kafka/reassign.ts';
import { kafkaVerifyImplementation } from './kafka/verify.ts';
import { pingImplementation } from './ping.ts';
import { serviceImplementation } from './service.ts';
import { sleepImplementation } from './sleep.ts';
import { zookeeperObserverJoinImplementation } from './zookeeper/observer-join.ts';
import { zookeeperObserverVerifyImplementation } from './zookeeper/observer-verify.ts';

export const STEP_IMPLEMENTATIONS: ReadonlyMap<string, StepImplementation> = new Map(
  [
    pingImplementation,
    factsImplementation,
    sleepImplementation,
    commandImplementation,
    serviceImplementation,
    kafkaDescribeImplementation,
    kafkaVerifyImplementation,
    kafkaReassignImplementation,
    kafkaElectLeadersImplementation,
    kafkaBrokerConfigureImplementation,
    zookeeperObserverJoinImplementation,
    zookeeperObserverVerifyImplementation,
    cassandraDescribeImplementation,
    cassandraNodePrepareImplementation,
    cassandraKeyspacesExtendImplementation,
    cassandraRebuildImplementation,
    cassandraRebuildVerifyImplementation,
    cassandraStatusImplementation,
  ].map((impl) => [impl.definition.name, impl as unknown as StepImplementation]),
);
