import { KV_SHIPPING, shippingAccountKey, signFleetShipping } from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { readPrivateKeyPem } from '../../engine/index.ts';

export interface LogsDisableResult {
  account: string;
  disabled: boolean;
}

export default class LogsDisable extends DroverCommand<LogsDisableResult> {
  static override summary = "Stop an account's agents shipping (what was shipped stays in the bucket).";
  static override examples = ['<%= config.bin %> logs disable --account acme'];
  static override flags = {
    ...natsFlags,
    account: Flags.string({ required: true, summary: "The account (agents' `account` label)." }),
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  };

  async run(): Promise<LogsDisableResult> {
    const { flags } = await this.parse(LogsDisable);
    const key = shippingAccountKey(flags.account);
    const pem = readPrivateKeyPem(flags.key);
    const d = await connectFromFlags(flags);
    try {
      const kv = await new Kvm(d.nc).open(KV_SHIPPING);
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') {
        this.log(`account ${flags.account} has no shipping setting`);
        return { account: flags.account, disabled: false };
      }
      // Kept signed and explicit (enabled: false) rather than deleted: an agent reads "off", not "nothing".
      const previous = entry.json<{ settings: Parameters<typeof signFleetShipping>[0]['settings'] }>();
      const record = signFleetShipping(
        { account: flags.account, enabled: false, settings: previous.settings, updatedAt: Date.now() },
        pem,
      );
      await kv.put(key, JSON.stringify(record));
      this.log(`account ${flags.account}: shipping off`);
      return { account: flags.account, disabled: true };
    } finally {
      await d.close();
    }
  }
}
