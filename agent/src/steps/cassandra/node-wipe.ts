// `cassandra.node-wipe`: the rebuild phase's rollback. A destination node that a failed or doubtful
// rebuild left half-filled is wiped so that a retry streams everything again instead of skipping the
// ranges recorded as available (a range recorded is never streamed again with
// -Dcassandra.reset_bootstrap_progress=false).
//   refuses: a node outside `params.datacenter` (an order meant for the new DC never wipes an old
//   node); a keyspace replicated to no other DC (the wipe would lose its only copies); a node that
//   streams or is not NORMAL (a rebuild still runs inside Cassandra even when its nodetool was
//   killed); an agent without the node's data directories or its service in its LOCAL config.
//   does: nodetool drain (memtables flushed, so no commit log replays a record back), the service
//   stopped, then in every data directory the files of every keyspace replicated to the DC (system_auth,
//   system_distributed and system_traces included; snapshots kept) and of system.available_ranges(_v2)
//   removed, the service started, and the records checked empty over CQL.
//   resumes: a marker in the agent's stateDir, written before the stop, lets a retry whose node is
//   still stopped (the agent died mid-wipe) finish the wipe; a stopped node without it is refused.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cassandraNodeWipeStep, DroverError } from '@drover/shared';
import { readAvailableRanges, readKeyspaces, readLocal, readStreaming } from '../../clients/cassandra/index.ts';
import { implementStep, type StepContext } from '../context.ts';
import { whenCqlAnswers, withCassandra } from './node.ts';
import { dcReplication } from './replication.ts';

/** system's tables that record what a rebuild (or bootstrap) made available on this node. */
const RECORD_TABLES = /^available_ranges(_v2)?-[0-9a-f]{32}$/;
const KEPT = new Set(['snapshots']);

/**
 * The keyspaces a wipe of `datacenter` empties, and the ones it must refuse: replicated to the DC by
 * NetworkTopologyStrategy and to no other DC (their only copies would go).
 */
export function keyspacesToWipe(
  keyspaces: ReadonlyArray<{ name: string; replication: Record<string, string> }>,
  datacenter: string,
): { wipe: string[]; onlyHere: string[] } {
  const wipe: string[] = [];
  const onlyHere: string[] = [];
  for (const k of keyspaces) {
    const r = dcReplication(k.replication, datacenter);
    if (r.kind !== 'nts' || r.here === 0) continue;
    (r.elsewhere ? wipe : onlyHere).push(k.name);
  }
  return { wipe: wipe.sort(), onlyHere: onlyHere.sort() };
}

interface WipeMarker {
  address: string;
  datacenter: string;
  keyspaces: string[];
  recordedBefore: number;
  at: number;
}

function markerFile(ctx: StepContext): string {
  if (!ctx.stateDir) throw new DroverError('this agent has no state directory to record a wipe in');
  return join(ctx.stateDir, 'cassandra-wipe.json');
}

function readMarker(file: string): WipeMarker | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as WipeMarker;
  } catch {
    return undefined;
  }
}

/** Removes everything under `dir` but the entries named in KEPT; counts files and bytes. */
function empty(dir: string, tally: { files: number; bytes: number }): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (KEPT.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      empty(path, tally);
      rmSync(path, { recursive: true, force: true });
    } else {
      tally.bytes += lstatSync(path).size;
      tally.files += 1;
      rmSync(path, { force: true });
    }
  }
}

/** The wipe itself, on a stopped node: each keyspace's table directories and the record tables. */
export function wipeDataDirs(
  dataDirs: readonly string[],
  keyspaces: readonly string[],
): { files: number; bytes: number } {
  const tally = { files: 0, bytes: 0 };
  for (const dataDir of dataDirs) {
    for (const keyspace of keyspaces) {
      const dir = join(dataDir, keyspace);
      if (!existsSync(dir)) continue;
      for (const table of readdirSync(dir, { withFileTypes: true }))
        if (table.isDirectory()) empty(join(dir, table.name), tally);
    }
    const system = join(dataDir, 'system');
    if (!existsSync(system)) continue;
    for (const table of readdirSync(system, { withFileTypes: true }))
      if (table.isDirectory() && RECORD_TABLES.test(table.name)) empty(join(system, table.name), tally);
  }
  return tally;
}

export const cassandraNodeWipeImplementation = implementStep(cassandraNodeWipeStep, (ctx, params) =>
  withCassandra(ctx, async ({ config, cql, nodetool }) => {
    const started = Date.now();
    const services = ctx.services;
    if (!services) throw new DroverError('this agent has no local services to stop and start Cassandra with');
    if (!config.dataDirs?.length)
      throw new DroverError(
        "this agent's cassandra config has no dataDirs (the node's data_file_directories); a wipe needs them",
      );
    const file = markerFile(ctx);
    let marker = readMarker(file);
    const running = (await services.status(config.service)).state === 'running';

    if (running) {
      const local = await readLocal(cql);
      if (local.dc !== params.datacenter)
        throw new DroverError(
          `node ${local.address} is in datacenter ${local.dc}; this order wipes nodes of ${params.datacenter} only`,
        );
      const { wipe, onlyHere } = keyspacesToWipe(await readKeyspaces(cql), local.dc);
      if (onlyHere.length > 0)
        throw new DroverError(
          `keyspace(s) ${onlyHere.join(', ')} are replicated to ${local.dc} only: wiping ${local.address} would lose their replicas for good`,
        );
      const mode = await nodetool.mode({ signal: ctx.signal, timeoutMs: 120_000 });
      const streaming = (await readStreaming(cql)).filter((s) => s.status === 'init' || s.status === 'start');
      if (mode !== 'NORMAL' || streaming.length > 0)
        throw new DroverError(
          `node ${local.address} is ${mode ?? 'in an unknown mode'} with ${streaming.length} stream session(s) in progress; a wipe waits until no rebuild runs (nodetool netstats)`,
          { retryable: true },
        );
      let recordedBefore = 0;
      for (const keyspace of wipe) if ((await readAvailableRanges(cql, keyspace)).length > 0) recordedBefore++;
      marker = { address: local.address, datacenter: local.dc, keyspaces: wipe, recordedBefore, at: Date.now() };
      mkdirSync(ctx.stateDir as string, { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(marker));
      renameSync(`${file}.tmp`, file);
      ctx.progress(`draining ${local.address} (${recordedBefore} keyspace(s) with recorded ranges)`);
      // A failed drain leaves unflushed records in the commit log, which a restart would replay:
      // the wipe must not go on then.
      await nodetool.run(['drain'], { signal: ctx.signal, timeoutMs: 600_000 });
      ctx.progress(`stopping service ${config.service}`);
      await services.stop(config.service);
    } else if (!marker || marker.datacenter !== params.datacenter) {
      throw new DroverError(
        `service ${config.service} is ${(await services.status(config.service)).state} and no wipe of ${params.datacenter} was begun here; start the node first (its datacenter is checked before anything is removed)`,
      );
    } else {
      ctx.progress(`finishing the wipe begun ${new Date(marker.at).toISOString()} (the node is stopped)`);
    }

    const begun = marker as WipeMarker;
    const tally = wipeDataDirs(config.dataDirs, begun.keyspaces);
    ctx.progress(
      `removed ${tally.files} file(s), ${tally.bytes} bytes of ${begun.keyspaces.length} keyspace(s) and the available-ranges records`,
    );
    ctx.progress(`starting service ${config.service}`);
    await services.start(config.service);
    const left = await whenCqlAnswers(
      ctx,
      cql,
      Date.now() + params.readyTimeoutMs,
      'node start after the wipe',
      async () => {
        const recorded: string[] = [];
        for (const keyspace of begun.keyspaces)
          if ((await readAvailableRanges(cql, keyspace)).length > 0) recorded.push(keyspace);
        return recorded;
      },
    );
    if (left.length > 0)
      throw new DroverError(
        `node ${begun.address} still records ranges of ${left.join(', ')} as available after the wipe; a retry would skip them`,
      );
    rmSync(file, { force: true });
    return {
      address: begun.address,
      datacenter: begun.datacenter,
      keyspaces: begun.keyspaces,
      filesRemoved: tally.files,
      bytesRemoved: tally.bytes,
      recordedBefore: begun.recordedBefore,
      durationMs: Date.now() - started,
    };
  }),
);
