// deploy/nats: the configs load, and the per-agent permissions let an agent do exactly its own work —
// checked against a real nats-server started from dev.conf (skipped when nats-server is missing).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';

const NATS_DIR = resolve(import.meta.dirname, '../../../deploy/nats');
const hasNats = spawnSync('nats-server', ['--version']).status === 0;

describe('deploy/nats', () => {
  // nats-server is installed by the test harness setup: its absence is a failure, never a skip.
  test('nats-server is installed', () => assert.ok(hasNats, 'nats-server --version failed'));

  let work: string;
  let server: ChildProcess;
  let url: string;
  const open: NatsConnection[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'drover-nats-'));
    copyFileSync(join(NATS_DIR, 'permissions.conf'), join(work, 'permissions.conf'));
    // dev.conf as shipped, on a free port and without the fixed monitoring port.
    const dev = readFileSync(join(NATS_DIR, 'dev.conf'), 'utf8')
      .replace(/^listen: .*$/m, 'listen: 127.0.0.1:-1')
      .replace(/^http: .*$/m, '')
      .replace(/^ {2}store_dir: .*$/m, `  store_dir: ${JSON.stringify(join(work, 'js'))}`);
    writeFileSync(join(work, 'dev.conf'), dev);
    server = spawn('nats-server', ['-c', join(work, 'dev.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    url = await new Promise<string>((resolveUrl, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 10_000);
      server.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const match = /Listening for client connections on (\S+)/.exec(log);
        if (match && /Server is ready/.test(log)) {
          clearTimeout(timer);
          resolveUrl(match[1] as string);
        }
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited ${code}:\n${log}`));
      });
    });
  });

  after(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => {})));
    server?.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });

  async function as(user: string, inboxPrefix?: string): Promise<NatsConnection> {
    const nc = await connect({ servers: url, user, pass: `dev-${user}`, ...(inboxPrefix ? { inboxPrefix } : {}) });
    open.push(nc);
    return nc;
  }

  test('dev.conf, cluster.conf and the regions configs parse (cluster.conf minus the 2.10-only key on an older server)', () => {
    const dev = spawnSync('nats-server', ['-t', '-c', join(NATS_DIR, 'dev.conf')], { encoding: 'utf8' });
    assert.equal(dev.status, 0, dev.stderr);
    const cluster = readFileSync(join(NATS_DIR, 'cluster.conf'), 'utf8');
    assert.match(cluster, /^ {2}sync_interval: always$/m);
    const version = spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout;
    const [major, minor] = (/v(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number) as [number, number];
    const testable = major > 2 || minor >= 10 ? cluster : cluster.replace(/^ {2}sync_interval: always$/m, '');
    // TLS files must exist for -t: point them at a throwaway pair.
    const key = join(work, 'k.pem');
    const cert = join(work, 'c.pem');
    const ssl = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ed25519', '-nodes', '-days', '1', '-subj', '/CN=t'].concat([
        '-keyout',
        key,
        '-out',
        cert,
      ]),
    );
    assert.equal(
      ssl.status,
      0,
      `openssl (a Debian package scripts/setup.sh installs) made no test pair: ${ssl.stderr}`,
    );
    writeFileSync(
      join(work, 'cluster.conf'),
      testable.replace(/\/etc\/nats\/tls\/[a-z-]*key\.pem/g, key).replace(/\/etc\/nats\/tls\/[a-z]*\.pem/g, cert),
    );
    const env = {
      ...process.env,
      NATS_SERVER_NAME: 'n1',
      DROVER_COORDINATOR_PASSWORD: 'c',
      DROVER_VIEWER_PASSWORD: 'v',
      DROVER_AGENT_agent_1_PASSWORD: 'a1',
      DROVER_AGENT_agent_2_PASSWORD: 'a2',
      DROVER_LEAF_eu_west_PASSWORD: 'l1',
      DROVER_LEAF_us_east_PASSWORD: 'l2',
      NATS_SYS_PASSWORD: 's',
    };
    const r = spawnSync('nats-server', ['-t', '-c', join(work, 'cluster.conf')], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    // The regions: the hub's cluster.conf with the leaf-node listener included, and a region's leaf.
    const withCerts = (text: string) =>
      text.replace(/\/etc\/nats\/tls\/[a-z-]*key\.pem/g, key).replace(/\/etc\/nats\/tls\/[a-z]*\.pem/g, cert);
    writeFileSync(
      join(work, 'hub-leafnodes.conf'),
      withCerts(readFileSync(join(NATS_DIR, 'hub-leafnodes.conf'), 'utf8')),
    );
    writeFileSync(
      join(work, 'hub.conf'),
      `${readFileSync(join(work, 'cluster.conf'), 'utf8')}\ninclude ./hub-leafnodes.conf\n`,
    );
    const hub = spawnSync('nats-server', ['-t', '-c', join(work, 'hub.conf')], { encoding: 'utf8', env });
    assert.equal(hub.status, 0, hub.stderr);
    writeFileSync(join(work, 'leaf.conf'), withCerts(readFileSync(join(NATS_DIR, 'leaf.conf'), 'utf8')));
    const leaf = spawnSync('nats-server', ['-t', '-c', join(work, 'leaf.conf')], { encoding: 'utf8', env });
    assert.equal(leaf.status, 0, leaf.stderr);
  });

  test('an agent can do its own work and nothing of another agent', async () => {
    // The coordinator sets up what the agent needs and queues one order for each agent.
    const coordinator = await as('coordinator');
    const jsm = await jetstreamManager(coordinator);
    await jsm.streams.add({
      name: 'DROVER_DISPATCH',
      subjects: ['drover.order.>'],
      retention: 'limits' as never,
      allow_direct: true,
    });
    await jsm.streams.add({ name: 'DROVER_EVENTS', subjects: ['drover.event.>'] });
    await jsm.streams.add({ name: 'DROVER_AUDIT', subjects: ['drover.audit.>'], deny_delete: true, deny_purge: true });
    await new Kvm(coordinator).create('drover-agents');
    const cjs = jetstream(coordinator);

    // Agent 1, connected with its own inbox prefix, as the agent does: its orders live...
    const agent = await as('agent-1', '_INBOX_agent-1');
    const liveOrders = agent.subscribe('drover.order.agent-1', { max: 1 });
    await agent.flush();
    await cjs.publish('drover.order.agent-1', '{"order":1}');
    await cjs.publish('drover.order.agent-2', '{"order":2}');
    for await (const m of liveOrders) assert.equal(m.string(), '{"order":1}');
    // ...and read back from the stream: the last one on its subject, then through its catch-up consumer.
    const ajsm = await jetstreamManager(agent);
    assert.equal((await ajsm.direct.getMessage('DROVER_DISPATCH', { last_by_subj: 'drover.order.agent-1' }))?.seq, 1);
    const info = await ajsm.consumers.add('DROVER_DISPATCH', {
      name: 'catchup-agent-1',
      filter_subject: 'drover.order.agent-1',
      ack_policy: 'none' as never,
    });
    const ajs = jetstream(agent);
    const message = await ajs.consumers.getConsumerFromInfo(info).next({ expires: 2_000 });
    assert.equal(message?.string(), '{"order":1}');
    assert.equal((await ajs.consumers.get('DROVER_DISPATCH', 'catchup-agent-1')).info !== undefined, true);
    assert.equal(await ajsm.consumers.delete('DROVER_DISPATCH', 'catchup-agent-1'), true);
    await ajs.publish('drover.event.job-1.agent-1.result', '{}');
    await ajs.publish('drover.audit.rejected.agent-1', '{}');
    agent.publish('drover.event.job-1.agent-1.progress', '{}');
    const kv = await new Kvm(agent).open('drover-agents');
    await kv.status();
    await kv.put('agent-1', '{"status":"online"}');
    // STREAM.MSG.GET names its key in the body, so it would expose every record: not granted.
    await assert.rejects(kv.get('agent-2'), /permission/i);
    // Live ping and cancel: the agent answers requests.
    agent.subscribe('drover.live.ping', {
      callback: (_, m) => {
        m.respond('agent-1');
      },
    });
    agent.subscribe('drover.cancel.agent-1', {
      callback: (_, m) => {
        m.respond('ok');
      },
    });
    await agent.flush();
    assert.equal((await coordinator.request('drover.live.ping', '', { timeout: 2_000 })).string(), 'agent-1');
    assert.equal((await coordinator.request('drover.cancel.agent-1', '', { timeout: 2_000 })).string(), 'ok');

    // ...and none of agent 2's.
    for (const [name, filter] of [
      ['catchup-agent-2', 'drover.order.agent-2'],
      ['catchup-agent-1', 'drover.order.agent-2'],
      ['catchup-agent-1', 'drover.order.>'],
    ] as const)
      await assert.rejects(
        ajsm.consumers.add('DROVER_DISPATCH', { name, filter_subject: filter, ack_policy: 'none' as never }),
        /permission/i,
        `${name} on ${filter}`,
      );
    await assert.rejects(ajs.consumers.get('DROVER_DISPATCH', 'catchup-agent-2'), /permission/i);
    // The permitted subject with another agent's filter in the body: the server refuses the mismatch.
    const forged = await agent.request(
      '$JS.API.CONSUMER.CREATE.DROVER_DISPATCH.catchup-agent-1.drover.order.agent-1',
      JSON.stringify({
        stream_name: 'DROVER_DISPATCH',
        config: { name: 'catchup-agent-1', filter_subject: 'drover.order.agent-2', ack_policy: 'none' },
      }),
      { timeout: 2_000 },
    );
    assert.match(forged.string(), /"error"/, `a consumer on agent-2's orders was made: ${forged.string()}`);
    await assert.rejects(
      ajsm.direct.getMessage('DROVER_DISPATCH', { last_by_subj: 'drover.order.agent-2' }),
      /permission|timeout|no responders/i,
    );
    await assert.rejects(kv.put('agent-2', '{}', { timeout: 1_000 } as never), /permission/i);
    await assert.rejects(ajs.publish('drover.event.job-1.agent-2.result', '{}', { timeout: 1_000 }), /permission/i);
    await assert.rejects(ajsm.streams.delete('DROVER_AUDIT'), /permission/i);
    // Subscriptions to another agent's subjects or the shared inbox are refused by the server.
    for (const subject of ['drover.order.agent-2', 'drover.cancel.agent-2', '_INBOX.>', 'drover.event.>']) {
      const sub = agent.subscribe(subject);
      const closed = await Promise.race([
        sub.closed.then(
          () => 'closed',
          () => 'closed',
        ),
        delay(2_000, 'open'),
      ]);
      assert.equal(closed, 'closed', `agent-1 could subscribe to ${subject}`);
    }
    // The coordinator cannot delete or purge the audit stream.
    await assert.rejects(jsm.streams.delete('DROVER_AUDIT'), /permission/i);
    await assert.rejects(jsm.streams.purge('DROVER_AUDIT'), /permission/i);
  });
});

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolveDelay) => setTimeout(() => resolveDelay(value), ms).unref());
}
