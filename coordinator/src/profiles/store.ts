// Per-cluster profiles in KV drover-profiles (`kafka.<cluster>`): written by `drover profile set`
// after validation (with history, so a change can be seen and undone), read by agents at run time
// (kafka.broker-configure) and by `drover profile get|diff|list`. Every change is audited.
import { type KafkaProfile, KafkaProfileSchema, KV_PROFILES, type ProfileKind, profileKey } from '@drover/shared';
import { type KV, Kvm } from '@nats-io/kv';
import { audit } from '../engine/audit.ts';
import type { Drover } from '../engine/index.ts';
import { readAll } from '../engine/kv-read.ts';

export async function openProfiles(d: Drover): Promise<KV> {
  const replicas = Number(process.env.DROVER_STREAM_REPLICAS ?? 1);
  return new Kvm(d.nc).create(KV_PROFILES, { history: 10, storage: 'file', replicas });
}

export interface StoredProfile {
  kind: ProfileKind;
  profile: KafkaProfile;
  revision: number;
  updatedAt: number;
}

export async function getProfile(kv: KV, kind: ProfileKind, cluster: string): Promise<StoredProfile | undefined> {
  const entry = await kv.get(profileKey(kind, cluster));
  if (entry?.operation !== 'PUT') return undefined;
  return {
    kind,
    profile: KafkaProfileSchema.parse(entry.json()),
    revision: entry.revision,
    updatedAt: entry.created.getTime(),
  };
}

export async function listProfiles(kv: KV): Promise<StoredProfile[]> {
  const all = await readAll(kv, 'kafka.*', (v) => KafkaProfileSchema.safeParse(v).data);
  return [...all.entries()]
    .map(([, profile]) => ({ kind: 'kafka' as const, profile, revision: 0, updatedAt: 0 }))
    .sort((a, b) => a.profile.cluster.localeCompare(b.profile.cluster));
}

/** Stores a validated profile; returns the new revision. */
export async function setProfile(d: Drover, kv: KV, profile: KafkaProfile, by: string): Promise<number> {
  const revision = await kv.put(profileKey('kafka', profile.cluster), JSON.stringify(profile));
  await audit(d, 'profile', profile.cluster, {
    type: 'profile-set',
    kind: 'kafka',
    cluster: profile.cluster,
    revision,
    by,
    at: Date.now(),
  });
  return revision;
}

/** Flat `path: value` differences between two documents (added +, removed -, changed ~). */
export function diffDocuments(before: unknown, after: unknown): string[] {
  const flat = (value: unknown, prefix: string, out: Map<string, string>) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flat(v, prefix ? `${prefix}.${k}` : k, out);
    } else out.set(prefix, JSON.stringify(value));
    return out;
  };
  const a = flat(before, '', new Map());
  const b = flat(after, '', new Map());
  const lines: string[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (!b.has(key)) lines.push(`- ${key}: ${a.get(key)}`);
    else if (!a.has(key)) lines.push(`+ ${key}: ${b.get(key)}`);
    else if (a.get(key) !== b.get(key)) lines.push(`~ ${key}: ${a.get(key)} -> ${b.get(key)}`);
  }
  return lines;
}
