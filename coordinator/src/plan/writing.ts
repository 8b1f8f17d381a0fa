// Writing generated plan files (the Kafka and Cassandra migration generators): steps split so no
// order's params exceed a size, and the YAML laid out so it reads like the plan.
import type { PlanInput } from '@drover/shared';
import { isScalar, isSeq, parseDocument, stringify, visit } from 'yaml';

/** Consecutive items grouped so each group's JSON stays under `maxBytes` (an item is never split). */
export function chunk<T>(items: readonly T[], maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = JSON.stringify(item).length + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** The plan file as YAML, leaf lists and small records on one line so it reads like the plan. */
export function planFileYaml(document: PlanInput, header: string): string {
  const text = stringify(document, { lineWidth: 0 });
  const doc = parseDocument(text);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
    Map(_, node) {
      const leaf = (value: unknown) => isScalar(value) || (isSeq(value) && value.items.every((item) => isScalar(item)));
      if (node.items.length <= 4 && node.items.every((pair) => leaf(pair.value))) node.flow = true;
    },
  });
  const lines = header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n');
  return `${lines}\n${doc.toString({ lineWidth: 0 })}`;
}
