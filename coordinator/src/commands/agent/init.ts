import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AgentConfigInput, AgentConfigSchema, InvalidInputError } from '@drover/shared';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { defaultKeyPath, publicKeyPathFor } from '../../engine/index.ts';

export interface AgentInitResult {
  path: string;
  config: AgentConfigInput;
}

export default class AgentInit extends DroverCommand<AgentInitResult> {
  static override summary = 'Write an agent config template.';
  static override examples = [
    '<%= config.bin %> agent init --id kafka-a-1 --label cluster=kafka-a --label rack=1a --out /etc/drover/agent.json',
  ];
  static override flags = {
    id: Flags.string({ required: true, summary: 'Agent id (letters, digits, - and _).' }),
    label: Flags.string({ summary: 'A label KEY=VALUE (repeatable).', multiple: true, default: [] }),
    nats: Flags.string({ summary: 'NATS server URL(s), comma-separated.', default: 'nats://127.0.0.1:4222' }),
    'public-key': Flags.string({ summary: "Coordinator public key file to trust (default: this machine's key)." }),
    'state-dir': Flags.string({ summary: 'Where the agent keeps its journal.', default: '/var/lib/drover-agent' }),
    out: Flags.string({ summary: 'Write here (default: print).' }),
    force: Flags.boolean({ summary: 'Overwrite an existing file.', default: false }),
  };

  async run(): Promise<AgentInitResult> {
    const { flags } = await this.parse(AgentInit);
    const labels: Record<string, string> = {};
    for (const entry of flags.label) {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw new InvalidInputError('--label', entry, 'KEY=VALUE');
      labels[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    const keyPath = flags['public-key'] ?? publicKeyPathFor(defaultKeyPath());
    const trusted = existsSync(keyPath) ? readFileSync(keyPath, 'utf8') : '/etc/drover/coordinator.pub';
    const config: AgentConfigInput = {
      id: flags.id,
      labels,
      nats: { servers: flags.nats.split(',') },
      trustedKeys: [trusted],
      stateDir: flags['state-dir'],
      commands: {
        'systemctl-status': {
          argv: ['/usr/bin/systemctl', 'status', '--no-pager', '{unit}'],
          params: { unit: { pattern: '^[A-Za-z0-9@._-]{1,128}$', description: 'systemd unit name' } },
        },
      },
      heartbeatMs: 10_000,
      maxConcurrentOrders: 4,
    };
    const checked = AgentConfigSchema.safeParse(config);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new InvalidInputError(
        issue?.path.join('.') ?? 'config',
        undefined,
        issue?.message ?? 'a valid agent config',
      );
    }
    const text = `${JSON.stringify(config, null, 2)}\n`;
    if (flags.out) {
      if (existsSync(flags.out) && !flags.force)
        throw new InvalidInputError('--out', flags.out, 'a path with no file yet (or --force)');
      writeFileSync(flags.out, text, { mode: 0o600 });
      this.log(`wrote ${flags.out}`);
    } else {
      this.log(text.trimEnd());
    }
    return { path: flags.out ?? '-', config };
  }
}
