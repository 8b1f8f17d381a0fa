import { InvalidInputError, type KafkaProfile } from '@drover/shared';
import { Flags } from '@oclif/core';
import { stringify } from 'yaml';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { getProfile, openProfiles } from '../../profiles/store.ts';

export default class ProfileGet extends DroverCommand<KafkaProfile> {
  static override summary = "Print a Kafka cluster's stored profile (YAML; --json for JSON).";
  static override examples = ['<%= config.bin %> profile get --cluster kafka-a'];
  static override flags = { ...natsFlags, cluster: Flags.string({ required: true, summary: 'Cluster name.' }) };

  async run(): Promise<KafkaProfile> {
    const { flags } = await this.parse(ProfileGet);
    const d = await connectFromFlags(flags);
    try {
      const stored = await getProfile(await openProfiles(d), 'kafka', flags.cluster);
      if (!stored)
        throw new InvalidInputError('--cluster', flags.cluster, "a cluster with a profile (see 'drover profile list')");
      this.log(`# profile kafka.${flags.cluster}, revision ${stored.revision}\n${stringify(stored.profile)}`);
      return stored.profile;
    } finally {
      await d.close();
    }
  }
}
