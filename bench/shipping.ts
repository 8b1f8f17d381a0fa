// `npm run bench:shipping -- --lines N`: one agent daemon (its own process) ships a service log file
// to a real S3-compatible server (versitygw) on loopback. A writer appends N lines (about 120 bytes
// each, like a Kafka server.log) at full speed; the bench times from the first line to the moment the
// bucket holds every byte, and reads the agent's CPU time and peak RSS from /proc. Also the lag: how
// long after the writer's last line the last byte was confirmed. Figures, not a test.
// LAST line: shipping lines=N lines_per_s=… mb_per_s=… lag_ms=… agent_cpu_ms=… agent_rss_mb=… idle_rss_mb=…
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { KV_SHIPPING_STATUS, type ShippingStatus } from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import { connectCoordinator, createFleet } from '../test/fleet/fleet.ts';
import { startNats } from '../test/harness/nats.ts';
import { makeTempDir } from '../test/harness/process.ts';
import { startS3 } from '../test/harness/s3.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '500000' },
    'object-mb': { type: 'string', default: '8' },
    interval: { type: 'string', default: '1000' },
  },
});
const N = Number(values.lines);
const dir = makeTempDir('bench-shipping');
const nats = await startNats({ servers: 1 });
const s3 = await startS3();
const client = new S3Client({
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
});
await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
const fleet = createFleet(join(dir, 'fleet'), nats.urls);
const d = await connectCoordinator(fleet.natsOptions);
const log = join(dir, 'server.log');
writeFileSync(log, '');
const credentials = join(dir, 'credentials.ini');
writeFileSync(
  credentials,
  `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
);
const agent = await fleet.startAgent({
  id: 'bench-ship',
  labels: {},
  node: {
    shipping: {
      settings: {
        endpoint: s3.endpoint,
        bucket: 'bench',
        forcePathStyle: true,
        intervalMs: Number(values.interval),
        maxObjectBytes: Number(values['object-mb']) * 1024 * 1024,
      },
      credentialsFile: credentials,
      files: { server: { path: log } },
    },
  },
});
await new Promise((r) => setTimeout(r, 3000));
const idleRss = rssMb(agent.pid);
const cpuBefore = cpuMs(agent.pid);

const statusKv = await new Kvm(d.nc).open(KV_SHIPPING_STATUS);
const started = Date.now();
let written = 0;
const line = (i: number) =>
  `[2026-12-03 04:00:00,${String(i % 1000).padStart(3, '0')}] INFO [ReplicaFetcher replicaId=101, leaderId=1] line ${i} of the bench\n`;
while (written < N) {
  let chunk = '';
  const upTo = Math.min(N, written + 5000);
  for (let i = written; i < upTo; i++) chunk += line(i);
  appendFileSync(log, chunk);
  written = upTo;
  await new Promise((r) => setImmediate(r));
}
const lastLineAt = Date.now();
const bytes = statSync(log).size;
let doneAt = 0;
for (;;) {
  const entry = await statusKv.get('bench-ship');
  const status = entry?.json<ShippingStatus>();
  const shipped = status?.sources.find((s) => s.name === 'server')?.shipped ?? 0;
  if (shipped >= bytes) {
    doneAt = status?.lastUploadAt ?? Date.now();
    break;
  }
  if (Date.now() - started > 600_000) throw new Error(`not caught up after 10 min: ${shipped}/${bytes} bytes`);
  await new Promise((r) => setTimeout(r, 100));
}
const cpu = cpuMs(agent.pid) - cpuBefore;
const peakRss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const seconds = (doneAt - started) / 1000;
await agent.stop();
await d.close();
client.destroy();
await s3.stop();
await nats.stop();
console.log(
  `wrote ${N} lines (${(bytes / 1024 / 1024).toFixed(1)} MiB) in ${lastLineAt - started} ms; all in the bucket after ${doneAt - started} ms`,
);
console.log(
  `shipping lines=${N} lines_per_s=${Math.round(N / seconds)} mb_per_s=${(bytes / 1024 / 1024 / seconds).toFixed(1)} lag_ms=${Math.max(0, doneAt - lastLineAt)} agent_cpu_ms=${Math.round(cpu)} agent_rss_mb=${peakRss.toFixed(0)} idle_rss_mb=${idleRss.toFixed(0)}`,
);
process.exit(0);

function cpuMs(pid: number): number {
  // utime + stime of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}
