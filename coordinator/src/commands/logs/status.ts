// `drover logs status`: per agent (and the coordinator's audit shipper), what is shipped to the
// customer's bucket and how far behind, from KV drover-shipping-status, which every shipper writes
// when it changes and every 20 s while shipping. A shipping status older than a minute is shown as
// stale (its agent or shipper is not running); an agent that ships nothing writes "off" once.
import { KV_SHIPPING_STATUS, type ShippingStatus, ShippingStatusSchema } from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { ago, renderTable } from '../../cli/table.ts';
import { listAgents } from '../../engine/index.ts';
import { readAll } from '../../engine/kv-read.ts';

export interface LogsStatusRow extends ShippingStatus {
  /** The status is older than expected: its shipper (or agent) is not running. */
  stale: boolean;
}

export interface LogsStatusResult {
  shippers: LogsStatusRow[];
  /** Registered agents that never wrote a shipping status. */
  silent: string[];
}

const STALE_AFTER_MS = 60_000;

export default class LogsStatus extends DroverCommand<LogsStatusResult> {
  static override summary = 'What every agent (and the audit shipper) has shipped to the bucket, and its lag.';
  static override examples = ['<%= config.bin %> logs status', '<%= config.bin %> logs status --json'];
  static override flags = {
    ...natsFlags,
    'stale-after': Flags.integer({
      summary: 'Seconds without a status before a shipper counts as stale.',
      default: 60,
    }),
  };

  async run(): Promise<LogsStatusResult> {
    const { flags } = await this.parse(LogsStatus);
    const staleMs = flags['stale-after'] * 1000 || STALE_AFTER_MS;
    const d = await connectFromFlags(flags);
    let statuses: Map<string, ShippingStatus>;
    let agents: string[];
    try {
      const kv = await new Kvm(d.nc).open(KV_SHIPPING_STATUS);
      statuses = await readAll(kv, '>', (v) => {
        const parsed = ShippingStatusSchema.safeParse(v);
        return parsed.success ? parsed.data : undefined;
      });
      agents = (await listAgents(d.agents)).map((a) => a.id);
    } finally {
      await d.close();
    }
    const now = Date.now();
    const shippers = [...statuses.values()]
      .map((s) => ({ ...s, stale: s.state !== 'off' && now - s.at > staleMs }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const silent = agents.filter((id) => !statuses.has(id)).sort();
    const rows = shippers.map((s) => [
      s.id,
      s.stale ? `${s.state} (stale)` : s.state,
      s.configuredBy,
      s.bucket ? `s3://${s.bucket}/${s.prefix ?? ''}` : '-',
      total(s, 'shipped'),
      total(s, 'behind'),
      lag(s),
      s.lastUploadAt ? ago(s.lastUploadAt, now) : '-',
      s.refused ? `refused setting: ${s.refused}` : (s.lastError ?? ''),
    ]);
    if (rows.length > 0)
      this.log(
        renderTable(['SHIPPER', 'STATE', 'BY', 'BUCKET', 'SHIPPED', 'BEHIND', 'LAG', 'LAST UPLOAD', 'ERROR'], rows),
      );
    else this.log(`no shipper has reported (${KV_SHIPPING_STATUS} is empty)`);
    if (silent.length > 0) this.log(`agents that never reported shipping: ${silent.join(', ')}`);
    return { shippers, silent };
  }
}

function total(s: ShippingStatus, field: 'shipped' | 'behind'): string {
  const sum = s.sources.reduce((n, source) => n + source[field], 0);
  const unit = s.sources[0]?.unit ?? 'bytes';
  return unit === 'messages' ? `${sum} msg` : bytes(sum);
}

function lag(s: ShippingStatus): string {
  const ms = Math.max(0, ...s.sources.map((source) => source.lagMs));
  return ms === 0 ? '0s' : `${Math.round(ms / 1000)}s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}
