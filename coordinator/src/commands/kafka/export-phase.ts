// `drover kafka export-phase`: writes one phase (or rollback) of a plan file as the JSON that
// kafka-reassign-partitions --execute reads. Thin: selection is coordinator/src/kafka/export.ts.

import { readFile, writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import {
  EXPORTABLE,
  exportPhase,
  formatReassignmentJson,
  parsePlanFile,
  type ReassignmentJson,
} from '../../kafka/index.ts';

export interface ExportPhaseResult {
  phase: string;
  /** 1-based batch number, or null for the whole phase. */
  batch: number | null;
  partitions: number;
  /** The file written, or null when printed. */
  out: string | null;
  reassignment: ReassignmentJson;
}

export default class ExportPhase extends DroverCommand<ExportPhaseResult> {
  static override summary = 'Write a phase or rollback of a Kafka migration plan as kafka-reassign-partitions JSON.';

  static override description = `expand, leaders and shrink export every batch's reassignments (or one batch with
--batch); rollback-expand, rollback-leaders and rollback-shrink reassign back to the assignment before that phase;
rollback-all back to the assignment the plan started from. Without --out the JSON is printed.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --plan plan.json --phase expand --batch 1 --out expand-1.json',
    '<%= config.bin %> <%= command.id %> --plan plan.json --phase rollback-all --out rollback.json',
  ];

  static override flags = {
    plan: Flags.file({ required: true, exists: true, summary: 'Plan file (plan-migration --json or --out).' }),
    phase: Flags.option({ options: EXPORTABLE, required: true, summary: 'What to export.' })(),
    batch: Flags.integer({ min: 1, summary: 'Only this batch of the phase (1-based).' }),
    out: Flags.file({ summary: 'Write the JSON here (default: print it).' }),
  };

  async run(): Promise<ExportPhaseResult> {
    const { flags } = await this.parse(ExportPhase);
    const plan = parsePlanFile(await readFile(flags.plan, 'utf8'), `plan(${flags.plan})`);
    const reassignment = exportPhase(plan, flags.phase, flags.batch);
    const text = formatReassignmentJson(reassignment);
    const count = reassignment.partitions.length;
    if (flags.out === undefined) this.log(text.trimEnd());
    else {
      await writeFile(flags.out, text);
      const which = flags.batch === undefined ? flags.phase : `${flags.phase} batch ${flags.batch}`;
      this.log(`wrote ${count} partitions (${which}) to ${flags.out}`);
    }
    return { phase: flags.phase, batch: flags.batch ?? null, partitions: count, out: flags.out ?? null, reassignment };
  }
}
