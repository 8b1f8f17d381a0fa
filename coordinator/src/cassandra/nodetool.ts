// `nodetool rebuild` argument vectors, following the rules of cassandra.md for 3.11 to 5.x:
// `-ks` takes ONE keyspace, `-ts` needs `-ks`, `-s` (a host) is ignored without `-ts`, and `--` ends
// the options so that a DC name starting with "-" is still read as the source DC.
//
// Every `-ts` range must lie inside ONE range the node owns, and a node owns one range per ring
// token (StorageService.rebuild checks `localRange.contains(specifiedRange)` against the per-token
// ranges of getAddressReplicas). So (a,b],(b,c] is accepted but the merged (a,c] is rejected with
// "is not a range that is owned by this node" whenever b is a ring token: ranges are never merged.
//
// Example: rebuildArgv('ks1', [['-100', '0'], ['50', '90']], '10.0.0.1', 'aws-use1') →
//   ['rebuild', '-ks', 'ks1', '-ts', '(-100,0],(50,90]', '-s', '10.0.0.1', '--', 'aws-use1']

import { InvalidInputError } from '@drover/shared';
import type { TokenRange } from './types.ts';

/** The `-ts` value: `(s1,e1],(s2,e2]`. */
export function formatTokenRanges(ranges: readonly TokenRange[]): string {
  return ranges.map(([start, end]) => `(${start},${end}]`).join(',');
}

/** Arguments after `nodetool` for one rebuild of `ranges` of `keyspace` streamed from `source` only. */
export function rebuildArgv(
  keyspace: string,
  ranges: readonly TokenRange[],
  source: string,
  sourceDc: string,
): string[] {
  return rebuildArgvFor(keyspace, formatTokenRanges(ranges), source, sourceDc);
}

/** {@link rebuildArgv} with the `-ts` value already formatted (the planner builds it from a cache). */
export function rebuildArgvFor(keyspace: string, tokenRanges: string, source: string, sourceDc: string): string[] {
  if (keyspace === '' || keyspace.includes(',')) {
    throw new InvalidInputError('keyspace', keyspace, 'exactly one keyspace name (-ks takes one)');
  }
  if (source === '' || source.includes(',')) throw new InvalidInputError('source', source, 'exactly one host');
  if (tokenRanges === '') throw new InvalidInputError('ranges', tokenRanges, 'at least one range (-s needs -ts)');
  return ['rebuild', '-ks', keyspace, '-ts', tokenRanges, '-s', source, '--', sourceDc];
}

/** Cuts `ranges` into consecutive groups whose `-ts` text stays within `maxChars`. */
export function splitForArgv(ranges: readonly TokenRange[], maxChars: number): TokenRange[][] {
  const groups: TokenRange[][] = [];
  let group: TokenRange[] = [];
  let length = 0;
  for (const range of ranges) {
    // "(start,end]", plus a separating comma after the first range of a group.
    const size = range[0].length + range[1].length + 3;
    if (group.length > 0 && length + 1 + size > maxChars) {
      groups.push(group);
      group = [];
      length = 0;
    }
    length += group.length > 0 ? 1 + size : size;
    group.push(range);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
