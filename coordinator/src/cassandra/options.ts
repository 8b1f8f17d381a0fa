// Options of the rebuild planner: small documented fields, defaults and checks in one place.

import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import type { Ring } from './ring.ts';

export interface PlanRebuildOptions {
  /** DC that holds the data (the old cloud). */
  sourceDc: string;
  /** DC to rebuild (the new cloud), already added to the keyspaces' replication. */
  destDc: string;
  /** Keyspaces to plan. @default every keyspace whose class is not LocalStrategy */
  keyspaces?: readonly string[];
  /** Addresses of nodes known to be down (either DC). @default [] */
  down?: readonly string[];
  /**
   * Most rebuilds that stream from one source node at the same time. Each rebuild is one stream
   * session out of the source, capped by its outbound stream throughput (24 MiB/s by default), so
   * this bounds the extra load on an old-DC node still serving clients. @default 2
   */
  maxStreamsPerSource?: number;
  /**
   * Longest `-ts` argument; a longer (node, keyspace, source) group is split into numbered parts.
   * Linux refuses a single argument over 128 KiB. @default 65536
   */
  maxTokenRangesChars?: number;
}

export const DEFAULT_MAX_STREAMS_PER_SOURCE = 2;
export const DEFAULT_MAX_TOKEN_RANGES_CHARS = 65_536;

export interface ResolvedPlanOptions {
  readonly sourceDc: string;
  readonly destDc: string;
  readonly sourceDcId: number;
  readonly destDcId: number;
  readonly keyspaces: readonly string[] | undefined;
  /** Sorted, de-duplicated addresses. */
  readonly down: readonly string[];
  /** By node id: 1 when the node is down. */
  readonly isDown: Uint8Array;
  readonly maxStreamsPerSource: number;
  readonly maxTokenRangesChars: number;
}

/** Fills defaults and checks every option against the ring; all problems are reported together. */
export function resolvePlanOptions(ring: Ring, options: PlanRebuildOptions): ResolvedPlanOptions {
  const problems: InvalidInputError[] = [];
  const dcList = ring.dcs.join(', ');
  const sourceDcId = ring.dcId.get(options.sourceDc);
  const destDcId = ring.dcId.get(options.destDc);
  if (sourceDcId === undefined) problems.push(new InvalidInputError('sourceDc', options.sourceDc, `one of ${dcList}`));
  if (destDcId === undefined) problems.push(new InvalidInputError('destDc', options.destDc, `one of ${dcList}`));
  if (options.sourceDc === options.destDc) {
    problems.push(new InvalidInputError('destDc', options.destDc, 'a DC other than the source DC'));
  }
  const keyspaces = options.keyspaces?.map((k) => k.trim());
  if (keyspaces !== undefined && (keyspaces.length === 0 || keyspaces.some((k) => k === ''))) {
    problems.push(new InvalidInputError('keyspaces', options.keyspaces, 'a non-empty list of keyspace names'));
  }
  const isDown = new Uint8Array(ring.nodes.length);
  const down = [...new Set((options.down ?? []).map((a) => a.trim()))].sort();
  for (const address of down) {
    const id = ring.nodeId.get(address);
    if (id === undefined)
      problems.push(new InvalidInputError('down', address, 'the address of a node in the topology'));
    else isDown[id] = 1;
  }
  const maxStreamsPerSource = options.maxStreamsPerSource ?? DEFAULT_MAX_STREAMS_PER_SOURCE;
  if (!Number.isInteger(maxStreamsPerSource) || maxStreamsPerSource < 1) {
    problems.push(new InvalidInputError('maxStreamsPerSource', maxStreamsPerSource, 'an integer >= 1'));
  }
  const maxTokenRangesChars = options.maxTokenRangesChars ?? DEFAULT_MAX_TOKEN_RANGES_CHARS;
  if (!Number.isInteger(maxTokenRangesChars) || maxTokenRangesChars < 100 || maxTokenRangesChars > 131_072) {
    problems.push(new InvalidInputError('maxTokenRangesChars', maxTokenRangesChars, 'an integer in [100, 131072]'));
  }
  if (problems.length > 0 || sourceDcId === undefined || destDcId === undefined) {
    throw new InvalidInputErrors(problems);
  }
  return {
    sourceDc: options.sourceDc,
    destDc: options.destDc,
    sourceDcId,
    destDcId,
    keyspaces,
    down,
    isDown,
    maxStreamsPerSource,
    maxTokenRangesChars,
  };
}
