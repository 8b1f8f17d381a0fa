// NATS really works here: single servers of both versions, and a 3-server JetStream cluster whose R3
// KV bucket survives losing its stream leader (SIGKILL), then takes the server back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { startNats } from '../harness/nats.ts';
import { waitFor } from '../harness/process.ts';

for (const version of ['debian', 'current'] as const) {
  test(`NATS ${version}: one server with JetStream serves a KV bucket`, { timeout: 60_000 }, async (t) => {
    const nats = await startNats({ servers: 1, version, syncAlways: version === 'current' });
    t.after(() => nats.stop());
    t.diagnostic(`nats ${nats.version} started in ${nats.startupMs} ms at ${nats.urls.join(',')}`);
    const nc = await connect({ servers: nats.urls });
    t.after(() => nc.close());
    const kv = await new Kvm(nc).create('single', { replicas: 1 });
    await kv.put('k', 'v');
    assert.equal((await kv.get('k'))?.string(), 'v');
    t.diagnostic(`peak RSS ${Math.round((nats.servers[0]?.process.peakRssBytes() ?? 0) / 2 ** 20)} MiB`);
  });

  test(`NATS ${version}: 3-server JetStream cluster, an R3 KV bucket survives its leader killed`, {
    timeout: 120_000,
  }, async (t) => {
    const nats = await startNats({ servers: 3, version });
    t.after(() => nats.stop());
    t.diagnostic(`nats ${nats.version} cluster started in ${nats.startupMs} ms at ${nats.urls.join(',')}`);
    const nc = await connect({ servers: nats.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    t.after(() => nc.close());
    const jsm = await jetstreamManager(nc);
    const kv = await new Kvm(nc).create('drover', { replicas: 3 });
    // A new R3 stream answers once its own leader is elected (on 2.15 a put can come first: "no responders").
    await waitFor(() => kv.put('before', '1').then(() => true), {
      what: 'the first KV write to the new R3 bucket',
      timeoutMs: 30_000,
      intervalMs: 200,
    });

    const info = await jsm.streams.info('KV_drover');
    assert.equal(info.config.num_replicas, 3);
    const leaderName = info.cluster?.leader;
    const victim = nats.servers.findIndex((s) => s.name === leaderName);
    assert.ok(victim >= 0, `stream leader ${leaderName} is one of ${nats.servers.map((s) => s.name).join(',')}`);

    await nats.kill(victim);
    assert.equal(nats.servers[victim]?.running, false);
    // A new stream leader is elected among the two survivors; writes resume once it is.
    await waitFor(() => kv.put('after', '2').then(() => true), {
      what: `a KV write after ${leaderName} was killed`,
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    assert.equal((await kv.get('before'))?.string(), '1');
    assert.equal((await kv.get('after'))?.string(), '2');
    const newLeader = (await jsm.streams.info('KV_drover')).cluster?.leader;
    assert.notEqual(newLeader, leaderName);

    await nats.restart(victim);
    assert.equal(nats.servers[victim]?.running, true);
    await waitFor(
      async () => {
        const replicas = (await jsm.streams.info('KV_drover')).cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((r) => r.current && !r.offline);
      },
      { what: `${leaderName} to rejoin KV_drover as a current replica`, timeoutMs: 30_000, intervalMs: 500 },
    );
    await kv.put('restarted', '3');
    assert.equal((await kv.get('restarted'))?.string(), '3');
    for (const s of nats.servers) {
      t.diagnostic(`${s.name} peak RSS ${Math.round((s.process.peakRssBytes() ?? 0) / 2 ** 20)} MiB`);
    }
  });
}
