// Reading a YAML file against a zod schema so that every problem has a file, line and column: the
// `yaml` package keeps node positions, and a zod issue's path is looked up in the document (the
// parent's position when a key is missing). Used by plan files and cluster profiles; every problem
// is reported at once, and nothing else happens until the file is good.
import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';

/** Every problem found in one file (exit 2 in the CLI; nothing is written anywhere). */
export class YamlFileError extends InvalidInputErrors {
  readonly file: string;
  constructor(file: string, problems: InvalidInputError[]) {
    super(problems);
    this.name = 'YamlFileError';
    this.file = file;
  }
}

/** A plan file's problems (the same thing, named for what it is about). */
export class PlanFileError extends YamlFileError {
  constructor(file: string, problems: InvalidInputError[]) {
    super(file, problems);
    this.name = 'PlanFileError';
  }
}

export type PathPart = string | number;

/** `phases[1].steps[0].params.seconds` */
export function formatPath(path: readonly PathPart[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    '',
  );
}

export class Locator {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly file: string;
  constructor(file: string, doc: Document, lines: LineCounter) {
    this.file = file;
    this.doc = doc;
    this.lines = lines;
  }

  /** `file:line:col` of the deepest node that exists along the path (the parent when a key is missing). */
  where(path: readonly PathPart[]): string {
    for (let n = path.length; n >= 0; n--) {
      const node = (n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
      const offset = node && (isScalar(node) || isMap(node) || isSeq(node)) ? node.range?.[0] : undefined;
      if (offset !== undefined) {
        const { line, col } = this.lines.linePos(offset);
        return `${this.file}:${line}:${col}`;
      }
    }
    return `${this.file}:1:1`;
  }

  problem(path: readonly PathPart[], value: unknown, expected: string): InvalidInputError {
    return new InvalidInputError(`${this.where(path)}: ${formatPath(path) || '(document)'}`, value, expected);
  }
}

/** Parses YAML (or JSON) text and validates it; throws `makeError(file, problems)` listing every problem. */
export function parseYamlFile<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  makeError: (file: string, problems: InvalidInputError[]) => YamlFileError = (f, p) => new YamlFileError(f, p),
): { value: z.infer<S>; at: Locator; raw: unknown } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw makeError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        const near = text.split('\n')[pos.line - 1]?.trim() ?? '';
        return new InvalidInputError(
          `${file}:${pos.line}:${pos.col}: YAML`,
          near,
          `valid YAML (${e.message.split('\n')[0]})`,
        );
      }),
    );
  }
  const at = new Locator(file, doc, lines);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (error) {
    // What only shows when the document becomes data: an alias to no anchor, too many aliases, a
    // merge key on a non-map. The yaml package says which; it gives no position for these.
    const message = (error as Error).message.split('\n')[0] ?? '';
    throw makeError(file, [
      new InvalidInputError(`${firstAlias(doc, lines, file)}: YAML`, undefined, `valid YAML (${message})`),
    ]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw makeError(
      file,
      parsed.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is PathPart => typeof p !== 'symbol');
        const expected =
          issue.code === 'unrecognized_keys' ? `no unknown keys (${issue.keys.join(', ')} not allowed)` : issue.message;
        const keyPath = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
        return at.problem(keyPath, valueAt(raw, keyPath), expected);
      }),
    );
  }
  return { value: parsed.data, at, raw };
}

function valueAt(value: unknown, path: readonly PathPart[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key as string];
  }
  return current;
}

/**
 * `file:line:col` of the first alias in the document (what the errors of turning a document into
 * data are about: an alias to no anchor, too many aliases), else of the document's start.
 */
function firstAlias(doc: Document, lines: LineCounter, file: string): string {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  const { line, col } = lines.linePos(offset ?? 0);
  return `${file}:${line}:${col}`;
}
