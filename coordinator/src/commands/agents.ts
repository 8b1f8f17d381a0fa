import { matchesSelector, parseSelector } from '@drover/shared';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../cli/connection.ts';
import { ago, formatLabels, renderTable } from '../cli/table.ts';
import { type AgentView, listAgents, readEnrollments } from '../engine/index.ts';

export interface AgentsResult {
  agents: Array<Omit<AgentView, 'facts'> & { enrollment: EnrollmentState }>;
}

/** enrolled: the key it signs with is the one enrolled; mismatch: another key is; none: no key is. */
type EnrollmentState = 'enrolled' | 'mismatch' | 'none';

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
      const enrollments = await readEnrollments(d.agentKeys);
      const agents = (await listAgents(d.agents))
        .filter((a) => matchesSelector(selector, a.labels))
        .map(({ facts: _facts, ...rest }) => {
          const enrolled = enrollments.get(rest.id)?.keyId;
          const enrollment: EnrollmentState = !enrolled ? 'none' : enrolled === rest.keyId ? 'enrolled' : 'mismatch';
          return { ...rest, enrollment };
        });
      const now = Date.now();
      this.log(
        renderTable(
          ['ID', 'LABELS', 'VERSION', 'LAST SEEN', 'STATUS', 'KEY'],
          agents.map((a) => [
            a.id,
            formatLabels(a.labels),
            a.version,
            ago(a.lastSeen, now),
            a.liveness,
            a.enrollment === 'enrolled' ? 'enrolled' : a.enrollment === 'none' ? 'NOT ENROLLED' : 'OTHER KEY ENROLLED',
          ]),
        ),
      );
      this.log(`${agents.length} agent(s): ${agents.filter((a) => a.liveness === 'online').length} online`);
      const unenrolled = agents.filter((a) => a.enrollment !== 'enrolled').length;
      if (unenrolled > 0)
        this.log(`${unenrolled} agent(s) whose results would not count: drover agent enroll --id ID --public-key FILE`);
      return { agents };
    } finally {
      await d.close();
    }
  }
}
