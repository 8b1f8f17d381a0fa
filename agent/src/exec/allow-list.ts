// The local allow-list policy (config `commands`): an order names an entry and gives values for the
// parameters that entry declares; every value must match the entry's pattern in full and is
// substituted into the configured argv — one value, one argv element — so `a; rm -rf /` or `$(id)`
// can at worst reach the program as literal text. The program (argv[0]) is never taken from an order.
// Pure: no I/O; running the result is spawn.ts's job.
import { type AllowedCommand, type CommandParamsType, describeValue } from '@drover/shared';
import { ConfigError, NotAllowedError } from '../errors.ts';

type AllowList = Readonly<Record<string, AllowedCommand>>;

export interface ResolvedCommand {
  name: string;
  argv: [string, ...string[]];
  timeoutMs: number | undefined;
  cwd: string | undefined;
}

const PLACEHOLDER = /\{([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\}/g;

/**
 * Compiles an entry's pattern so that it must match the WHOLE value (an alternation included). The
 * pattern must be a valid regular expression on its own first: `a)|(.*` is not, and wrapped as
 * `^(?:a)|(.*)$` it would escape the anchors and match anything.
 */
function compilePattern(entryName: string, param: string, pattern: string): RegExp {
  try {
    new RegExp(pattern);
    return new RegExp(`^(?:${pattern})$`);
  } catch (cause) {
    throw new ConfigError(
      `commands.${entryName}.params.${param}.pattern: got ${describeValue(pattern)}, expected a valid JavaScript regular expression`,
      { cause },
    );
  }
}

/**
 * Checks one allow-list entry as configured: patterns compile, every `{placeholder}` names a declared
 * parameter, and argv[0] (the program) has no placeholder. Throws ConfigError. Meant for config loading
 * and `--check-config` as well as for each run.
 */
export function checkCommandEntry(name: string, entry: AllowedCommand): void {
  for (const [param, spec] of Object.entries(entry.params)) compilePattern(name, param, spec.pattern);
  entry.argv.forEach((element, index) => {
    for (const match of element.matchAll(PLACEHOLDER)) {
      const param = match[1] as string;
      if (index === 0) {
        throw new ConfigError(
          `commands.${name}.argv[0]: got ${describeValue(element)}, expected a fixed program path (no {placeholder}: an order must not choose the program)`,
        );
      }
      if (!Object.hasOwn(entry.params, param)) {
        throw new ConfigError(
          `commands.${name}.argv[${index}]: placeholder {${param}} names no declared parameter; declared: ${listOrNone(Object.keys(entry.params))}`,
        );
      }
    }
  });
}

/** Checks every entry of an allow-list; see checkCommandEntry. */
export function checkCommandAllowList(commands: AllowList): void {
  for (const [name, entry] of Object.entries(commands)) checkCommandEntry(name, entry);
}

/** The entry an order names, or NotAllowedError listing the ones this agent has. */
export function findCommandEntry(commands: AllowList, name: string): AllowedCommand {
  // hasOwn, not `in`: "constructor" or "__proto__" must not resolve to Object.prototype members.
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    throw new NotAllowedError(
      'params.name',
      `got ${describeValue(name)}, expected a command from this agent's allow-list: ${listOrNone(Object.keys(commands))}`,
    );
  }
  return entry;
}

/**
 * Checks an order's values against the entry: no undeclared key, every declared parameter given and
 * matching its pattern in full. Returns the values by parameter; throws NotAllowedError.
 */
export function checkCommandArgs(
  name: string,
  entry: AllowedCommand,
  args: Readonly<Record<string, string>>,
): Map<string, string> {
  const declared = Object.keys(entry.params);
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(entry.params, key)) {
      throw new NotAllowedError(
        `params.args.${key}`,
        `command ${describeValue(name)} declares no parameter ${describeValue(key)}; declared: ${listOrNone(declared)}`,
      );
    }
  }
  const values = new Map<string, string>();
  for (const [param, spec] of Object.entries(entry.params)) {
    const value = Object.hasOwn(args, param) ? args[param] : undefined;
    if (value === undefined) {
      throw new NotAllowedError(
        `params.args.${param}`,
        `missing; command ${describeValue(name)} requires it (a value matching /${spec.pattern}/ in full)`,
      );
    }
    // A value starting with "-" would be read as an option by the allowed program (option
    // injection: `--output=/etc/…`), whatever the pattern says.
    if (value.startsWith('-')) {
      throw new NotAllowedError(
        `params.args.${param}`,
        `got ${describeValue(value)}, expected a value that does not start with "-"`,
      );
    }
    if (!compilePattern(name, param, spec.pattern).test(value)) {
      throw new NotAllowedError(
        `params.args.${param}`,
        `got ${describeValue(value)}, expected a value matching /${spec.pattern}/ in full`,
      );
    }
    values.set(param, value);
  }
  return values;
}

/** Replaces each `{param}` in argv; one pass, so a substituted value is never scanned again. */
export function substituteArgv(argv: readonly string[], values: ReadonlyMap<string, string>): string[] {
  return argv.map((element) => element.replace(PLACEHOLDER, (_, param: string) => values.get(param) ?? ''));
}

/**
 * Turns an order's params into the argv to run, refusing anything the local allow-list does not
 * allow (NotAllowedError) and reporting a broken entry as ConfigError.
 */
export function resolveCommand(commands: AllowList, params: CommandParamsType): ResolvedCommand {
  const { name } = params;
  const entry = findCommandEntry(commands, name);
  checkCommandEntry(name, entry);
  const values = checkCommandArgs(name, entry, params.args ?? {});
  const argv = substituteArgv(entry.argv, values) as [string, ...string[]];
  return { name, argv, timeoutMs: entry.timeoutMs, cwd: entry.cwd };
}

function listOrNone(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}
