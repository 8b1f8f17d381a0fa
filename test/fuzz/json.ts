// Arbitrary JSON for the fuzz tests of what the agent and coordinator parse: values (parsed form)
// and text (with number spellings JSON.stringify never writes: 1e999 parses to Infinity). Each test
// brings its own keys and strings, so the values look like its messages.
import fc from 'fast-check';

/** Number spellings that parse to surprising values (Infinity, -0, a float past 2^53). */
export const SPECIAL_NUMBERS = ['1e999', '-1e999', '1e-999', '-0', '0.0', '9007199254740993', '1E+2', '-1', '0.5'];

export function jsonArbitraries(options: {
  key: fc.Arbitrary<string>;
  string: fc.Arbitrary<string>;
  numbers: readonly number[];
}): { number: fc.Arbitrary<number>; value: fc.Arbitrary<unknown>; text: fc.Arbitrary<string> } {
  const number = fc.oneof(
    fc.constantFrom(...options.numbers),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const value = fc.letrec<{ value: unknown; object: unknown; array: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.constantFrom(null, true, false),
      number,
      options.string,
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc
      .array(fc.tuple(options.key, tie('value')), { maxLength: 6 })
      .map((entries) => Object.fromEntries(entries) as unknown),
  })).value;
  const text = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.constantFrom('null', 'true', 'false', ...SPECIAL_NUMBERS),
      number.map((n) => JSON.stringify(n)),
      options.string.map((s) => JSON.stringify(s)),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(options.key, tie('value')), { maxLength: 8 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  })).value;
  return { number, value, text };
}
