// `cassandra.describe`: this node's system tables as the migration generator needs them (the planner's
// topology: every node's address, DC, rack and tokens, and every keyspace's replication map), and a
// few partition keys with their tokens, for the verify step's endpoint checks.
import { cassandraDescribeStep } from '@drover/shared';
import { readKeyspaces, readLocal, readPeers, readSampleKeys } from '../../clients/cassandra/index.ts';
import { implementStep } from '../context.ts';
import { withCassandra } from './node.ts';

export const cassandraDescribeImplementation = implementStep(cassandraDescribeStep, (ctx) =>
  withCassandra(ctx, async ({ cql, nodetool }) => {
    const local = await readLocal(cql);
    return {
      local: {
        address: local.address,
        ...(local.hostId ? { hostId: local.hostId } : {}),
        dc: local.dc,
        rack: local.rack,
        tokens: local.tokens,
        releaseVersion: local.releaseVersion,
        partitioner: local.partitioner,
      },
      peers: await readPeers(cql),
      keyspaces: await readKeyspaces(cql),
      down: (await nodetool.status({ signal: ctx.signal })).filter((n) => !n.up).map((n) => n.address),
      samples: await readSampleKeys(cql),
    };
  }),
);
