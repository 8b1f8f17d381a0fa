// `cassandra.status`: this node's state for one question asked by a plan or an operator (the
// continuous signal is the agent's status publisher; both read the same way).
import { cassandraStatusStep } from '@drover/shared';
import { readNodeStatus } from '../../clients/cassandra/index.ts';
import { implementStep } from '../context.ts';
import { withCassandra } from './node.ts';

export const cassandraStatusImplementation = implementStep(cassandraStatusStep, (ctx) =>
  withCassandra(ctx, ({ config, cql }) => readNodeStatus(cql, ctx.info.agentId, config.cql.host)),
);
