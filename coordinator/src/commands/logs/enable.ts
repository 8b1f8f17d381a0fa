import { KV_SHIPPING, type ShippingSettings, shippingAccountKey, signFleetShipping } from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { readPrivateKeyPem } from '../../engine/index.ts';
import { bucketFlags, settingsFromFlags } from '../../shipping/flags.ts';

export interface LogsEnableResult {
  account: string;
  settings: ShippingSettings;
  revision: number;
}

export default class LogsEnable extends DroverCommand<LogsEnableResult> {
  static override summary = "Make every agent of an account ship its logs to the account's bucket.";
  static override description =
    `Stores a fleet-wide setting (KV ${KV_SHIPPING}, signed with the coordinator key) that every agent
labelled account=ACCOUNT picks up within its poll interval, new nodes included. Credentials are not part of it:
agents use their credentials file or the instance role.`;
  static override examples = [
    '<%= config.bin %> logs enable --account acme --bucket acme-audit --region eu-west-1 --sse aws:kms',
    '<%= config.bin %> logs enable --account acme --bucket logs --endpoint http://127.0.0.1:7070 --path-style',
  ];
  static override flags = {
    ...natsFlags,
    ...bucketFlags,
    account: Flags.string({ required: true, summary: "The account (agents' `account` label)." }),
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  };

  async run(): Promise<LogsEnableResult> {
    const { flags } = await this.parse(LogsEnable);
    const key = shippingAccountKey(flags.account);
    const settings = settingsFromFlags(flags);
    const record = signFleetShipping(
      { account: flags.account, enabled: true, settings, updatedAt: Date.now() },
      readPrivateKeyPem(flags.key),
    );
    const d = await connectFromFlags(flags);
    try {
      const kv = await new Kvm(d.nc).open(KV_SHIPPING);
      const revision = await kv.put(key, JSON.stringify(record));
      this.log(
        `account ${flags.account}: agents ship to s3://${settings.bucket}/${settings.prefix}/ (${settings.endpoint ?? `AWS ${settings.region}`}), revision ${revision}`,
      );
      return { account: flags.account, settings, revision };
    } finally {
      await d.close();
    }
  }
}
