import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { renderTable } from '../../cli/table.ts';
import { listProfiles, openProfiles, type StoredProfile } from '../../profiles/store.ts';

export default class ProfileList extends DroverCommand<StoredProfile[]> {
  static override summary = 'List the stored cluster profiles.';
  static override examples = ['<%= config.bin %> profile list'];
  static override flags = { ...natsFlags };

  async run(): Promise<StoredProfile[]> {
    const { flags } = await this.parse(ProfileList);
    const d = await connectFromFlags(flags);
    try {
      const profiles = await listProfiles(await openProfiles(d));
      this.log(
        profiles.length
          ? renderTable(
              ['KIND', 'CLUSTER', 'LISTENERS', 'ZOOKEEPER'],
              profiles.map((p) => [
                p.kind,
                p.profile.cluster,
                Object.keys(p.profile.listeners).join(','),
                p.profile.zookeeper
                  ? `${p.profile.zookeeper.connect.join(',')}${p.profile.zookeeper.chroot ?? ''}`
                  : '',
              ]),
            )
          : 'no profiles',
      );
      return profiles;
    } finally {
      await d.close();
    }
  }
}
