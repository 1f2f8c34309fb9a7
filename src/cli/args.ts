/**
 * The command line of `loopp <command>`: options first, then the plugin's command and its own
 * arguments, which are never parsed (a plugin's `-v` is the plugin's). Parsing stops at the first
 * word that is not an option of ours, or after `--`.
 */

export type OptionKind = 'flag' | 'value' | 'list';

export interface OptionSpec {
  /** Long name without dashes: `timeout` for `--timeout`. */
  readonly name: string;
  readonly kind: OptionKind;
  /** One letter: `o` for `-o`. */
  readonly short?: string;
  /** Shown in --help: `<ms>`, `KEY=VALUE`. */
  readonly arg?: string;
  readonly help: string;
}

export interface ParsedArgs {
  /** Flags are booleans (`--no-x` gives false), values strings, lists arrays in order. */
  readonly options: ReadonlyMap<string, boolean | string | readonly string[]>;
  /** The words after the options: the plugin command and its arguments, untouched. */
  readonly rest: readonly string[];
}

/** A command-line mistake: the message says what was wrong and what to do. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--help` or `-h` where an option of ours may stand: main prints the command's help. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
}

/**
 * `interspersed`: options may also follow the positional words (`loopp bundle <entry.js> -o <path>`),
 * which only commands that run no plugin command may ask for.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], o: { interspersed?: boolean } = {}): ParsedArgs {
  const options = new Map<string, boolean | string | string[]>();
  const positional: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      if (!o.interspersed) break;
      positional.push(word);
      continue;
    }
    if (word === '--help' || word === '-h') throw new HelpRequested(word);
    const { spec, negated, inline } = findSpec(word, specs);
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`${word}: --${spec.name} takes no value`);
      options.set(spec.name, !negated);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${word} needs a value${spec.arg ? ` (${spec.arg})` : ''}`);
    if (spec.kind === 'value') options.set(spec.name, value);
    else options.set(spec.name, [...((options.get(spec.name) as string[] | undefined) ?? []), value]);
  }
  return { options, rest: [...positional, ...argv.slice(i)] };
}

function findSpec(word: string, specs: readonly OptionSpec[]): { spec: OptionSpec; negated: boolean; inline?: string } {
  const eq = word.indexOf('=');
  const head = eq > 0 ? word.slice(0, eq) : word;
  const inline = eq > 0 ? word.slice(eq + 1) : undefined;
  const long = head.startsWith('--') ? head.slice(2) : undefined;
  const spec = long !== undefined ? specs.find((s) => s.name === long) : specs.find((s) => s.short === head.slice(1));
  if (spec) return inline === undefined ? { spec, negated: false } : { spec, negated: false, inline };
  const positive = long?.startsWith('no-') ? specs.find((s) => s.name === long.slice(3) && s.kind === 'flag') : undefined;
  if (positive && inline === undefined) return { spec: positive, negated: true };
  throw new UsageError(`unknown option ${head}; run with --help for the list`);
}

export function flag(args: ParsedArgs, name: string): boolean | undefined {
  const v = args.options.get(name);
  return typeof v === 'boolean' ? v : undefined;
}

export function value(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function list(args: ParsedArgs, name: string): readonly string[] {
  const v = args.options.get(name);
  return Array.isArray(v) ? v : [];
}

/** `KEY=VALUE` (the value may hold `=`); the option's name is in the error. */
export function keyValue(option: string, text: string): readonly [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--${option} ${JSON.stringify(text)}: expected KEY=VALUE`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** A whole number of milliseconds, `30000`, or with a unit: `500ms`, `30s`, `2m`. */
export function durationMs(option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${option} ${JSON.stringify(text)}: expected a duration such as 500ms, 30s or 2m`);
  const n = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[(m[2] ?? 'ms') as 'ms' | 's' | 'm'];
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${option} ${JSON.stringify(text)}: must be more than 0`);
  return Math.round(n);
}

/** The options block of --help, aligned. */
export function optionsHelp(specs: readonly OptionSpec[]): string {
  const heads = specs.map((s) => {
    const names = [s.short ? `-${s.short}` : undefined, `--${s.name}`].filter(Boolean).join(', ');
    return s.arg ? `${names} ${s.arg}` : names;
  });
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return specs.map((s, i) => `  ${heads[i]!.padEnd(width)}${s.help}${s.kind === 'list' ? ' (repeatable)' : ''}`).join('\n');
}
