// Input checks shared by the operations: a list is validated against its shared zod schema before any
// request is sent, every problem reported at once, and a partition may appear only once per call.
import { InvalidInputError, InvalidInputErrors, PartitionIdSchema, TopicNameSchema } from '@drover/shared';
import { z } from 'zod';

export const TopicPartitionSchema = z.object({ topic: TopicNameSchema, partition: PartitionIdSchema }).strict();
export type TopicPartition = z.infer<typeof TopicPartitionSchema>;

function throwAll(problems: InvalidInputError[]): void {
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new InvalidInputErrors(problems);
}

/** `list` parsed item by item with `schema`; with `uniquePartitions`, a (topic, partition) given twice is refused. */
export function validateList<T>(
  field: string,
  list: unknown,
  schema: z.ZodType<T>,
  uniquePartitions: (item: T) => string | null = () => null,
): T[] {
  if (!Array.isArray(list)) throw new InvalidInputError(field, list, 'an array');
  const problems: InvalidInputError[] = [];
  const items: T[] = [];
  const seen = new Map<string, number>();
  list.forEach((item: unknown, i) => {
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      const why = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`);
      problems.push(new InvalidInputError(`${field}[${i}]`, item, why.join('; ')));
      return;
    }
    const key = uniquePartitions(parsed.data);
    const first = key === null ? undefined : seen.get(key);
    if (first !== undefined) {
      problems.push(
        new InvalidInputError(`${field}[${i}]`, item, `a partition not already listed (as ${field}[${first}])`),
      );
      return;
    }
    if (key !== null) seen.set(key, i);
    items.push(parsed.data);
  });
  throwAll(problems);
  return items;
}

export function partitionKey(p: { topic: string; partition: number }): string {
  return `${p.topic}\u0000${p.partition}`;
}

/** Items grouped by topic, topics in order of first appearance, items in the order given. */
export function groupByTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.topic);
    if (group) group.push(item);
    else groups.set(item.topic, [item]);
  }
  return groups;
}
