// Reads a znode subtree through one session: data, ACL and stat of every znode, top-down (breadth
// first). Requests of a level go out together, up to `concurrency` at a time (node-zookeeper-client
// pipelines them on its one connection), so a tree of N znodes costs about N/concurrency round trips.
// A znode gone between the listing and the read is left out.
import type { Session, ZnodeAcl, ZnodeStat } from '../../clients/zookeeper/index.ts';

export interface ZnodeRecord {
  path: string;
  data: Buffer;
  acl: ZnodeAcl[];
  stat: ZnodeStat;
}

export const TREE_READ_CONCURRENCY = 32;

export const childPath = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

/** Every znode under `root` (itself first), or [] when `root` does not exist. */
export async function readTree(
  session: Session,
  root: string,
  options: { signal: AbortSignal; concurrency?: number },
): Promise<ZnodeRecord[]> {
  const concurrency = options.concurrency ?? TREE_READ_CONCURRENCY;
  const records: ZnodeRecord[] = [];
  let level = [root];
  while (level.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += concurrency) {
      options.signal.throwIfAborted();
      const read = await Promise.all(level.slice(i, i + concurrency).map((path) => readOne(session, path)));
      for (const one of read) {
        if (!one) continue;
        records.push(one.record);
        for (const name of one.children.sort()) next.push(childPath(one.record.path, name));
      }
    }
    level = next;
  }
  return records;
}

async function readOne(session: Session, path: string): Promise<{ record: ZnodeRecord; children: string[] } | null> {
  const [node, acl, children] = await Promise.all([
    session.getNode(path),
    session.getACL(path),
    session.listChildren(path),
  ]);
  if (!node || !acl || !children) return null;
  return { record: { path, data: node.data, acl, stat: node.stat }, children };
}
