// `npm run demo:executor`: the executor alone on an embedded fleet. A local nats-server, twelve agent daemons
// (two Kafka and two Cassandra clusters across two regions, three racks each), then a rack-serial job
// across all of them with the live tail, and the summary. Everything runs on loopback and is
// stopped when the demo ends.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { type AgentSpec, createFleet, DROVER_BIN, NODE } from '../test/fleet/fleet.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir } from '../test/harness/process.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, keep: { type: 'boolean', default: false } },
});

const CLUSTERS = [
  { cluster: 'kafka-a', kind: 'kafka', role: 'broker', region: 'use1' },
  { cluster: 'kafka-b', kind: 'kafka', role: 'broker', region: 'usw2' },
  { cluster: 'cass-a', kind: 'cassandra', role: 'node', region: 'use1' },
  { cluster: 'cass-b', kind: 'cassandra', role: 'node', region: 'usw2' },
];
const RACKS = ['1a', '1b', '1c'];

const say = (text: string) => process.stdout.write(`\n=== ${text}\n`);

function drover(
  args: string[],
  env: NodeJS.ProcessEnv,
  capture = false,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [DROVER_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.once('close', (code) => resolve({ code, stdout }));
  });
}

const started = Date.now();
say('starting a local nats-server (JetStream) on loopback');
const nats = await startNats({ servers: 1, secure: true });
process.stdout.write(`nats-server at ${nats.urls.join(', ')} (${nats.startupMs} ms)\n`);
const fleet = createFleet(makeTempDir('demo'), nats.urls, nats.security);
process.stdout.write(`coordinator signing key: ${fleet.keyPath}\n`);

say('creating streams and buckets, then starting 12 agent daemons');
await drover(['jobs', '--json'], fleet.env, true);
const specs: AgentSpec[] = CLUSTERS.flatMap((c) =>
  RACKS.map((rack, i) => ({
    id: `${c.cluster}-${i + 1}`,
    labels: { cluster: c.cluster, kind: c.kind, role: c.role, region: c.region, rack },
    commands: { 'disk-usage': { argv: ['/bin/df', '-h', '/'] } },
  })),
);
await Promise.all(specs.map((spec) => fleet.startAgent(spec)));
await drover(['agents'], fleet.env);

say(
  `a rack-serial job: sleep ${values.seconds}s on every agent in use1 and usw2, one rack at a time, half the targets at once`,
);
const tail = spawn(NODE, [DROVER_BIN, 'tail', '--no-logs'], {
  env: { ...process.env, ...fleet.env },
  stdio: ['ignore', 'inherit', 'inherit'],
});
await new Promise((resolve) => setTimeout(resolve, 1500)); // the tail subscribes before the job starts
const run = await drover(
  [
    'run',
    'sleep',
    '--param',
    `seconds=${values.seconds}`,
    '--selector',
    'region in (use1,usw2)',
    '--serial-by',
    'rack',
    '--concurrency',
    '50%',
    '--json',
  ],
  fleet.env,
  true,
);
await new Promise((resolve) => setTimeout(resolve, 500));
tail.kill('SIGINT');
const result = JSON.parse(run.stdout) as { jobId: string; state: string; counts: Record<string, number> };

say('summary');
await drover(['job', 'describe', result.jobId], fleet.env);

say('a fleet-wide ping, then an allow-listed command on the Kafka brokers');
await drover(['run', 'ping', '--all', '--quiet'], fleet.env);
await drover(['run', 'command', '--param', 'name=disk-usage', '--selector', 'kind=kafka', '--quiet'], fleet.env);

say(`demo done in ${((Date.now() - started) / 1000).toFixed(1)} s: job ${result.jobId} ${result.state}`);
if (values.keep) {
  process.stdout.write(
    `keeping the fleet running (Ctrl-C to stop): set -a; . ${fleet.envFile}; set +a; npx drover agents\n`,
  );
  await new Promise(() => setInterval(() => {}, 60_000)); // keeps the process (and its fleet) alive
}
process.exit(result.state === 'succeeded' ? 0 : 1);
