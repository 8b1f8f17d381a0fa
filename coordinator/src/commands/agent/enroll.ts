import { readFileSync } from 'node:fs';
import { type Enrollment, InvalidInputError, TokenSchema } from '@drover/shared';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { enrollAgent } from '../../engine/index.ts';

export default class AgentEnroll extends DroverCommand<Enrollment> {
  static override summary = "Trust an agent's own key: its results and events count only when this key signed them.";
  static override description =
    'The agent makes its key on first start (<stateDir>/agent-key.pem) and writes the public half next to it (agent-key.pem.pub); copy that file here. Enrolling again replaces the key (a re-keyed agent).';
  static override examples = [
    '<%= config.bin %> agent enroll --id kafka-a-1 --public-key ./kafka-a-1.agent-key.pem.pub',
  ];
  static override flags = {
    ...natsFlags,
    id: Flags.string({ required: true, summary: 'Agent id.' }),
    'public-key': Flags.string({ required: true, summary: "The agent's public key file (SPKI PEM)." }),
  };

  async run(): Promise<Enrollment> {
    const { flags } = await this.parse(AgentEnroll);
    if (!TokenSchema.safeParse(flags.id).success)
      throw new InvalidInputError('--id', flags.id, 'an agent id (letters, digits, "-" or "_", 1-64 chars)');
    let pem: string;
    try {
      pem = readFileSync(flags['public-key'], 'utf8');
    } catch (cause) {
      throw new InvalidInputError('--public-key', flags['public-key'], 'a readable public key file', { cause });
    }
    const d = await connectFromFlags(flags);
    try {
      const enrollment = await enrollAgent(d.agentKeys, flags.id, pem, coordinatorId());
      this.log(`enrolled ${enrollment.agentId} with key ${enrollment.keyId}`);
      return enrollment;
    } finally {
      await d.close();
    }
  }
}
