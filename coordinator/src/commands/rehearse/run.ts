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
catalog. It is then carried out through a private nats-server started on loopback (--nats-server, or
nats-server on PATH): a real run driven by the plan runner and engine, signed orders to real agents
started in this process for the cluster's nodes, whose steps act on a simulated data plane (--model
carries the plans out by an in-process model of the runner instead: seconds, no NATS). The clock is
simulated and moves only while every migrating cluster waits on it (never while an order or a result
is on its way): Kafka copies under the throttles and per-broker caps, ISR joins and elections,
Cassandra rebuild sessions at the source's stream throughput, ZooKeeper observer syncs, service
starts, every gate checked by the engine on the simulated state. At most migration.clustersAtOnce
clusters migrate at once. --speed runs the clock at most that many simulated ms per real ms, printing each cluster's end as it happens (with --model,
a replay once the forecast is computed); without it the rehearsal runs as fast as this machine goes.
--fail AGENT@TIME[:down|:session|:slow=N] injects a fault TIME after the cluster starts: its node
goes down (a Kafka broker leaves the ISRs and hands over leadership, copies toward it stall, the
controller refuses reassignments naming it; a Cassandra node fails the sessions touching it), the
stream session in flight on a Cassandra node fails (the rebuild retries it), or the node replicates
or streams N times slower. Steps fail as the agent's would (retries, then maxErrors, then the step's
timeout in simulated time), the plan stops in that phase and its rollback runs (the stopped phase's,
then every completed phase's, newest first), as drover run rollback would.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> fleet.yaml',
    '<%= config.bin %> <%= command.id %> fleet.yaml --speed 10000 --html forecast.html',
    '<%= config.bin %> <%= command.id %> fleet.yaml --json > forecast.json',
    '<%= config.bin %> <%= command.id %> fleet.yaml --fail users-d2@20m',
    '<%= config.bin %> <%= command.id %> fleet.yaml --fail orders-d2@2m --fail users-s1@20m:session --fail clicks-s1@1m:slow=4',
    '<%= config.bin %> <%= command.id %> fleet.yaml --clusters-at-once 20 --throttle 100MB/s',
  ];

  static override args = {
    fleet: Args.file({ required: true, exists: true, description: 'Fleet description (YAML).' }),
  };

  static override flags = {
    speed: Flags.integer({
      min: 1,
      summary:
        'At most this many simulated ms per real ms (e.g. 10000: a day in 8.6 s), printing each cluster as it ends (--model: a replay of the ends).',
    }),
    html: Flags.file({ summary: 'Also write the forecast as an HTML timeline to this file.' }),
    'clusters-at-once': Flags.integer({ min: 1, summary: "What if: override the fleet's migration.clustersAtOnce." }),
    throttle: Flags.string({ summary: 'What if: override the Kafka throttle (e.g. 100MB/s).' }),
    'per-broker': Flags.integer({ min: 1, summary: 'What if: override the Kafka moves per broker.' }),
    'stream-throughput': Flags.string({ summary: "What if: override Cassandra's stream throughput (e.g. 48MiB/s)." }),
    'streams-per-source': Flags.integer({ min: 1, summary: 'What if: override the Cassandra rebuilds per source.' }),
    model: Flags.boolean({
      summary: 'Carry the plans out by the in-process model of the plan runner, without NATS and agents.',
      default: false,
    }),
    'nats-server': Flags.string({
      summary:
        'The nats-server executable for the rehearsal (default: nats-server on PATH, else /usr/sbin/nats-server).',
      exclusive: ['model'],
    }),
    fail: Flags.string({
      multiple: true,
      summary:
        "AGENT@TIME[:down|:session|:slow=N]: TIME after its cluster starts, the agent's node goes down (the default), its Cassandra stream session fails, or it turns N times slower (e.g. users-d2@20m, orders-s1@1h:slow=4).",
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
    const live = flags.speed !== undefined && !this.jsonEnabled();
    const forecast = await forecastFleet(fleet, {
      faults,
      ...(flags.model
        ? {}
        : {
            nats: {
              ...(flags['nats-server'] ? { natsServer: flags['nats-server'] } : {}),
              ...(flags.speed !== undefined ? { speed: flags.speed } : {}),
            },
            // Through NATS the run itself is paced by --speed: each cluster's end is printed as it happens.
            ...(live
              ? {
                  onClusterEnd: (c: { cluster: string; startMs: number; endMs: number; outcome: string }) =>
                    this.log(
                      `[${formatDuration(c.endMs)}] ${c.cluster} ${c.outcome === 'succeeded' ? 'done' : c.outcome} (${formatDuration(c.endMs - c.startMs)})`,
                    ),
                }
              : {}),
          }),
    });
    if (live && flags.model && flags.speed !== undefined) {
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
