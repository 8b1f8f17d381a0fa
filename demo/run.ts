// `npm run demo -- [kafka|cassandra|all] [options]` (what `bash scripts/demo.sh` runs): the Kafka
// migration demo, then the Cassandra migration demo, each in its own process (each one's harness
// stops what it started when it exits). A name runs that demo alone, with the options after it.
// Without a name the options go to the Kafka demo (the documented `npm run demo -- --keep`), and
// `--keep` then runs the Kafka demo only: it keeps everything running until Ctrl-C.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const DEMOS = {
  kafka: join(import.meta.dirname, 'kafka-migration.ts'),
  cassandra: join(import.meta.dirname, 'cassandra-migration.ts'),
} as const;
type Demo = keyof typeof DEMOS;

const argv = process.argv.slice(2);
const first = argv[0];
const named = first !== undefined && !first.startsWith('-') ? first : undefined;
const options = named === undefined ? argv : argv.slice(1);
if (named !== undefined && named !== 'all' && !(named in DEMOS)) {
  process.stderr.write(`unknown demo "${named}": expected kafka, cassandra or all (default: all)\n`);
  process.exit(2);
}
let plan: Array<[Demo, string[]]>;
if (named === 'kafka' || named === 'cassandra') plan = [[named, options]];
else if (options.includes('--keep')) {
  process.stdout.write('--keep keeps the Kafka demo running until Ctrl-C: running the Kafka demo only\n');
  plan = [['kafka', options]];
} else
  plan = [
    ['kafka', options],
    ['cassandra', []],
  ];

// Ctrl-C reaches the demo too (same process group): wait for it to stop what it started. A SIGTERM
// sent to this process alone is passed on to the demo.
let current: ReturnType<typeof spawn> | undefined;
process.on('SIGINT', () => {});
process.on('SIGTERM', () => current?.kill('SIGTERM'));

const results: Array<[Demo, string]> = [];
for (const [demo, args] of plan) {
  const started = Date.now();
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const child = spawn(process.execPath, [DEMOS[demo], ...args], { stdio: 'inherit' });
    current = child;
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
  results.push([demo, code === 0 ? `succeeded in ${took}` : `FAILED (${signal ?? `exit ${code}`}) after ${took}`]);
  if (signal) break; // interrupted: run nothing more
}
if (plan.length > 1 || results.length > 1) {
  process.stdout.write('\n');
  for (const [demo, result] of results) process.stdout.write(`${demo} demo: ${result}\n`);
}
process.exit(results.length === plan.length && results.every(([, r]) => r.startsWith('succeeded')) ? 0 : 1);
