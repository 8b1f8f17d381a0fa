// Host facts: the full set (systeminformation; sent at registration and by the `facts` step) and a
// cheap summary (node:os only; sent with every `ping`). Collection must never hang an agent: every
// systeminformation call runs in parallel under its own timeout and falls back to what node:os knows.
// systeminformation (two dozen modules) is imported on the first full collection only: an agent that
// registers with the summary and is never asked for facts does not carry it (idle memory, issue 12).
import os from 'node:os';
import { type FactsSummary, FactsSummarySchema, type HostFacts, HostFactsSchema } from '@drover/shared';

/**
 * How long one systeminformation call may take. Measured on a 2-core Debian 12 VM: all five calls
 * together take ~300 ms (osInfo and cpu are the slowest; they spawn helpers such as `lsb_release`).
 * A hung helper (a stale NFS mount under `df`, for instance) must not stall registration.
 */
export const FACTS_CALL_TIMEOUT_MS = 5_000;

export interface CollectFactsOptions {
  /** Per-call timeout. @default FACTS_CALL_TIMEOUT_MS */
  callTimeoutMs?: number;
}

/** Resolves to the call's value, or to `undefined` when it throws or does not finish in time. */
async function withTimeout<T>(call: () => Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    // The abandoned call keeps running; it must not keep the process alive on its own.
    timer.unref();
  });
  try {
    return await Promise.race([call().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Full host facts, validated against the shared HostFactsSchema. Never rejects for a slow or failing probe. */
export async function collectFacts(options: CollectFactsOptions = {}): Promise<HostFacts> {
  const timeoutMs = options.callTimeoutMs ?? FACTS_CALL_TIMEOUT_MS;
  const { default: si } = await import('systeminformation');
  const [osInfo, cpu, mem, fsSize, nets] = await Promise.all([
    withTimeout(() => si.osInfo(), timeoutMs),
    withTimeout(() => si.cpu(), timeoutMs),
    withTimeout(() => si.mem(), timeoutMs),
    withTimeout(() => si.fsSize(), timeoutMs),
    withTimeout(() => si.networkInterfaces(), timeoutMs),
  ]);
  const cpus = os.cpus();
  // networkInterfaces() returns a single object when asked for the default interface only; normalise.
  const netList = nets === undefined ? undefined : Array.isArray(nets) ? nets : [nets];
  return HostFactsSchema.parse({
    hostname: osInfo?.hostname || os.hostname(),
    os: {
      platform: osInfo?.platform || os.platform(),
      distro: osInfo?.distro ?? '',
      release: osInfo?.release ?? '',
      kernel: osInfo?.kernel || os.release(),
      arch: osInfo?.arch || os.arch(),
    },
    cpu: {
      manufacturer: cpu?.manufacturer ?? '',
      brand: cpu?.brand || cpus[0]?.model || '',
      cores: cpu?.cores || os.availableParallelism(),
      physicalCores: cpu?.physicalCores || cpu?.cores || os.availableParallelism(),
    },
    memory: {
      totalBytes: mem?.total ?? os.totalmem(),
      availableBytes: mem?.available ?? os.freemem(),
    },
    // `fs` carries the filesystem TYPE (xfs, ext4…), which is what a Kafka/Cassandra operator checks;
    // systeminformation calls that field `type` and puts the device in its `fs`.
    disks: (fsSize ?? []).map((d) => ({
      mount: d.mount,
      fs: d.type,
      sizeBytes: d.size ?? 0,
      usedBytes: d.used ?? 0,
    })),
    network: netList ? netList.map((n) => ({ iface: n.iface, ip4: n.ip4, ip6: n.ip6, mac: n.mac })) : osNetwork(),
    uptimeSec: Math.round(os.uptime()),
  });
}

/** Interfaces from node:os, the fallback when systeminformation did not answer. */
function osNetwork(): HostFacts['network'] {
  return Object.entries(os.networkInterfaces()).map(([iface, addrs = []]) => ({
    iface,
    ip4: addrs.find((a) => a.family === 'IPv4')?.address ?? '',
    ip6: addrs.find((a) => a.family === 'IPv6')?.address ?? '',
    mac: addrs[0]?.mac ?? '',
  }));
}

/** A summary cheap enough to send with every ping: synchronous, node:os only. */
export function factsSummary(): FactsSummary {
  return FactsSummarySchema.parse({
    hostname: os.hostname(),
    os: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpus: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    uptimeSec: Math.round(os.uptime()),
  });
}
