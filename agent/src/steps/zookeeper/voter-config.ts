// A VOTER's static zoo.cfg, read and changed for `zookeeper.voters-add-observers` (pure: text in, text
// out). Ensembles without reconfigEnabled learn a new observer only from their config files, so each
// voter's file gains the observer's line (`server.11=h:2888:3888:observer;2181`) before a restart;
// the rollback takes it out again. Every other line is kept as it is, in its place; the new lines go
// right after the file's last `server.N` line. Lines are rendered from validated numbers and hosts
// only (formatServerLine checks them again).
import { InvalidInputError, type ZooKeeperObserverServer } from '@drover/shared';
import { formatServerLine, parseServerLine, type ServerEntry, sameServer } from '../../clients/zookeeper/index.ts';

export interface VoterConfigFacts {
  /** `reconfigEnabled=true` in the file (ZooKeeper's default is false since 3.5.3). */
  reconfigEnabled: boolean;
  /** The file names a dynamic config file: its server lines live there, not here. */
  dynamicConfigFile: string | null;
  /** Every `server.N` line of the file, parsed. */
  servers: ServerEntry[];
}

/** `key=value` settings and server lines of a zoo.cfg; comments and blanks skipped. */
export function readVoterConfig(text: string, source: string): VoterConfigFacts {
  const servers: ServerEntry[] = [];
  let reconfigEnabled = false;
  let dynamicConfigFile: string | null = null;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key.startsWith('server.')) {
      const entry = parseServerLine(line);
      if (!entry) throw new InvalidInputError(`${source} line ${i + 1}`, line, 'a readable server.N line');
      servers.push(entry);
    } else if (key === 'reconfigEnabled') reconfigEnabled = value.toLowerCase() === 'true';
    else if (key === 'dynamicConfigFile') dynamicConfigFile = value;
  }
  return { reconfigEnabled, dynamicConfigFile, servers };
}

/** The observer's line as every member must list it. */
export const observerServerLine = (o: ZooKeeperObserverServer): string => formatServerLine({ ...o, role: 'observer' });

export interface ConfigChange {
  /** The whole new file (equal to the input when nothing changes). */
  text: string;
  /** The lines added (add) or removed (remove). */
  changed: string[];
}

const lineIndexOf = (lines: readonly string[], id: number): number =>
  lines.findIndex((l) => parseServerLine(l.trim())?.id === id && l.trim().startsWith(`server.${id}=`));

/**
 * Adds each observer's line unless the file lists it already (same id, address, ports, observer).
 * Throws InvalidInputError, naming the observer, when the file gives its id to another server (a
 * voter, or an observer elsewhere): nothing is changed then.
 */
export function addObserverLines(
  text: string,
  observers: readonly ZooKeeperObserverServer[],
  source: string,
): ConfigChange {
  const facts = readVoterConfig(text, source);
  const missing: string[] = [];
  for (const [i, observer] of observers.entries()) {
    const wanted = observerServerLine(observer);
    const listed = facts.servers.find((s) => s.id === observer.id);
    if (!listed) missing.push(wanted);
    else if (!sameServer(listed, { ...observer, role: 'observer' }))
      throw new InvalidInputError(
        `params.observers.${i}`,
        observer,
        `an id ${source} does not give to another server (it lists server.${listed.id} as ${listed.host}:${listed.quorumPort}:${listed.electionPort}:${listed.role})`,
      );
  }
  if (missing.length === 0) return { text, changed: [] };
  const lines = text.split('\n');
  let last = -1;
  for (const [i, l] of lines.entries()) if (l.trim().startsWith('server.')) last = i;
  // No server line at all: at the end (before the final newline, if any).
  const at = last >= 0 ? last + 1 : lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  lines.splice(at, 0, ...missing);
  return { text: lines.join('\n'), changed: missing };
}

/**
 * Removes each observer's line. Throws InvalidInputError when the file lists the id as a voter
 * (participant) or at another address: that is not the observer the order names.
 */
export function removeObserverLines(
  text: string,
  observers: readonly ZooKeeperObserverServer[],
  source: string,
): ConfigChange {
  const facts = readVoterConfig(text, source);
  const lines = text.split('\n');
  const removed: string[] = [];
  for (const [i, observer] of observers.entries()) {
    const listed = facts.servers.find((s) => s.id === observer.id);
    if (!listed) continue;
    if (!sameServer(listed, { ...observer, role: 'observer' }))
      throw new InvalidInputError(
        `params.observers.${i}`,
        observer,
        `an observer ${source} lists (it lists server.${listed.id} as ${listed.host}:${listed.quorumPort}:${listed.electionPort}:${listed.role})`,
      );
  }
  for (const observer of observers) {
    for (let at = lineIndexOf(lines, observer.id); at >= 0; at = lineIndexOf(lines, observer.id)) {
      removed.push((lines[at] as string).trim());
      lines.splice(at, 1);
    }
  }
  return { text: removed.length === 0 ? text : lines.join('\n'), changed: removed };
}

/** Whether a membership (from `conf`) lists every observer (want true) or none of them (want false). */
export function membershipHas(
  members: readonly ServerEntry[],
  observers: readonly ZooKeeperObserverServer[],
  want: boolean,
): boolean {
  return observers.every((o) => members.some((m) => sameServer(m, { ...o, role: 'observer' })) === want);
}
