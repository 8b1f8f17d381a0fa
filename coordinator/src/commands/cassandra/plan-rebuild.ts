// `drover cassandra plan-rebuild`: reads a topology file and prints the consistent-rebuild plan
// (per-node table, or the plan JSON with --json). Thin: the planner is coordinator/src/cassandra.

import { readFile, writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { loadTopology, planRebuild, type RebuildPlan, renderPlan } from '../../cassandra/index.ts';
import { DroverCommand } from '../../cli/base-command.ts';

export type PlanRebuildResult = RebuildPlan;

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

export default class PlanRebuild extends DroverCommand<PlanRebuildResult> {
  static override summary = 'Plan a consistent nodetool rebuild of a new Cassandra DC from an old one.';

  static override description =
    'For every range a destination-DC node replicates, the source-DC replica it streams from is chosen ' +
    'one-to-one in ring-walk order (destination replica i copies source replica i), so the new DC holds every ' +
    'write on at least as many replicas as the old one. Rebuilds are grouped per (node, keyspace, source) as ' +
    'nodetool argv, one range per ring token (Cassandra rejects merged ranges), and ordered in waves: one rebuild ' +
    'per node at a time, nodes in parallel, at most --max-streams-per-source rebuilds streaming from one source ' +
    'node at once. A down source gets a fallback only when one-to-one still holds; otherwise the range is listed ' +
    'at risk with the reason.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> --topology topology.json --source-dc aws-use1 --dest-dc gcp-use1',
    '<%= config.bin %> <%= command.id %> --topology topology.json --source-dc aws-use1 --dest-dc gcp-use1 --keyspaces ks1,system_auth --down 10.0.0.7 --json > plan.json',
  ];

  static override flags = {
    topology: Flags.file({
      required: true,
      exists: true,
      summary: 'Topology JSON file (nodes with tokens, keyspaces).',
    }),
    'source-dc': Flags.string({ required: true, summary: 'DC holding the data (the old cloud).' }),
    'dest-dc': Flags.string({ required: true, summary: 'DC to rebuild (the new cloud).' }),
    keyspaces: Flags.string({
      summary: 'Comma-separated keyspaces to plan (default: every keyspace not using LocalStrategy).',
    }),
    down: Flags.string({ summary: 'Comma-separated addresses of nodes known to be down.' }),
    'max-streams-per-source': Flags.integer({
      default: 2,
      min: 1,
      summary: 'Most rebuilds streaming from one source node at the same time.',
      description:
        'Each rebuild is one stream session out of the source, capped by its stream throughput (24 MiB/s by ' +
        'default), so this bounds the extra load on an old-DC node that still serves clients.',
    }),
    out: Flags.file({ summary: 'Also write the plan JSON to this file (the input of verify-plan).' }),
  };

  async run(): Promise<PlanRebuildResult> {
    const { flags } = await this.parse(PlanRebuild);
    const { topology, ring } = loadTopology(await readFile(flags.topology, 'utf8'), flags.topology);
    const plan = planRebuild(topology, ring, {
      sourceDc: flags['source-dc'],
      destDc: flags['dest-dc'],
      keyspaces: list(flags.keyspaces),
      down: list(flags.down),
      maxStreamsPerSource: flags['max-streams-per-source'],
    });
    if (flags.out !== undefined) await writeFile(flags.out, `${JSON.stringify(plan, null, 2)}\n`);
    const rackOf = (address: string) => {
      const node = ring.nodes[ring.nodeId.get(address) ?? -1];
      return node === undefined ? '' : node.rack;
    };
    this.log(renderPlan(plan, rackOf));
    return plan;
  }
}
