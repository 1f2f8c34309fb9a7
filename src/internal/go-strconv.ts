/**
 * The few Go strconv behaviours that go-plugin's texts expose. Errors carry Go's own wording because
 * go-plugin embeds them in its messages (e.g. `strconv.Atoi: parsing "x": invalid syntax`).
 */

export type GoParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const INT_RE = /^[+-]?[0-9]+$/;

/** Go's strconv.ParseInt(s, 10, bits) with `fn` naming the function in the error text. */
export function goParseInt(s: string, bits: 32 | 64, fn = 'strconv.ParseInt'): GoParseResult<number> {
  const quoted = JSON.stringify(s);
  if (!INT_RE.test(s)) return { ok: false, error: `${fn}: parsing ${quoted}: invalid syntax` };
  const big = BigInt(s);
  const limit = 1n << BigInt(bits - 1);
  if (big >= limit || big < -limit) return { ok: false, error: `${fn}: parsing ${quoted}: value out of range` };
  // Values beyond 2^53 cannot be versions or ports anyway; they still compare correctly as mismatches.
  return { ok: true, value: Number(big) };
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
