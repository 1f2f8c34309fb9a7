/**
 * Go's time.Duration text format, both ways.
 *
 * A duration is a count of **nanoseconds held in a bigint** (Go's int64 `time.Duration`), so every
 * value Go can print or parse, up to ±2562047h47m16.854775807s, round-trips exactly. Plain numbers
 * (integral nanoseconds) are accepted on input for convenience.
 *
 * - `formatGoDuration(ns)` is `time.Duration.String()`: `0s`, `1ns`, `1.5µs` (U+00B5), `500ms`,
 *   `1m30s`, `1h0m0s`, `2h45m0.5s`, `-1.5µs`.
 * - `parseGoDuration(s)` is `time.ParseDuration` with Go's error texts: `time: invalid duration "x"`,
 *   `time: missing unit in duration "1"`, `time: unknown unit "q" in duration "1q"`; overflow beyond
 *   int64 is `time: invalid duration "..."`.
 */
import { ConfigError } from '../errors';
import type { GoParseResult } from './strconv';

/** A Go time.Duration: nanoseconds. */
export type GoDuration = bigint;

export const Nanosecond: GoDuration = 1n;
export const Microsecond: GoDuration = 1000n * Nanosecond;
export const Millisecond: GoDuration = 1000n * Microsecond;
export const Second: GoDuration = 1000n * Millisecond;
export const Minute: GoDuration = 60n * Second;
export const Hour: GoDuration = 60n * Minute;

const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;
const TWO63 = 1n << 63n;

/** Milliseconds (may be fractional, e.g. 0.5) to a duration; sub-nanosecond parts are truncated. */
export function durationFromMs(ms: number): GoDuration {
  if (!Number.isFinite(ms)) throw new ConfigError('ERR_LOOPP_CONFIG', `duration in ms must be finite, got ${ms}`, { input: ms });
  const whole = Math.trunc(ms);
  return BigInt(whole) * Millisecond + BigInt(Math.trunc((ms - whole) * 1e6));
}

/** A duration as (possibly fractional) milliseconds, e.g. for setTimeout. */
export function durationToMs(d: GoDuration): number {
  return Number(d / Millisecond) + Number(d % Millisecond) / 1e6;
}

function toNanos(d: GoDuration | number): bigint {
  if (typeof d === 'bigint') {
    if (d < MIN_INT64 || d > MAX_INT64) {
      throw new ConfigError('ERR_LOOPP_CONFIG', `duration ${d}ns does not fit Go's int64 time.Duration`, { input: d });
    }
    return d;
  }
  if (!Number.isSafeInteger(d)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `duration must be an integral number of nanoseconds, got ${d}`, {
      input: d,
      hint: 'pass a bigint for exact nanoseconds, or use durationFromMs()',
    });
  }
  return BigInt(d);
}

/** Go's fmtFrac: the fraction of v/10^prec without trailing zeros (and without "." when zero). */
function fmtFrac(v: bigint, prec: number): [string, bigint] {
  let out = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) out = digit.toString() + out;
    v /= 10n;
  }
  return [print ? '.' + out : '', v];
}

/** Go's time.Duration.String(). `d` is nanoseconds (bigint, or an integral number). */
export function formatGoDuration(d: GoDuration | number): string {
  const ns = toNanos(d);
  const neg = ns < 0n;
  let u = neg ? -ns : ns; // -MIN_INT64 is fine in bigint (Go gets the same value via uint64)
  let out: string;
  if (u < Second) {
    let prec: number;
    let unit: string;
    if (u === 0n) return '0s';
    if (u < Microsecond) {
      prec = 0;
      unit = 'ns';
    } else if (u < Millisecond) {
      prec = 3;
      unit = '\u00b5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const [frac, rest] = fmtFrac(u, prec);
    out = rest.toString() + frac + unit;
  } else {
    const [frac, secs] = fmtFrac(u, 9);
    u = secs;
    out = (u % 60n).toString() + frac + 's';
    u /= 60n;
    if (u > 0n) {
      out = (u % 60n).toString() + 'm' + out;
      u /= 60n;
      if (u > 0n) out = u.toString() + 'h' + out;
    }
  }
  return neg ? '-' + out : out;
}

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', Nanosecond],
  ['us', Microsecond],
  ['\u00b5s', Microsecond], // U+00B5 micro sign
  ['\u03bcs', Microsecond], // U+03BC Greek small letter mu
  ['ms', Millisecond],
  ['s', Second],
  ['m', Minute],
  ['h', Hour],
]);

/**
 * Go's time-package quote(): ASCII as is (with `"` and `\` escaped), every byte of a control or
 * non-ASCII character as `\xNN` (so `µ` is `\xc2\xb5`).
 */
export function goTimeQuote(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte >= 0x80 || byte < 0x20) out += '\\x' + byte.toString(16).padStart(2, '0');
    else {
      if (byte === 0x22 || byte === 0x5c) out += '\\';
      out += String.fromCharCode(byte);
    }
  }
  return out + '"';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** time.ParseDuration as a result value (no throw). */
export function tryParseGoDuration(orig: string): GoParseResult<GoDuration> {
  const invalid = (): { ok: false; error: string } => ({ ok: false, error: `time: invalid duration ${goTimeQuote(orig)}` });
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, value: 0n };
  if (s === '') return invalid();
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return invalid();
    // leading integer; overflow beyond 2^63 is an error
    let i = 0;
    let v = 0n;
    for (; i < s.length && isDigit(s[i]); i++) {
      if (v > TWO63 / 10n) return invalid();
      v = v * 10n + BigInt(s.charCodeAt(i) - 0x30);
      if (v > TWO63) return invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    // optional fraction: keeps accumulating digits until it would overflow, then just skips them
    let post = false;
    let f = 0n;
    let scale = 1;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && isDigit(s[j]); j++) {
        if (overflow) continue;
        if (f > (TWO63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 0x30);
        if (y > TWO63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) return invalid();
    // unit: everything up to the next '.' or digit
    let k = 0;
    while (k < s.length && !(s[k] === '.' || isDigit(s[k]))) k++;
    if (k === 0) return { ok: false, error: `time: missing unit in duration ${goTimeQuote(orig)}` };
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = UNITS.get(u);
    if (unit === undefined) {
      return { ok: false, error: `time: unknown unit ${goTimeQuote(u)} in duration ${goTimeQuote(orig)}` };
    }
    if (v > TWO63 / unit) return invalid();
    v *= unit;
    if (f > 0n) {
      // Go computes this part in float64: uint64(float64(f) * (float64(unit) / scale))
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO63) return invalid();
    }
    d += v;
    if (d > TWO63) return invalid();
  }
  if (neg) return { ok: true, value: -d };
  if (d > MAX_INT64) return invalid();
  return { ok: true, value: d };
}

/** Go's time.ParseDuration; throws a ConfigError (code ERR_LOOPP_CONFIG) carrying Go's text. */
export function parseGoDuration(s: string): GoDuration {
  const r = tryParseGoDuration(s);
  if (!r.ok) {
    throw new ConfigError('ERR_LOOPP_CONFIG', r.error, {
      input: s,
      hint: 'a Go duration is a sequence of decimal numbers with units ns, us (or µs), ms, s, m, h, e.g. "1m30s"',
    });
  }
  return r.value;
}
