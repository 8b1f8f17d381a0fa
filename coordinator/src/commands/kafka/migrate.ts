// `drover kafka migrate`: reads the live source cluster through a delegate agent (kafka.describe on
// its local broker), runs the planner, and writes the migration as a plan file to review and then
// `drover apply`. Refuses to write a plan the planner found errors in.
import { writeFile } from 'node:fs/promises';
import {
  InvalidInputError,
  KafkaDescribeResult,
  type ZooKeeperVoter,
  ZooKeeperVoterSchema,
  ZooKeeperVotersAddObserversResult,
} from '@drover/shared';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { loadSigner, runJobToEnd } from '../../engine/index.ts';
import {
  chooseJoinMethod,
  clusterDocument,
  DEFAULT_PER_BROKER_MOVES,
  migrationPlanFile,
  parseBrokerMap,
  parseCluster,
  parseThrottle,
  planFileYaml,
  planMigration,
  renderFindings,
  type VoterInspection,
} from '../../kafka/index.ts';

export interface KafkaMigrateResult {
  file: string;
  partitions: number;
  phases: string[];
  findings: Array<{ severity: string; code: string; message: string }>;
}

export default class KafkaMigrate extends DroverCommand<KafkaMigrateResult> {
  static override summary =
    'Plan the shared-cluster migration of a live Kafka cluster (read through a delegate agent) as a plan file.';
  static override description =
    `The delegate agent reads its local broker (every topic, internal ones included, partitions,
sizes, throttles); the planner moves every partition in three phases (expand, leaders, shrink) and cleans up
throttles; the plan file adds a pre-flight gate, a gate after every phase, rollbacks, an approval point to repoint
clients and, with --source-agents, a phase that stops the source brokers. Review it, then 'drover apply FILE'.`;
  static override examples = [
    '<%= config.bin %> kafka migrate --cluster kafka-a --delegate kafka-a-101 --map 1=101,2=102,3=103 -o plan.yaml',
    '<%= config.bin %> kafka migrate --cluster kafka-a --delegate kafka-a-101 --auto --destination 101,102,103 --source-agents "cluster=kafka-a,role=source" -o plan.yaml',
  ];
  static override flags = {
    ...natsFlags,
    cluster: Flags.string({ required: true, summary: "The cluster's name (the plan's metadata.cluster)." }),
    delegate: Flags.string({ required: true, summary: 'Agent id whose local broker is read and that runs the moves.' }),
    map: Flags.string({ summary: 'Explicit broker map SOURCE=DESTINATION,…', exactlyOne: ['map', 'auto'] }),
    auto: Flags.boolean({ summary: 'Place destination replicas automatically.', exactlyOne: ['map', 'auto'] }),
    destination: Flags.string({ summary: 'With --auto: the destination broker ids, comma-separated.' }),
    rf: Flags.integer({ min: 1, summary: 'Replication factor on the destination (with --auto).', exclusive: ['map'] }),
    'per-broker': Flags.integer({
      min: 1,
      default: DEFAULT_PER_BROKER_MOVES,
      summary: 'Concurrent expand moves per broker.',
    }),
    throttle: Flags.string({ default: '50MB/s', summary: 'Replication throttle per broker during expand.' }),
    'source-agents': Flags.string({ summary: "Selector of the source brokers' agents: adds a stop-source phase." }),
    'destination-agents': Flags.string({
      summary:
        "Selector of the destination brokers' agents: adds a phase that renders their config from the profile and starts them (they need not be running yet; use --map).",
    }),
    observers: Flags.string({
      summary: "Selector of the destination ZooKeeper nodes' agents: adds a phase joining them as observers.",
      dependsOn: ['zookeeper-ensemble'],
    }),
    'zookeeper-ensemble': Flags.string({
      summary:
        'The source ensemble voters for --observers: ID=HOST:CLIENT:QUORUM:ELECTION,… (e.g. 1=zk1:2181:2888:3888).',
    }),
    'zookeeper-voter-agents': Flags.string({
      summary:
        "Selector of the source voters' agents: each reports whether its zoo.cfg has reconfigEnabled; without it, the voters restart one at a time with the observers' lines (needs --zookeeper-observers). Not given: observers join by reconfig.",
      dependsOn: ['observers'],
    }),
    'zookeeper-observers': Flags.string({
      summary:
        "The observers' server lines for the static way: ID=HOST:CLIENT:QUORUM:ELECTION,… as the observers' agents render them (their myid, host and ports).",
      dependsOn: ['zookeeper-voter-agents'],
    }),
    name: Flags.string({ summary: 'The plan name. Default: <cluster>-migration.' }),
    out: Flags.string({ char: 'o', required: true, summary: 'Where to write the plan file (YAML).' }),
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  };

  async run(): Promise<KafkaMigrateResult> {
    const { flags } = await this.parse(KafkaMigrate);
    const map = flags.map === undefined ? undefined : parseBrokerMap(flags.map);
    const destinations = new Set(map ? [...map.values()] : parseIds(flags.destination));
    const throttleBytesPerSec = parseThrottle(flags.throttle);
    const ensemble = flags['zookeeper-ensemble'] ? parseEnsemble(flags['zookeeper-ensemble']) : undefined;
    const observerServers = flags['zookeeper-observers']
      ? parseEnsemble(flags['zookeeper-observers'], '--zookeeper-observers')
      : undefined;
    const signer = loadSigner(flags.key);
    const d = await connectFromFlags(flags);
    try {
      const me = coordinatorId();
      const summary = await runJobToEnd(
        d,
        {
          step: 'kafka.describe',
          params: {},
          selector: '',
          agents: [flags.delegate],
          options: { concurrency: { count: 1 }, maxErrors: { count: 0 } },
          createdBy: me,
        },
        { coordinatorId: me, signer },
      );
      const target = summary.runs[0];
      if (summary.job.state !== 'succeeded' || !target?.result)
        throw new InvalidInputError(
          '--delegate',
          flags.delegate,
          `an agent that can read its local broker (job ${summary.job.id} ${summary.job.state}: ${target?.result?.error?.message ?? target?.reason ?? 'no result'})`,
        );
      const described = KafkaDescribeResult.parse(target.result.output);
      const known = new Set(described.brokers.map((b) => b.id));
      const toStart = flags['destination-agents'] && map ? [...destinations].filter((id) => !known.has(id)) : [];
      const unknown = [...destinations].filter((id) => !known.has(id) && !toStart.includes(id));
      if (unknown.length > 0)
        throw new InvalidInputError(
          map ? '--map' : '--destination',
          unknown.join(','),
          `destination brokers registered in the cluster (it has ${[...known].join(', ')})`,
        );
      const cluster = parseCluster(clusterDocument(described, destinations, toStart), `cluster(${flags.cluster})`);
      const plan = planMigration(cluster, {
        placement: map ? { mode: 'map', map } : { mode: 'auto', ...(flags.rf === undefined ? {} : { rf: flags.rf }) },
        perBrokerMoves: flags['per-broker'],
        throttleBytesPerSec,
      });
      const findings = plan.findings.map((f) => ({ severity: f.severity, code: f.code, message: f.message }));
      if (plan.findings.length > 0) this.log(renderFindings(plan.findings, 50));
      if (plan.findings.some((f) => f.severity === 'error'))
        throw new InvalidInputError(
          'cluster',
          flags.cluster,
          'a cluster without pre-flight errors (see above); no plan written',
        );
      let join: { method: 'reconfig' | 'static' } = { method: 'reconfig' };
      if (ensemble && flags.observers && flags['zookeeper-voter-agents']) {
        const inspected = await runJobToEnd(
          d,
          {
            step: 'zookeeper.voters-add-observers',
            params: { action: 'inspect' },
            selector: flags['zookeeper-voter-agents'],
            options: { concurrency: { count: 15 }, maxErrors: { percent: 100 } },
            createdBy: me,
          },
          { coordinatorId: me, signer },
        );
        const inspections: VoterInspection[] = inspected.runs.map((r) => {
          const out =
            r.result?.status === 'succeeded' ? ZooKeeperVotersAddObserversResult.parse(r.result.output) : null;
          return out
            ? { agentId: r.agentId, myid: out.myid, reconfigEnabled: out.reconfigEnabled }
            : {
                agentId: r.agentId,
                myid: null,
                reconfigEnabled: null,
                error: r.result?.error?.message ?? r.reason ?? 'no result',
              };
        });
        const choice = chooseJoinMethod(inspections, ensemble, observerServers);
        this.log(`observers: ${choice.reason}`);
        join = { method: choice.method };
      }
      const document = migrationPlanFile(plan, {
        name: flags.name ?? `${flags.cluster}-migration`,
        cluster: flags.cluster,
        delegate: flags.delegate,
        destinationBrokers: [...destinations].sort((a, b) => a - b),
        ...(flags['source-agents'] ? { sourceAgents: flags['source-agents'] } : {}),
        ...(flags['destination-agents'] ? { destinationAgents: flags['destination-agents'] } : {}),
        ...(ensemble && flags.observers
          ? {
              observers: {
                agents: flags.observers,
                ensemble,
                method: join.method,
                ...(join.method === 'static'
                  ? { voterAgents: flags['zookeeper-voter-agents'], servers: observerServers }
                  : {}),
              },
            }
          : {}),
      });
      const partitions = Object.keys(plan.mapping).length;
      const header = [
        `Generated by drover kafka migrate on ${new Date().toISOString()} from cluster ${described.clusterId}`,
        `read through agent ${flags.delegate}: ${described.brokers.length} brokers, ${partitions} partitions.`,
        `Review it ('drover plan show ${flags.out}'), then 'drover apply ${flags.out}'.`,
      ].join('\n');
      await writeFile(flags.out, planFileYaml(document, header));
      const phases = document.phases.map((p) => p.name);
      this.log(`plan written to ${flags.out}: ${partitions} partitions, phases ${phases.join(' -> ')}`);
      return { file: flags.out, partitions, phases, findings };
    } finally {
      await d.close();
    }
  }
}

function parseIds(text: string | undefined): number[] {
  if (!text)
    throw new InvalidInputError('--destination', text, 'with --auto, the destination broker ids (e.g. 101,102,103)');
  return text.split(',').map((part) => {
    const id = Number(part.trim());
    if (!Number.isSafeInteger(id) || id < 0)
      throw new InvalidInputError('--destination', part, 'a broker id (an integer >= 0)');
    return id;
  });
}

/** `1=zk1:2181:2888:3888,2=…` → the voters' server lines. */
function parseEnsemble(text: string, flag = '--zookeeper-ensemble'): ZooKeeperVoter[] {
  return text.split(',').map((part) => {
    const match = /^(\d{1,3})=([A-Za-z0-9][A-Za-z0-9.-]{0,252}):(\d{1,5}):(\d{1,5}):(\d{1,5})$/.exec(part.trim());
    if (!match)
      throw new InvalidInputError(
        flag,
        part,
        'ID=HOST:CLIENT_PORT:QUORUM_PORT:ELECTION_PORT (e.g. 1=zk1:2181:2888:3888)',
      );
    const [, id, host, clientPort, quorumPort, electionPort] = match;
    return ZooKeeperVoterSchema.parse({
      id: Number(id),
      host,
      clientPort: Number(clientPort),
      quorumPort: Number(quorumPort),
      electionPort: Number(electionPort),
    });
  });
}
