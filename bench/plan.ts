// `npm run bench:plan -- --agents 60`: a plan of 3 phases over N agents (one host process, each
// agent with its own NATS connection, journal and consumer) on a local nats-server, driven by the
// real `drover` CLI. Times `drover apply` from start to done; then applies a plan whose middle phase
// runs long, kill -9s the coordinator in that phase and times `drover run resume`: until it took the
// run over (the dead coordinator's lease must lapse first, at most 15 s) and until done.
// Figures, not a test. LAST line: plan phases=3 agents=N apply_ms=… resume_pickup_ms=… resume_done_ms=…
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AgentSpec, createFleet } from '../test/fleet/fleet.ts';
import { connect } from '../test/fleet/jobs.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir, waitFor } from '../test/harness/process.ts';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '60' } } });
const N = Number(values.agents);
const nats = await startNats({ servers: 1 });
const fleet = createFleet(makeTempDir('bench-plan'), nats.urls);
// The coordinator creates Drover's streams and buckets; agents wait for them.
const d = await connect(fleet);
const specs: AgentSpec[] = Array.from({ length: N }, (_, i) => ({
  id: `p-${String(i).padStart(4, '0')}`,
  labels: { bench: 'plan', rack: `r${i % 3}` },
  maxConcurrentOrders: 1,
}));
await fleet.startHost('plan', specs);

const plan = (name: string, middleSeconds: number) => {
  const file = join(fleet.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: drover/v1
kind: Plan
metadata: { name: ${name} }
phases:
  - name: prepare
    steps: [{ name: warm, step: sleep, target: "bench=plan", params: { seconds: 1 }, concurrency: 50% }]
  - name: check
    steps: [{ name: hello, step: ping, target: "bench=plan" }]
    gate: [{ name: labelled, step: ping, target: "bench=plan", expect: { field: labels.bench, equals: plan } }]
  - name: finish
    steps: [{ name: racks, step: sleep, target: "bench=plan", params: { seconds: ${middleSeconds} }, serialBy: rack }]
`,
  );
  return file;
};

const t0 = Date.now();
const applied = await fleet.drover(['apply', plan('bench-apply', 0), '--quiet'], { timeoutMs: 300_000 });
const applyMs = Date.now() - t0;
if (applied.code !== 0) throw new Error(`apply failed:\n${applied.output}`);
process.stdout.write(`apply of 3 phases x ${N} agents: ${applyMs} ms\n`);

const cli = await fleet.startDrover('apply-killed', ['apply', plan('bench-killed', 3)]);
await waitFor(() => /phase 3\/3 finish/.test(cli.logTail(400)), { timeoutMs: 300_000, what: 'phase finish started' });
await new Promise((resolve) => setTimeout(resolve, 1000));
await cli.kill();
const runId = /run (r-[0-9-]+-[0-9a-f]+)/.exec(cli.logTail(2000))?.[1];
if (!runId) throw new Error('no run id printed');
const t1 = Date.now();
const resume = await fleet.startDrover('resume', ['run', 'resume', runId, '--quiet']);
await waitFor(() => /resumed \(was running\)/.test(resume.logTail(400)), {
  timeoutMs: 60_000,
  what: 'resume took over',
});
const pickupMs = Date.now() - t1;
const exit = await resume.exited;
const doneMs = Date.now() - t1;
if (exit.code !== 0) throw new Error(`resume failed:\n${resume.logTail(100)}`);
process.stdout.write(`resume of a killed run: took over after ${pickupMs} ms, done after ${doneMs} ms\n`);
await d.close();
process.stdout.write(
  `plan phases=3 agents=${N} apply_ms=${applyMs} resume_pickup_ms=${pickupMs} resume_done_ms=${doneMs}\n`,
);
process.exit(0);
