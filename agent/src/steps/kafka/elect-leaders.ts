// `kafka.elect-leaders`: preferred-leader elections in batches; ELECTION_NOT_NEEDED is success; a
// partition whose preferred leader is not ready yet (not in the ISR) is tried again a few times.
import { DroverError, type Election, kafkaElectLeadersStep } from '@drover/shared';
import type { KafkaAdmin } from '../../clients/kafka/index.ts';
import type { StepContext } from '../context.ts';
import { implementStep } from '../context.ts';
import { pause } from '../pause.ts';
import { withLocalAdmin } from './admin.ts';

export class ElectionFailedError extends DroverError {
  readonly failures: string[];
  constructor(failures: string[]) {
    super(`preferred-leader election failed for ${failures.length} partition(s): ${failures.slice(0, 5).join('; ')}`, {
      retryable: true,
    });
    this.name = 'ElectionFailedError';
    this.failures = failures;
  }
}

/** Elects in batches of `batchSize`; returns how many moved leadership and how many needed none. */
export async function electInBatches(
  ctx: StepContext,
  admin: KafkaAdmin,
  elections: readonly Election[],
  batchSize: number,
): Promise<{ elected: number; notNeeded: number }> {
  let elected = 0;
  let notNeeded = 0;
  for (let i = 0; i < elections.length; i += batchSize) {
    let pending = elections.slice(i, i + batchSize);
    for (let attempt = 0; pending.length > 0; attempt++) {
      ctx.signal.throwIfAborted();
      const results = await admin.electPreferred(pending);
      const failed = results.filter((r) => r.error !== null);
      elected += results.filter((r) => r.error === null && r.electionNeeded).length;
      notNeeded += results.filter((r) => r.error === null && !r.electionNeeded).length;
      if (failed.length === 0) break;
      if (attempt >= 5)
        throw new ElectionFailedError(failed.map((r) => `${r.topic}/${r.partition}: ${r.error?.message}`));
      pending = failed.map((r) => ({ topic: r.topic, partition: r.partition }));
      await pause(500 * 2 ** attempt, ctx.signal);
    }
    ctx.progress(
      `elections: ${Math.min(i + batchSize, elections.length)}/${elections.length}`,
      (Math.min(i + batchSize, elections.length) / elections.length) * 100,
    );
  }
  return { elected, notNeeded };
}

/**
 * Waits until Metadata shows every elected partition led by its first replica: ElectLeaders
 * answers before the new leadership reaches the brokers' metadata. Bounded; then it says which.
 */
export async function waitForPreferredLeaders(
  ctx: StepContext,
  admin: KafkaAdmin,
  elections: readonly Election[],
  timeoutMs = 60_000,
): Promise<void> {
  const wanted = new Set(elections.map((e) => `${e.topic}/${e.partition}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    ctx.signal.throwIfAborted();
    const lagging = (await admin.readAssignment()).filter(
      (p) => wanted.has(`${p.topic}/${p.partition}`) && p.leader !== p.replicas[0],
    );
    if (lagging.length === 0) return;
    if (Date.now() > deadline)
      throw new ElectionFailedError(
        lagging.map((p) => `${p.topic}/${p.partition}: led by ${p.leader}, not ${p.replicas[0]}`),
      );
    ctx.progress(`waiting for ${lagging.length} partition(s) to show their preferred leader`);
    await pause(250, ctx.signal);
  }
}

export const kafkaElectLeadersImplementation = implementStep(kafkaElectLeadersStep, (ctx, params) =>
  withLocalAdmin(ctx, async (admin) => {
    const started = Date.now();
    const done = await electInBatches(ctx, admin, params.elections, params.batchSize);
    await waitForPreferredLeaders(ctx, admin, params.elections);
    return { ...done, durationMs: Date.now() - started };
  }),
);
