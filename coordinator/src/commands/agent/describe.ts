import { Args } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { ago, formatLabels } from '../../cli/table.ts';
import { type AgentView, getAgent } from '../../engine/index.ts';

export default class AgentDescribe extends DroverCommand<AgentView> {
  static override summary = 'Show one agent: labels, version, steps, liveness and host facts.';
  static override examples = ['<%= config.bin %> agent describe kafka-a-1'];
  static override args = { id: Args.string({ required: true, description: 'agent id' }) };
  static override flags = { ...natsFlags };

  async run(): Promise<AgentView> {
    const { args, flags } = await this.parse(AgentDescribe);
    const d = await connectFromFlags(flags);
    try {
      const agent = await getAgent(d.agents, args.id);
      this.log(`id:        ${agent.id}`);
      this.log(`labels:    ${formatLabels(agent.labels)}`);
      this.log(`version:   ${agent.version}`);
      this.log(
        `status:    ${agent.liveness} (last seen ${ago(agent.lastSeen)}, started ${new Date(agent.startedAt).toISOString()})`,
      );
      this.log(`steps:     ${agent.steps.join(', ')}`);
      this.log(`facts:\n${JSON.stringify(agent.facts, null, 2)}`);
      return agent;
    } finally {
      await d.close();
    }
  }
}
