// `drover kafka plan-migration`: reads a cluster file and prints the shared-cluster migration plan
// (expand, leaders, shrink, cleanup) as a per-phase summary, or the plan JSON with --json.
// Thin: the planner is coordinator/src/kafka.

import { readFile, writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import {
  DEFAULT_PER_BROKER_MOVES,
  type MigrationPlan,
  parseBrokerMap,
  parseClusterFile,
  parseThrottle,
  planMigration,
  renderPlan,
} from '../../kafka/index.ts';

export type PlanMigrationResult = MigrationPlan;

export default class PlanMigration extends DroverCommand<PlanMigrationResult> {
  static override summary = 'Plan moving every Kafka partition from its source brokers onto its destination brokers.';

  static override description = `Each partition goes through four phases, each a list of batches with its rollback:
expand to source ++ destination (sources first, so no leader moves; throttled, at most --per-broker moves per
broker as source or destination per batch), leaders (reorder to destination ++ source, then preferred-leader
elections: 1000 per batch, 250 per broker), shrink to the destination, and cleanup of every throttle key.
Destinations come from --map (source=destination broker ids) or --auto (balanced, on distinct racks where
possible, deterministic). Pre-flight findings (under-replicated or offline partitions, reassignments in flight,
throttles already set, destination brokers without a listener or rack, a throttle below the inbound rate) are part
of the plan. Rates: 50MB/s (MB = 10^6 bytes), 10MiB/s (MiB = 2^20 bytes) or a plain number of bytes/s.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --cluster cluster.json --auto',
    '<%= config.bin %> <%= command.id %> --cluster cluster.json --map 1=101,2=102,3=103 --throttle 100MB/s',
    '<%= config.bin %> <%= command.id %> --cluster cluster.json --auto --rf 2 --per-broker 3 --json > plan.json',
  ];

  static override flags = {
    cluster: Flags.file({
      required: true,
      exists: true,
      summary: 'Cluster file (JSON): brokers with id, host, rack, role; topics with partitions.',
    }),
    map: Flags.string({
      summary: 'Explicit broker map SOURCE=DESTINATION,… (e.g. 1=101,2=102,3=103).',
      exactlyOne: ['map', 'auto'],
    }),
    auto: Flags.boolean({
      summary: 'Place destination replicas automatically (balanced, rack-aware, deterministic).',
      exactlyOne: ['map', 'auto'],
    }),
    rf: Flags.integer({
      min: 1,
      summary: 'Replication factor on the destination (with --auto; default: each partition keeps its RF).',
      exclusive: ['map'],
    }),
    'per-broker': Flags.integer({
      min: 1,
      default: DEFAULT_PER_BROKER_MOVES,
      summary: 'Concurrent expand moves per broker, as source or destination.',
    }),
    throttle: Flags.string({
      default: '50MB/s',
      summary: 'Replication throttle per broker during expand: 50MB/s, 10MiB/s or bytes/s.',
    }),
    order: Flags.option({
      options: ['small-first', 'large-first'] as const,
      default: 'small-first' as const,
      summary: 'Expand order by partition size.',
    })(),
    out: Flags.file({ summary: 'Also write the plan JSON to this file (the input of export-phase).' }),
  };

  async run(): Promise<PlanMigrationResult> {
    const { flags } = await this.parse(PlanMigration);
    const cluster = parseClusterFile(await readFile(flags.cluster, 'utf8'), `cluster(${flags.cluster})`);
    const plan = planMigration(cluster, {
      placement:
        flags.map === undefined
          ? { mode: 'auto', ...(flags.rf === undefined ? {} : { rf: flags.rf }) }
          : { mode: 'map', map: parseBrokerMap(flags.map) },
      perBrokerMoves: flags['per-broker'],
      throttleBytesPerSec: parseThrottle(flags.throttle),
      order: flags.order,
    });
    if (flags.out !== undefined) await writeFile(flags.out, `${JSON.stringify(plan)}\n`);
    this.log(renderPlan(plan));
    if (flags.out !== undefined) this.log(`\nplan written to ${flags.out}`);
    return plan;
  }
}
