// `kafka.elect-leaders`: preferred-leader elections in batches; ELECTION_NOT_NEEDED is success; a
// partition whose preferred leader is not ready yet (not in the ISR) is tried again a few times.
import { DroverError, type Election, kafkaElectLeadersStep } from '@drover/shared';
import type { KafkaAdmin } from '../../clients/kafka/index.ts';
import type { StepContext } from '../context.ts';
import { implementStep } from '../context.ts';
import { pause, withLocalAdmin } from './admin.ts';

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

export const kafkaElectLeadersImplementation = implementStep(kafkaElectLeadersStep, (ctx, params) =>
  withLocalAdmin(ctx, async (admin) => {
    const started = Date.now();
    const done = await electInBatches(ctx, admin, params.elections, params.batchSize);
    return { ...done, durationMs: Date.now() - started };
  }),
);
