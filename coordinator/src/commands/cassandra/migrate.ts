// `drover cassandra migrate`: reads the live cluster through its agents (cassandra.describe on every
// agent of the cluster: each reports its own node, the delegate also peers and keyspaces), runs the
// consistent-rebuild planner with the destination DC added as the extend step will add it, and writes
// the migration as a plan file to review and then `drover apply`. Ranges at risk (a source down with
// no one-to-one fallback) are printed before anything is written; a plan with errors is refused.
import { writeFile } from 'node:fs/promises';
import { CassandraDescribeResult, InvalidInputError } from '@drover/shared';
import { Flags } from '@oclif/core';
import type { z } from 'zod';
import {
  buildRing,
  cassandraMigrationPlanFile,
  extendedTopology,
  parseTopology,
  planRebuild,
} from '../../cassandra/index.ts';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { loadSigner, runJobToEnd } from '../../engine/index.ts';
import { planFileYaml } from '../../kafka/index.ts';

export interface CassandraMigrateResult {
  file: string;
  phases: string[];
  waves: number;
  rebuilds: number;
  atRisk: Array<{ keyspace: string; node: string; range: [string, string]; reason: string }>;
  findings: Array<{ severity: string; code: string; message: string }>;
}

export default class CassandraMigrate extends DroverCommand<CassandraMigrateResult> {
  static override summary =
    'Plan adding a datacenter to a live Cassandra cluster and rebuilding it consistently, as a plan file.';
  static override description = `Every agent of the cluster reports its node (cassandra.describe); the planner
assigns each destination replica a distinct source replica (one-to-one, so the new DC holds every write on at least
as many replicas as the old one) and orders the rebuilds in waves. The plan prepares the destination nodes
(-Dcassandra.reset_bootstrap_progress=false), extends every keyspace, runs the waves, verifies every range, waits for
approval to move clients and, with --drop-source-dc, removes the old DC from replication (and with
--decommission-source-dc then decommissions its nodes one at a time). The destination nodes must
have joined the cluster (auto_bootstrap: false) so their tokens are known.`;
  static override examples = [
    '<%= config.bin %> cassandra migrate --cluster orders --delegate orders-new-1 --source-dc aws --dest-dc gcp --rf 3 -o plan.yaml',
  ];
  static override flags = {
    ...natsFlags,
    cluster: Flags.string({ required: true, summary: "The cluster's name (agents' `cluster` label)." }),
    delegate: Flags.string({ required: true, summary: 'Agent id that reads the schema and runs keyspace changes.' }),
    'source-dc': Flags.string({ required: true, summary: 'The datacenter holding the data.' }),
    'dest-dc': Flags.string({ required: true, summary: 'The datacenter to rebuild.' }),
    rf: Flags.integer({ default: 3, min: 1, summary: 'Replicas per keyspace in the destination datacenter.' }),
    keyspaces: Flags.string({ summary: 'Comma-separated keyspaces to rebuild (default: every replicated one).' }),
    'max-streams-per-source': Flags.integer({
      default: 2,
      min: 1,
      summary: 'Most rebuilds streaming from one source node at once.',
    }),
    'drop-source-dc': Flags.boolean({
      summary: 'Add a phase (with approval) removing the source DC from replication.',
    }),
    'decommission-source-dc': Flags.boolean({
      summary:
        'Add a phase (with approval, after drop-source-dc) decommissioning every source node one at a time and stopping it.',
      dependsOn: ['drop-source-dc'],
    }),
    pipeline: Flags.boolean({
      summary:
        'Run the rebuild phase as one step: a node starts its next rebuild as soon as its source is free (same one-to-one sources and cap).',
    }),
    'compact-ranges': Flags.boolean({
      summary:
        "Carry every rebuild's (and the verify gate's) ranges as a mask over its node's replicated ranges (default: only where listing them would not fit).",
    }),
    'allow-at-risk': Flags.boolean({
      summary: 'Write the plan even when ranges are at risk (a source down without a one-to-one fallback).',
    }),
    name: Flags.string({ summary: 'The plan name. Default: <cluster>-add-<dest-dc>.' }),
    out: Flags.string({ char: 'o', required: true, summary: 'Where to write the plan file (YAML).' }),
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  };

  async run(): Promise<CassandraMigrateResult> {
    const { flags } = await this.parse(CassandraMigrate);
    const signer = loadSigner(flags.key);
    const d = await connectFromFlags(flags);
    try {
      const me = coordinatorId();
      const summary = await runJobToEnd(
        d,
        {
          step: 'cassandra.describe',
          params: {},
          selector: `cluster=${flags.cluster}`,
          options: { concurrency: { count: 50 }, maxErrors: { percent: 100 } },
          createdBy: me,
        },
        { coordinatorId: me, signer },
      );
      const described = new Map<string, z.infer<typeof CassandraDescribeResult>>();
      for (const run of summary.runs)
        if (run.result?.status === 'succeeded')
          described.set(run.agentId, CassandraDescribeResult.parse(run.result.output));
      const delegate = described.get(flags.delegate);
      if (!delegate)
        throw new InvalidInputError(
          '--delegate',
          flags.delegate,
          `an agent of cluster ${flags.cluster} that can read its node (answered: ${[...described.keys()].join(', ') || 'none'})`,
        );
      const agentOf = new Map([...described].map(([id, r]) => [r.local.address, id]));
      const topology = parseTopology({
        partitioner: delegate.local.partitioner,
        nodes: [delegate.local, ...delegate.peers],
        keyspaces: delegate.keyspaces,
      });
      const sourceRacks = new Set(topology.nodes.filter((n) => n.dc === flags['source-dc']).map((n) => n.rack));
      const moving = topology.keyspaces.filter(
        (k) => !k.name.startsWith('system') && /SimpleStrategy/.test(k.replication.class ?? ''),
      );
      if (sourceRacks.size > 1 && moving.length > 0)
        throw new InvalidInputError(
          'keyspaces',
          moving.map((k) => k.name).join(','),
          `NetworkTopologyStrategy keyspaces: converting SimpleStrategy in ${flags['source-dc']} (${sourceRacks.size} racks) moves replicas; convert them and repair first; no plan written`,
        );
      const extended = extendedTopology(topology, flags['source-dc'], flags['dest-dc'], flags.rf);
      const ring = buildRing(extended);
      const keyspaces = flags.keyspaces?.split(',').map((k) => k.trim());
      const plan = planRebuild(extended, ring, {
        sourceDc: flags['source-dc'],
        destDc: flags['dest-dc'],
        ...(keyspaces ? { keyspaces } : {}),
        down: delegate.down,
        maxStreamsPerSource: flags['max-streams-per-source'],
      });
      const withoutAgent = extended.nodes.filter((n) => n.dc === flags['dest-dc'] && !agentOf.has(n.address));
      if (withoutAgent.length > 0)
        throw new InvalidInputError(
          '--cluster',
          flags.cluster,
          `an agent on every ${flags['dest-dc']} node (none answered for ${withoutAgent.map((n) => n.address).join(', ')})`,
        );
      const atRisk = plan.keyspaces.flatMap((k) =>
        k.atRisk.map((r) => ({ keyspace: k.name, node: r.node, range: r.range as [string, string], reason: r.reason })),
      );
      for (const r of atRisk.slice(0, 50))
        this.log(`at risk: ${r.keyspace} (${r.range[0]},${r.range[1]}] on ${r.node}: ${r.reason}`);
      const findings = plan.findings.map((f) => ({ severity: f.severity, code: f.code, message: f.message }));
      for (const f of findings) this.log(`${f.severity}: ${f.message}`);
      if (findings.some((f) => f.severity === 'error'))
        throw new InvalidInputError(
          'cluster',
          flags.cluster,
          'a cluster without planner errors (see above); no plan written',
        );
      if (atRisk.length > 0 && !flags['allow-at-risk'])
        throw new InvalidInputError(
          'cluster',
          flags.cluster,
          `no range at risk (${atRisk.length} listed above; bring the source back or pass --allow-at-risk); no plan written`,
        );
      const document = cassandraMigrationPlanFile(extended, plan, {
        name: flags.name ?? `${flags.cluster}-add-${flags['dest-dc']}`,
        cluster: flags.cluster,
        delegate: flags.delegate,
        sourceDc: flags['source-dc'],
        destDc: flags['dest-dc'],
        replicationFactor: flags.rf,
        agentOf,
        dropSourceDc: flags['drop-source-dc'],
        compactRanges: flags['compact-ranges'],
        pipeline: flags.pipeline,
        decommissionSourceDc: flags['decommission-source-dc'],
        samples: delegate.samples,
      });
      const rebuilds = plan.keyspaces.reduce((n, k) => n + k.rebuilds.length, 0);
      const header = [
        `Generated by drover cassandra migrate on ${new Date().toISOString()} from cluster ${flags.cluster},`,
        `read through ${described.size} agent(s): ${extended.nodes.length} nodes, ${plan.keyspaces.length} keyspaces,`,
        `${rebuilds} rebuilds in ${plan.order.length} waves${delegate.down.length ? `; down: ${delegate.down.join(', ')}` : ''}.`,
        `Review it ('drover plan show ${flags.out}'), then 'drover apply ${flags.out}'.`,
      ].join('\n');
      await writeFile(flags.out, planFileYaml(document, header));
      const phases = document.phases.map((p) => p.name);
      this.log(
        `plan written to ${flags.out}: ${rebuilds} rebuilds in ${plan.order.length} waves, phases ${phases.join(' -> ')}`,
      );
      return { file: flags.out, phases, waves: plan.order.length, rebuilds, atRisk, findings };
    } finally {
      await d.close();
    }
  }
}
