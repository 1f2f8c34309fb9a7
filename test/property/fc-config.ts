/**
 * Shared set-up of the property tests (test/property): run count and seed, the typed-error contract, and
 * the heap-growth check.
 *
 * Runs and seed come from the environment so `make test` is reproducible and `make fuzz` can go wide:
 *   LOOPP_FUZZ_RUNS  cases per parser property (default 10000; `make test` never runs fewer)
 *   LOOPP_FUZZ_SEED  fast-check seed (default a fixed one, so CI sees the same cases every time)
 *   LOOPP_FUZZ_PATH  fast-check replay path (only with the seed of the failing run)
 *
 * Replaying a failure: fast-check's report ends with `{ seed: S, path: "P", endOnFailure: true }` and every
 * test prints its seed as a diagnostic line. Re-run just that file with both:
 *   LOOPP_FUZZ_SEED=S LOOPP_FUZZ_PATH=P node --test dist/test/property/<file>.test.js
 * The seed alone reproduces the whole run (all properties of the file draw from it); the path jumps
 * straight to the shrunk counterexample of the property that failed.
 */
import assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import fc from 'fast-check';
import { ERROR_CODES as CATALOG, isLooppError, type LooppError, type LooppErrorCode } from '../../src/core/errors';

/** The fixed seed of `make test`. */
export const DEFAULT_SEED = 0x10_0b_9e;

function intFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return n;
}

/** Cases per parser property. */
export const RUNS = intFromEnv('LOOPP_FUZZ_RUNS', 10_000);
export const SEED = intFromEnv('LOOPP_FUZZ_SEED', DEFAULT_SEED);
const PATH = process.env['LOOPP_FUZZ_PATH'] || undefined;
/**
 * Whether to assert that a property's cases reached every outcome it is meant to test (a generator that
 * never produces, say, a bad certificate tests less than it claims). Off for small runs and for a replay.
 */
export const CHECK_COVERAGE = RUNS >= 1000 && PATH === undefined;

/**
 * fast-check parameters for one property. `fraction` scales RUNS down for a *labelled* secondary property
 * (the test name must say so); parser properties use the default 1.
 */
export function params<T>(fraction = 1): fc.Parameters<T> {
  const numRuns = Math.max(1, Math.round(RUNS * fraction));
  return PATH === undefined ? { numRuns, seed: SEED } : { numRuns, seed: SEED, path: PATH, endOnFailure: true };
}

/** What the test context offers for reporting (node:test's TestContext). */
interface Diagnose {
  diagnostic(message: string): void;
}

/** Runs a synchronous property and prints the seed and case count (for the replay line and the report). */
export function check<Ts extends [unknown, ...unknown[]]>(t: Diagnose, property: fc.IPropertyWithHooks<Ts>, fraction = 1): void {
  const p = params<Ts>(fraction);
  const t0 = process.hrtime.bigint();
  try {
    fc.assert(property, p);
  } catch (err) {
    throw withCause(err);
  }
  t.diagnostic(`seed=${SEED} runs=${p.numRuns} ms=${Number((process.hrtime.bigint() - t0) / 1_000_000n)}`);
}

/** The asynchronous variant of `check`. */
export async function checkAsync<Ts extends [unknown, ...unknown[]]>(t: Diagnose, property: fc.IAsyncPropertyWithHooks<Ts>, fraction = 1): Promise<void> {
  // A case that does not settle within 20 s fails as a hang (cases bound their own waits far lower).
  const p: fc.Parameters<Ts> = { ...params<Ts>(fraction), timeout: 20_000 };
  const t0 = process.hrtime.bigint();
  try {
    await fc.assert(property, p);
  } catch (err) {
    throw withCause(err);
  }
  t.diagnostic(`seed=${SEED} runs=${p.numRuns} ms=${Number((process.hrtime.bigint() - t0) / 1_000_000n)}`);
}

/** fast-check keeps the failing assertion in `cause`; node:test prints only the message, so append it. */
function withCause(err: unknown): unknown {
  if (err instanceof Error && err.cause !== undefined) {
    const cause = err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause);
    err.message += `\nCause: ${cause}`;
  }
  return err;
}

/** Every LooppErrorCode, checked against the union at compile time in both directions. */
export const ERROR_CODES = [
  'ERR_LOOPP_CONFIG',
  'ERR_LOOPP_ENV',
  'ERR_LOOPP_DESCRIPTORS',
  'ERR_LOOPP_HANDSHAKE_MALFORMED',
  'ERR_LOOPP_CORE_VERSION',
  'ERR_LOOPP_APP_VERSION',
  'ERR_LOOPP_PROTOCOL',
  'ERR_LOOPP_ADDRESS',
  'ERR_LOOPP_SERVER_CERT',
  'ERR_LOOPP_MUX_UNSUPPORTED',
  'ERR_LOOPP_START_TIMEOUT',
  'ERR_LOOPP_EXITED_BEFORE_HANDSHAKE',
  'ERR_LOOPP_SPAWN',
  'ERR_LOOPP_ABORTED',
  'ERR_LOOPP_CHECKSUM',
  'ERR_LOOPP_PROCESS_NOT_FOUND',
  'ERR_LOOPP_CONNECT',
  'ERR_LOOPP_UNKNOWN_PLUGIN',
  'ERR_LOOPP_CLOSED',
  'ERR_LOOPP_LISTEN',
  'ERR_LOOPP_TLS',
  'ERR_LOOPP_BROKER_TIMEOUT',
  'ERR_LOOPP_BROKER_CLOSED',
  'ERR_LOOPP_BROKER',
  'ERR_LOOPP_YAMUX',
  'ERR_LOOPP_STATE',
  'ERR_LOOPP_SERVICE',
  'ERR_LOOPP_PANIC',
  'ERR_LOOPP_LOOP_EXISTS',
  'ERR_LOOPP_FREE_PORT',
  'ERR_LOOPP_LOOP_UNAVAILABLE',
  'ERR_LOOPP_LOOP_CLOSED',
  'ERR_LOOPP_LOOP_LISTEN',
  'ERR_LOOPP_LOOP_CALL',
  'ERR_LOOPP_LOOP_UNIMPLEMENTED',
  'ERR_LOOPP_LOOP_CODEC',
] as const satisfies readonly LooppErrorCode[];
type MissingCode = Exclude<LooppErrorCode, (typeof ERROR_CODES)[number]>;
const everyCodeListed: [MissingCode] extends [never] ? true : MissingCode = true;
void everyCodeListed;
const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export interface ContractOptions {
  /** The codes this parser may throw (each must be a LooppErrorCode). */
  codes: readonly LooppErrorCode[];
  /** The parser documents a hint on every error it throws. Default true. */
  hint?: boolean;
  /** Further checks on the error (its class, `input`, message prefix…). */
  error?: (err: LooppError) => void;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: LooppError };

/**
 * The contract every parser here keeps: `fn` returns, or throws a LooppError with one of `codes`, a string
 * message and (where the parser provides one) a string hint. Anything else thrown (TypeError,
 * RangeError, a plain Error, a string, a LooppError with an unknown code) fails the property.
 */
export function typed<T>(fn: () => T, options: ContractOptions): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, error: assertTypedError(err, options) };
  }
}

/** Asserts `err` is a LooppError that fits `options`; returns it typed. */
export function assertTypedError(err: unknown, options: ContractOptions): LooppError {
  if (!isLooppError(err)) {
    const what = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err);
    assert.fail(`untyped throw: ${what}`);
  }
  assert.ok(KNOWN_CODES.has(err.code), `code ${String(err.code)} is not a LooppErrorCode`);
  assert.ok(options.codes.includes(err.code), `unexpected code ${err.code} (allowed: ${options.codes.join(', ')}): ${err.message}`);
  // A code belongs to one class: the catalog's.
  assert.equal(err.name, CATALOG[err.code].class, `${err.code} thrown as ${err.name}`);
  assert.equal(typeof err.message, 'string');
  assert.ok(err.message.length > 0, 'empty error message');
  if (options.hint !== false) assert.equal(typeof err.hint, 'string', `no hint on ${err.code}: ${err.message}`);
  options.error?.(err);
  return err;
}

let gcFn: (() => void) | undefined;
/** A forced full GC (the flag is set at run time so the tests need no node option). */
export function forceGc(): void {
  if (gcFn === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** JS heap plus Buffer memory (Buffers live outside the JS heap). */
function liveBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * "Grows no memory": runs `batch` once to warm up (JIT, caches, lazily loaded modules), measures live
 * memory after a full GC, runs it again and measures again. A parser that keeps anything per case grows
 * with the batch; the bound is far below what `cases` leaked objects would take. Returns the growth.
 */
export async function assertNoGrowth(
  t: Diagnose,
  label: string,
  cases: number,
  batch: () => void | Promise<void>,
  boundBytes = 4 * 1024 * 1024,
): Promise<number> {
  await batch();
  forceGc();
  const before = liveBytes();
  await batch();
  forceGc();
  const growth = liveBytes() - before;
  t.diagnostic(`${label}: ${cases} cases, live memory growth ${growth} bytes (bound ${boundBytes})`);
  assert.ok(growth < boundBytes, `${label}: live memory grew by ${growth} bytes over ${cases} cases (bound ${boundBytes})`);
  return growth;
}

/** `promise`, or a failure naming `what` after `ms` (a hang is a failure, not a test-runner timeout). */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Splits `bytes` at random cut points (possibly empty pieces), for chunking-invariance properties. */
export function chunked(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(Buffer.from(bytes.subarray(prev, p)));
    prev = p;
  }
  out.push(Buffer.from(bytes.subarray(prev)));
  return out;
}

/** Arbitrary cut points for `chunked` (0–12 of them; reduced modulo the input length). */
export const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

/** Text that is hostile to line and field parsers: separators, controls, spaces of every kind, astral and lone surrogates. */
export const nastyChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('|', '\n', '\r', '\r\n', ' ', '\t', '\v', '\f', '\u0085', '\u00a0', '\u2028', '\u3000', '\ufeff', '\0', '=', ',', '"', '\\', '{', '}', ':', '%', '#') },
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 4 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udfff', '\ud83d\ude00', '\u0130', '\ufffd') },
);
export const nastyString = (maxLength = 24) => fc.array(nastyChar, { maxLength }).map((a) => a.join(''));

/** Bytes that are not valid UTF-8 (lone continuation bytes, truncated sequences, overlongs, surrogates, > U+10FFFF). */
export const invalidUtf8 = fc.constantFrom(
  [0x80], [0xbf], [0xc0, 0xaf], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xff], [0xfe],
).map((a) => Buffer.from(a));

/** Inserts `insert` into `bytes` at `at` (modulo its length + 1). */
export function spliceBytes(bytes: Buffer, at: number, insert: Buffer, remove = 0): Buffer {
  const i = at % (bytes.length + 1);
  return Buffer.concat([bytes.subarray(0, i), insert, bytes.subarray(Math.min(bytes.length, i + remove))]);
}
