// `drover rehearse run FLEET`: every cluster's migration plan made by the real planners from the
// fleet description, carried out on the simulated data plane with the fleet's concurrency, and the
// forecast printed (a block per cluster, the wall time, the critical path, the busiest links and
// brokers). Thin: coordinator/src/rehearse/.
import { writeFile } from 'node:fs/promises';
import { formatDuration, InvalidInputError, RateSchema, ScaledClock } from '@drover/shared';
import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { loadFleetFile } from '../../rehearse/fleet-file.ts';
import { type Forecast, forecastFleet, parseFault } from '../../rehearse/forecast.ts';
import { forecastHtml, renderForecast } from '../../rehearse/render.ts';

export type RehearseRunResult = Forecast;

export default class RehearseRun extends DroverCommand<RehearseRunResult> {
  static override summary = "Rehearse a fleet's migration on a simulated data plane and forecast its timeline.";

  static override description =
    `Each cluster's plan comes from the real Kafka and Cassandra planners and plan-file generators
(its assignment or ring synthesized from the fleet description) and is checked against the step
catalog; its phases then run in simulated time: Kafka copies under the throttles and per-broker caps,
ISR joins and elections, Cassandra rebuild sessions at the source's stream throughput, ZooKeeper
observer syncs, service starts, every gate checked on the simulated state. At most
migration.clustersAtOnce clusters migrate at once. --speed replays the forecast's cluster ends at that
many simulated seconds per real second; without it the forecast is printed as soon as it is computed.
--fail takes a Cassandra node down during its cluster's migration: the rebuilds touching it are
retried as the agent's step retries them, then the plan stops in that phase and its rollback runs
(the stopped phase's, then every completed phase's, newest first), as drover run rollback would.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> fleet.yaml',
    '<%= config.bin %> <%= command.id %> fleet.yaml --speed 10000 --html forecast.html',
    '<%= config.bin %> <%= command.id %> fleet.yaml --json > forecast.json',
    '<%= config.bin %> <%= command.id %> fleet.yaml --fail users-d2@20m',
    '<%= config.bin %> <%= command.id %> fleet.yaml --clusters-at-once 20 --throttle 100MB/s',
  ];

  static override args = {
    fleet: Args.file({ required: true, exists: true, description: 'Fleet description (YAML).' }),
  };

  static override flags = {
    speed: Flags.integer({
      min: 1,
      summary: 'Replay the cluster ends at this many simulated ms per real ms (e.g. 10000).',
    }),
    html: Flags.file({ summary: 'Also write the forecast as an HTML timeline to this file.' }),
    'clusters-at-once': Flags.integer({ min: 1, summary: "What if: override the fleet's migration.clustersAtOnce." }),
    throttle: Flags.string({ summary: 'What if: override the Kafka throttle (e.g. 100MB/s).' }),
    'per-broker': Flags.integer({ min: 1, summary: 'What if: override the Kafka moves per broker.' }),
    'stream-throughput': Flags.string({ summary: "What if: override Cassandra's stream throughput (e.g. 48MiB/s)." }),
    'streams-per-source': Flags.integer({ min: 1, summary: 'What if: override the Cassandra rebuilds per source.' }),
    fail: Flags.string({
      multiple: true,
      summary: 'AGENT@TIME: a Cassandra node goes down TIME after its cluster starts (e.g. users-d2@20m).',
    }),
  };

  async run(): Promise<RehearseRunResult> {
    const { args, flags } = await this.parse(RehearseRun);
    const fleet = loadFleetFile(args.fleet);
    // What-if overrides go through the fleet schema's own rate parser, so they read like the file.
    const rate = (flag: string, text: string | undefined): number | undefined => {
      if (text === undefined) return undefined;
      const parsed = RateSchema.safeParse(text);
      if (!parsed.success) throw new InvalidInputError(flag, text, 'a rate like 50MB/s or 24MiB/s');
      return parsed.data;
    };
    const migration = fleet.migration;
    migration.clustersAtOnce = flags['clusters-at-once'] ?? migration.clustersAtOnce;
    migration.kafka.throttle = rate('--throttle', flags.throttle) ?? migration.kafka.throttle;
    migration.kafka.perBrokerMoves = flags['per-broker'] ?? migration.kafka.perBrokerMoves;
    migration.cassandra.streamThroughput =
      rate('--stream-throughput', flags['stream-throughput']) ?? migration.cassandra.streamThroughput;
    migration.cassandra.maxStreamsPerSource = flags['streams-per-source'] ?? migration.cassandra.maxStreamsPerSource;
    const faults = (flags.fail ?? []).map((text) => parseFault(fleet, text));
    const forecast = await forecastFleet(fleet, { faults });
    if (flags.speed !== undefined && !this.jsonEnabled()) {
      const clock = new ScaledClock(flags.speed);
      for (const c of [...forecast.clusters].sort((a, b) => a.endMs - b.endMs)) {
        await clock.until(c.endMs);
        this.log(`[${formatDuration(c.endMs)}] ${c.cluster} done (${formatDuration(c.endMs - c.startMs)})`);
      }
    }
    this.log(renderForecast(forecast));
    if (flags.html !== undefined) {
      await writeFile(flags.html, forecastHtml(forecast));
      this.log(`timeline written to ${flags.html}`);
    }
    return forecast;
  }
}
