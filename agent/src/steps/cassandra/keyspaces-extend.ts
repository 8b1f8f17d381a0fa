// `cassandra.keyspaces-extend` (run by one delegate agent): adds a datacenter to every keyspace's
// replication (or removes one: the rollback, and the old DC's retirement). SimpleStrategy keyspaces
// become NetworkTopologyStrategy with their RF in the source datacenter first, which keeps placement
// only when that datacenter has a single rack (otherwise refused: the data would sit on the wrong
// nodes until a repair). Everything is checked before the first ALTER; after each, the step waits for
// schema agreement. Refused while a node is down unless `allowDown`.
import {
  CassandraDcSchema,
  type CassandraKeyspacesExtendParamsType,
  cassandraKeyspacesExtendStep,
  DroverError,
  InvalidInputError,
  InvalidInputErrors,
} from '@drover/shared';
import {
  type CqlSession,
  type NodeLiveness,
  readKeyspaces,
  readSchemaVersions,
} from '../../clients/cassandra/index.ts';
import { implementStep, type StepContext } from '../context.ts';
import { pause } from '../pause.ts';
import { withCassandra } from './node.ts';

/** Keyspaces with replication the migration must carry besides the user's own. */
export const REPLICATED_SYSTEM_KEYSPACES = ['system_auth', 'system_distributed', 'system_traces'];
const LOCAL_ONLY = /LocalStrategy|EverywhereStrategy|MetaStrategy/;
const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy';

interface Change {
  keyspace: string;
  before: Record<string, string>;
  after: Record<string, string>;
}

const shortClass = (c: string | undefined) => (c ?? '').replace('org.apache.cassandra.locator.', '');
export const formatReplication = (r: Record<string, string>): string =>
  `{${Object.entries(r)
    .map(([k, v]) => `'${k}': '${k === 'class' ? shortClass(v) : v}'`)
    .join(', ')}}`;

/** The new replication maps, every problem reported at once; nothing is changed here. */
export function planChanges(
  params: CassandraKeyspacesExtendParamsType,
  keyspaces: Array<{ name: string; replication: Record<string, string> }>,
  nodes: NodeLiveness[],
): { changes: Change[]; unchanged: string[]; placementChanged: string[] } {
  const problems: InvalidInputError[] = [];
  const byName = new Map(keyspaces.map((k) => [k.name, k]));
  const dcs = new Set(nodes.map((n) => n.datacenter));
  const wanted =
    params.keyspaces ??
    keyspaces
      .filter((k) => !k.name.startsWith('system') || REPLICATED_SYSTEM_KEYSPACES.includes(k.name))
      .filter((k) => !LOCAL_ONLY.test(k.replication.class ?? ''))
      .map((k) => k.name);
  if (params.action === 'add' && !dcs.has(params.datacenter))
    problems.push(
      new InvalidInputError('params.datacenter', params.datacenter, `a datacenter with nodes (${[...dcs].join(', ')})`),
    );
  const changes: Change[] = [];
  const unchanged: string[] = [];
  const placementChanged: string[] = [];
  for (const [i, name] of wanted.entries()) {
    const ks = byName.get(name);
    const field = `params.keyspaces[${i}]`;
    if (!ks) {
      problems.push(new InvalidInputError(field, name, `an existing keyspace (${[...byName.keys()].join(', ')})`));
      continue;
    }
    const cls = ks.replication.class ?? '';
    if (LOCAL_ONLY.test(cls)) {
      problems.push(new InvalidInputError(field, name, `a replicated keyspace (it uses ${shortClass(cls)})`));
      continue;
    }
    let before: Record<string, string> = { ...ks.replication };
    let after: Record<string, string>;
    if (/SimpleStrategy/.test(cls)) {
      if (params.action === 'remove') {
        unchanged.push(name);
        continue;
      }
      const source = params.sourceDatacenter;
      if (!source) {
        problems.push(
          new InvalidInputError('params.sourceDatacenter', source, `the datacenter ${name} (SimpleStrategy) lives in`),
        );
        continue;
      }
      const racks = new Set(nodes.filter((n) => n.datacenter === source).map((n) => n.rack));
      if (racks.size > 1 && params.allowPlacementChange.includes(name)) placementChanged.push(name);
      else if (racks.size > 1) {
        problems.push(
          new InvalidInputError(
            field,
            name,
            `a NetworkTopologyStrategy keyspace: it uses SimpleStrategy and ${source} has ${racks.size} racks, so ` +
              'converting it would move replicas (list it in allowPlacementChange and repair it afterwards, or convert and repair first)',
          ),
        );
        continue;
      }
      before = { class: cls, replication_factor: ks.replication.replication_factor ?? '1' };
      after = {
        class: NTS,
        [source]: before.replication_factor!,
        [params.datacenter]: String(params.replicationFactor),
      };
    } else {
      const { class: _c, ...dcMap } = ks.replication;
      for (const dc of Object.keys(dcMap))
        if (!CassandraDcSchema.safeParse(dc).success)
          problems.push(new InvalidInputError(`keyspace ${name} replication`, dc, 'datacenter names Drover can quote'));
      const next = { ...dcMap };
      if (params.action === 'add') next[params.datacenter] = String(params.replicationFactor);
      else delete next[params.datacenter];
      if (Object.keys(next).length === 0) {
        problems.push(
          new InvalidInputError(field, name, `a keyspace left with a datacenter after removing ${params.datacenter}`),
        );
        continue;
      }
      after = { class: NTS, ...next };
      if (JSON.stringify(Object.entries(dcMap).sort()) === JSON.stringify(Object.entries(next).sort())) {
        unchanged.push(name);
        continue;
      }
    }
    changes.push({ keyspace: name, before, after });
  }
  if (problems.length > 0) throw new InvalidInputErrors(problems);
  return { changes, unchanged, placementChanged };
}

async function waitForSchemaAgreement(ctx: StepContext, cql: CqlSession, timeoutMs: number, up: Set<string>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const versions = [...(await readSchemaVersions(cql)).entries()].filter(([address]) => up.has(address));
    if (new Set(versions.map(([, v]) => v)).size <= 1) return true;
    if (Date.now() > deadline) return false;
    await pause(500, ctx.signal);
    ctx.signal.throwIfAborted();
  }
}

export const cassandraKeyspacesExtendImplementation = implementStep(cassandraKeyspacesExtendStep, (ctx, params) =>
  withCassandra(ctx, async ({ cql, nodetool }) => {
    const nodes = await nodetool.status({ signal: ctx.signal });
    const down = nodes.filter((n) => !n.up);
    if (down.length > 0 && !params.allowDown)
      throw new DroverError(
        `node(s) ${down.map((n) => `${n.address} (${n.datacenter})`).join(', ')} down (nodetool status): ` +
          'a replication change is not seen by a node that is down; bring it back or set allowDown',
      );
    const { changes, unchanged, placementChanged } = planChanges(params, await readKeyspaces(cql), nodes);
    const up = new Set(nodes.filter((n) => n.up).map((n) => n.address));
    let agreed = true;
    for (const [i, change] of changes.entries()) {
      ctx.signal.throwIfAborted();
      const map = Object.entries(change.after)
        .map(([k, v]) => `'${k}': '${v}'`)
        .join(', ');
      await cql.execute(`ALTER KEYSPACE "${change.keyspace}" WITH replication = {${map}}`);
      ctx.progress(
        `${change.keyspace}: ${formatReplication(change.before)} → ${formatReplication(change.after)}`,
        ((i + 1) / changes.length) * 100,
      );
      agreed = (await waitForSchemaAgreement(ctx, cql, params.schemaAgreementTimeoutMs, up)) && agreed;
    }
    if (placementChanged.length > 0)
      ctx.progress(
        `converted from SimpleStrategy with replicas moved in ${params.sourceDatacenter}: ${placementChanged.join(', ')}; repair them there (nodetool repair -full <keyspace>)`,
      );
    return {
      action: params.action,
      datacenter: params.datacenter,
      changed: changes.map((c) => ({
        keyspace: c.keyspace,
        before: formatReplication(c.before),
        after: formatReplication(c.after),
      })),
      unchanged,
      placementChanged,
      schemaAgreed: agreed,
    };
  }),
);
