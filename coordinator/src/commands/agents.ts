import { matchesSelector, parseSelector } from '@drover/shared';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../cli/connection.ts';
import { ago, formatLabels, renderTable } from '../cli/table.ts';
import { type AgentView, listAgents } from '../engine/index.ts';

export interface AgentsResult {
  agents: Array<Omit<AgentView, 'facts'>>;
}

export default class Agents extends DroverCommand<AgentsResult> {
  static override summary = 'List registered agents: id, labels, version, last seen, status.';
  static override examples = ['<%= config.bin %> agents', '<%= config.bin %> agents --selector cluster=kafka-a --json'];
  static override flags = {
    ...natsFlags,
    selector: Flags.string({ char: 'l', summary: 'Only agents matching this label selector.', default: '' }),
  };

  async run(): Promise<AgentsResult> {
    const { flags } = await this.parse(Agents);
    const selector = parseSelector(flags.selector);
    const d = await connectFromFlags(flags);
    try {
      const agents = (await listAgents(d.agents)).filter((a) => matchesSelector(selector, a.labels));
      const now = Date.now();
      this.log(
        renderTable(
          ['ID', 'LABELS', 'VERSION', 'LAST SEEN', 'STATUS'],
          agents.map((a) => [a.id, formatLabels(a.labels), a.version, ago(a.lastSeen, now), a.liveness]),
        ),
      );
      this.log(`${agents.length} agent(s): ${agents.filter((a) => a.liveness === 'online').length} online`);
      return { agents: agents.map(({ facts: _facts, ...rest }) => rest) };
    } finally {
      await d.close();
    }
  }
}
