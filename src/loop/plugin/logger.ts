/**
 * The LOOP plugin-side logger: what chainlink's `loop.NewLogger()` writes (a zap *production* JSON
 * logger at level debug, with chainlink's key names), one JSON object per line on the process's REAL
 * stderr. go-plugin's host parses these lines (`@level`, `@message`, `@timestamp`, every other key as a
 * field), and chainlink's host adapter names the sub-logger after the `logger` key.
 *
 * Key order (zap's JSON encoder order):
 *
 *   `@level`, `@timestamp`, `logger` (omitted when the name is empty), `caller` (only with
 *   `caller: true`), `@message`, then the fields (`with()` fields first, then the call's own, in
 *   insertion order; a later value for the same key replaces the earlier one in place), then
 *   `stacktrace` (only with `stacktrace: true`, and only at error and above).
 *
 * `{"@level":"info","@timestamp":"2024-01-02T15:04:05.123000Z","logger":"PluginMedian","@message":"hi","k":"v"}`
 *
 * - `@timestamp` uses Go's layout `2006-01-02T15:04:05.000000Z07:00` (local offset, or `Z` for UTC),
 *   formatted by src/core/go/time.ts's `formatGoTimestamp` (JS clocks have milliseconds, so the last three
 *   digits are `000`). It must match exactly, or go-plugin's host treats the line as plain text.
 * - Levels: `debug`, `info`, `warn`, `error`, `dpanic` (chainlink's "critical"), `panic`, `fatal`.
 * - A user field named like one of the format's own keys (`@level`, `@timestamp`, `logger`, `caller`,
 *   `@message`, `stacktrace`) is dropped: it would fake or break the entry on the host.
 * - Values are always JSON-safe: Errors become their message, bigint a decimal string, NaN/±Inf the
 *   strings `NaN`/`+Inf`/`-Inf` (as zap), bytes base64, Maps/Sets objects/arrays, cycles `"[Circular]"`.
 * - Logging never throws (a broken writer, e.g. EPIPE after the host died, is ignored), except that
 *   `panic()` throws after writing, as zap's Panic does.
 */
import * as path from 'node:path';
import { ConfigError, LoopError } from '../../core/errors';
import { formatGoTimestamp } from '../../core/go/time';
import { encodeValue, errorMessage, safeString } from '../../core/json-value';

/** zap's level names, least severe first. chainlink's "critical" is `dpanic`. */
export type LoopPluginLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';

export const LOOP_PLUGIN_LOG_LEVELS: readonly LoopPluginLogLevel[] = Object.freeze(['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'] as const);

const SEVERITY: Readonly<Record<LoopPluginLogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, dpanic: 4, panic: 5, fatal: 6 };

export function isLoopPluginLogLevel(value: unknown): value is LoopPluginLogLevel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SEVERITY, value);
}

export type LoopLogFields = Record<string, unknown>;

/** One entry for `formatLoopLogLine`. */
export interface LoopLogEntry {
  level: LoopPluginLogLevel;
  message: string;
  /** Dotted logger name; the `logger` key is omitted when empty. */
  logger?: string;
  /** `caller` value (e.g. `loop/server.js:12`); omitted when undefined. */
  caller?: string;
  /** Defaults to now; an invalid Date is replaced by now. */
  time?: Date;
  fields?: LoopLogFields;
  /** `stacktrace` value, written after the fields; omitted when undefined. */
  stacktrace?: string;
}

export interface LoopLogFormatOptions {
  /** Offset from UTC in minutes east for `@timestamp`. Default: the local offset at the entry's time. */
  utcOffsetMinutes?: number;
}

/** The format's own keys; user fields with these names are dropped. */
export const LOOP_LOG_RESERVED_KEYS: ReadonlySet<string> = new Set(['@level', '@timestamp', 'logger', 'caller', '@message', 'stacktrace']);

/** One JSON line (with its `\n`) in the key order documented at the top of this module. Never throws. */
export function formatLoopLogLine(entry: LoopLogEntry, options: LoopLogFormatOptions = {}): string {
  try {
    return formatEntry(entry, options);
  } catch (err) {
    // Only reachable with hostile input (a Proxy as entry, a throwing getter on fields...).
    return formatEntry(
      { level: isLoopPluginLogLevel(entry?.level) ? entry.level : 'error', message: safeString(entry?.message), fields: { 'log-format-error': safeString(errorMessage(err)) } },
      {},
    );
  }
}

function formatEntry(entry: LoopLogEntry, options: LoopLogFormatOptions): string {
  const level: LoopPluginLogLevel = isLoopPluginLogLevel(entry.level) ? entry.level : 'info';
  const time = entry.time instanceof Date && Number.isFinite(entry.time.getTime()) ? entry.time : new Date();
  let out = '{"@level":' + JSON.stringify(level);
  out += ',"@timestamp":' + JSON.stringify(formatGoTimestamp(time, options.utcOffsetMinutes));
  const name = entry.logger === undefined || entry.logger === null ? '' : safeString(entry.logger);
  if (name !== '') out += ',"logger":' + JSON.stringify(name);
  if (entry.caller !== undefined) out += ',"caller":' + JSON.stringify(safeString(entry.caller));
  out += ',"@message":' + JSON.stringify(typeof entry.message === 'string' ? entry.message : safeString(entry.message));
  const fields = entry.fields;
  if (fields !== undefined && fields !== null && typeof fields === 'object') {
    for (const key of Object.keys(fields)) {
      if (LOOP_LOG_RESERVED_KEYS.has(key)) continue;
      let encoded: string;
      try {
        encoded = encodeValue(fields[key], [], 0) ?? 'null';
      } catch (err) {
        encoded = JSON.stringify(`[unserializable: ${safeString(errorMessage(err))}]`);
      }
      out += ',' + JSON.stringify(key) + ':' + encoded;
    }
  }
  if (entry.stacktrace !== undefined) out += ',"stacktrace":' + JSON.stringify(safeString(entry.stacktrace));
  return out + '}\n';
}


// ---------------------------------------------------------------------------------------------------------
// Logger
// ---------------------------------------------------------------------------------------------------------

export interface LoopPluginLoggerOptions {
  /** Dotted name written as `logger`. Default: '' (no `logger` key), like zap's root logger. */
  name?: string;
  /** Entries below this level are dropped. Default 'debug' (chainlink sets the zap level to Debug). */
  level?: LoopPluginLogLevel;
  /**
   * Receives each complete line (with its `\n`). Default: `process.stderr.write` as it is at creation
   * time, i.e. the real fd 2 even after servePlugin redirects process.stderr to the host's GRPCStdio
   * stream (create the logger before calling servePlugin, as chainlink's StartServer does). Errors it
   * throws are swallowed.
   */
  write?: (line: string) => void;
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
  /** Fixed offset in minutes east of UTC for `@timestamp`, for tests. Default: local time. */
  utcOffsetMinutes?: number;
  /** Called with 1 by `fatal()` after the line is written. Default `process.exit`. */
  exit?: (code: number) => never;
  /** Add a `caller` key (`<dir>/<file>:<line>` of the logging call). Default false. */
  caller?: boolean;
  /** Add a `stacktrace` key at error and above (zap production does). Default false. */
  stacktrace?: boolean;
}

export interface LoopPluginLogger {
  /** The dotted name (`''` for the root logger). */
  readonly name: string;
  readonly level: LoopPluginLogLevel;
  debug(message: string, fields?: LoopLogFields): void;
  info(message: string, fields?: LoopLogFields): void;
  warn(message: string, fields?: LoopLogFields): void;
  error(message: string, fields?: LoopLogFields): void;
  /** chainlink's Critical: written at level `dpanic`; does not panic (zap production). */
  critical(message: string, fields?: LoopLogFields): void;
  /** Writes at level `panic`, then throws a LooppError (`ERR_LOOPP_PANIC`) with the message. */
  panic(message: string, fields?: LoopLogFields): never;
  /**
   * Writes at level `fatal`, then calls `exit(1)`. Returns only when an injected `exit` returns
   * (tests); callers must not rely on continuing.
   */
  fatal(message: string, fields?: LoopLogFields): void;
  /** Writes at any level (below-threshold entries are dropped); `panic`/`fatal` do not throw or exit here. */
  log(level: LoopPluginLogLevel, message: string, fields?: LoopLogFields): void;
  /** A sub-logger named `<name>.<sub>` (just `<sub>` for the root logger), as zap's Named. */
  named(sub: string): LoopPluginLogger;
  /** A sub-logger that adds `fields` to every entry (a call's own fields win on a clash). */
  with(fields: LoopLogFields): LoopPluginLogger;
  isLevelEnabled(level: LoopPluginLogLevel): boolean;
  /** zap's Sync: nothing is buffered here (stderr writes are synchronous on pipes and files). */
  sync(): void;
}

interface Shared {
  level: LoopPluginLogLevel;
  write: (line: string) => void;
  now: () => Date;
  format: LoopLogFormatOptions;
  exit: (code: number) => never;
  caller: boolean;
  stacktrace: boolean;
}

let stderrGuarded = false;

function defaultWrite(): (line: string) => void {
  const stderr = process.stderr;
  const write = stderr.write.bind(stderr);
  if (!stderrGuarded) {
    // A host that died closes our pipe; without a listener the EPIPE 'error' event would crash us.
    stderrGuarded = true;
    stderr.on('error', () => {});
  }
  return (line) => void write(line);
}

/**
 * Creates the LOOP plugin logger. Throws ConfigError (`ERR_LOOPP_CONFIG`) for an unknown `level` or a
 * non-function `write`/`exit`; logging itself never throws (except `panic`).
 */
export function createLoopPluginLogger(options: LoopPluginLoggerOptions = {}): LoopPluginLogger {
  const level = options.level ?? 'debug';
  if (!isLoopPluginLogLevel(level)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `invalid log level ${JSON.stringify(safeString(level))}`, {
      input: level,
      hint: `use one of ${LOOP_PLUGIN_LOG_LEVELS.join(', ')}`,
    });
  }
  for (const key of ['write', 'now', 'exit'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new ConfigError('ERR_LOOPP_CONFIG', `createLoopPluginLogger: ${key} must be a function`, { input: options[key] });
    }
  }
  const shared: Shared = {
    level,
    write: options.write ?? defaultWrite(),
    now: options.now ?? (() => new Date()),
    format: options.utcOffsetMinutes === undefined ? {} : { utcOffsetMinutes: options.utcOffsetMinutes },
    exit: options.exit ?? ((code: number) => process.exit(code)),
    caller: options.caller === true,
    stacktrace: options.stacktrace === true,
  };
  return makeLogger(shared, options.name ?? '', undefined);
}

function makeLogger(shared: Shared, name: string, implied: LoopLogFields | undefined): LoopPluginLogger {
  const enabled = (lvl: LoopPluginLogLevel): boolean => isLoopPluginLogLevel(lvl) && SEVERITY[lvl] >= SEVERITY[shared.level];
  const emit = (lvl: LoopPluginLogLevel, message: string, fields: LoopLogFields | undefined, skipFrames: number): void => {
    if (!enabled(lvl)) return;
    try {
      let merged = fields;
      if (implied !== undefined) merged = fields === undefined ? implied : { ...implied, ...fields };
      const entry: LoopLogEntry = { level: lvl, message, logger: name, time: shared.now(), fields: merged };
      if (shared.caller) entry.caller = callerOf(skipFrames);
      if (shared.stacktrace && SEVERITY[lvl] >= SEVERITY.error) entry.stacktrace = stackOf(skipFrames);
      shared.write(formatLoopLogLine(entry, shared.format));
    } catch {
      // A broken clock or writer must not take the caller down.
    }
  };
  // Frames to skip above `emit`'s caller: emit itself and the public method.
  const logger: LoopPluginLogger = {
    name,
    level: shared.level,
    debug: (message, fields) => emit('debug', message, fields, 2),
    info: (message, fields) => emit('info', message, fields, 2),
    warn: (message, fields) => emit('warn', message, fields, 2),
    error: (message, fields) => emit('error', message, fields, 2),
    critical: (message, fields) => emit('dpanic', message, fields, 2),
    panic: (message, fields) => {
      emit('panic', message, fields, 2);
      throw new LoopError('ERR_LOOPP_PANIC', safeString(message), { input: fields });
    },
    fatal: (message, fields) => {
      emit('fatal', message, fields, 2);
      shared.exit(1);
    },
    log: (lvl, message, fields) => emit(lvl, message, fields, 2),
    named: (sub) => makeLogger(shared, name === '' ? safeString(sub) : sub === '' ? name : `${name}.${safeString(sub)}`, implied),
    with: (fields) => makeLogger(shared, name, implied === undefined ? { ...fields } : { ...implied, ...fields }),
    isLevelEnabled: enabled,
    sync: () => {},
  };
  return logger;
}

/** Stack frames of the logging call site, after dropping `skip` frames inside this module. */
function callSiteFrames(skip: number): string[] {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  try {
    Error.captureStackTrace(holder);
  } finally {
    Error.stackTraceLimit = limit;
  }
  const lines = (holder.stack ?? '').split('\n').slice(1);
  // Drop callSiteFrames, callerOf/stackOf, then `skip` (emit + public method).
  return lines.slice(2 + skip).map((l) => l.trim());
}

function callerOf(skip: number): string {
  const frame = callSiteFrames(skip)[0];
  if (frame === undefined) return 'undefined';
  const m = /\(?([^()\s]+):(\d+):\d+\)?$/.exec(frame);
  if (m === null) return frame.replace(/^at /, '');
  const file = (m[1] as string).replace(/^file:\/\//, '');
  return `${path.basename(path.dirname(file))}/${path.basename(file)}:${m[2]}`;
}

function stackOf(skip: number): string {
  return callSiteFrames(skip).join('\n');
}
