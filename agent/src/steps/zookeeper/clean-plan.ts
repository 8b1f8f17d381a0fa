// The chroot cleaner's decisions as pure functions of what was read (tested without ZooKeeper):
// whether the ensemble config lists only destination servers, whether a top-level znode is a stopped
// Kafka cluster's chroot, the order of deletion and its cut into multi-ops under jute.maxbuffer.
//
// Restart: within a chroot everything is deleted bottom-up EXCEPT the chroot's identity, which goes
// last and in one multi-op of its own: `<c>/cluster/id`, `<c>/cluster`, `<c>` (a multi-op is atomic).
// So a chroot is either gone or still holds its `cluster/id`, and a run stopped midway is started
// again and passes the same checks on what is left (no broker can register in a half-deleted chroot
// unnoticed: its `brokers/ids` would be found non-empty, or the final delete fails NOT_EMPTY).
//
// Worked example, chroot /kafka-b holding cluster/id, brokers/ids, brokers/topics/t and admin:
//   body  (deepest first, then by path): /kafka-b/brokers/ids, /kafka-b/brokers/topics/t,
//          /kafka-b/admin, /kafka-b/brokers/topics, /kafka-b/brokers
//   tail  (one multi-op): /kafka-b/cluster/id, /kafka-b/cluster, /kafka-b
import type { ZooKeeperMember } from '@drover/shared';
import type { EnsembleConfig, ServerEntry } from '../../clients/zookeeper/index.ts';
import type { CleanProblem } from './errors.ts';

/** Everything read about one top-level znode other than /zookeeper and the kept chroot. */
export interface ChrootSurvey {
  chroot: string;
  /** `<chroot>/cluster/id`'s data as text; null when it does not exist. */
  clusterIdText: string | null;
  /** Children of `<chroot>/brokers/ids` (registered, i.e. live, brokers); empty when it does not exist. */
  brokerIds: string[];
  /** Whether `<chroot>/controller` exists. */
  controller: boolean;
  /** Paths of ephemeral znodes (a live session owns them) anywhere under the chroot. */
  ephemerals: string[];
  znodes: number;
  bytes: number;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const line = (m: ServerEntry): string =>
  `server.${m.id}=${m.host}:${m.quorumPort}:${m.electionPort}:${m.role}${m.clientPort === null ? '' : `;${m.clientPort}`}`;

/**
 * Every server /zookeeper/config lists must be a destination member (same id, same host, same client
 * port when both say one): a server outside it means the ensemble is still joined to the source, and a
 * delete here would delete there. The local server must be a member too (the step runs on the
 * destination, not on a source node).
 */
export function checkMembership(
  config: EnsembleConfig,
  members: readonly ZooKeeperMember[],
  self: { myid: number; host: string },
): CleanProblem[] {
  const problems: CleanProblem[] = [];
  if (config.members.length === 0)
    problems.push({
      field: '/zookeeper/config',
      value: '(no server lines)',
      expected: 'the ensemble membership (ZooKeeper 3.5+ dynamic config)',
    });
  const ids = members.map((m) => m.id);
  for (const entry of config.members) {
    const member = members.find((m) => m.id === entry.id);
    if (!member)
      problems.push({
        field: '/zookeeper/config',
        value: line(entry),
        expected: `only destination servers (params.members: ${ids.join(', ')}); split the ensemble off the source first`,
      });
    else if (
      member.host !== entry.host ||
      (member.clientPort !== undefined && entry.clientPort !== null && member.clientPort !== entry.clientPort)
    )
      problems.push({
        field: '/zookeeper/config',
        value: line(entry),
        expected: `server.${member.id} at ${member.host}${member.clientPort === undefined ? '' : `:${member.clientPort}`} as params.members says`,
      });
  }
  if (!members.some((m) => m.id === self.myid && m.host === self.host))
    problems.push({
      field: 'params.members',
      value: ids,
      expected: `this agent's own server (server.${self.myid} at ${self.host}) among the destination members`,
    });
  return problems;
}

/** The `id` of a Kafka `cluster/id` znode (`{"version":"1","id":"…"}`); null when it is not one. */
export function readClusterId(text: string): string | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'id' in parsed) {
      const id = (parsed as { id: unknown }).id;
      if (typeof id === 'string' && id.length > 0) return id;
    }
  } catch {
    // not JSON: reported by the caller as "not a Kafka cluster id"
  }
  return null;
}

/** A top-level znode's name the cleaner may touch at all (it deletes only names a chroot param could hold). */
export function checkName(name: string): CleanProblem[] {
  return SAFE_NAME.test(name) && !name.includes('..')
    ? []
    : [{ field: '/', value: name, expected: 'top-level znodes named with letters, digits, ".", "_", "-" only' }];
}

/** Why this chroot must not be deleted; empty when it is a stopped Kafka cluster's other than `keptClusterId`. */
export function judgeChroot(survey: ChrootSurvey, keptClusterId: string): CleanProblem[] {
  const c = survey.chroot;
  const problems: CleanProblem[] = [];
  if (survey.clusterIdText === null)
    problems.push({
      field: `${c}/cluster/id`,
      value: null,
      expected: 'a Kafka cluster id (a top-level znode that is not a Kafka chroot is never deleted)',
    });
  else {
    const id = readClusterId(survey.clusterIdText);
    if (id === null)
      problems.push({
        field: `${c}/cluster/id`,
        value: survey.clusterIdText,
        expected: 'JSON with a Kafka cluster "id"',
      });
    else if (id === keptClusterId)
      problems.push({
        field: `${c}/cluster/id`,
        value: id,
        expected: 'another cluster than the kept one (it holds the same cluster id)',
      });
  }
  if (survey.brokerIds.length > 0)
    problems.push({
      field: `${c}/brokers/ids`,
      value: [...survey.brokerIds].sort(),
      expected: "no registered broker (stop that cluster's brokers first)",
    });
  if (survey.controller)
    problems.push({ field: `${c}/controller`, value: 'present', expected: 'no controller (a cluster still running)' });
  const others = survey.ephemerals.filter((p) => !p.startsWith(`${c}/brokers/ids/`) && p !== `${c}/controller`);
  if (others.length > 0)
    problems.push({
      field: `${c}`,
      value: others.slice(0, 5),
      expected: 'no ephemeral znode (a live session owns them)',
    });
  return problems;
}

/** Path depth: `/a` is 1, `/a/b` is 2. */
export const depth = (path: string): number => path.split('/').length - 1;

/** The chroot's identity, deleted last in one multi-op (see the file's first lines). */
export function tailOf(chroot: string): string[] {
  return [`${chroot}/cluster/id`, `${chroot}/cluster`, chroot];
}

/** Deletion order of a chroot's znodes: the body deepest first (ties by path), then the tail present. */
export function deletionOrder(chroot: string, paths: readonly string[]): { body: string[]; tail: string[] } {
  const tail = tailOf(chroot);
  const present = new Set(paths);
  const body = paths
    .filter((p) => !tail.includes(p))
    .sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0));
  return { body, tail: tail.filter((p) => present.has(p)) };
}

/**
 * Serialized bytes of a multi-op request apart from its ops: length prefix (4), request header (xid,
 * type: 8), the closing multi header (type, done, err: 9), with room to spare.
 */
export const MULTI_BASE_BYTES = 64;

/** One delete op in a multi-op: its multi header (9), the path (4 + UTF-8 bytes), the version (4); rounded up. */
export function deleteOpBytes(path: string): number {
  return 9 + 4 + Buffer.byteLength(path, 'utf8') + 4 + 8;
}

/** Cuts `paths` (in deletion order) into consecutive batches of at most `maxOps` ops and `maxBytes` bytes. */
export function planBatches(paths: readonly string[], limits: { maxOps: number; maxBytes: number }): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = MULTI_BASE_BYTES;
  for (const path of paths) {
    const op = deleteOpBytes(path);
    if (current.length > 0 && (current.length >= limits.maxOps || bytes + op > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = MULTI_BASE_BYTES;
    }
    current.push(path);
    bytes += op;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Serialized size of a batch, by the same count planBatches keeps under `maxBytes`. */
export const batchBytes = (batch: readonly string[]): number =>
  batch.reduce((sum, p) => sum + deleteOpBytes(p), MULTI_BASE_BYTES);
