// `drover logs ship`: the coordinator side of log shipping, a long-running service that uploads the
// DROVER_AUDIT stream to the customer's bucket (see shipping/audit-shipper.ts). `--once` ships what
// is there and exits (cron, tests). Credentials: --credentials-file or the default chain.
import {
  FleetShippingRecordSchema,
  InvalidInputError,
  KV_SHIPPING,
  type ShippingSettings,
  shippingAccountKey,
  sleep,
} from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { type AuditPass, AuditShipper, ShipperConflictError } from '../../shipping/audit-shipper.ts';
import { bucketFlags, settingsFromFlags } from '../../shipping/flags.ts';

export interface LogsShipResult {
  bucket: string;
  passes: number;
  last: AuditPass | undefined;
}

export default class LogsShip extends DroverCommand<LogsShipResult> {
  static override summary = "Ship the DROVER_AUDIT stream to the customer's bucket (runs until stopped).";
  static override examples = [
    '<%= config.bin %> logs ship --account acme',
    '<%= config.bin %> logs ship --bucket acme-audit --region eu-west-1 --credentials-file /etc/drover/s3.ini --once',
  ];
  static override flags = {
    ...natsFlags,
    ...bucketFlags,
    account: Flags.string({ summary: "Take the bucket settings from this account's fleet setting." }),
    'credentials-file': Flags.string({ summary: 'AWS shared-credentials file; default: the default chain.' }),
    profile: Flags.string({ summary: 'Profile of --credentials-file.', default: 'default' }),
    once: Flags.boolean({ summary: 'Ship what the stream holds now, then exit.' }),
  };

  async run(): Promise<LogsShipResult> {
    const { flags } = await this.parse(LogsShip);
    if (flags.account && flags.bucket)
      throw new InvalidInputError('--bucket', flags.bucket, 'either --account or --bucket, not both');
    const d = await connectFromFlags(flags);
    const stop = new AbortController();
    const onSignal = () => stop.abort(new Error('stopped'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const settings = flags.account ? await accountSettings(d.nc, flags.account) : settingsFromFlags(flags);
      const { Bucket } = await import('@drover/shared/bucket');
      const bucket = new Bucket(settings, { file: flags['credentials-file'], profile: flags.profile });
      const shipper = new AuditShipper(d, bucket);
      let passes = 0;
      let last: AuditPass | undefined;
      let loggedError = '';
      while (!stop.signal.aborted) {
        try {
          last = await shipper.pass(stop.signal);
          passes++;
          if (last.uploaded > 0 || flags.once)
            this.log(
              `audit: ${last.messages} message(s) in ${last.uploaded} object(s); shipped through seq ${last.shipped}, ${last.behind} behind${last.lost ? `, ${last.lost} lost to stream limits` : ''}`,
            );
          loggedError = '';
        } catch (error) {
          if (error instanceof ShipperConflictError) throw error;
          if (stop.signal.aborted) break;
          const message = shipper.status().lastError ?? (error as Error).message;
          if (message !== loggedError) this.warn(`audit shipping failed; retrying: ${message}`);
          loggedError = message;
          if (flags.once) throw error;
        }
        await shipper.publishStatus().catch(() => {});
        if (flags.once && last && last.behind === 0) break;
        await sleep(settings.intervalMs, stop.signal).catch(() => {});
      }
      bucket.close();
      return { bucket: settings.bucket, passes, last };
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await d.close();
    }
  }
}

async function accountSettings(nc: NatsConnection, account: string): Promise<ShippingSettings> {
  const kv = await new Kvm(nc).open(KV_SHIPPING);
  const entry = await kv.get(shippingAccountKey(account));
  if (!entry || entry.operation !== 'PUT')
    throw new InvalidInputError('--account', account, 'an account with a shipping setting (drover logs enable)');
  const record = FleetShippingRecordSchema.parse(entry.json());
  if (!record.enabled) throw new InvalidInputError('--account', account, 'an account whose shipping is enabled');
  return record.settings;
}
