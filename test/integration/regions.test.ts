// Many regions, one NATS: a hub with JetStream and a region's leaf node (real nats-servers, TLS and
// the shipped per-agent permissions on both), the region's agents connected to their leaf only, and
// the coordinator on the hub driving every agent through NATS alone. The leaf reaches the hub through
// a relay the test can cut: with the link down mid-job, the region's targets wait; once it heals they
// finish, and no order runs twice.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Drover, RunRecord } from '@drover/coordinator';
import { isFinalTargetState } from '@drover/shared';
import { type AgentSpec, createFleet, type Fleet } from '../fleet/fleet.ts';
import { connect, runJob } from '../fleet/jobs.ts';
import { type NatsCluster, type NatsLeaf, startNats } from '../harness/nats.ts';
import { freePort, makeTempDir, waitFor } from '../harness/process.ts';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.ts';

const inA = ['hub-a1', 'hub-a2', 'hub-a3'];
const inB = ['leaf-b1', 'leaf-b2', 'leaf-b3'];

/** The users of the client connections a server holds now (its /connz). */
async function clientsOf(monitorPort: number): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/connz?auth=true`, {
    signal: AbortSignal.timeout(2000),
  });
  const body = (await response.json()) as { connections?: { authorized_user?: string }[] };
  // Users only: current servers also list internal connections, which have none.
  return (body.connections ?? []).flatMap((c) => (c.authorized_user ? [c.authorized_user] : [])).sort();
}

// Debian's nats-server (2.9.10) and the current release: leaf-node JetStream rules changed between them.
for (const version of ['debian', 'current'] as const) {
  describe(`two regions, a hub and a leaf node (${version} nats-server)`, () => {
    let hub: NatsCluster;
    let link: TcpProxy;
    let regionB: NatsLeaf;
    let fleet: Fleet;
    let d: Drover;

    before(async () => {
      const relayPort = await freePort();
      hub = await startNats({ servers: 1, version, secure: true, leafnodes: { advertisePort: relayPort } });
      const [leafPort] = hub.leafPorts;
      link = await startTcpProxy(leafPort ?? 0, { port: relayPort });
      regionB = await hub.startLeaf({ name: 'region-b', hubPort: link.port });
      fleet = createFleet(makeTempDir(`regions-${version}`), hub.urls, hub.security);
      d = await connect(fleet);
      const spec = (id: string, region: string, natsUrls?: string[]): AgentSpec => ({
        id,
        labels: { case: 'regions', region },
        ...(natsUrls ? { natsUrls } : {}),
      });
      await fleet.startHost(
        'region-a',
        inA.map((id) => spec(id, 'a')),
      );
      await fleet.startHost(
        'region-b',
        inB.map((id) => spec(id, 'b', regionB.urls)),
      );
    });

    after(async () => {
      await d?.close();
      await link?.close();
    });

    test("a job spanning both regions completes; region B's agents reach NATS through their leaf only", async () => {
      assert.deepEqual(await clientsOf(regionB.server.monitorPort), inB, 'the leaf serves region B, and only it');
      const onHub = await clientsOf(hub.servers[0]?.monitorPort ?? 0);
      for (const id of inB) assert.ok(!onHub.includes(id), `${id} has no connection of its own to the hub`);
      const summary = await runJob(d, fleet, { step: 'ping', selector: 'case=regions' });
      assert.equal(summary.job.state, 'succeeded');
      assert.deepEqual(summary.runs.map((r) => `${r.agentId}:${r.state}`).sort(), [
        ...[...inA, ...inB].sort().map((id) => `${id}:succeeded`),
      ]);
    });

    test("the link cut mid-job: region B's targets wait, then finish when it heals; nothing runs twice", async () => {
      const states = new Map<string, RunRecord['state']>();
      const finalAt = new Map<string, number>();
      const driving = runJob(d, fleet, { step: 'sleep', params: { seconds: 3 }, selector: 'case=regions' }, (run) => {
        states.set(run.agentId, run.state);
        if (isFinalTargetState(run.state) && !finalAt.has(run.agentId)) finalAt.set(run.agentId, Date.now());
      });
      await waitFor(() => [...inA, ...inB].every((id) => states.get(id) === 'running'), {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'every target running',
      });
      link.cut();
      const cutAt = Date.now();
      await waitFor(async () => !(await regionB.connected()), {
        timeoutMs: 10_000,
        what: 'the hub sees the leaf gone',
      });
      await waitFor(() => inA.every((id) => states.get(id) === 'succeeded'), {
        timeoutMs: 30_000,
        what: "region A's targets succeeded while the link is cut",
      });
      // Region B's steps end about now too, but nothing of theirs can reach the hub: they stay open.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      for (const id of inB) assert.equal(states.get(id), 'running', `${id} waits while its region is cut off`);
      link.heal();
      const healedAt = Date.now();
      const summary = await driving;
      assert.equal(summary.job.state, 'succeeded', JSON.stringify(summary.counts));
      for (const run of summary.runs) {
        assert.equal(run.state, 'succeeded', `${run.agentId}: ${run.state}`);
        assert.equal(
          fleet.journalStarts(run.agentId, run.order?.orderId ?? ''),
          1,
          `${run.agentId} ran its order once`,
        );
      }
      for (const id of inB) assert.ok((finalAt.get(id) ?? 0) >= healedAt, `${id} finished after the link healed`);
      for (const id of inA) assert.ok((finalAt.get(id) ?? Infinity) < healedAt, `${id} finished while cut`);
      assert.ok(healedAt - cutAt >= 6000);
      assert.ok(await regionB.connected(), 'the leaf is back');
    });
  });
}
