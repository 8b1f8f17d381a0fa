// `cassandra.rebuild-verify`: the gate after the rebuild waves. On each destination node, every planned
// range of every keyspace must be recorded as available (system.available_ranges_v2), and sample keys'
// replicas (`nodetool getendpoints`) must be the ones the plan expects. Changes nothing; returns `ok`
// and the figures so a plan's gate states what must hold.
import { cassandraRebuildVerifyStep, InvalidInputError } from '@drover/shared';
import { coveredBy, rangeText, readAvailableRanges, readLocal } from '../../clients/cassandra/index.ts';
import { implementStep } from '../context.ts';
import { withCassandra } from './node.ts';
import { cachedRing, ownedRanges, rangesOf } from './ring.ts';

const MAX_PROBLEMS = 50;

export const cassandraRebuildVerifyImplementation = implementStep(cassandraRebuildVerifyStep, (ctx, params) =>
  withCassandra(ctx, async ({ cql, nodetool }) => {
    const local = await readLocal(cql);
    const problems: string[] = [];
    const note = (p: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push(p);
    };
    const mine = params.expected.filter((e) => e.agent === ctx.info.agentId);
    let expected = 0;
    let missing = 0;
    for (const [index, item] of params.expected.entries()) {
      if (item.agent !== ctx.info.agentId) continue;
      if (item.node !== local.address) {
        note(`the plan names node ${item.node} for this agent, whose node is ${local.address}`);
        missing += item.ranges?.length ?? item.owned?.count ?? 1;
        continue;
      }
      let ranges = item.ranges ?? [];
      if (item.owned) {
        // A mask of the ranges this node replicates (the node's own ring says which).
        const ring = await cachedRing(cql, nodetool, item.keyspace, { signal: ctx.signal });
        const picked = ownedRanges(
          item.owned,
          rangesOf(ring, local.address),
          local.address,
          item.keyspace,
          `params.expected[${index}]`,
        );
        if (picked instanceof InvalidInputError) {
          note(picked.message);
          missing += item.owned.count;
          continue;
        }
        ranges = picked;
      }
      const available = await readAvailableRanges(cql, item.keyspace);
      for (const range of ranges) {
        expected++;
        if (!coveredBy(range, available)) {
          missing++;
          note(`${item.keyspace} ${rangeText(range)} is not recorded as available on ${local.address}`);
        }
      }
    }
    let wrong = 0;
    for (const sample of params.samples) {
      const endpoints = await nodetool.getEndpoints(sample.keyspace, sample.table, sample.key, { signal: ctx.signal });
      const same = endpoints.length === sample.endpoints.length && sample.endpoints.every((e) => endpoints.includes(e));
      if (!same) {
        wrong++;
        note(
          `${sample.keyspace}.${sample.table} key ${sample.key}: replicas ${endpoints.join(',')}, plan says ${sample.endpoints.join(',')}`,
        );
      }
    }
    return {
      ok: missing === 0 && wrong === 0 && mine.length > 0,
      node: local.address,
      keyspaces: new Set(mine.map((m) => m.keyspace)).size,
      rangesExpected: expected,
      rangesMissing: missing,
      samplesChecked: params.samples.length,
      samplesWrong: wrong,
      problems: mine.length > 0 ? problems : [`the plan expects nothing of agent ${ctx.info.agentId}`],
    };
  }),
);
