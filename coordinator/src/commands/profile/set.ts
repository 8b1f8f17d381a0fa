import { readFile } from 'node:fs/promises';
import { InvalidInputError, KafkaProfileSchema } from '@drover/shared';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { parseYamlFile } from '../../files/yaml.ts';
import { diffDocuments, getProfile, openProfiles, setProfile } from '../../profiles/store.ts';

export interface ProfileSetResult {
  cluster: string;
  revision: number;
  changes: string[];
}

export default class ProfileSet extends DroverCommand<ProfileSetResult> {
  static override summary =
    "Store a Kafka cluster's profile (listeners, ZooKeeper, overrides) for its brokers to render from.";
  static override examples = ['<%= config.bin %> profile set --file kafka-a.profile.yaml'];
  static override flags = {
    ...natsFlags,
    file: Flags.string({ required: true, summary: 'Profile file (YAML or JSON).' }),
  };

  async run(): Promise<ProfileSetResult> {
    const { flags } = await this.parse(ProfileSet);
    let text: string;
    try {
      text = await readFile(flags.file, 'utf8');
    } catch (cause) {
      throw new InvalidInputError('--file', flags.file, `a readable profile file (${(cause as Error).message})`);
    }
    const { value: profile } = parseYamlFile(text, flags.file, KafkaProfileSchema);
    const d = await connectFromFlags(flags);
    try {
      const kv = await openProfiles(d);
      const before = await getProfile(kv, 'kafka', profile.cluster);
      const changes = diffDocuments(before?.profile ?? {}, profile);
      if (before && changes.length === 0) {
        this.log(`profile kafka.${profile.cluster} unchanged (revision ${before.revision})`);
        return { cluster: profile.cluster, revision: before.revision, changes };
      }
      const revision = await setProfile(d, kv, profile, coordinatorId());
      this.log(
        `profile kafka.${profile.cluster} stored (revision ${revision}):\n${changes.map((c) => `  ${c}`).join('\n')}`,
      );
      return { cluster: profile.cluster, revision, changes };
    } finally {
      await d.close();
    }
  }
}
