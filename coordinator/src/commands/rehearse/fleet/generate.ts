// `drover rehearse fleet generate --like-seed`: writes a fleet description shaped like the seed's
// (212 clusters, 2,129 nodes), deterministic from --seed. Thin: coordinator/src/rehearse/generate.ts.
import { writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../../cli/base-command.ts';
import { parseFleetText } from '../../../rehearse/fleet-file.ts';
import { fleetSummary, fleetYaml, generateSeedFleet } from '../../../rehearse/generate.ts';

export interface FleetGenerateResult {
  file: string | null;
  clusters: number;
  nodes: number;
  kafka: { clusters: number; nodes: number };
  cassandra: { clusters: number; nodes: number };
  regions: number;
  clouds: string[];
}

export default class FleetGenerate extends DroverCommand<FleetGenerateResult> {
  static override summary = "Write a fleet description shaped like the seed's fleet (for drover rehearse run).";

  static override description =
    `The seed's counts (154 Kafka clusters with 1,050 brokers, 58 Cassandra clusters with 1,079
nodes, 2 clouds, 6 regions) with sizes, data and rates drawn as a large real fleet spreads them; the
distributions and why are written as a comment at the top of the file. The same --seed gives the same file.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --like-seed -o fleet.yaml',
    '<%= config.bin %> <%= command.id %> --like-seed --seed 7 > fleet.yaml',
  ];

  static override flags = {
    'like-seed': Flags.boolean({ required: true, summary: "Shape the fleet like the seed's (the only shape so far)." }),
    out: Flags.file({ char: 'o', summary: 'Write the fleet here (default: standard output).' }),
    seed: Flags.integer({ min: 0, default: 1, summary: 'Seed of the random draws.' }),
  };

  async run(): Promise<FleetGenerateResult> {
    const { flags } = await this.parse(FleetGenerate);
    const input = generateSeedFleet({ seed: flags.seed });
    const text = fleetYaml(input);
    // What we write must read back: the generator and the schema can never drift apart silently.
    const fleet = parseFleetText(text, flags.out ?? 'generated fleet');
    const count = (kind: string) => {
      const clusters = fleet.clusters.filter((c) => c.kind === kind);
      return { clusters: clusters.length, nodes: clusters.reduce((n, c) => n + c.nodes, 0) };
    };
    if (flags.out === undefined) {
      if (!this.jsonEnabled()) process.stdout.write(text);
    } else {
      await writeFile(flags.out, text);
      this.log(`${fleetSummary(input)}\nwritten to ${flags.out}`);
    }
    const kafka = count('kafka');
    const cassandra = count('cassandra');
    return {
      file: flags.out ?? null,
      clusters: fleet.clusters.length,
      nodes: kafka.nodes + cassandra.nodes,
      kafka,
      cassandra,
      regions: fleet.regions.length,
      clouds: [...new Set(fleet.regions.map((r) => r.cloud))],
    };
  }
}
