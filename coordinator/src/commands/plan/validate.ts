import { Args } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { loadPlanFile } from '../../plan/index.ts';

export interface PlanValidateResult {
  file: string;
  valid: true;
  name: string;
  digest: string;
  phases: Array<{ name: string; approval: boolean; steps: number; gate: number; rollback: number }>;
}

export default class PlanValidate extends DroverCommand<PlanValidateResult> {
  static override summary = 'Check a plan file offline: YAML, schema, steps, params, selectors, options, names.';
  static override description =
    'Every problem is listed with file:line:column, the field, the value found and what was expected (exit 2). Needs no NATS.';
  static override examples = ['<%= config.bin %> plan validate migration.yaml'];
  static override args = { file: Args.string({ required: true, description: 'plan file (YAML)' }) };

  async run(): Promise<PlanValidateResult> {
    const { args } = await this.parse(PlanValidate);
    const { plan, digest } = loadPlanFile(args.file);
    const phases = plan.phases.map((p) => ({
      name: p.name,
      approval: p.approval,
      steps: p.steps.length,
      gate: p.gate.length,
      rollback: p.rollback.length,
    }));
    this.log(
      `${args.file}: valid plan ${plan.metadata.name}: ${phases.length} phase(s): ${phases
        .map((p) => `${p.name}${p.approval ? ' (approval)' : ''}`)
        .join(' -> ')}`,
    );
    return { file: args.file, valid: true, name: plan.metadata.name, digest, phases };
  }
}
