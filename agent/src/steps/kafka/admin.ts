// The Kafka steps' way to their node's broker: an admin client on the bootstrap address of the
// agent's local config (`kafka.bootstrap`), opened for one step and always closed.
import type { KafkaAdmin } from '../../clients/kafka/index.ts';
import { localNode, type StepContext } from '../context.ts';

export async function withLocalAdmin<T>(ctx: StepContext, use: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const kafka = localNode(ctx, 'kafka');
  // Loaded on first use: an agent that never runs a Kafka step never maps the Kafka client.
  const { KafkaAdmin } = await import('../../clients/kafka/index.ts');
  const admin = new KafkaAdmin({ bootstrap: [kafka.bootstrap], clientId: `drover-agent-${ctx.agent.id}` });
  try {
    return await use(admin);
  } finally {
    await admin.close();
  }
}

export const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

export function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
