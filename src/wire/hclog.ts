/**
 * go-hclog's JSON log line, both ways:
 *
 * - plugin side: `formatHclogLine` / `createHclogLogger` write what a Go plugin's default logger writes to
 *   its real stderr (one JSON object per line, keys sorted, `@timestamp` with 6 fractional digits);
 * - host side: `createStderrParser` classifies each stderr line as go-plugin's `logStderr` (v1.7+) does,
 *   except that it never crashes on input that would panic the Go host.
 *
 * Nothing in this module throws on any log content.
 */
import { ConfigError } from '../core/errors';
import { encodeField, errorMessage, safeString } from '../core/json-value';
import { formatGoTimestamp } from '../core/go/time';
import { goTrimSpace } from '../core/lines';

/** hclog's levels, least severe first. (`off`/`all`/`warning`/`fatal` are not levels a line can carry.) */
export type HclogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** All levels, least severe first. */
export const HCLOG_LEVELS: readonly HclogLevel[] = Object.freeze(['trace', 'debug', 'info', 'warn', 'error'] as const);

const SEVERITY: Readonly<Record<HclogLevel, number>> = { trace: 1, debug: 2, info: 3, warn: 4, error: 5 };

/** True when `level` is one of the five hclog level names (exact, lower case). */
export function isHclogLevel(level: unknown): level is HclogLevel {
  return typeof level === 'string' && Object.prototype.hasOwnProperty.call(SEVERITY, level);
}

/** True when `a` is at least as severe as `b` (e.g. `levelAtLeast('warn', 'info')`). */
export function levelAtLeast(a: HclogLevel, b: HclogLevel): boolean {
  return SEVERITY[a] >= SEVERITY[b];
}

/**
 * hclog.LevelFromString restricted to the levels a line can carry: trimmed (Go's TrimSpace) and
 * case-insensitive `trace|debug|info|warn|error`. Anything else, `off` included, gives `undefined`
 * (go-plugin then logs the whole line verbatim at Debug).
 */
export function parseHclogLevel(value: string): HclogLevel | undefined {
  // Go's unicode.ToLower maps U+0130 (İ) to a plain 'i'; JS lower-cases it to "i\u0307".
  const lowered = goTrimSpace(value).replace(/\u0130/g, 'i').toLowerCase();
  return isHclogLevel(lowered) ? lowered : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Emit (plugin side)
// ---------------------------------------------------------------------------------------------------------

/** Key/value pairs attached to a log entry. */
export type HclogFields = Record<string, unknown>;

export interface HclogEntry {
  level: HclogLevel;
  message: string;
  /** Logger name; becomes `@module` (omitted when empty, as hclog does). */
  module?: string;
  /** Defaults to now. An invalid Date is replaced by now. */
  time?: Date;
  fields?: HclogFields;
}

export interface HclogFormatOptions {
  /**
   * Offset from UTC, in minutes east (India: 330, New York in winter: -300), used for `@timestamp`.
   * Defaults to the local offset at `time`, as hclog uses local time.
   */
  utcOffsetMinutes?: number;
}

/** Keys the format itself owns: a user field of the same name is ignored (a non-string value there would
 * crash a Go host, and a string one would fake the entry). */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['@level', '@message', '@module', '@timestamp']);

/**
 * One go-hclog JSON line (with its `\n`), byte-compatible with what a Go plugin writes:
 * `{"@level":"debug","@message":"plugin address","@module":"x","@timestamp":"2024-05-01T12:00:00.123000+02:00","address":"/tmp/p","network":"unix"}`
 *
 * - keys are sorted by their UTF-8 bytes (Go's map order), user fields merged in;
 * - `@timestamp` uses the layout `2006-01-02T15:04:05.000000Z07:00` in local time (JS has milliseconds
 *   only, so the last three digits are `000`); `Z` when the offset is zero;
 * - the `@` values are always strings;
 * - field values: strings, finite numbers, booleans and null stay JSON; `undefined` becomes null;
 *   Errors become their message; bigint, symbols and non-finite numbers (`NaN`, `+Inf`, `-Inf`) become
 *   strings; bytes become base64 (Go's `[]byte`); Maps and Sets become objects and arrays; other objects
 *   are JSON (honouring `toJSON`), with `"[Circular]"` for cycles and a string marker for anything that
 *   cannot be serialised;
 * - `<`, `>`, `&`, U+2028 and U+2029 are `\u` escaped, as Go's json.Encoder does.
 */
export function formatHclogLine(entry: HclogEntry, options: HclogFormatOptions = {}): string {
  try {
    return formatEntry(entry, options);
  } catch (err) {
    // Only reachable with hostile input (e.g. a Proxy as `entry`); still produce a valid line.
    const level = isHclogLevel(entry?.level) ? entry.level : 'error';
    return formatEntry(
      { level, message: safeString(entry?.message), fields: { 'log-format-error': safeString(errorMessage(err)) } },
      {},
    );
  }
}

function formatEntry(entry: HclogEntry, options: HclogFormatOptions): string {
  const level: HclogLevel = isHclogLevel(entry.level) ? entry.level : 'info';
  const message = typeof entry.message === 'string' ? entry.message : safeString(entry.message);
  const time = entry.time instanceof Date && Number.isFinite(entry.time.getTime()) ? entry.time : new Date();

  const members = new Map<string, string>();
  members.set('@level', JSON.stringify(level));
  members.set('@message', JSON.stringify(message));
  const module = entry.module === undefined || entry.module === null ? '' : safeString(entry.module);
  if (module !== '') members.set('@module', JSON.stringify(module));
  members.set('@timestamp', JSON.stringify(formatGoTimestamp(time, options.utcOffsetMinutes)));

  const fields = entry.fields;
  if (fields !== undefined && fields !== null && typeof fields === 'object') {
    for (const key of Object.keys(fields)) {
      if (RESERVED_KEYS.has(key)) continue;
      let encoded: string;
      try {
        const value = (fields as HclogFields)[key];
        encoded = encodeField(value);
      } catch (err) {
        encoded = JSON.stringify(`[unserializable: ${safeString(errorMessage(err))}]`);
      }
      members.set(key, encoded);
    }
  }

  const keys = [...members.keys()].sort(compareUtf8);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ',';
    out += JSON.stringify(key) + ':' + (members.get(key) as string);
  }
  out += '}';
  return escapeLikeGo(out) + '\n';
}

/** Go sorts map keys by their UTF-8 bytes, i.e. by code point (JS's default sort compares UTF-16 units). */
function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const GO_HTML_ESCAPES = /[<>&\u2028\u2029]/g;
function escapeLikeGo(json: string): string {
  // These characters only occur inside JSON strings, where \uXXXX is equivalent.
  return json.replace(GO_HTML_ESCAPES, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}


/** A small hclog-style logger writing JSON lines. */
export interface HclogLogger {
  trace(message: string, fields?: HclogFields): void;
  debug(message: string, fields?: HclogFields): void;
  info(message: string, fields?: HclogFields): void;
  warn(message: string, fields?: HclogFields): void;
  error(message: string, fields?: HclogFields): void;
  log(level: HclogLevel, message: string, fields?: HclogFields): void;
  /** A sub-logger named `<name>.<sub>` (just `<sub>` when this one has no name), as hclog's Named. */
  named(sub: string): HclogLogger;
  /** A sub-logger with exactly this name (hclog's ResetNamed). */
  resetNamed(name: string): HclogLogger;
  /** A sub-logger that adds `fields` to every entry; an entry's own fields win on a clash. */
  with(fields: HclogFields): HclogLogger;
  /** Whether an entry at `level` would be written. */
  isLevelEnabled(level: HclogLevel): boolean;
  readonly name: string;
  readonly level: HclogLevel;
}

export interface HclogLoggerOptions {
  /** Becomes `@module`. Default: none. */
  name?: string;
  /** Entries below this level are dropped. Default: 'trace' (go-plugin's plugin-side logger level). */
  level?: HclogLevel;
  /** Receives each complete line (with its `\n`). Errors it throws are swallowed: logging never throws. */
  write: (line: string) => void;
  /** Clock, for tests. Default: `() => new Date()`. */
  now?: () => Date;
  /** Fixed UTC offset in minutes east for `@timestamp`, for tests. Default: local time. */
  utcOffsetMinutes?: number;
}

/**
 * A logger that writes `formatHclogLine` lines through `options.write`. Throws ConfigError
 * (`ERR_LOOPP_CONFIG`) for an unknown `level` or a missing `write`; logging itself never throws.
 */
export function createHclogLogger(options: HclogLoggerOptions): HclogLogger {
  const level: HclogLevel = options.level === undefined ? 'trace' : options.level;
  if (!isHclogLevel(level)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `invalid log level ${JSON.stringify(safeString(level))}`, {
      input: level,
      hint: `use one of ${HCLOG_LEVELS.join(', ')}`,
    });
  }
  if (typeof options.write !== 'function') {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'createHclogLogger: write must be a function', { input: options.write });
  }
  const shared: Shared = {
    level,
    write: options.write,
    now: options.now ?? (() => new Date()),
    format: options.utcOffsetMinutes === undefined ? {} : { utcOffsetMinutes: options.utcOffsetMinutes },
  };
  return makeLogger(shared, options.name ?? '', undefined);
}

interface Shared {
  level: HclogLevel;
  write: (line: string) => void;
  now: () => Date;
  format: HclogFormatOptions;
}

function makeLogger(shared: Shared, name: string, implied: HclogFields | undefined): HclogLogger {
  const log = (lvl: HclogLevel, message: string, fields?: HclogFields): void => {
    if (!isHclogLevel(lvl) || !levelAtLeast(lvl, shared.level)) return;
    let merged = fields;
    if (implied !== undefined) merged = fields === undefined ? implied : { ...implied, ...fields };
    try {
      const line = formatHclogLine({ level: lvl, message, module: name, time: shared.now(), fields: merged }, shared.format);
      shared.write(line);
    } catch {
      // A broken clock or writer (e.g. EPIPE after the host died) must not take the caller down.
    }
  };
  return {
    trace: (message, fields) => log('trace', message, fields),
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    log,
    named: (sub) => makeLogger(shared, name === '' ? sub : `${name}.${sub}`, implied),
    resetNamed: (newName) => makeLogger(shared, newName, implied),
    with: (fields) => makeLogger(shared, name, implied === undefined ? { ...fields } : { ...implied, ...fields }),
    isLevelEnabled: (lvl) => isHclogLevel(lvl) && levelAtLeast(lvl, shared.level),
    name,
    level: shared.level,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Parse (host side)
// ---------------------------------------------------------------------------------------------------------

/** How go-plugin's host would log one stderr line. */
export type ParsedLogLine =
  | {
      /** An hclog JSON entry: log `message` with `fields` at `level`. */
      kind: 'json';
      level: HclogLevel;
      /** `@level` exactly as the plugin wrote it (e.g. ` INFO`). */
      rawLevel: string;
      /** `@message`, '' when absent. */
      message: string;
      /** Every key except `@level`, `@message`, `@timestamp` (so `@module`, `@caller` are here), JSON-decoded. */
      fields: Record<string, unknown>;
      /** `@timestamp` as written by the plugin (already validated), if present. */
      timestamp: string | undefined;
      raw: string;
    }
  | {
      /** Anything else: log `raw` verbatim at `level`. */
      kind: 'text';
      level: HclogLevel;
      raw: string;
      /**
       * A JSON entry go-plugin logs verbatim because its `@level` is missing or not an hclog level
       * (`fatal`, `dpanic`, `panic`, `warning`, …): what it decodes to, so a caller that knows more
       * levels (the LOOP host) need not parse the line again.
       */
      unleveled?: UnleveledEntry;
    };

/** A JSON log entry whose level go-plugin does not know. */
export interface UnleveledEntry {
  /** `@level` as written, '' when absent. */
  rawLevel: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface StderrParseInfo {
  /**
   * The line is a piece of an over-long line (`LineInfo.fragment`): go-plugin logs it verbatim at Debug,
   * without trying JSON, prefixes or panic detection.
   */
  fragment?: boolean;
}

export interface StderrParser {
  parseLine(line: string, info?: StderrParseInfo): ParsedLogLine;
  /** A `panic: ` / `fatal error: ` line has been seen: untagged text lines are now Error. */
  readonly panicking: boolean;
}

/** A line that starts a Go crash report (`panic: ` or `fatal error: ` at column 0). */
export function isPanicLine(line: string): boolean {
  return line.startsWith('panic: ') || line.startsWith('fatal error: ');
}

const TEXT_PREFIXES: readonly (readonly [string, HclogLevel])[] = [
  ['[TRACE]', 'trace'],
  ['[DEBUG]', 'debug'],
  ['[INFO]', 'info'],
  ['[WARN]', 'warn'],
  ['[ERROR]', 'error'],
];

/**
 * Classifies plugin stderr lines like go-plugin's host `logStderr` (v1.7+). Keep one parser per plugin
 * process: panic mode is per instance and lasts until the stream ends.
 *
 * - JSON: the line is a JSON object whose `@message`, `@level`, `@timestamp` (each optional) are strings and
 *   whose `@timestamp` matches `2006-01-02T15:04:05.000000Z07:00` (exactly 6 fractional digits, then `Z` or
 *   `±hh:mm`). Go would *panic* on a non-string one; here the line is just text. Numbers too large for a
 *   float64 also make the line text (Go's json.Unmarshal fails on them).
 *   - `@level` trimmed, case-insensitive `trace|debug|info|warn|error` → `kind: 'json'` at that level;
 *   - any other or missing level (`warning`, `fatal`, `off`, …) → the whole line as text at Debug, as Go
 *     does; panic mode does not apply. So does the JSON literal `null` (Go decodes it into an empty entry).
 * - Text: `[TRACE]`, `[DEBUG]`, `[INFO]`, `[WARN]`, `[ERROR]` at column 0 (case-sensitive) set the level;
 *   otherwise a line starting `panic: ` / `fatal error: ` is Error and switches panic mode on; otherwise
 *   Error in panic mode, Debug before it.
 */
export function createStderrParser(): StderrParser {
  let panicking = false;
  return {
    get panicking() {
      return panicking;
    },
    parseLine(line: string, info?: StderrParseInfo): ParsedLogLine {
      const raw = typeof line === 'string' ? line : safeString(line);
      if (info?.fragment === true) return { kind: 'text', level: 'debug', raw };
      const json = tryParseHclogJson(raw);
      if (json !== undefined && json.kind === 'unleveled') return { kind: 'text', level: 'debug', raw, ...(json.entry === undefined ? {} : { unleveled: json.entry }) };
      if (json !== undefined) return json;
      for (const [prefix, level] of TEXT_PREFIXES) {
        if (raw.startsWith(prefix)) return { kind: 'text', level, raw };
      }
      if (isPanicLine(raw)) panicking = true;
      return { kind: 'text', level: panicking ? 'error' : 'debug', raw };
    },
  };
}

/**
 * The JSON entry; `unleveled` for JSON Go logs raw at Debug (with what it decodes to, except for the
 * literal null); undefined for "not JSON" (text rules apply).
 */
function tryParseHclogJson(line: string): Extract<ParsedLogLine, { kind: 'json' }> | { kind: 'unleveled'; entry: UnleveledEntry | undefined } | undefined {
  // Cheap rejection: Go's json.Unmarshal into a map needs an object (or null) after optional whitespace.
  const first = firstNonJsonSpace(line);
  if (first !== '{' && first !== 'n') return undefined;
  // Go's json.Unmarshal refuses nesting deeper than 10000; JSON.parse does not.
  if (exceedsGoJsonDepth(line)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  // Checked after parsing, without a reviver: JSON.parse's reviver recurses and overflowed the stack on
  // lines nested ~5000 deep (found by the property tests), which made valid entries text.
  if (MAY_OVERFLOW.test(line) && hasNonFiniteNumber(parsed)) return undefined;
  if (parsed === null) return { kind: 'unleveled', entry: undefined };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;

  const record = parsed as Record<string, unknown>;
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);
  const message = record['@message'];
  const levelText = record['@level'];
  const timestamp = record['@timestamp'];
  if (has('@message') && typeof message !== 'string') return undefined;
  if (has('@level') && typeof levelText !== 'string') return undefined;
  if (has('@timestamp') && (typeof timestamp !== 'string' || !isHclogTimestamp(timestamp))) return undefined;

  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (key === '@message' || key === '@level' || key === '@timestamp') continue;
    // defineProperty: a "__proto__" key stays an ordinary field.
    Object.defineProperty(fields, key, { value: record[key], enumerable: true, writable: true, configurable: true });
  }
  const rawLevel = typeof levelText === 'string' ? levelText : '';
  const text = typeof message === 'string' ? message : '';
  const level = parseHclogLevel(rawLevel);
  if (level === undefined) return { kind: 'unleveled', entry: { rawLevel, message: text, fields } };
  return {
    kind: 'json',
    level,
    rawLevel,
    message: text,
    fields,
    timestamp: typeof timestamp === 'string' ? timestamp : undefined,
    raw: line,
  };
}

/** A number literal with an exponent, or with enough digits to exceed float64's range. */
const MAY_OVERFLOW = /\d[eE][+-]?\d|\d{309}/;

/** encoding/json's maxNestingDepth. */
const GO_MAX_JSON_DEPTH = 10000;

/** Whether `{`/`[` nest deeper than Go's json decoder allows (brackets inside strings do not count). */
function exceedsGoJsonDepth(line: string): boolean {
  if (line.length <= 2 * GO_MAX_JSON_DEPTH) return false; // too short to open and close that many
  let depth = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > GO_MAX_JSON_DEPTH) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** Whether a parsed JSON value holds ±Infinity (a literal beyond float64, which Go rejects). Iterative: values can nest 10000 deep. */
function hasNonFiniteNumber(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (typeof v === 'object' && v !== null) {
      for (const child of Object.values(v)) stack.push(child);
    }
  }
  return false;
}

function firstNonJsonSpace(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return c;
  }
  return undefined;
}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})[.,]\d{6}(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Whether Go's `time.Parse("2006-01-02T15:04:05.000000Z07:00", s)` accepts `s`: exactly 6 fractional
 * digits (Go also accepts a comma there), `Z` or `±hh:mm`, a real calendar date, hour < 24, minute and
 * second < 60, offset hours ≤ 24 and minutes ≤ 60. (Go's `15` accepts a one-digit hour too.)
 */
export function isHclogTimestamp(s: string): boolean {
  const m = TIMESTAMP_RE.exec(s);
  if (m === null) return false;
  const [, y, mo, d, h, mi, se, oh, om] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return false;
  if (day < 1 || day > daysIn(month, year)) return false;
  if (Number(h) >= 24 || Number(mi) >= 60 || Number(se) >= 60) return false;
  if (oh !== undefined && (Number(oh) > 24 || Number(om) > 60)) return false;
  return true;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
