// `drover cassandra verify-plan`: checks a rebuild plan against a topology and prints every broken
// invariant (exit code 1 when any). Thin: the verifier is coordinator/src/cassandra/verify.ts.

import { readFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { loadPlan, loadTopology, renderVerification, type VerifyResult, verifyPlan } from '../../cassandra/index.ts';
import { DroverCommand } from '../../cli/base-command.ts';

export type VerifyPlanResult = VerifyResult;

export default class VerifyPlan extends DroverCommand<VerifyPlanResult> {
  static override summary = 'Check a Cassandra rebuild plan against a topology; print what breaks.';

  static override description =
    'Recomputes replica placement from the topology and checks: every destination replica of every range is ' +
    'covered exactly once (a rebuild or an at-risk entry with its cause); sources are source-DC replicas of their ' +
    'ranges and nodes destination-DC replicas; each range is one whole ring range; argv is the nodetool call; ' +
    'destinations of a range copy distinct sources while the source RF allows; the order runs every rebuild once, ' +
    'one per node per wave, within the per-source stream cap. Exit code 1 when any invariant breaks.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> --topology topology.json --plan plan.json',
    '<%= config.bin %> <%= command.id %> --topology topology.json --plan plan.json --json',
  ];

  static override flags = {
    topology: Flags.file({ required: true, exists: true, summary: 'Topology JSON file the plan was made for.' }),
    plan: Flags.file({ required: true, exists: true, summary: 'Plan JSON (plan-rebuild --json or --out).' }),
  };

  async run(): Promise<VerifyPlanResult> {
    const { flags } = await this.parse(VerifyPlan);
    const { topology, ring } = loadTopology(await readFile(flags.topology, 'utf8'), flags.topology);
    const plan = loadPlan(await readFile(flags.plan, 'utf8'), flags.plan);
    const result = verifyPlan(topology, ring, plan);
    this.log(renderVerification(result));
    // The result (and its --json rendering) is still returned; the exit code tells scripts it failed.
    if (!result.ok) process.exitCode = 1;
    return result;
  }
}
