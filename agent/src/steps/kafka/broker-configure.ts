// `kafka.broker-configure`: the profile from KV (read now, so a node added later gets the same
// custom configuration), the node's facts from the local config, rendered by the shared renderer,
// written atomically (temporary file, fsync, rename, directory fsync) only when it changed.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidInputError, kafkaBrokerConfigureStep, renderBrokerProperties } from '@drover/shared';
import { implementStep, localNode } from '../context.ts';

export const kafkaBrokerConfigureImplementation = implementStep(kafkaBrokerConfigureStep, async (ctx, params) => {
  const kafka = localNode(ctx, 'kafka');
  const cluster = kafka.cluster ?? ctx.node.cluster;
  if (!cluster)
    throw new InvalidInputError(
      'kafka.cluster',
      cluster,
      'a cluster name in the agent config (kafka.cluster or the cluster label)',
    );
  const profile = await ctx.profiles?.kafka(cluster);
  if (!profile) throw new InvalidInputError('profile', `kafka.${cluster}`, 'a stored profile (drover profile set)');
  const text = renderBrokerProperties(profile, {
    brokerId: kafka.brokerId,
    rack: kafka.rack,
    host: kafka.host,
    logDirs: kafka.logDirs,
  });
  const before = await readFile(kafka.configFile, 'utf8').catch(() => '');
  const diff = lineDiff(before, text);
  const changed = before !== text;
  if (changed && !params.dryRun) {
    await mkdir(dirname(kafka.configFile), { recursive: true });
    const tmp = `${kafka.configFile}.drover-tmp`;
    const file = await open(tmp, 'w', 0o640);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, kafka.configFile);
    const dir = await open(dirname(kafka.configFile), 'r');
    await dir.sync().finally(() => dir.close());
  }
  ctx.progress(
    `${params.dryRun ? 'would write' : changed ? 'wrote' : 'unchanged'} server.properties (${diff.length} line(s) differ)`,
    100,
  );
  return {
    cluster,
    brokerId: kafka.brokerId,
    changed,
    dryRun: params.dryRun,
    sha256: createHash('sha256').update(text).digest('hex'),
    diff,
  };
});

function lineDiff(before: string, after: string): string[] {
  const a = new Set(before.split('\n').filter(Boolean));
  const b = new Set(after.split('\n').filter(Boolean));
  return [
    ...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`),
    ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`),
  ];
}
