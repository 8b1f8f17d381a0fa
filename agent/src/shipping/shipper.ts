// The agent's log shipper: a loop inside the agent that uploads its journal, audit records and
// service logs to the customer's bucket, piece by piece, each piece to a key that names it exactly
// (host, source, file generation, byte range), advancing a durable checkpoint only after S3 confirmed
// the upload. Nothing is buffered but the files themselves: a bucket that is down for an hour
// means the shipper is an hour behind, and it catches up when it returns. It writes what it does
// into KV drover-shipping-status (`drover logs status`).
import {
  ACCOUNT_LABEL,
  type AgentConfig,
  describeBucketError,
  fileObjectKey,
  KV_SHIPPING,
  KV_SHIPPING_STATUS,
  type ShippingSettings,
  type ShippingSourceStatus,
  type ShippingStatus,
  shippingAccountKey,
  type TrustedKeys,
  verifyFleetShipping,
} from '@drover/shared';
import type { Bucket } from '@drover/shared/bucket';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log.ts';
import type { StepBucket } from '../steps/context.ts';
import { Checkpoint, type FileGeneration } from './checkpoint.ts';
import { type FileSource, type FoundFile, fileSources, findFiles, nextPiece, readRange } from './files.ts';

export interface ShipperOptions {
  config: AgentConfig;
  trustedKeys: TrustedKeys;
  nc: NatsConnection;
  logger: Logger;
}

export interface Shipper {
  /** The customer's bucket for steps (a ZooKeeper backup…); undefined while this agent ships nowhere. */
  readonly bucket: StepBucket | undefined;
  status(): ShippingStatus;
  /** Runs one pass now (and resolves when it is done). */
  shipNow(): Promise<void>;
  stop(): Promise<void>;
}

/** How often an agent without settings looks for its account's fleet setting. */
const IDLE_POLL_MS = 10_000;
/** How often a shipping agent rewrites an unchanged status. */
const STATUS_REFRESH_MS = 20_000;
/** A live file's unfinished last line is shipped anyway after this many intervals. */
const PARTIAL_LINE_INTERVALS = 3;

interface Resolved {
  settings: ShippingSettings | undefined;
  configuredBy: ShippingStatus['configuredBy'];
  refused?: string | undefined;
}

export async function startShipper(options: ShipperOptions): Promise<Shipper> {
  const { config, nc, trustedKeys } = options;
  const log = options.logger.child({ component: 'shipping' });
  const checkpoint = await Checkpoint.open(`${config.stateDir}/shipping/checkpoint.json`);
  const sources = fileSources(config);
  const account = config.labels[ACCOUNT_LABEL];
  let resolved: Resolved = { settings: undefined, configuredBy: 'none' };
  let bucket: Bucket | undefined;
  let bucketFor = '';
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const abort = new AbortController();
  const counters = { uploads: 0, uploadedBytes: 0, lastUploadAt: undefined as number | undefined };
  let lastError: { message: string; at: number } | undefined;
  let loggedError = '';
  let statusKv: KV | undefined;

  const resolveSettings = async (): Promise<Resolved> => {
    if (config.shipping?.enabled === false) return { settings: undefined, configuredBy: 'none' };
    if (config.shipping?.settings) return { settings: config.shipping.settings, configuredBy: 'local' };
    if (!account) return { settings: undefined, configuredBy: 'none' };
    let raw: unknown;
    try {
      const kv = await new Kvm(nc).open(KV_SHIPPING);
      const entry = await kv.get(shippingAccountKey(account));
      if (!entry || entry.operation !== 'PUT') return { settings: undefined, configuredBy: 'none' };
      raw = entry.json();
    } catch (error) {
      // No bucket yet (nobody opted in), or NATS away: keep what we had.
      log.debug('fleet shipping setting not read', { error: (error as Error).message });
      return resolved;
    }
    const verdict = verifyFleetShipping(raw, account, trustedKeys);
    if (!verdict.ok) {
      log.warn('fleet shipping setting refused', { account, reason: verdict.reason });
      return { settings: undefined, configuredBy: 'none', refused: verdict.reason };
    }
    if (!verdict.record.enabled) return { settings: undefined, configuredBy: 'none' };
    return { settings: verdict.record.settings, configuredBy: 'fleet' };
  };

  const generationsOf = (source: string) => checkpoint.state.files.filter((g) => g.source === source);

  /** Matches the files found to the checkpoint's generations; notes deleted, truncated and new ones. */
  const reconcile = (source: FileSource, found: FoundFile[], now: number): Array<[FileGeneration, FoundFile]> => {
    const pairs: Array<[FileGeneration, FoundFile]> = [];
    const kept = new Set<FileGeneration>();
    for (const file of found) {
      let gen = checkpoint.state.files.find(
        (g) => g.source === source.name && g.dev === file.dev && g.ino === file.ino && g.shipped <= file.size,
      );
      if (!gen) {
        gen = {
          source: source.name,
          generation: `${now.toString(36)}-${file.ino}`,
          dev: file.dev,
          ino: file.ino,
          path: file.path,
          shipped: 0,
          size: file.size,
        };
        checkpoint.state.files.push(gen);
      }
      gen.path = file.path;
      gen.size = file.size;
      if (gen.size > gen.shipped) gen.behindSince ??= now;
      else gen.behindSince = undefined;
      kept.add(gen);
      pairs.push([gen, file]);
    }
    for (const gen of generationsOf(source.name)) {
      if (kept.has(gen)) continue;
      const lost = gen.size - gen.shipped;
      if (lost > 0) {
        checkpoint.state.lostBytes[source.name] = (checkpoint.state.lostBytes[source.name] ?? 0) + lost;
        log.warn('a file went away before it was shipped', { source: source.name, path: gen.path, lostBytes: lost });
      }
      checkpoint.state.files.splice(checkpoint.state.files.indexOf(gen), 1);
    }
    return pairs;
  };

  const upload = async (target: Bucket, gen: FileGeneration, start: number, end: number, body: Buffer) => {
    gen.pending = { start, end };
    await checkpoint.save();
    const key = fileObjectKey(target.settings.prefix, config.id, gen.source, gen.generation, start, end);
    await target.put(key, body, 'text/plain; charset=utf-8', abort.signal);
    gen.shipped = end;
    gen.pending = undefined;
    if (gen.shipped >= gen.size) gen.behindSince = undefined;
    counters.uploads++;
    counters.uploadedBytes += body.length;
    counters.lastUploadAt = Date.now();
    await checkpoint.save();
  };

  const shipFile = async (target: Bucket, gen: FileGeneration, file: FoundFile, now: number) => {
    const settings = target.settings;
    if (gen.pending) {
      // The piece a stopped agent was uploading: the same bytes to the same key.
      const { start, end } = gen.pending;
      log.info('uploading again the piece a stopped agent left', { source: gen.source, start, end });
      const body = await readRange(file.path, start, end);
      if (body.length === end - start) await upload(target, gen, start, end, body);
      else gen.pending = undefined;
    }
    const waitedLong =
      gen.behindSince !== undefined && now - gen.behindSince >= PARTIAL_LINE_INTERVALS * settings.intervalMs;
    while (!stopping) {
      const piece = await nextPiece(
        file.path,
        gen.shipped,
        file.size,
        settings.maxObjectBytes,
        !file.live || waitedLong,
      );
      if (!piece) return;
      await upload(target, gen, piece.start, piece.end, piece.body);
    }
  };

  const pass = async () => {
    const next = await resolveSettings();
    resolved = next;
    const wanted = next.settings ? JSON.stringify(next.settings) : '';
    if (wanted !== bucketFor) {
      bucket?.close();
      bucket = next.settings
        ? new (await import('@drover/shared/bucket')).Bucket(next.settings, credentials(config))
        : undefined;
      bucketFor = wanted;
      if (bucket)
        log.info('shipping logs', {
          bucket: bucket.settings.bucket,
          prefix: bucket.settings.prefix,
          endpoint: bucket.settings.endpoint,
          configuredBy: next.configuredBy,
        });
    }
    const target = bucket;
    if (!target) return;
    const now = Date.now();
    try {
      for (const source of sources) {
        if (stopping) break;
        for (const [gen, file] of reconcile(source, await findFiles(source), now)) {
          if (stopping) break;
          await shipFile(target, gen, file, now);
        }
      }
      await checkpoint.save();
      lastError = undefined;
      loggedError = '';
    } catch (error) {
      if (stopping) return;
      const message = describeBucketError(error);
      lastError = { message, at: Date.now() };
      // Once per distinct failure: a bucket down for an hour is one line, not one per pass.
      if (message !== loggedError) log.warn('shipping failed; retrying', { error: message });
      loggedError = message;
    }
  };

  const status = (): ShippingStatus => {
    const now = Date.now();
    const perSource: ShippingSourceStatus[] = sources.map((source) => {
      const gens = generationsOf(source.name);
      const behindSince = Math.min(...gens.map((g) => g.behindSince ?? Number.POSITIVE_INFINITY));
      return {
        name: source.name,
        shipped: gens.reduce((sum, g) => sum + g.shipped, 0),
        behind: gens.reduce((sum, g) => sum + Math.max(0, g.size - g.shipped), 0),
        unit: 'bytes',
        lagMs: Number.isFinite(behindSince) ? Math.max(0, now - behindSince) : 0,
        files: gens.length,
        lostBytes: checkpoint.state.lostBytes[source.name] ?? 0,
      };
    });
    const settings = resolved.settings;
    const behind = perSource.some((s) => s.behind > 0);
    return {
      id: config.id,
      state: !settings ? 'off' : lastError ? 'error' : behind ? 'behind' : 'caught-up',
      configuredBy: resolved.configuredBy,
      ...(account ? { account } : {}),
      ...(settings
        ? {
            bucket: settings.bucket,
            prefix: settings.prefix,
            ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
          }
        : {}),
      sources: perSource,
      uploads: counters.uploads,
      uploadedBytes: counters.uploadedBytes,
      ...(counters.lastUploadAt ? { lastUploadAt: counters.lastUploadAt } : {}),
      ...(lastError ? { lastError: lastError.message, lastErrorAt: lastError.at } : {}),
      ...(resolved.refused ? { refused: resolved.refused } : {}),
      at: now,
    };
  };

  // Written when it changed, and every STATUS_REFRESH_MS while shipping (so `drover logs status` can
  // tell a stopped shipper); an agent that ships nothing writes "off" once, not every poll.
  let published = '';
  let publishedAt = 0;
  const publishStatus = async () => {
    const current = status();
    const { at: _at, ...content } = current;
    const text = JSON.stringify({ ...content, sources: content.sources.map(({ lagMs: _lag, ...s }) => s) });
    const now = Date.now();
    if (text === published && (current.state === 'off' || now - publishedAt < STATUS_REFRESH_MS)) return;
    try {
      statusKv ??= await new Kvm(nc).open(KV_SHIPPING_STATUS);
      await statusKv.put(config.id, JSON.stringify(current));
      published = text;
      publishedAt = now;
    } catch (error) {
      statusKv = undefined;
      log.debug('shipping status not published', { error: (error as Error).message });
    }
  };

  const runPass = () => {
    current = current.then(async () => {
      if (stopping) return;
      await pass();
      await publishStatus();
    });
    return current;
  };
  const schedule = () => {
    if (stopping) return;
    const delay = resolved.settings ? resolved.settings.intervalMs : IDLE_POLL_MS;
    timer = setTimeout(() => void runPass().finally(schedule), delay);
  };
  void runPass().finally(schedule);

  return {
    get bucket(): StepBucket | undefined {
      const target = bucket;
      if (!target) return undefined;
      return {
        put: (name, body, contentType) =>
          target.put(`${target.settings.prefix}/agent/${config.id}/${name}`, body, contentType, abort.signal),
      };
    },
    status,
    shipNow: () => runPass(),
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      abort.abort(new Error('agent stopping'));
      await current.catch(() => {});
      await checkpoint.save().catch(() => {});
      bucket?.close();
    },
  };
}

function credentials(config: AgentConfig) {
  return { file: config.shipping?.credentialsFile, profile: config.shipping?.profile };
}
