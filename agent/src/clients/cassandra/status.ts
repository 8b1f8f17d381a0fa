// The node-status signal's source: what state the local node is in, from CQL only (cheap enough to
// read every few seconds): its own gossip status (system_views.gossip_info) and its live streaming
// sessions (system_views.streaming). A node that does not answer is "down". Available means normal
// and streaming nothing: the only state in which a schema change such as a table drop cannot break a
// rebuild ("Table <id> was dropped during streaming").
import type { CassandraNodeState, CassandraNodeStatus } from '@drover/shared';
import type { CqlSession } from './cql.ts';
import { readLocal, readStreaming } from './tables.ts';

function stateOf(gossip: string): CassandraNodeState {
  const word = gossip.split(',')[0]?.toUpperCase() ?? '';
  if (word === 'NORMAL') return 'normal';
  if (word === 'BOOT' || word === 'BOOT_REPLACE') return 'joining';
  if (word === 'LEAVING' || word === 'LEFT' || word === 'REMOVING' || word === 'REMOVED') return 'leaving';
  if (word === 'SHUTDOWN' || word === 'HIBERNATE') return 'draining';
  return 'joining';
}

export async function readNodeStatus(
  cql: CqlSession,
  agent: string,
  fallbackAddress: string,
): Promise<CassandraNodeStatus> {
  const at = Date.now();
  try {
    const local = await readLocal(cql);
    const rows = await cql.execute('SELECT address, status, status_with_port FROM system_views.gossip_info');
    const own = rows.find((r) => String(r.get('address')) === local.address);
    const gossip = String(own?.get('status_with_port') ?? own?.get('status') ?? '');
    let state = stateOf(gossip);
    const active = (await readStreaming(cql)).filter((s) => s.status === 'init' || s.status === 'start');
    const streaming = {
      sessions: active.length,
      bytesReceived: active.reduce((n, s) => n + s.bytesReceived, 0),
      bytesToReceive: active.reduce((n, s) => n + s.bytesToReceive, 0),
    };
    if (state === 'normal' && active.length > 0)
      state = active.some((s) => /rebuild/i.test(s.operation)) ? 'rebuilding' : 'streaming';
    const detail =
      active.length > 0
        ? `${active.length} ${active.map((s) => s.operation).join('/')} session(s)`
        : `gossip ${gossip.split(',')[0] || '(none)'}`;
    return {
      agent,
      address: local.address,
      datacenter: local.dc,
      state,
      available: state === 'normal',
      streaming,
      detail,
      at,
    };
  } catch (error) {
    return {
      agent,
      address: fallbackAddress,
      datacenter: '',
      state: 'down',
      available: false,
      streaming: { sessions: 0, bytesReceived: 0, bytesToReceive: 0 },
      detail: ((error as Error).message.split('\n')[0] ?? '').slice(0, 300),
      at,
    };
  }
}
