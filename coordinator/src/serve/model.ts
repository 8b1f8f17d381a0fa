// What the live page shows, kept in memory by `drover serve`: agents, jobs, targets, plan runs and
// the steps' latest progress, fed by KV watches and the events stream (feed.ts). Pure: no NATS, no
// clock of its own (every method takes `now`), so snapshots and patches are tested without a server.
//
// The page gets one snapshot when it connects (and again after any reconnect), then patches: the
// records changed since the last flush, each whole (an upsert by key) or removed. Records are sent
// trimmed: no signed orders, no step outputs, only what a view shows.
import { type AgentRecord, isFinalTargetState, type OrderResult, type TargetState } from '@drover/shared';
import { type AgentStatus, livenessOf } from '../engine/agents.ts';
import { type JobRecord, type RunRecord, supersedes } from '../engine/records.ts';
import type { PlanRun, ResolvedPlan } from '../plan/types.ts';

export interface AgentSummary {
  id: string;
  labels: Record<string, string>;
  version: string;
  hostname?: string;
  lastSeen: number;
  heartbeatMs: number;
  liveness: AgentStatus;
}

export interface Progress {
  at: number;
  message: string;
  percent?: number;
}

export interface TargetSummary {
  /** `<jobId>.<agentId>` (the drover-runs key). */
  key: string;
  jobId: string;
  agentId: string;
  group: string;
  /** The state to show: the KV record's, or a signed result seen on the events stream before KV caught up. */
  state: TargetState;
  issuedAt?: number;
  dispatchedAt?: number;
  acceptedAt?: number;
  finishedAt?: number;
  /** The failure's message, or why the coordinator ended the target. */
  error?: string;
  progress?: Progress;
}

export interface JobSummary {
  id: string;
  step: string;
  selector: string;
  targets: number;
  state: JobRecord['state'];
  createdAt: number;
  createdBy: string;
  finishedAt?: number;
  counts?: Record<string, number>;
  message?: string;
}

/** What the run view needs of the resolved plan: which phases wait for a person, what each step runs. */
export interface PlanOutline {
  phases: Array<{ name: string; approval: boolean; steps: Array<{ name: string; step: string; target: string }> }>;
}

export interface PlanRunSummary extends Omit<PlanRun, 'owner' | 'leaseUntil' | 'file'> {
  driver?: string;
  outline?: PlanOutline;
}

export interface FeedEvent {
  seq: number;
  at: number;
  jobId: string;
  agentId: string;
  kind: string;
  text: string;
}

export interface Snapshot {
  type: 'snapshot';
  now: number;
  agents: AgentSummary[];
  jobs: JobSummary[];
  targets: TargetSummary[];
  planRuns: PlanRunSummary[];
  events: FeedEvent[];
}

export interface Patch {
  type: 'patch';
  now: number;
  agents: AgentSummary[];
  jobs: JobSummary[];
  targets: TargetSummary[];
  planRuns: PlanRunSummary[];
  removed: { agents: string[]; jobs: string[]; targets: string[]; planRuns: string[] };
  events: FeedEvent[];
}

type Collection = 'agents' | 'jobs' | 'targets' | 'planRuns';

/** Recent feed lines kept for a page that connects. */
const FEED_KEEP = 300;

export class LiveModel {
  readonly agents = new Map<string, AgentSummary>();
  readonly jobs = new Map<string, JobSummary>();
  readonly targets = new Map<string, TargetSummary>();
  readonly planRuns = new Map<string, PlanRunSummary>();
  private readonly records = new Map<string, AgentRecord>();
  private readonly kvTargets = new Map<string, RunRecord>();
  private readonly liveResults = new Map<string, Pick<OrderResult, 'orderId' | 'status' | 'finishedAt' | 'error'>>();
  private readonly progress = new Map<string, Progress>();
  private readonly runStates = new Map<string, PlanRun>();
  private readonly outlines = new Map<string, PlanOutline>();
  private readonly feed: FeedEvent[] = [];
  private feedSeq = 0;
  private pendingFeed: FeedEvent[] = [];
  private readonly dirty: Record<Collection, Set<string>> = {
    agents: new Set(),
    jobs: new Set(),
    targets: new Set(),
    planRuns: new Set(),
  };

  putAgent(id: string, record: AgentRecord | undefined, now: number): void {
    if (!record || record.id !== id) {
      // The registry id is the key: a record claiming another id is not shown (as listAgents does).
      this.records.delete(id);
      if (this.agents.delete(id)) this.dirty.agents.add(id);
      return;
    }
    this.records.set(id, record);
    this.agents.set(id, agentSummary(record, now));
    this.dirty.agents.add(id);
  }

  /** Re-derives liveness (an agent goes stale by silence, which no KV write announces). */
  tick(now: number): void {
    for (const [id, record] of this.records) {
      const shown = this.agents.get(id);
      const liveness = livenessOf(record, now);
      if (shown && shown.liveness !== liveness) {
        shown.liveness = liveness;
        this.dirty.agents.add(id);
      }
    }
  }

  putJob(id: string, job: JobRecord | undefined): void {
    if (!job) {
      if (this.jobs.delete(id)) this.dirty.jobs.add(id);
      return;
    }
    this.jobs.set(id, {
      id: job.id,
      step: job.step,
      selector: job.agents ? job.agents.join(',') : job.selector,
      targets: job.groups.reduce((n, g) => n + g.agents.length, 0),
      state: job.state,
      createdAt: job.createdAt,
      createdBy: job.createdBy,
      ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
      ...(job.counts ? { counts: job.counts } : {}),
      ...(job.message ? { message: job.message } : {}),
    });
    this.dirty.jobs.add(id);
  }

  putTarget(key: string, run: RunRecord | undefined): void {
    if (!run) {
      this.kvTargets.delete(key);
      this.liveResults.delete(key);
      this.progress.delete(key);
      if (this.targets.delete(key)) this.dirty.targets.add(key);
      return;
    }
    // A target's records may come from its own key and from a batch of final ones: the furthest along holds.
    if (!supersedes(run, this.kvTargets.get(key))) return;
    this.kvTargets.set(key, run);
    this.refreshTarget(key);
  }

  /** The order a target carries now, and when it was issued (for latency metrics). */
  orderOf(jobId: string, agentId: string): { orderId: string; issuedAt: number } | undefined {
    const run = this.kvTargets.get(`${jobId}.${agentId}`);
    const orderId = run?.order?.orderId ?? run?.orderId;
    const issuedAt = run?.order?.issuedAt ?? run?.dispatchedAt;
    return orderId && issuedAt !== undefined ? { orderId, issuedAt } : undefined;
  }

  /** A step's progress event (the latest one is shown). */
  putProgress(jobId: string, agentId: string, progress: Progress): void {
    const key = `${jobId}.${agentId}`;
    const previous = this.progress.get(key);
    if (previous && previous.at > progress.at) return;
    this.progress.set(key, progress);
    this.refreshTarget(key);
  }

  /**
   * A result seen on the events stream, already checked against the agent's enrolled key by the
   * caller: shown at once, until the coordinator's KV record gives the target its final state.
   */
  putLiveResult(jobId: string, agentId: string, result: OrderResult): void {
    const key = `${jobId}.${agentId}`;
    this.liveResults.set(key, {
      orderId: result.orderId,
      status: result.status,
      finishedAt: result.finishedAt,
      ...(result.error ? { error: result.error } : {}),
    });
    this.refreshTarget(key);
  }

  private refreshTarget(key: string): void {
    const run = this.kvTargets.get(key);
    if (!run) return;
    const live = this.liveResults.get(key);
    const progress = this.progress.get(key);
    const useLive =
      live !== undefined && !isFinalTargetState(run.state) && live.orderId === (run.order?.orderId ?? run.orderId);
    const error = useLive ? live.error?.message : (run.result?.error?.message ?? run.reason);
    const finishedAt = useLive ? live.finishedAt : run.finishedAt;
    this.targets.set(key, {
      key,
      jobId: run.jobId,
      agentId: run.agentId,
      group: run.group,
      state: useLive ? live.status : run.state,
      ...(run.order
        ? { issuedAt: run.order.issuedAt }
        : run.dispatchedAt !== undefined
          ? { issuedAt: run.dispatchedAt }
          : {}),
      ...(run.dispatchedAt !== undefined ? { dispatchedAt: run.dispatchedAt } : {}),
      ...(run.acceptedAt !== undefined ? { acceptedAt: run.acceptedAt } : {}),
      ...(finishedAt !== undefined ? { finishedAt } : {}),
      ...(error ? { error: error.slice(0, 2000) } : {}),
      ...(progress ? { progress } : {}),
    });
    this.dirty.targets.add(key);
  }

  /** A key of drover-plan-runs: `<run>.state` or `<run>.plan`. */
  putPlanRunKey(key: string, value: { state?: PlanRun; plan?: ResolvedPlan } | undefined): void {
    const dot = key.lastIndexOf('.');
    const runId = key.slice(0, dot);
    const part = key.slice(dot + 1);
    if (part === 'state') {
      if (value?.state) this.runStates.set(runId, value.state);
      else this.runStates.delete(runId);
    } else if (part === 'plan') {
      if (value?.plan) this.outlines.set(runId, outlineOf(value.plan));
      else this.outlines.delete(runId);
    } else return;
    const state = this.runStates.get(runId);
    if (!state) {
      if (this.planRuns.delete(runId)) this.dirty.planRuns.add(runId);
      return;
    }
    const { owner, leaseUntil: _lease, file: _file, ...rest } = state;
    const outline = this.outlines.get(runId);
    this.planRuns.set(runId, { ...rest, ...(owner ? { driver: owner } : {}), ...(outline ? { outline } : {}) });
    this.dirty.planRuns.add(runId);
  }

  /** A line for the live feed (job events, run transitions, failures, log lines). */
  addFeed(event: Omit<FeedEvent, 'seq'>): void {
    const full = { ...event, seq: ++this.feedSeq, text: event.text.slice(0, 500) };
    this.feed.push(full);
    if (this.feed.length > FEED_KEEP) this.feed.splice(0, this.feed.length - FEED_KEEP);
    this.pendingFeed.push(full);
    if (this.pendingFeed.length > FEED_KEEP) this.pendingFeed.splice(0, this.pendingFeed.length - FEED_KEEP);
  }

  snapshot(now: number): Snapshot {
    return {
      type: 'snapshot',
      now,
      agents: [...this.agents.values()],
      jobs: [...this.jobs.values()],
      targets: [...this.targets.values()],
      planRuns: [...this.planRuns.values()],
      events: [...this.feed],
    };
  }

  /** What changed since the last call (undefined when nothing did); clears the changes. */
  takePatch(now: number): Patch | undefined {
    const d = this.dirty;
    if (d.agents.size + d.jobs.size + d.targets.size + d.planRuns.size + this.pendingFeed.length === 0)
      return undefined;
    const patch: Patch = {
      type: 'patch',
      now,
      agents: [],
      jobs: [],
      targets: [],
      planRuns: [],
      removed: { agents: [], jobs: [], targets: [], planRuns: [] },
      events: this.pendingFeed,
    };
    split(d.agents, this.agents, patch.agents, patch.removed.agents);
    split(d.jobs, this.jobs, patch.jobs, patch.removed.jobs);
    split(d.targets, this.targets, patch.targets, patch.removed.targets);
    split(d.planRuns, this.planRuns, patch.planRuns, patch.removed.planRuns);
    this.pendingFeed = [];
    return patch;
  }
}

function split<T>(keys: Set<string>, from: Map<string, T>, upserts: T[], removed: string[]): void {
  for (const key of keys) {
    const value = from.get(key);
    if (value === undefined) removed.push(key);
    else upserts.push(value);
  }
  keys.clear();
}

export function agentSummary(record: AgentRecord, now: number): AgentSummary {
  const hostname = (record.facts as { hostname?: unknown } | undefined)?.hostname;
  return {
    id: record.id,
    labels: record.labels,
    version: record.version,
    ...(typeof hostname === 'string' ? { hostname } : {}),
    lastSeen: record.lastSeen,
    heartbeatMs: record.heartbeatMs,
    liveness: livenessOf(record, now),
  };
}

export function outlineOf(plan: ResolvedPlan): PlanOutline {
  return {
    phases: plan.phases.map((phase) => ({
      name: phase.name,
      approval: phase.approval,
      steps: [...phase.steps, ...phase.gate].map((s) => ({
        name: s.name,
        step: s.step,
        target: 'selector' in s.target ? s.target.selector : s.target.agents.join(','),
      })),
    })),
  };
}
