import { planJsonSchema } from '@drover/shared';
import { DroverCommand } from '../../cli/base-command.ts';

export default class PlanSchemaCommand extends DroverCommand<Record<string, unknown>> {
  static override summary = 'Print the JSON Schema of plan files (for editors and CI checks).';
  static override examples = ['<%= config.bin %> plan schema > drover-plan.schema.json'];

  async run(): Promise<Record<string, unknown>> {
    await this.parse(PlanSchemaCommand);
    const schema = planJsonSchema();
    if (!this.jsonEnabled()) this.log(JSON.stringify(schema, null, 2));
    return schema;
  }
}
