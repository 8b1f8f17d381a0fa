// Log shipping (issue 13) against real servers: a nats-server with TLS and per-agent permissions, a
// real S3-compatible server (versitygw on its posix backend), agents as their own processes, and the
// drover CLI. Every test reads the bucket back and compares it byte for byte with what was written.
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  generateSigningKeyPair,
  KV_SHIPPING,
  type ShippingStatus,
  STREAM_AUDIT,
  shippingAccountKey,
  signFleetShipping,
} from '@drover/shared';
import { Kvm } from '@nats-io/kv';
import { type AgentSpec, connectCoordinator, createFleet, type Fleet } from '../fleet/fleet.ts';
import { type NatsCluster, startNats } from '../harness/nats.ts';
import { makeTempDir, type ProcessHandle, waitFor } from '../harness/process.ts';
import { type S3Server, startS3 } from '../harness/s3.ts';

const BUCKET = 'customer-logs';
const PREFIX = 'acme/drover';

let nats: NatsCluster;
let s3: S3Server;
let fleet: Fleet;
let client: S3Client;
let dir: string;
const agents: ProcessHandle[] = [];

before(async () => {
  dir = makeTempDir('shipping');
  nats = await startNats({ secure: true });
  s3 = await startS3();
  fleet = createFleet(join(dir, 'fleet'), nats.urls, nats.security);
  client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // The coordinator creates Drover's buckets (agents may not).
  await (await connectCoordinator(fleet.natsOptions)).close();
});

after(async () => {
  for (const a of agents) await a.stop().catch(() => {});
  client?.destroy();
  await s3?.stop();
  await nats?.stop();
});

/** An AWS shared-credentials file, as an operator puts on a node. */
function credentialsFile(): string {
  const path = join(dir, 'credentials.ini');
  writeFileSync(
    path,
    `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  return path;
}

function localShipping(agentId: string, extra: Record<string, unknown> = {}): AgentSpec['node'] {
  return {
    shipping: {
      settings: {
        endpoint: s3.endpoint,
        bucket: BUCKET,
        prefix: PREFIX,
        forcePathStyle: true,
        intervalMs: 300,
        maxObjectBytes: 4096,
      },
      credentialsFile: credentialsFile(),
      files: { app: { path: join(dir, `${agentId}-app.log`), rotated: `${agentId}-app.log.*` } },
      ...extra,
    },
  };
}

interface ObjectInfo {
  key: string;
  generation: string;
  start: number;
  end: number;
}

async function listObjects(prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? '';
      const match = /\/([^/]+)\/(\d{16})-(\d{16})$/.exec(key);
      out.push({
        key,
        generation: match?.[1] ?? '',
        start: Number(match?.[2] ?? -1),
        end: Number(match?.[3] ?? -1),
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function getObject(key: string): Promise<string> {
  const answer = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await answer.Body?.transformToString()) ?? '';
}

/**
 * A source's content as shipped, per file generation in order of first sight: the pieces must tile
 * each generation from byte 0 with no gap and no overlap (an overlap would be a duplicated line).
 */
async function shippedContent(agentId: string, source: string): Promise<{ text: string; objects: number }> {
  const objects = await listObjects(`${PREFIX}/agent/${agentId}/${source}/`);
  const byGeneration = new Map<string, ObjectInfo[]>();
  for (const o of objects) byGeneration.set(o.generation, [...(byGeneration.get(o.generation) ?? []), o]);
  const generations = [...byGeneration.keys()].sort();
  let text = '';
  for (const generation of generations) {
    const pieces = (byGeneration.get(generation) ?? []).sort((a, b) => a.start - b.start);
    let at = 0;
    for (const piece of pieces) {
      assert.equal(
        piece.start,
        at,
        `${source} ${generation}: piece ${piece.key} starts at ${piece.start}, expected ${at}`,
      );
      const body = await getObject(piece.key);
      assert.equal(Buffer.byteLength(body), piece.end - piece.start, `${piece.key}: its size matches its range`);
      text += body;
      at = piece.end;
    }
  }
  return { text, objects: objects.length };
}

async function statusOf(id: string): Promise<ShippingStatus | undefined> {
  const result = await fleet.drover(['logs', 'status', '--json']);
  assert.equal(result.code, 0, result.output);
  const parsed = JSON.parse(result.stdout) as { shippers: ShippingStatus[] };
  return parsed.shippers.find((s) => s.id === id);
}

/**
 * Waits for a status written after this call that is caught up and, when given, has shipped exactly
 * `bytes` of `source` (a status from before a kill or a write would say "caught up" too early).
 */
async function caughtUp(
  id: string,
  what: string,
  expect?: { source: string; bytes: number },
  timeoutMs = 60_000,
): Promise<ShippingStatus> {
  const since = Date.now();
  return waitFor(
    async () => {
      const s = await statusOf(id);
      if (s?.state !== 'caught-up') return undefined;
      // Shipped bytes equal to the file's size prove the status current; without them, its time.
      if (!expect && s.at <= since) return undefined;
      if (expect && s.sources.find((source) => source.name === expect.source)?.shipped !== expect.bytes)
        return undefined;
      return s;
    },
    { what, timeoutMs, intervalMs: 500 },
  );
}

const sizeOf = (...paths: string[]) => paths.reduce((n, p) => n + statSync(p).size, 0);

function lines(count: number, tag: string, from = 0): string {
  let text = '';
  for (let i = from; i < from + count; i++) text += `${tag} line ${i} ${'x'.repeat(i % 50)}\n`;
  return text;
}

describe('log shipping to a real S3-compatible bucket', { timeout: 600_000 }, () => {
  test('the journal, audit records and a rotating log file arrive whole, each line once', async () => {
    const id = 'ship-a';
    const app = join(dir, `${id}-app.log`);
    writeFileSync(app, lines(300, 'first'));
    const handle = await fleet.startAgent({ id, labels: { role: 'ship' }, node: localShipping(id) });
    agents.push(handle);
    // Journal lines: a job on the agent. An audit record: an unsigned order, refused by the agent.
    const run = await fleet.drover(['run', 'ping', '--selector', `role=ship`, '--json']);
    assert.equal(run.code, 0, run.output);
    const d = await connectCoordinator(fleet.natsOptions);
    try {
      await d.js.publish(`drover.order.${id}`, JSON.stringify({ not: 'an order' }));
    } finally {
      await d.close();
    }
    // A rotation (rename, as log4j's rolling appenders do), then more lines in the new live file.
    appendFileSync(app, lines(200, 'first', 300));
    renameSync(app, `${app}.1`);
    writeFileSync(app, lines(400, 'second'));
    await waitFor(() => readFileSync(join(fleet.stateDir(id), 'audit.jsonl'), 'utf8').includes('rejected'), {
      what: 'the refused order in the agent audit file',
      timeoutMs: 30_000,
    });
    const status = await caughtUp(id, 'agent ship-a caught up', { source: 'app', bytes: sizeOf(`${app}.1`, app) });
    assert.equal(status.configuredBy, 'local');
    assert.equal(status.bucket, BUCKET);

    const shippedApp = await shippedContent(id, 'app');
    assert.equal(shippedApp.text, readFileSync(`${app}.1`, 'utf8') + readFileSync(app, 'utf8'));
    assert.ok(shippedApp.objects > 2, `small objects (4 KiB): ${shippedApp.objects}`);
    const journal = await shippedContent(id, 'journal');
    assert.equal(journal.text, readFileSync(join(fleet.stateDir(id), 'journal.jsonl'), 'utf8'));
    assert.match(journal.text, /"step":"ping"/);
    const audit = await shippedContent(id, 'audit');
    assert.equal(audit.text, readFileSync(join(fleet.stateDir(id), 'audit.jsonl'), 'utf8'));
    assert.match(audit.text, /"type":"rejected"/);
  });

  test('kill -9 of the agent mid-upload, then a restart: every line arrives, no object duplicated', async (t) => {
    const id = 'ship-b';
    const app = join(dir, `${id}-app.log`);
    writeFileSync(app, '');
    const spec: AgentSpec = { id, labels: { role: 'ship-b' }, node: localShipping(id) };
    let handle = await fleet.startAgent(spec);
    let written = 0;
    let kills = 0;
    const checkpointFile = join(fleet.stateDir(id), 'shipping', 'checkpoint.json');
    const inFlight = () => {
      try {
        return readFileSync(checkpointFile, 'utf8').includes('"pending"');
      } catch {
        return false;
      }
    };
    for (let round = 0; round < 4; round++) {
      // Lines keep coming while the agent ships 4 KiB objects. The agent is frozen (SIGSTOP) and its
      // checkpoint read: if a piece is recorded as on its way (not yet confirmed), it dies right
      // there (kill -9); otherwise it goes on and the test tries again.
      for (let attempt = 0; ; attempt++) {
        assert.ok(attempt < 2000, 'caught the agent with a piece in flight');
        appendFileSync(app, lines(20, 'b', written));
        written += 20;
        await new Promise((r) => setTimeout(r, attempt % 5));
        process.kill(handle.pid, 'SIGSTOP');
        if (inFlight()) break;
        process.kill(handle.pid, 'SIGCONT');
      }
      await handle.kill();
      kills++;
      appendFileSync(app, lines(100, 'b', written));
      written += 100;
      handle = await fleet.startAgent(spec);
    }
    agents.push(handle);
    await caughtUp(id, 'agent ship-b caught up after 4 kills', { source: 'app', bytes: sizeOf(app) });
    const shipped = await shippedContent(id, 'app'); // asserts no overlap and no gap
    assert.equal(shipped.text, readFileSync(app, 'utf8'));
    const got = shipped.text.split('\n').filter(Boolean);
    assert.equal(got.length, written);
    assert.equal(new Set(got).size, written, 'each line once');
    assert.equal(kills, 4);
    // Each restart found the piece its predecessor died uploading, and sent it again to the same key.
    const resumed = readFileSync(handle.logFile, 'utf8').split('uploading again the piece').length - 1;
    assert.equal(resumed, kills);
    t.diagnostic(`restarts that uploaded again the piece in flight at the kill: ${resumed} of ${kills}`);
  });

  test('a bucket down for a minute: the agent says so, then catches up', async () => {
    const id = 'ship-a';
    const app = join(dir, `${id}-app.log`);
    await s3.stop();
    const downAt = Date.now();
    appendFileSync(app, lines(500, 'during-outage'));
    const failing = await waitFor(
      async () => {
        const s = await statusOf(id);
        return s?.state === 'error' ? s : undefined;
      },
      { what: 'ship-a to report the bucket down', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.ok(failing.lastError, 'the error is reported');
    assert.ok((failing.sources.find((s) => s.name === 'app')?.behind ?? 0) > 0, 'and how far behind it is');
    while (Date.now() - downAt < 60_000) {
      appendFileSync(app, lines(10, 'during-outage-more'));
      await new Promise((r) => setTimeout(r, 2_000));
    }
    await s3.start();
    await caughtUp(id, 'ship-a caught up after the outage', { source: 'app', bytes: sizeOf(`${app}.1`, app) }, 90_000);
    const shipped = await shippedContent(id, 'app');
    assert.equal(shipped.text, readFileSync(`${app}.1`, 'utf8') + readFileSync(app, 'utf8'));
  });

  test('a new agent of an opted-in account ships with no shipping config; a forged setting is refused', async () => {
    const enable = await fleet.drover([
      'logs',
      'enable',
      '--account',
      'acme',
      '--bucket',
      BUCKET,
      '--prefix',
      PREFIX,
      '--endpoint',
      s3.endpoint,
      '--path-style',
      '--interval',
      '500ms',
    ]);
    assert.equal(enable.code, 0, enable.output);
    const bad = await fleet.drover(['logs', 'enable', '--account', 'acme', '--bucket', 'Not_A_Bucket']);
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.output, /--bucket.*Not_A_Bucket/s);

    // The instance role's credentials, as the default chain finds them (here: the environment).
    const aws = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
    const fresh = await fleet.startAgent({ id: 'ship-new', labels: { account: 'acme' }, env: aws });
    agents.push(fresh);
    // Something to ship: a job in its journal.
    const ping = await fleet.drover(['run', 'ping', '--selector', 'account=acme', '--json']);
    assert.equal(ping.code, 0, ping.output);
    const status = await caughtUp('ship-new', 'the new agent ships by its account', {
      source: 'journal',
      bytes: sizeOf(join(fleet.stateDir('ship-new'), 'journal.jsonl')),
    });
    assert.equal(status.configuredBy, 'fleet');
    assert.equal(status.account, 'acme');
    const journal = await shippedContent('ship-new', 'journal');
    assert.equal(journal.text, readFileSync(join(fleet.stateDir('ship-new'), 'journal.jsonl'), 'utf8'));
    assert.match(journal.text, /"step":"ping"/);

    // A setting signed by a key the agents do not trust sends nothing to the forger's bucket.
    const forger = generateSigningKeyPair();
    const forged = signFleetShipping(
      {
        account: 'evil',
        enabled: true,
        settings: { bucket: 'forger-bucket', endpoint: s3.endpoint, forcePathStyle: true, intervalMs: 500 },
        updatedAt: Date.now(),
      },
      forger.privateKeyPem,
    );
    const d = await connectCoordinator(fleet.natsOptions);
    try {
      const kv = await new Kvm(d.nc).open(KV_SHIPPING);
      await kv.put(shippingAccountKey('evil'), JSON.stringify(forged));
    } finally {
      await d.close();
    }
    const victim = await fleet.startAgent({ id: 'ship-evil', labels: { account: 'evil' }, env: aws });
    agents.push(victim);
    const refused = await waitFor(
      async () => {
        const s = await statusOf('ship-evil');
        return s?.refused ? s : undefined;
      },
      { what: 'ship-evil to refuse the forged setting', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(refused.state, 'off');
    assert.match(refused.refused ?? '', /not a trusted coordinator key/);
  });

  test('the coordinator ships DROVER_AUDIT: every message once, a second run adds nothing', async () => {
    const first = await fleet.drover(
      ['logs', 'ship', '--account', 'acme', '--once', '--json', '--credentials-file', credentialsFile()],
      { timeoutMs: 60_000 },
    );
    assert.equal(first.code, 0, first.output);
    const d = await connectCoordinator(fleet.natsOptions);
    let lastSeq: number;
    try {
      lastSeq = (await d.jsm.streams.info(STREAM_AUDIT)).state.last_seq;
    } finally {
      await d.close();
    }
    const result = JSON.parse(first.stdout) as { last: { shipped: number; behind: number } };
    assert.ok(result.last.shipped >= lastSeq - 0, `shipped through ${result.last.shipped}, stream at ${lastSeq}`);
    const objects = await listObjects(`${PREFIX}/coordinator/audit/`);
    const seqs: number[] = [];
    for (const o of objects)
      for (const line of (await getObject(o.key)).split('\n').filter(Boolean))
        seqs.push((JSON.parse(line) as { seq: number }).seq);
    assert.ok(seqs.length >= lastSeq, `${seqs.length} messages shipped, stream holds ${lastSeq}`);
    assert.equal(new Set(seqs).size, seqs.length, 'each message once');
    const again = await fleet.drover(
      ['logs', 'ship', '--account', 'acme', '--once', '--json', '--credentials-file', credentialsFile()],
      { timeoutMs: 60_000 },
    );
    assert.equal(again.code, 0, again.output);
    const objectsAfter = await listObjects(`${PREFIX}/coordinator/audit/`);
    const newKeys = objectsAfter.filter((o) => !objects.some((p) => p.key === o.key));
    // Only messages that arrived in between (agents' audit records) may add objects, never the old ones again.
    for (const o of newKeys) assert.ok(o.start > Math.max(...seqs), `${o.key} is new messages only`);
    const coordinator = await statusOf('coordinator');
    assert.equal(coordinator?.sources[0]?.unit, 'messages');
  });

  test('credentials never appear in any log, state file, event or status', async () => {
    const secret = s3.secretAccessKey;
    const offenders: string[] = [];
    const walk = (path: string) => {
      for (const name of readdirSync(path)) {
        const full = join(path, name);
        const info = statSync(full);
        if (info.isDirectory()) walk(full);
        else if (full !== join(dir, 'credentials.ini') && readFileSync(full).includes(secret)) offenders.push(full);
      }
    };
    walk(join(dir, 'fleet'));
    for (const a of agents) if (readFileSync(a.logFile).includes(secret)) offenders.push(a.logFile);
    assert.deepEqual(offenders, []);
    const status = await fleet.drover(['logs', 'status', '--json']);
    assert.ok(!status.output.includes(secret));
    assert.ok(!status.output.includes(s3.accessKeyId), 'not even the access key id');
    // Every event and audit message on NATS.
    const d = await connectCoordinator(fleet.natsOptions);
    try {
      for (const stream of ['DROVER_EVENTS', STREAM_AUDIT]) {
        const consumer = await d.js.consumers.get(stream, { deliver_policy: 'all' });
        const info = await d.jsm.streams.info(stream);
        let seen = 0;
        for await (const m of await consumer.fetch({ max_messages: info.state.messages, expires: 5_000 })) {
          assert.ok(!m.string().includes(secret), `${stream} seq ${m.seq}`);
          seen++;
          if (seen >= info.state.messages) break;
        }
        assert.equal(seen, info.state.messages);
      }
    } finally {
      await d.close();
    }
  });
});
