import { readFile } from 'node:fs/promises';
import { KafkaProfileSchema } from '@drover/shared';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { parseYamlFile } from '../../files/yaml.ts';
import { diffDocuments, getProfile, openProfiles } from '../../profiles/store.ts';

export interface ProfileDiffResult {
  cluster: string;
  changes: string[];
}

export default class ProfileDiff extends DroverCommand<ProfileDiffResult> {
  static override summary =
    'What storing a profile file would change (+ added, - removed, ~ changed); exit 1 when it differs.';
  static override examples = ['<%= config.bin %> profile diff --file kafka-a.profile.yaml'];
  static override flags = {
    ...natsFlags,
    file: Flags.string({ required: true, summary: 'Profile file (YAML or JSON).' }),
  };

  async run(): Promise<ProfileDiffResult> {
    const { flags } = await this.parse(ProfileDiff);
    const { value: profile } = parseYamlFile(await readFile(flags.file, 'utf8'), flags.file, KafkaProfileSchema);
    const d = await connectFromFlags(flags);
    try {
      const stored = await getProfile(await openProfiles(d), 'kafka', profile.cluster);
      const changes = diffDocuments(stored?.profile ?? {}, profile);
      this.log(changes.length ? changes.join('\n') : `no difference with profile kafka.${profile.cluster}`);
      if (changes.length > 0) process.exitCode = 1;
      return { cluster: profile.cluster, changes };
    } finally {
      await d.close();
    }
  }
}
