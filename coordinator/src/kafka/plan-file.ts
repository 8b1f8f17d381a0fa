// Turns a migration plan (the planner's output) into a Drover plan file: the phases an operator
// reviews and `drover apply` carries out. Cluster-wide steps (kafka.reassign, kafka.verify) run on
// one delegate agent, against its local broker. Every data phase has a gate (kafka.verify) and a
// rollback that first cancels moves in flight, then reassigns back to the assignment before it.
//
//   preflight  gate: no reassignment in flight, every ISR full
//   expand     source ++ destination, throttled, per-broker caps     rollback: back to source, throttles removed
//   leaders    destination ++ source, then preferred elections        rollback: back, re-elected
//   shrink     destination only                                      rollback: destination ++ source
//   cleanup    every throttle key removed                            gate: only destination brokers, no throttle
//   repoint-clients  (approval) clients move their bootstrap servers to the destination brokers
//   stop-source      the source brokers' kafka service stopped        rollback: started again
//
// Big phases are split into several kafka.reassign steps so no order exceeds `maxParamsBytes`.
import type { PlanInput, ZooKeeperObserverServer, ZooKeeperVoter } from '@drover/shared';
import { chunk } from '../plan/writing.ts';
import type { Batch, MigrationPlan, Phase, PhaseName } from './types.ts';

export interface PlanFileOptions {
  /** metadata.name of the plan file. */
  name: string;
  /** The cluster's label value (metadata.cluster). */
  cluster: string;
  /** The agent that runs the cluster-wide steps against its local broker (a destination broker's agent). */
  delegate: string;
  /** Broker ids every replica must be on at the end. */
  destinationBrokers: number[];
  /** Selector of the source brokers' agents, for the stop-source phase; none: no such phase. */
  sourceAgents?: string;
  /**
   * The destination ZooKeeper nodes' agents and the source ensemble's voters: an `observers` phase
   * joins them as observers (gate: in sync with the leader) before any destination broker starts.
   */
  observers?: ObserversOptions;
  /**
   * The destination brokers' agents: a `brokers` phase renders each one's server.properties from
   * the cluster profile and starts it, one at a time (gate: every destination broker is live).
   */
  destinationAgents?: string;
  /** Largest JSON size of one kafka.reassign step's batches. @default 150000 */
  maxParamsBytes?: number;
  /** How often kafka.reassign polls the brokers (3 small requests). @default 250 */
  pollMs?: number;
}

type StepInput = PlanInput['phases'][number]['steps'] extends (infer S)[] | undefined ? S : never;
type PhaseInput = PlanInput['phases'][number];

const OK = { field: 'ok', equals: true };

export function migrationPlanFile(plan: MigrationPlan, options: PlanFileOptions): PlanInput {
  const delegate = [options.delegate];
  const phase = (name: PhaseName) => plan.phases.find((p) => p.name === name) as Phase;
  const cleanupOps = phase('cleanup').batches.flatMap((b) => b.configOps);
  const reassign = (label: string, batches: Batch[]): StepInput[] =>
    chunk(batches, options.maxParamsBytes ?? 150_000).map((part, i, all) => ({
      name: all.length > 1 ? `${label}-${i + 1}-of-${all.length}` : label,
      step: 'kafka.reassign',
      target: delegate,
      params: { phase: label, batches: part, pollMs: options.pollMs ?? 250 },
    }));
  const verify = (name: string, params: Record<string, unknown>) => ({
    name,
    step: 'kafka.verify',
    target: delegate,
    params,
    expect: OK,
  });
  const rollback = (name: PhaseName, extra: Batch[] = []) => {
    const rb = phase(name).rollback;
    const batches: Batch[] = [
      { reassignments: rb.reassignments, elections: rb.elections, configOps: [] },
      ...extra,
    ].filter((b) => b.reassignments.length + b.elections.length + b.configOps.length > 0);
    return batches.length === 0
      ? []
      : [
          {
            name: `undo-${name}`,
            step: 'kafka.reassign',
            target: delegate,
            params: { phase: `rollback-${name}`, batches, cancelInFlight: true, pollMs: options.pollMs ?? 250 },
          },
        ];
  };
  const dataPhase = (name: PhaseName, description: string, gate: Record<string, unknown>, undo: StepInput[]) => {
    const batches = phase(name).batches.filter(
      (b) => b.reassignments.length + b.elections.length + b.configOps.length > 0,
    );
    return {
      name,
      description,
      steps: reassign(name, batches),
      gate: [verify(`${name}-verified`, gate)],
      rollback: undo,
    } satisfies PhaseInput;
  };
  const throttleCleanup = cleanupOps.length ? [{ reassignments: [], elections: [], configOps: cleanupOps }] : [];
  const phases: PhaseInput[] = [
    {
      name: 'preflight',
      description: 'Nothing moves while a reassignment is in flight or a partition is under-replicated.',
      gate: [verify('cluster-healthy', { noReassignments: true, fullIsr: true })],
    },
    ...(options.observers ? [observersPhase(options.observers)] : []),
    ...(options.destinationAgents
      ? [
          {
            name: 'brokers',
            description:
              "Each destination broker's server.properties from the cluster profile, then the broker starts.",
            steps: [
              { name: 'configure', step: 'kafka.broker-configure', target: options.destinationAgents, params: {} },
              {
                name: 'start',
                step: 'service',
                target: options.destinationAgents,
                params: { name: 'kafka', action: 'start' },
                concurrency: 1,
              },
            ],
            gate: [
              verify('brokers-live', { brokers: options.destinationBrokers, noReassignments: true, fullIsr: true }),
            ],
            rollback: [
              {
                name: 'stop',
                step: 'service',
                target: options.destinationAgents,
                params: { name: 'kafka', action: 'stop' },
              },
            ],
          } satisfies PhaseInput,
        ]
      : []),
    dataPhase(
      'expand',
      'Every partition gains its destination replicas (sources first, so leaders stay).',
      { noReassignments: true, fullIsr: true },
      rollback('expand', throttleCleanup),
    ),
    dataPhase(
      'leaders',
      'Destination replicas first, then preferred-leader elections: destination brokers lead.',
      { noReassignments: true, fullIsr: true, leadersPreferred: true },
      rollback('leaders'),
    ),
    dataPhase(
      'shrink',
      'The source replicas are dropped.',
      { noReassignments: true, fullIsr: true, onlyBrokers: options.destinationBrokers },
      rollback('shrink', throttleCleanup),
    ),
    dataPhase(
      'cleanup',
      'Every throttle set for the move is removed.',
      { noReassignments: true, fullIsr: true, onlyBrokers: options.destinationBrokers, noThrottles: true },
      [],
    ),
    {
      name: 'repoint-clients',
      description: 'Clients move their bootstrap servers to the destination brokers; approve when done.',
      approval: true,
      gate: [
        verify('still-on-destination', {
          noReassignments: true,
          fullIsr: true,
          onlyBrokers: options.destinationBrokers,
        }),
      ],
    },
  ];
  if (options.sourceAgents) {
    phases.push({
      name: 'stop-source',
      description: 'The source brokers stop; they hold no replica any more.',
      steps: [
        {
          name: 'stop-kafka',
          step: 'service',
          target: options.sourceAgents,
          params: { name: 'kafka', action: 'stop' },
          concurrency: 1,
        },
      ],
      rollback: [
        {
          name: 'start-kafka',
          step: 'service',
          target: options.sourceAgents,
          params: { name: 'kafka', action: 'start' },
        },
      ],
    });
  }
  return {
    apiVersion: 'drover/v1',
    kind: 'Plan',
    metadata: {
      name: options.name,
      cluster: options.cluster,
      description: `Shared-cluster migration of ${options.cluster} onto brokers ${options.destinationBrokers.join(', ')}: ${Object.keys(plan.mapping).length} partitions.`,
    },
    phases: phases.map(dropEmpty),
  };
}

export interface ObserversOptions {
  /** Selector of the destination ZooKeeper nodes' agents (the observers). */
  agents: string;
  /** The source ensemble's voters. */
  ensemble: ZooKeeperVoter[];
  /**
   * `reconfig` (the voters have reconfigEnabled): `reconfig -add` from the joining observer.
   * `static`: first every voter, one at a time, gets the observers' lines in its zoo.cfg and restarts
   * (`zookeeper.voters-add-observers` on `voterAgents`); then the observers start. @default reconfig
   */
  method?: 'reconfig' | 'static';
  /** `static`: selector of the voters' agents. */
  voterAgents?: string;
  /** `static`: the observers' server lines, as the observers' agents render them. */
  servers?: ZooKeeperObserverServer[];
}

export function observersPhase(observers: ObserversOptions): PhaseInput {
  const method = observers.method ?? 'reconfig';
  if (method === 'static' && (!observers.voterAgents || !observers.servers?.length))
    throw new Error('observersPhase: the static method needs voterAgents and servers');
  const votersStep = (name: string, action: 'add' | 'remove'): StepInput => ({
    name,
    step: 'zookeeper.voters-add-observers',
    target: observers.voterAgents as string,
    params: { action, observers: observers.servers },
    concurrency: 1,
  });
  return {
    name: 'observers',
    description:
      method === 'static'
        ? "Every source voter, one at a time, restarts with the observers' lines; then the destination's ZooKeeper nodes start as observers and catch up."
        : "The destination's ZooKeeper nodes join the source ensemble as observers and catch up.",
    steps: [
      ...(method === 'static' ? [votersStep('voters-list-observers', 'add')] : []),
      {
        name: 'join',
        step: 'zookeeper.observer-join',
        target: observers.agents,
        params: { ensemble: observers.ensemble, method },
        concurrency: 1,
      },
    ],
    gate: [
      {
        name: 'in-sync',
        step: 'zookeeper.observer-verify',
        target: observers.agents,
        params: { voters: observers.ensemble.map((v) => ({ host: v.host, clientPort: v.clientPort })) },
        expect: OK,
      },
    ],
    // Undo: a reconfig join is undone by `reconfig -remove` (then the observer stops); a static one by
    // stopping the observers, then restarting each voter without their lines.
    rollback:
      method === 'static'
        ? [
            { name: 'stop', step: 'service', target: observers.agents, params: { name: 'zookeeper', action: 'stop' } },
            votersStep('voters-forget-observers', 'remove'),
          ]
        : [
            {
              name: 'leave',
              step: 'zookeeper.observer-leave',
              target: observers.agents,
              params: { ensemble: observers.ensemble, method: 'reconfig' },
              concurrency: 1,
            },
          ],
  };
}

/** A data phase with nothing to move keeps its gate (the check still says where things are). */
function dropEmpty(phase: PhaseInput): PhaseInput {
  const copy = { ...phase };
  if (copy.steps?.length === 0) delete copy.steps;
  if (copy.rollback?.length === 0) delete copy.rollback;
  return copy;
}

export { chunk, planFileYaml } from '../plan/writing.ts';
