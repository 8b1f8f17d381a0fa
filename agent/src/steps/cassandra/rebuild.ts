// `cassandra.rebuild`: the node's share of one wave of the consistent-rebuild plan. Each item is one
// `nodetool rebuild -ks KS -ts RANGES -s SOURCE -- SOURCE_DC`; the agent runs the items naming it one
// after another (Cassandra allows one rebuild per node), so nodes rebuild in parallel across agents.
//   before anything streams: every item names this agent's node, its keyspace exists, its ranges lie
//   in ranges this node replicates and its source replicates them in the source DC, and the node runs
//   with cassandra.reset_bootstrap_progress=false (otherwise a second rebuild of a keyspace aborts);
//   per item: ranges already recorded in system.available_ranges_v2 are not asked for again (exact
//   match, so the plan's splits are stable across retries); progress from system_views.streaming;
//   a failure (node restart, dropped table, source down) is retried with backoff, then reported with
//   Cassandra's own error text. A rebuild already running (an earlier attempt whose agent died) is
//   waited for, then its recorded ranges are skipped.
import {
  type CassandraRange,
  type CassandraRebuildItem,
  type CassandraRebuildParamsType,
  cassandraRebuildStep,
  DroverError,
  InvalidInputError,
  InvalidInputErrors,
  RESET_BOOTSTRAP_PROGRESS,
  STATUS_STALE_MS,
} from '@drover/shared';
import {
  ANNOUNCE_GRACE_MS,
  beginNodeActivity,
  CassandraUnreachableError,
  type CqlSession,
  clusterStatusReader,
  coveredBy,
  markRebuilt,
  type Nodetool,
  NodetoolError,
  nodeActivity,
  REBUILD_LINGER_MS,
  RebuildNotResumableError,
  rangeText,
  readAvailableRanges,
  readKeyspaces,
  readLocal,
  readStreaming,
  readSystemProperty,
  type StreamingSession,
} from '../../clients/cassandra/index.ts';
import { implementStep, type StepContext } from '../context.ts';
import { pause } from '../pause.ts';
import { waitForCql, whenCqlAnswers, withCassandra } from './node.ts';
import { cachedRing, ownedRanges, type RingRange, rangesOf } from './ring.ts';

/** One rebuild per node in this agent process (Cassandra refuses a second one anyway). */
const running = new Map<string, Promise<unknown>>();

const size = (b: number) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const isActive = (s: StreamingSession) => /rebuild/i.test(s.operation) && (s.status === 'init' || s.status === 'start');

/**
 * Checks this agent's items against the node's ring and returns each item's ranges (an `owned` mask
 * resolved against the ranges the node replicates), in the order of `mine`.
 */
async function validate(
  ctx: StepContext,
  cql: CqlSession,
  nodetool: Nodetool,
  params: CassandraRebuildParamsType,
  mine: Array<{ item: CassandraRebuildItem; index: number }>,
  address: string,
): Promise<CassandraRange[][]> {
  const problems: InvalidInputError[] = [];
  const resolved: CassandraRange[][] = [];
  const keyspaces = new Set((await readKeyspaces(cql)).map((k) => k.name));
  const rings = new Map<string, RingRange[]>();
  for (const { item, index } of mine) {
    const at = `params.rebuilds[${index}]`;
    if (item.node !== address) {
      problems.push(new InvalidInputError(`${at}.node`, item.node, `this agent's node ${address}`));
      continue;
    }
    if (!keyspaces.has(item.keyspace)) {
      problems.push(
        new InvalidInputError(`${at}.keyspace`, item.keyspace, `an existing keyspace (${[...keyspaces].join(', ')})`),
      );
      continue;
    }
    let ring = rings.get(item.keyspace);
    if (!ring) {
      ring = await cachedRing(cql, nodetool, item.keyspace, { signal: ctx.signal });
      rings.set(item.keyspace, ring);
    }
    const owned = rangesOf(ring, address);
    let ranges = item.ranges ?? [];
    if (item.owned) {
      const picked = ownedRanges(item.owned, owned, address, item.keyspace, at);
      if (picked instanceof InvalidInputError) {
        problems.push(picked);
        continue;
      }
      ranges = picked;
    }
    resolved.push(ranges);
    const fromSource = rangesOf(ring, item.source, params.sourceDc);
    if (fromSource.length === 0) {
      const where = ring.flatMap((r) => r.endpoints).find((e) => e.host === item.source)?.datacenter;
      problems.push(
        new InvalidInputError(
          `${at}.source`,
          item.source,
          where
            ? `a replica in datacenter ${params.sourceDc} (it is in ${where})`
            : `a node replicating ${item.keyspace} in datacenter ${params.sourceDc}`,
        ),
      );
      continue;
    }
    for (const [j, range] of ranges.entries()) {
      if (!coveredBy(range, owned))
        problems.push(
          new InvalidInputError(
            `${at}.ranges[${j}]`,
            rangeText(range),
            `a range ${address} replicates for ${item.keyspace}`,
          ),
        );
      else if (!coveredBy(range, fromSource))
        problems.push(
          new InvalidInputError(
            `${at}.ranges[${j}]`,
            rangeText(range),
            `a range ${item.source} replicates in ${params.sourceDc}`,
          ),
        );
    }
  }
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  const value = await readSystemProperty(cql, RESET_BOOTSTRAP_PROGRESS);
  if (value !== 'false') throw new RebuildNotResumableError(address, value);
  return resolved;
}

/** Waits while a rebuild (an earlier attempt's) still runs on the node. */
async function waitForRunningRebuild(ctx: StepContext, cql: CqlSession, pollMs: number): Promise<void> {
  let reported = false;
  for (;;) {
    ctx.signal.throwIfAborted();
    const active = (await readStreaming(cql)).filter(isActive);
    if (active.length === 0) return;
    if (!reported)
      ctx.progress(`a rebuild is already running on this node (${active.length} session(s)); waiting for it`);
    reported = true;
    await pause(pollMs, ctx.signal);
  }
}

/** How long another agent's status may stay silent while an item waits for one of its items. */
const DEPENDENCY_SILENCE_MS = 4 * STATUS_STALE_MS;

/**
 * A pipelined order: waits until every item `rebuilds[index]` runs `after` has finished on its node
 * (its agent lists `<jobId>#<j>` in the node-status signal). Items of this agent finished already
 * (they come earlier in the list and run in order).
 */
export async function waitForEarlier(
  ctx: StepContext,
  params: CassandraRebuildParamsType,
  index: number,
  node: string,
  label: string,
): Promise<void> {
  const deps = (params.rebuilds[index]?.after ?? []).filter((j) => params.rebuilds[j]?.agent !== ctx.info.agentId);
  if (deps.length === 0) return;
  const read = clusterStatusReader(node);
  if (!read)
    throw new DroverError(
      `${label}: params.rebuilds[${index}].after needs the node-status signal (an agent with a \`cluster\` label) to see other nodes finish`,
    );
  const since = Date.now();
  let reported = false;
  for (;;) {
    ctx.signal.throwIfAborted();
    const statuses = await read().catch(() => []);
    const pending = deps.filter((j) => {
      const status = statuses.find((s) => s.agent === params.rebuilds[j]!.agent);
      return !status?.rebuilt?.includes(`${ctx.info.jobId}#${j}`);
    });
    if (pending.length === 0) {
      if (reported) ctx.progress(`${label}: source free after ${((Date.now() - since) / 1000).toFixed(1)} s`);
      return;
    }
    for (const j of pending) {
      const agent = params.rebuilds[j]!.agent;
      const status = statuses.find((s) => s.agent === agent);
      const silentFor = Date.now() - (status?.at ?? since);
      if (silentFor > DEPENDENCY_SILENCE_MS)
        throw new DroverError(
          `${label}: waiting for params.rebuilds[${j}] on agent ${agent}, whose node status is ${(silentFor / 1000).toFixed(0)} s old (agent down?)`,
          { retryable: true },
        );
    }
    if (!reported) {
      const names = pending.map(
        (j) => `${params.rebuilds[j]!.agent} (${params.rebuilds[j]!.keyspace} from ${params.rebuilds[j]!.source})`,
      );
      ctx.progress(`${label}: waiting for its source to be free: ${names.join(', ')}`);
    }
    reported = true;
    await pause(1000, ctx.signal);
  }
}

interface Totals {
  skipped: number;
  streamed: number;
  bytes: number;
  attempts: number;
}

async function runItem(
  ctx: StepContext,
  cql: CqlSession,
  nodetool: Nodetool,
  params: CassandraRebuildParamsType,
  item: CassandraRebuildItem & { ranges: CassandraRange[] },
  label: string,
  totals: Totals,
): Promise<void> {
  let failures = 0;
  let first = true;
  // One look at the node and, when ranges are missing, one `nodetool rebuild`: 'done' or 'again'.
  const once = async (): Promise<'done' | 'again'> => {
    const recorded = await readAvailableRanges(cql, item.keyspace);
    const todo = item.ranges.filter((r) => !coveredBy(r, recorded));
    if (first) totals.skipped += item.ranges.length - todo.length;
    first = false;
    if (todo.length === 0) {
      ctx.progress(`${label}: all ${item.ranges.length} range(s) recorded as available`);
      return 'done';
    }
    const before = new Set((await readStreaming(cql)).map((s) => s.id));
    const started = Date.now();
    ctx.progress(`${label}: rebuilding ${todo.length} of ${item.ranges.length} range(s) from ${item.source}`);
    const watcher = new AbortController();
    const watch = (async () => {
      while (!watcher.signal.aborted) {
        await pause(params.pollMs, watcher.signal);
        if (watcher.signal.aborted) return;
        try {
          const sessions = (await readStreaming(cql)).filter((s) => !before.has(s.id) && /rebuild/i.test(s.operation));
          const got = sessions.reduce((n, s) => n + s.bytesReceived, 0);
          const want = sessions.reduce((n, s) => n + s.bytesToReceive, 0);
          const pct = want > 0 ? Math.min(99.9, (got / want) * 100) : undefined;
          ctx.progress(
            `${label}: ${size(got)} of ${size(want)} received${pct === undefined ? '' : ` (${pct.toFixed(1)}%)`}`,
            pct,
          );
        } catch {
          // progress is a report; the rebuild's own outcome decides
        }
      }
    })();
    totals.attempts++;
    try {
      await nodetool.run(nodetool.rebuildArgv(item.keyspace, todo, item.source, params.sourceDc), {
        signal: ctx.signal,
        timeoutMs: Math.max(1000, ctx.info.deadline - Date.now()),
        onOutput: (stream, text) => ctx.output(stream, text),
      });
    } catch (error) {
      watcher.abort();
      await watch;
      ctx.signal.throwIfAborted();
      const text = error instanceof NodetoolError ? error.cassandraError : (error as Error).message;
      if (/still rebuilding/i.test(text)) {
        await waitForRunningRebuild(ctx, cql, params.pollMs);
        return 'again';
      }
      failures++;
      if (failures >= params.attempts)
        throw new DroverError(`${label}: failed after ${failures} attempt(s): ${text}`, { cause: error });
      const delay = params.retryDelayMs * 2 ** (failures - 1);
      ctx.progress(`${label}: attempt ${failures} failed (${text}); retrying in ${delay} ms`);
      await pause(delay, ctx.signal);
      return 'again';
    }
    watcher.abort();
    await watch;
    const sessions = (await readStreaming(cql)).filter((s) => !before.has(s.id) && /rebuild/i.test(s.operation));
    totals.bytes += sessions.reduce((n, s) => n + s.bytesReceived, 0);
    const now = await readAvailableRanges(cql, item.keyspace);
    const missing = todo.filter((r) => !coveredBy(r, now));
    totals.streamed += todo.length - missing.length;
    if (missing.length === 0) {
      ctx.progress(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 'done';
    }
    failures++;
    const why = `${missing.length} range(s) not recorded as available after the rebuild (${missing.map(rangeText).slice(0, 3).join(', ')})`;
    if (failures >= params.attempts) throw new DroverError(`${label}: ${why}`);
    ctx.progress(`${label}: ${why}; retrying`);
    return 'again';
  };
  for (;;) {
    ctx.signal.throwIfAborted();
    if (!(await waitForCql(ctx, cql, ctx.info.deadline, label)))
      throw new DroverError(`${label}: node ${cql.address} did not come back before the step's deadline`);
    try {
      if ((await once()) === 'done') return;
    } catch (error) {
      // The node restarting under the step (an operator, a crash): wait for it and look again; what
      // it recorded as available decides what is streamed, so nothing finished streams twice.
      if (!(error instanceof CassandraUnreachableError) || ctx.signal.aborted) throw error;
      ctx.progress(`${label}: ${cql.address} stopped answering (${error.message}); waiting for it to come back`);
    }
  }
}

export const cassandraRebuildImplementation = implementStep(cassandraRebuildStep, (ctx, params) =>
  withCassandra(ctx, async ({ config, cql, nodetool }) => {
    const started = Date.now();
    const local = await whenCqlAnswers(ctx, cql, ctx.info.deadline, 'rebuild', () => readLocal(cql));
    const mine = params.rebuilds
      .map((item, index) => ({ item, index }))
      .filter((x) => x.item.agent === ctx.info.agentId);
    const totals: Totals = { skipped: 0, streamed: 0, bytes: 0, attempts: 0 };
    if (mine.length === 0) {
      ctx.progress('no rebuild for this agent in this wave');
      return {
        node: local.address,
        rebuilds: 0,
        rangesSkipped: 0,
        rangesStreamed: 0,
        bytesReceived: 0,
        attempts: 0,
        durationMs: 0,
      };
    }
    // Announced before the checks, so the grace runs while they do. A node still announced (the
    // previous wave's rebuild lingers, see REBUILD_LINGER_MS) has not been reported available since:
    // no automation was told "yes", so no grace is owed.
    const node = `${config.cql.host}:${config.cql.port}`;
    const continuing = nodeActivity(node) !== undefined;
    const announcedAt = Date.now();
    const end = beginNodeActivity(node, `rebuild of ${mine.length} item(s)`);
    let finished = false;
    try {
      const ranges = await whenCqlAnswers(ctx, cql, ctx.info.deadline, 'rebuild checks', () =>
        validate(ctx, cql, nodetool, params, mine, local.address),
      );
      const previous = running.get(local.address);
      if (previous) {
        ctx.progress('waiting for this node’s other rebuild order to finish');
        await previous.catch(() => undefined);
      }
      const runAll = async () => {
        for (const [n, { item, index }] of mine.entries()) {
          const label = `${item.keyspace} from ${item.source}${item.part ? ` part ${item.part}` : ''} (${n + 1}/${mine.length})`;
          await waitForEarlier(ctx, params, index, node, label);
          await runItem(ctx, cql, nodetool, params, { ...item, ranges: ranges[n]! }, label, totals);
          markRebuilt(node, ctx.info.jobId, index);
        }
      };
      const work = (async () => {
        const wait = continuing ? 0 : announcedAt + ANNOUNCE_GRACE_MS - Date.now();
        if (wait > 0) await pause(wait, ctx.signal);
        ctx.signal.throwIfAborted();
        await runAll();
      })();
      running.set(local.address, work);
      try {
        await work;
      } finally {
        if (running.get(local.address) === work) running.delete(local.address);
      }
      finished = true;
    } finally {
      end(finished ? REBUILD_LINGER_MS : 0);
    }
    return {
      node: local.address,
      rebuilds: mine.length,
      rangesSkipped: totals.skipped,
      rangesStreamed: totals.streamed,
      bytesReceived: totals.bytes,
      attempts: totals.attempts,
      durationMs: Date.now() - started,
    };
  }),
);
