// How a keyspace's replication map places replicas in one datacenter, as the steps that take a DC
// out (decommission) or empty it (node-wipe) must judge it.

const NOT_REPLICATED = /LocalStrategy|EverywhereStrategy|MetaStrategy/;

export interface DcReplication {
  /** local: not replicated (system, schema); simple: SimpleStrategy, every DC; nts: per-DC factors. */
  kind: 'local' | 'simple' | 'nts';
  /** Replicas in the datacenter (SimpleStrategy: its replication_factor). */
  here: number;
  /** Another datacenter holds replicas too (NetworkTopologyStrategy only). */
  elsewhere: boolean;
}

export function dcReplication(replication: Record<string, string>, datacenter: string): DcReplication {
  const cls = replication.class ?? '';
  if (cls === '' || NOT_REPLICATED.test(cls)) return { kind: 'local', here: 0, elsewhere: false };
  if (/SimpleStrategy/.test(cls))
    return { kind: 'simple', here: Number(replication.replication_factor ?? 0) || 0, elsewhere: false };
  const factor = (n: string | undefined) => Number.parseInt(n ?? '0', 10) || 0;
  return {
    kind: 'nts',
    here: factor(replication[datacenter]),
    elsewhere: Object.entries(replication).some(([dc, n]) => dc !== 'class' && dc !== datacenter && factor(n) > 0),
  };
}
