// `drover cassandra status`: the node-status signal of a cluster, read straight from KV (no agent has
// to answer): every node's latest status from drover-node-status, each agent's liveness from
// drover-agents, and the verdict "all nodes available: yes|no" as the exit code (0 yes, 1 no), so a
// script can gate a schema change on it. --wait-until-available polls once a second until yes or
// --timeout.
//
// Expected nodes: the registry does not say which agents run Cassandra, so an agent of the cluster
// counts as a Cassandra node when it has a status key in drover-node-status (keys expire after
// STATUS_TTL_MS without a write). Online agents of the cluster without a key run no Cassandra signal
// and are not waited for; agents with a key are expected whatever their registry record says: one
// that is stale or offline is a node nobody vouches for, so it counts as not available (its status
// is stale). The registry only adds the AGENT column.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CassandraNodeStatusView,
  type ClusterStatusSummary,
  KV_NODE_STATUS,
  nodeStatusFilter,
  readNodeStatuses,
  STATUS_INTERVAL_MS,
  STATUS_STALE_MS,
  summarizeClusterStatus,
} from '@drover/shared';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { ago, renderTable } from '../../cli/table.ts';
import { type AgentStatus, type Drover, listAgents, parseDurationMs } from '../../engine/index.ts';

export type CassandraStatusResult = ClusterStatusSummary;

export default class CassandraStatus extends DroverCommand<CassandraStatusResult> {
  static override summary =
    'Whether every Cassandra node of a cluster is available (normal, streaming nothing); exit 1 when not.';
  static override description =
    `Reads each node's latest status (published every ${STATUS_INTERVAL_MS / 1000} s by its agent into KV
${KV_NODE_STATUS}) and prints one line per node. A node is available when it is normal and streams nothing; a
node whose status is older than ${STATUS_STALE_MS / 1000} s, or that has not reported, is not. The same answer
comes from any agent's HTTP endpoint (GET http://127.0.0.1:<cassandra.statusPort>/v1/cluster/status, 503 when
not available) and from a NATS request on drover.status.cassandra.<cluster>.`;
  static override examples = [
    '<%= config.bin %> cassandra status --cluster orders',
    '<%= config.bin %> cassandra status --cluster orders --wait-until-available --timeout 30m && drop-tables.sh',
  ];
  static override flags = {
    ...natsFlags,
    cluster: Flags.string({ required: true, summary: "The cluster's name (agents' `cluster` label)." }),
    'wait-until-available': Flags.boolean({
      summary: 'Poll once a second until every node is available (exit 0) or --timeout passes (exit 1).',
    }),
    timeout: Flags.string({ default: '10m', summary: 'How long --wait-until-available waits (e.g. 30s, 10m).' }),
  };

  async run(): Promise<CassandraStatusResult> {
    const { flags } = await this.parse(CassandraStatus);
    const cluster = flags.cluster;
    nodeStatusFilter(cluster); // refuses a cluster name that is not a token before connecting
    const timeoutMs = parseDurationMs('--timeout', flags.timeout);
    const d = await connectFromFlags(flags);
    try {
      const deadline = Date.now() + timeoutMs;
      let read = await readCluster(d, cluster);
      let lastReasons = '';
      while (flags['wait-until-available'] && !read.summary.allNodesAvailable && Date.now() < deadline) {
        const reasons = reasonsText(read.summary);
        if (reasons !== lastReasons && !this.jsonEnabled()) this.log(`waiting: ${reasons}`);
        lastReasons = reasons;
        await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
        read = await readCluster(d, cluster);
      }
      const { summary, liveness } = read;
      if (!this.jsonEnabled()) this.render(summary, liveness);
      if (flags['wait-until-available'] && !summary.allNodesAvailable)
        this.logToStderr(`timed out after ${flags.timeout} waiting for every node of ${cluster} to be available`);
      if (!summary.allNodesAvailable) process.exitCode = 1;
      return summary;
    } finally {
      await d.close();
    }
  }

  render(summary: ClusterStatusSummary, liveness: Map<string, AgentStatus>): void {
    const now = summary.at;
    const rows = summary.nodes.map((n) => [
      n.agent,
      liveness.get(n.agent) ?? 'unregistered',
      n.address,
      n.datacenter || '-',
      n.state,
      n.stale ? 'no (stale)' : n.available ? 'yes' : 'no',
      streamingText(n),
      ago(n.at, now),
    ]);
    const reported = new Set(summary.nodes.map((n) => n.agent));
    for (const { agent } of summary.notAvailable)
      if (!reported.has(agent))
        rows.push([agent, liveness.get(agent) ?? 'unregistered', '-', '-', '-', 'no', '-', '-']);
    if (rows.length > 0)
      this.log(renderTable(['NODE', 'AGENT', 'ADDRESS', 'DC', 'STATE', 'AVAILABLE', 'STREAMING', 'AGE'], rows));
    else this.log(`no Cassandra node of cluster ${summary.cluster} has reported a status (${KV_NODE_STATUS} is empty)`);
    for (const n of summary.notAvailable) this.log(`not available: ${n.agent}: ${n.reason}`);
    this.log(`all nodes available: ${summary.allNodesAvailable ? 'yes' : 'no'}`);
  }
}

async function readCluster(
  d: Drover,
  cluster: string,
): Promise<{ summary: ClusterStatusSummary; liveness: Map<string, AgentStatus> }> {
  const now = Date.now();
  const registered = (await listAgents(d.agents, now)).filter((a) => a.labels.cluster === cluster);
  const kv = await openStatusBucket(d);
  const { agents, statuses } = kv ? await readNodeStatuses(kv, cluster) : { agents: [], statuses: [] };
  return {
    summary: summarizeClusterStatus({ cluster, expected: agents, statuses, now: Date.now() }),
    liveness: new Map(registered.map((a) => [a.id, a.liveness])),
  };
}

/** The status bucket, or undefined while no agent has created it (no node has ever reported). */
async function openStatusBucket(d: Drover): Promise<KV | undefined> {
  try {
    const kv = await new Kvm(d.nc).open(KV_NODE_STATUS);
    await kv.status();
    return kv;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}

function reasonsText(summary: ClusterStatusSummary): string {
  if (summary.nodes.length === 0 && summary.notAvailable.length === 0) return 'no node has reported a status';
  return summary.notAvailable.map((n) => `${n.agent} (${n.reason})`).join('; ');
}

function streamingText(n: CassandraNodeStatusView): string {
  const { sessions, bytesReceived, bytesToReceive } = n.streaming;
  if (sessions === 0) return '-';
  const percent = bytesToReceive > 0 ? ` ${Math.floor((100 * bytesReceived) / bytesToReceive)}%` : '';
  return `${sessions} session(s) ${bytes(bytesReceived)}/${bytes(bytesToReceive)}${percent}`;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
