/**
 * The few Go strconv behaviours that go-plugin's texts expose. Errors carry Go's own wording because
 * go-plugin embeds them in its messages (e.g. `strconv.Atoi: parsing "x": invalid syntax`).
 */

export type GoParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * Go's base-10 strconv.ParseUint core: `syntax` for anything but ASCII digits (no sign, no
 * underscores), `range` as soon as the value overflows `bits` (Go stops at that digit, so
 * "99999999999999999999x" is a range error, not a syntax error).
 */
function parseUintCore(s: string, bits: number): { value: bigint } | { err: 'syntax' | 'range' } {
  if (s === '') return { err: 'syntax' };
  const maxVal = (1n << BigInt(bits)) - 1n;
  const cutoff = MAX_UINT64 / 10n + 1n;
  let n = 0n;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return { err: 'syntax' };
    if (n >= cutoff) return { err: 'range' };
    n = n * 10n + BigInt(c - 0x30);
    if (n > maxVal) return { err: 'range' };
  }
  return { value: n };
}

function numError(fn: string, s: string, reason: 'syntax' | 'range'): { ok: false; error: string } {
  return { ok: false, error: `${fn}: parsing ${goQuote(s)}: ${reason === 'syntax' ? 'invalid syntax' : 'value out of range'}` };
}

/** Go's strconv.ParseInt(s, 10, bits) with `fn` naming the function in the error text. */
export function goParseInt(s: string, bits: 32 | 64, fn = 'strconv.ParseInt'): GoParseResult<number> {
  if (s === '') return numError(fn, s, 'syntax');
  let rest = s;
  let neg = false;
  if (rest[0] === '+' || rest[0] === '-') {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  const u = parseUintCore(rest, bits);
  if ('err' in u && u.err === 'syntax') return numError(fn, s, 'syntax');
  const cutoff = 1n << BigInt(bits - 1);
  if ('err' in u) return numError(fn, s, 'range');
  if ((!neg && u.value >= cutoff) || (neg && u.value > cutoff)) return numError(fn, s, 'range');
  // Values beyond 2^53 cannot be versions or ports anyway; they still compare correctly as mismatches.
  return { ok: true, value: Number(neg ? -u.value : u.value) };
}

/** Go's strconv.ParseUint(s, 10, bits); values above 2^53 lose precision in the returned number. */
export function goParseUint(s: string, bits: 32 | 64, fn = 'strconv.ParseUint'): GoParseResult<number> {
  const u = parseUintCore(s, bits);
  if ('err' in u) return numError(fn, s, u.err);
  return { ok: true, value: Number(u.value) };
}

/** Go's strconv.Atoi on a 64-bit platform. */
export function goAtoi(s: string): GoParseResult<number> {
  return goParseInt(s, 64, 'strconv.Atoi');
}

/** Go's strconv.ParseBool. */
export function goParseBool(s: string): GoParseResult<boolean> {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return { ok: true, value: true };
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return { ok: true, value: false };
    default:
      return { ok: false, error: `strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax` };
  }
}

/** Go's `%v` of an int slice: `[1 2 3]`. */
export function goIntSlice(values: readonly number[]): string {
  return `[${values.join(' ')}]`;
}

/** Go's strconv.IsPrint, approximated with the JS engine's Unicode tables (L, M, N, P, S and U+0020). */
function goIsPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(cp));
}

/**
 * Go's strconv.Quote (what `%q` prints for a string): printable runes as they are, `\a \b \f \n \r
 * \t \v`, other control bytes as `\xNN`, other non-printable runes as `\uNNNN` / `\UNNNNNNNN`.
 * A lone UTF-16 surrogate (which cannot come from a Go string) is quoted as U+FFFD would be.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    let cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp === 0x22 || cp === 0x5c) {
      out += '\\' + String.fromCodePoint(cp);
      continue;
    }
    if (cp < 0x80 ? cp >= 0x20 && cp < 0x7f : goIsPrint(cp)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    switch (cp) {
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** Go's strconv.FormatBool. */
export function goFormatBool(b: boolean): string {
  return b ? 'true' : 'false';
}

/**
 * Go's strconv.FormatFloat(f, 'f', -1, 64): the shortest digits that round-trip, never an exponent.
 * NaN is `NaN`, infinities `+Inf` / `-Inf`, negative zero `-0`.
 */
export function goFormatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const neg = f < 0;
  // toExponential() without an argument gives the shortest round-trip digits, like Go's -1.
  const [mant = '', expText = '0'] = Math.abs(f).toExponential().split('e');
  const digits = mant.replace('.', '');
  const exp = Number(expText); // value = 0.d1d2d3... * 10^(exp+1)
  const point = exp + 1; // digits before the decimal point
  let text: string;
  if (point <= 0) text = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) text = digits + '0'.repeat(point - digits.length);
  else text = digits.slice(0, point) + '.' + digits.slice(point);
  return (neg ? '-' : '') + text;
}

function lowerAscii(c: string): string {
  return c >= 'A' && c <= 'Z' ? c.toLowerCase() : c;
}

/** Go's underscoreOK: underscores only between digits, or between a base prefix and a digit. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(lowerAscii(s[1] ?? ''))) {
    i = 2;
    saw = '0';
    hex = lowerAscii(s[1] ?? '') === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    const l = lowerAscii(c);
    if ((c >= '0' && c <= '9') || (hex && l >= 'a' && l <= 'f')) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** Length of Go's special(): inf / infinity (optionally signed) and nan; 0 when none. */
function specialFloat(s: string): { value: number; n: number } | undefined {
  if (s === '') return undefined;
  let sign = 1;
  let nsign = 0;
  let rest = s;
  if (s[0] === '+' || s[0] === '-') {
    sign = s[0] === '-' ? -1 : 1;
    nsign = 1;
    rest = s.slice(1);
  } else if (s[0] === 'n' || s[0] === 'N') {
    return rest.slice(0, 3).toLowerCase() === 'nan' ? { value: NaN, n: 3 } : undefined;
  } else if (s[0] !== 'i' && s[0] !== 'I') {
    return undefined;
  }
  const word = 'infinity';
  let n = 0;
  while (n < word.length && n < rest.length && lowerAscii(rest[n] ?? '') === word[n]) n++;
  if (n > 3 && n < 8) n = 3;
  if (n === 3 || n === 8) return { value: sign * Infinity, n: nsign + n };
  return undefined;
}

/**
 * Go's strconv.ParseFloat(s, 64): decimal and hexadecimal (`0x1.8p3`) forms, `inf`/`infinity`/`nan`
 * in any case, underscores as Go allows them. Overflow is `value out of range` (Go also returns
 * ±Inf then); underflow is 0 without error. Decimal conversion is the engine's (correctly rounded,
 * like Go); hexadecimal mantissas are rounded once to 53 bits, which can differ from Go by one ulp
 * only for subnormal results.
 */
export function goParseFloat(s: string, fn = 'strconv.ParseFloat'): GoParseResult<number> {
  const sp = specialFloat(s);
  if (sp !== undefined) {
    return sp.n === s.length ? { ok: true, value: sp.value } : numError(fn, s, 'syntax');
  }
  let i = 0;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let hex = false;
  if (i + 2 < s.length && s[i] === '0' && lowerAscii(s[i + 1] ?? '') === 'x') {
    hex = true;
    i += 2;
  }
  let underscores = false;
  let sawdot = false;
  let sawdigits = false;
  let intDigits = '';
  let fracDigits = '';
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '_') {
      underscores = true;
      continue;
    }
    if (c === '.') {
      if (sawdot) break;
      sawdot = true;
      continue;
    }
    const l = lowerAscii(c);
    if ((c >= '0' && c <= '9') || (hex && l >= 'a' && l <= 'f')) {
      sawdigits = true;
      if (sawdot) fracDigits += l;
      else intDigits += l;
      continue;
    }
    break;
  }
  if (!sawdigits) return numError(fn, s, 'syntax');
  let exp = 0;
  const expChar = hex ? 'p' : 'e';
  if (i < s.length && lowerAscii(s[i] ?? '') === expChar) {
    i++;
    if (i >= s.length) return numError(fn, s, 'syntax');
    let esign = 1;
    if (s[i] === '+') i++;
    else if (s[i] === '-') {
      i++;
      esign = -1;
    }
    if (i >= s.length || !((s[i] ?? '') >= '0' && (s[i] ?? '') <= '9')) return numError(fn, s, 'syntax');
    let e = 0;
    for (; i < s.length && (((s[i] ?? '') >= '0' && (s[i] ?? '') <= '9') || s[i] === '_'); i++) {
      if (s[i] === '_') {
        underscores = true;
        continue;
      }
      if (e < 10000) e = e * 10 + Number(s[i]);
    }
    exp = e * esign;
  } else if (hex) {
    return numError(fn, s, 'syntax'); // a hexadecimal float must have a p exponent
  }
  if (underscores && !underscoreOK(s.slice(0, i))) return numError(fn, s, 'syntax');
  if (i !== s.length) return numError(fn, s, 'syntax');
  let value: number;
  if (hex) {
    const mant = BigInt('0x' + (intDigits + fracDigits || '0'));
    const binExp = exp - 4 * fracDigits.length;
    if (mant === 0n) value = 0;
    else {
      // Scale in two steps so that 2^binExp itself never over/underflows prematurely.
      const half = Math.trunc(binExp / 2);
      value = Number(mant) * 2 ** half * 2 ** (binExp - half);
    }
  } else {
    value = Number(`${intDigits || '0'}.${fracDigits || '0'}e${exp}`);
  }
  if (neg) value = -value;
  if (!Number.isFinite(value)) return numError(fn, s, 'range');
  return { ok: true, value };
}
