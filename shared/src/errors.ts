// Errors shared by every Drover workspace: one class per failure, each with a name, a cause,
// data fields and whether a retry could help (read by the engine's retry and error-threshold logic).

export interface DroverErrorOptions {
  cause?: unknown;
  /** Whether trying the same thing again could succeed. @default false */
  retryable?: boolean;
}

export class DroverError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: DroverErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DroverError';
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Bad input from an operator or from the wire. The message always names the field, the value
 * and what was expected, so an operator can fix it without reading code.
 */
export class InvalidInputError extends DroverError {
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;
  constructor(field: string, value: unknown, expected: string, options: DroverErrorOptions = {}) {
    super(`${field}: got ${describeValue(value)}, expected ${expected}`, options);
    this.name = 'InvalidInputError';
    this.field = field;
    this.value = value;
    this.expected = expected;
  }
}

/** Several input problems found at once (every one is reported, not just the first). */
export class InvalidInputErrors extends DroverError {
  readonly problems: InvalidInputError[];
  constructor(problems: InvalidInputError[]) {
    super(problems.map((p) => p.message).join('; '));
    this.name = 'InvalidInputErrors';
    this.problems = problems;
  }
}

/** Short, log-safe rendering of a value for error messages (long values are cut). */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * A value from a file or the wire as plain text, never through its own toString (JSON input can
 * carry `{"toString": 1}`, on which String() throws): strings as they are, other primitives as
 * String() writes them, null and undefined as '', objects and arrays as JSON.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return Object.prototype.toString.call(value);
  }
}
