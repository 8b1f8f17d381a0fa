// `cassandra.decommission`: the old datacenter's node leaves the ring once nothing replicates to it.
//   first: `nodetool netstats` (JMX) says what the node is doing: DECOMMISSIONED → it already left
//   (done, nothing run again); LEAVING → an earlier attempt's decommission still runs, waited for;
//   NORMAL → every keyspace's replication is read over CQL and the step refuses while any keyspace
//   still replicates to the node's datacenter (NetworkTopologyStrategy with RF > 0 there, or
//   SimpleStrategy, which replicates everywhere), system_auth excepted when another DC holds it
//   (Cassandra 5.0 refuses to drop a DC with live nodes from it; the decommission then runs with
//   --force, which only skips the RF check); then `nodetool decommission` (argv built here, the
//   nodetool prefix from the LOCAL config), progress from system_views (gossip status, streams)
//   while it runs, and Mode DECOMMISSIONED checked after it.
//   after: a marker in the agent's stateDir records that the node left (a decommissioned node whose
//   service is stopped answers neither CQL nor JMX, and a repeated order must still say "done"),
//   then the node's service is stopped.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cassandraDecommissionStep, DroverError } from '@drover/shared';
import {
  type CqlSession,
  type Nodetool,
  readKeyspaces,
  readLocal,
  readStreaming,
} from '../../clients/cassandra/index.ts';
import { implementStep, type StepContext } from '../context.ts';
import { pause } from '../pause.ts';
import { withCassandra } from './node.ts';
import { dcReplication } from './replication.ts';

/**
 * Keyspaces whose replication still puts replicas in `datacenter`, with the factor that does.
 * system_auth is the exception (`tolerated`): Cassandra 5.0 refuses to remove a datacenter with
 * live nodes from it ("Following datacenters have active nodes and must be present in replication
 * options for keyspace system_auth"), so it may still list the datacenter as long as another one
 * holds it too (or it is SimpleStrategy, whose ranges decommission streams to the remaining nodes).
 */
export function keyspacesReplicatingTo(
  keyspaces: ReadonlyArray<{ name: string; replication: Record<string, string> }>,
  datacenter: string,
): { blocking: string[]; tolerated: string[] } {
  const blocking: string[] = [];
  const tolerated: string[] = [];
  for (const k of keyspaces) {
    const r = dcReplication(k.replication, datacenter);
    if (r.kind === 'local' || r.here === 0) continue;
    const auth = k.name === 'system_auth';
    if (r.kind === 'simple')
      (auth ? tolerated : blocking).push(`${k.name} (SimpleStrategy, RF ${k.replication.replication_factor})`);
    else (auth && r.elsewhere ? tolerated : blocking).push(`${k.name} (${datacenter}: ${k.replication[datacenter]})`);
  }
  return { blocking, tolerated };
}

interface Marker {
  address: string;
  datacenter: string;
  at: number;
}

function markerFile(ctx: StepContext): string | undefined {
  return ctx.stateDir ? join(ctx.stateDir, 'cassandra-decommissioned.json') : undefined;
}

function readMarker(file: string | undefined): Marker | undefined {
  if (!file || !existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

function writeMarker(file: string | undefined, marker: Marker): void {
  if (!file) return;
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(marker));
  renameSync(`${file}.tmp`, file);
}

async function mode(ctx: StepContext, nodetool: Nodetool): Promise<string | undefined> {
  return nodetool.mode({ signal: ctx.signal, timeoutMs: 120_000 }).catch(() => undefined);
}

/** Reports what the node does while it leaves (CQL reads; none of them decides anything). */
async function watch(ctx: StepContext, cql: CqlSession, pollMs: number, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    await pause(pollMs, stop).catch(() => undefined);
    if (stop.aborted) return;
    try {
      const rows = await cql.execute('SELECT address, status FROM system_views.gossip_info');
      const local = await readLocal(cql);
      const own = rows.find((r) => String(r.get('address')) === local.address);
      const streams = (await readStreaming(cql)).filter((s) => s.status === 'init' || s.status === 'start');
      const sent = streams.reduce((n, s) => n + s.bytesReceived, 0);
      ctx.progress(
        `leaving: gossip ${String(own?.get('status') ?? '?').split(',')[0]}, ${streams.length} stream session(s)${sent ? `, ${sent} bytes` : ''}`,
      );
    } catch {
      ctx.progress('leaving: the node no longer answers CQL (client ports close as it leaves)');
      return;
    }
  }
}

export const cassandraDecommissionImplementation = implementStep(cassandraDecommissionStep, (ctx, params) =>
  withCassandra(ctx, async ({ config, cql, nodetool }) => {
    const started = Date.now();
    const services = ctx.services;
    if (params.stopService && !services)
      throw new DroverError('this agent has no local services to stop Cassandra with');
    const file = markerFile(ctx);
    const stopService = async (): Promise<boolean> => {
      if (!params.stopService || !services) return false;
      if ((await services.status(config.service)).state === 'running') {
        ctx.progress(`stopping service ${config.service}`);
        await services.stop(config.service);
      }
      return true;
    };
    const done = async (marker: Marker, alreadyLeft: boolean) => {
      writeMarker(file, marker);
      const serviceStopped = await stopService();
      return {
        address: marker.address,
        datacenter: marker.datacenter,
        alreadyLeft,
        decommissioned: true,
        serviceStopped,
        durationMs: Date.now() - started,
      };
    };

    const recorded = readMarker(file);
    let current = await mode(ctx, nodetool);
    if (current === undefined) {
      if (recorded) {
        ctx.progress(`${recorded.address} left the ring earlier (recorded ${new Date(recorded.at).toISOString()})`);
        return done(recorded, true);
      }
      throw new DroverError(
        `node ${cql.address} does not answer nodetool (JMX) and this agent has not recorded it as decommissioned; start it (or check \`nodetool status\` from another node) and run the step again`,
        { retryable: true },
      );
    }
    if (current === 'DECOMMISSIONED') {
      ctx.progress('the node already left the ring (Mode: DECOMMISSIONED)');
      return done(recorded ?? { address: cql.address, datacenter: '', at: Date.now() }, true);
    }
    const local = await readLocal(cql);
    const marker = { address: local.address, datacenter: local.dc, at: 0 };
    if (current === 'NORMAL') {
      const { blocking, tolerated } = keyspacesReplicatingTo(await readKeyspaces(cql), local.dc);
      if (blocking.length > 0)
        throw new DroverError(
          `node ${local.address} is in datacenter ${local.dc}, which ${blocking.length} keyspace(s) still replicate to: ${blocking.join(', ')}; remove ${local.dc} from their replication first (the plan's drop-source-dc phase), then decommission`,
        );
      ctx.progress(
        `decommissioning ${local.address} (${local.dc}): no keyspace replicates to ${local.dc}${tolerated.length ? ` but ${tolerated.join(', ')}, which Cassandra keeps while the DC has live nodes and another DC holds (--force: its replicas here go with the node)` : ''}`,
      );
      const stopWatch = new AbortController();
      const watching = watch(ctx, cql, params.pollMs, stopWatch.signal);
      try {
        // --force only skips Cassandra's "fewer nodes than RF left in the DC" check, which only
        // system_auth can trip here (every other keyspace was checked above).
        await nodetool.run(tolerated.length > 0 ? ['decommission', '--force'] : ['decommission'], {
          signal: ctx.signal,
          timeoutMs: Math.max(1000, ctx.info.deadline - Date.now()),
          onOutput: (stream, text) => ctx.output(stream, text),
        });
      } finally {
        stopWatch.abort();
        await watching;
      }
    } else if (current !== 'LEAVING') {
      throw new DroverError(`node ${local.address} is in mode ${current}; decommission needs NORMAL (or LEAVING)`);
    }
    // LEAVING (an earlier attempt's decommission) or just decommissioned: wait for Mode DECOMMISSIONED.
    for (;;) {
      current = await mode(ctx, nodetool);
      if (current === 'DECOMMISSIONED') break;
      if (current !== 'LEAVING')
        throw new DroverError(`node ${local.address} reports mode ${current ?? '(no answer)'} after decommission`);
      ctx.progress('leaving: waiting for Mode DECOMMISSIONED');
      await pause(params.pollMs, ctx.signal);
    }
    ctx.progress(`${local.address} left the ring`);
    return done({ ...marker, at: Date.now() }, false);
  }),
);
