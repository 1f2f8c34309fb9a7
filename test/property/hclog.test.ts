/**
 * Property tests: the host's stderr classifier (createStderrParser) on random text, on hclog JSON lines
 * written by formatHclogLine, and on mutations of them (odd types for the `@` keys, deep nesting, huge
 * numbers, `__proto__` keys, invalid UTF-8 decoded the way the host decodes stderr).
 * Seed / runs / replay: see fc-config.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HCLOG_LEVELS,
  createStderrParser,
  formatHclogLine,
  isHclogTimestamp,
  parseHclogLevel,
  type HclogLevel,
  type ParsedLogLine,
  type StderrParser,
} from '../../src/wire/hclog';
import { createLineSplitter } from '../../src/core/lines';
import { CHECK_COVERAGE, RUNS, assertNoGrowth, check, invalidUtf8, nastyString, spliceBytes } from './fc-config';

const TEXT_PREFIX: Record<string, HclogLevel> = { '[TRACE]': 'trace', '[DEBUG]': 'debug', '[INFO]': 'info', '[WARN]': 'warn', '[ERROR]': 'error' };

/** Parses `line` (the parser never throws: not even a LooppError) and checks the result against the raw JSON. */
function classify(parser: StderrParser, line: string, fragment = false): ParsedLogLine {
  const wasPanicking = parser.panicking;
  let r: ParsedLogLine;
  try {
    r = parser.parseLine(line, { fragment });
  } catch (err) {
    assert.fail(`parseLine threw: ${err instanceof Error ? err.stack : String(err)}`);
  }
  assert.ok(HCLOG_LEVELS.includes(r.level), `level ${String(r.level)}`);
  assert.equal(r.raw, line);
  if (wasPanicking) assert.equal(parser.panicking, true, 'panic mode never switches off');
  if (fragment) {
    assert.deepEqual(r, { kind: 'text', level: 'debug', raw: line });
    return r;
  }
  let parsed: unknown;
  let isJson = true;
  try {
    parsed = JSON.parse(line);
  } catch {
    isJson = false;
  }
  if (r.kind === 'json') {
    assert.ok(isJson && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), 'json result from a non-object line');
    const obj = parsed as Record<string, unknown>;
    assert.equal(r.level, parseHclogLevel(obj['@level'] as string));
    assert.equal(r.message, '@message' in obj ? obj['@message'] : '');
    assert.equal(r.timestamp, obj['@timestamp']);
    if (r.timestamp !== undefined) assert.ok(isHclogTimestamp(r.timestamp));
    assert.equal(Object.getPrototypeOf(r.fields), Object.prototype);
    const expected = Object.keys(obj).filter((k) => k !== '@level' && k !== '@message' && k !== '@timestamp');
    assert.deepEqual(Object.keys(r.fields), expected, 'every other key (including __proto__) is an own field');
    // (deepEqual recurses: values nested thousands deep are compared by their re-parsed JSON text length instead)
    const shallow = line.length < 5000;
    for (const k of expected) {
      const got: unknown = Object.getOwnPropertyDescriptor(r.fields, k)?.value;
      if (shallow) assert.deepEqual(got, obj[k]);
      else assert.equal(typeof got, typeof obj[k]);
    }
    return r;
  }
  if (isJson && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const obj = parsed as Record<string, unknown>;
    const wellTyped = ['@level', '@message', '@timestamp'].every((k) => !Object.prototype.hasOwnProperty.call(obj, k) || typeof obj[k] === 'string');
    // An object with string `@` keys and a real level is JSON unless a number overflows or the timestamp is bad.
    if (wellTyped && typeof obj['@level'] === 'string' && parseHclogLevel(obj['@level']) !== undefined) {
      assert.ok(
        (typeof obj['@timestamp'] === 'string' && !isHclogTimestamp(obj['@timestamp'])) || /\d[eE][+-]?\d|\d{309}/.test(line) || line.length > 20000,
        'a well-formed hclog entry was not recognised',
      );
    }
    if (wellTyped && !(typeof obj['@level'] === 'string' && parseHclogLevel(obj['@level']) !== undefined) && (typeof obj['@timestamp'] !== 'string' || isHclogTimestamp(obj['@timestamp']))) {
      // Go logs an entry without a usable level verbatim at Debug, and panic mode does not apply to it.
      assert.equal(r.level, 'debug');
    }
  }
  const prefix = Object.keys(TEXT_PREFIX).find((p) => line.startsWith(p));
  if (prefix !== undefined) assert.equal(r.level, TEXT_PREFIX[prefix]);
  if (line.startsWith('panic: ') || line.startsWith('fatal error: ')) {
    if (prefix === undefined && !isJson) assert.equal(parser.panicking, true);
  }
  return r;
}

// ---- generators ------------------------------------------------------------------------------------------

const level = fc.constantFrom<HclogLevel>(...HCLOG_LEVELS);
const levelText = fc.oneof(level, fc.constantFrom('INFO', ' warn ', 'Error', 'TRACE\t', 'warning', 'fatal', 'off', 'all', '', 'i\u0307nfo', '\u0130NFO', 'debug\u00a0'));
const jsonScalar = fc.oneof(fc.string({ maxLength: 12 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
const fieldKey = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'toString', '@module', '@caller', '@level', '@message', '@timestamp', 'hasOwnProperty'));

/** Lines a plugin's logger writes. */
const hclogLine = fc
  .record({
    level,
    message: fc.string({ unit: 'grapheme', maxLength: 30 }),
    module: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
    // Years 1..9999 at any offset: hclog (like Go's time.Format) prints a 5-digit year past 9999, which Go's own parser then refuses.
    time: fc.date({ min: new Date('0001-01-01T14:00:00Z'), max: new Date('9999-12-31T09:59:59Z'), noInvalidDate: true }),
    offset: fc.integer({ min: -14 * 60, max: 14 * 60 }),
    fields: fc.dictionary(fieldKey, fc.oneof(jsonScalar, fc.array(jsonScalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), jsonScalar, { maxKeys: 3 })), { maxKeys: 5 }),
  })
  .map((e) => formatHclogLine({ level: e.level, message: e.message, module: e.module, time: e.time, fields: e.fields }, { utcOffsetMinutes: e.offset }).slice(0, -1));

const oddValue = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '0', '-1', '1e999', '-1e999', '[]', '{}', '["info"]', '{"a":1}', '""', '"info"', '"2024-05-01T12:00:00.123000Z"', '"2024-02-30T12:00:00.123000Z"', '"2024-05-01T24:00:00.123000+02:00"', '"2024-05-01T12:00:00.123Z"', '"2024-05-01T12:00:00,123456-23:59"'),
  fc.double().map((d) => (Number.isFinite(d) ? JSON.stringify(d) : '0')),
  fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)),
);

/** A JSON number literal: long mantissas, exponents around float64's range. */
const numberLiteral = fc
  .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,30})$/), fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }), fc.option(fc.integer({ min: -400, max: 400 }), { nil: undefined }), fc.nat({ max: 20 }))
  .map(([neg, int, frac, exp, zeros]) => `${neg ? '-' : ''}${int}${int === '0' ? '' : '0'.repeat(zeros * 20)}${frac === undefined ? '' : '.' + frac}${exp === undefined ? '' : 'e' + exp}`);

type LineMutation =
  | { op: 'set'; key: '@level' | '@message' | '@timestamp' | '__proto__' | 'x'; value: string }
  | { op: 'nest'; depth: number; open: '[' | '{"a":' }
  | { op: 'number'; literal: string }
  | { op: 'utf8'; at: number; bytes: Buffer }
  | { op: 'cut'; at: number }
  | { op: 'prefix'; text: string };

const lineMutation: fc.Arbitrary<LineMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.constantFrom('@level' as const, '@message' as const, '@timestamp' as const, '__proto__' as const, 'x' as const), value: fc.oneof(oddValue, levelText.map((l) => JSON.stringify(l))) }) },
  fc.record({ op: fc.constant('nest' as const), depth: fc.oneof({ weight: 18, arbitrary: fc.integer({ min: 1, max: 50 }) }, { weight: 1, arbitrary: fc.integer({ min: 9990, max: 10010 }) }, { weight: 1, arbitrary: fc.constant(20000) }), open: fc.constantFrom('[' as const, '{"a":' as const) }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('number' as const), literal: numberLiteral }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('utf8' as const), at: fc.nat(), bytes: invalidUtf8 }) },
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('prefix' as const), text: fc.constantFrom(' ', '\t', '\r', 'x', '[INFO] ', 'panic: ', 'null', '\ufeff') }),
);

/** Applies `m` to a JSON object line (inserting members right after the opening brace). */
function mutateLine(line: string, m: LineMutation): string {
  const brace = line.indexOf('{');
  const insert = (member: string) => (brace < 0 ? line : line.slice(0, brace + 1) + member + (line[brace + 1] === '}' ? '' : ',') + line.slice(brace + 1));
  switch (m.op) {
    case 'set':
      return insert(`${JSON.stringify(m.key)}:${m.value}`);
    case 'nest': {
      const close = m.open === '[' ? ']' : '}';
      return insert(`"deep":${m.open.repeat(m.depth)}1${close.repeat(m.depth)}`);
    }
    case 'number':
      return insert(`"n":${m.literal}`);
    case 'utf8':
      return spliceBytes(Buffer.from(line, 'utf8'), m.at, m.bytes).toString('utf8');
    case 'cut':
      return line.slice(0, m.at % (line.length + 1));
    case 'prefix':
      return m.text + line;
  }
}

describe('property: hclog stderr parser', () => {
  it(`arbitrary text never throws and is classified by Go's rules (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(
        fc.array(fc.oneof(nastyString(30), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('panic: boom', 'fatal error: x', '[WARN] w', '[warn] w', ' [ERROR]', 'goroutine 1 [running]:', 'null', ' null', '{}', '[]', '{"@level":"info"}')), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { maxLength: 8 }),
        (lines, fragments) => {
          const parser = createStderrParser();
          lines.forEach((line, i) => classify(parser, line, fragments[i] === true));
        },
      ),
    );
  });

  it(`every line formatHclogLine writes is read back as that entry (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(hclogLine, (line) => {
        const r = classify(createStderrParser(), line);
        assert.equal(r.kind, 'json', line);
      }),
    );
  });

  it(`mutated hclog lines (odd @ types, deep nesting, huge numbers, __proto__, invalid UTF-8) stay typed (${RUNS} cases)`, (t) => {
    const kinds = { json: 0, text: 0 };
    check(
      t,
      fc.property(hclogLine, fc.array(lineMutation, { minLength: 1, maxLength: 3 }), (line, ms) => {
        const parser = createStderrParser();
        const r = classify(parser, ms.reduce(mutateLine, line));
        kinds[r.kind]++;
      }),
    );
    t.diagnostic(`outcomes: ${JSON.stringify(kinds)}`);
    if (CHECK_COVERAGE) assert.ok(kinds.json > 0 && kinds.text > 0);
  });

  it(`a number literal makes the line text exactly when it overflows float64 (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(numberLiteral, level, (literal, lvl) => {
        const r = classify(createStderrParser(), `{"@level":"${lvl}","n":${literal}}`);
        assert.equal(r.kind, Number.isFinite(Number(literal)) ? 'json' : 'text', literal);
      }),
    );
  });

  // A boundary check more than a search (each case is a 20-60 KB line): RUNS/20 cases.
  it(`nesting: JSON up to Go's depth limit (10000, the entry's own object included) is an entry, deeper is text (secondary: ${Math.round(RUNS / 20)} cases)`, (t) => {
    check(
      t,
      fc.property(fc.oneof(fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 9990, max: 10010 })), fc.constantFrom('[', '{"k":'), fc.constantFrom('1', '1e5', '"]]}}"'), (depth, open, leaf) => {
        const close = open === '[' ? ']' : '}';
        const line = `{"@level":"warn","deep":${open.repeat(depth)}${leaf}${close.repeat(depth)}}`;
        const r = createStderrParser().parseLine(line);
        assert.equal(r.kind, depth + 1 <= 10000 ? 'json' : 'text', `depth ${depth + 1}`);
      }),
      1 / 20,
    );
  });

  it(`a non-string @level/@message/@timestamp (which would panic a Go host) makes the line text (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(hclogLine, fc.constantFrom('@level', '@message', '@timestamp'), fc.oneof(fc.double().filter(Number.isFinite), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 })), (line, key, value) => {
        const obj = JSON.parse(line) as Record<string, unknown>;
        obj[key] = value;
        const r = classify(createStderrParser(), JSON.stringify(obj));
        assert.equal(r.kind, 'text');
      }),
    );
  });

  it(`stderr bytes with invalid UTF-8, split like the host splits them, classify without throwing (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.array(fc.tuple(hclogLine, fc.nat(), invalidUtf8), { minLength: 1, maxLength: 4 }), fc.constantFrom(16, 64, 65536), (lines, max) => {
        const bytes = Buffer.concat(lines.map(([l, at, bad]) => Buffer.concat([spliceBytes(Buffer.from(l), at, bad), Buffer.from('\n')])));
        const parser = createStderrParser();
        const splitter = createLineSplitter({ maxLineBytes: max, onLine: (text, info) => void classify(parser, text, info.fragment) });
        splitter.push(bytes);
        splitter.end();
      }),
    );
  });

  it('grows no memory over repeated mutated-line batches', async (t) => {
    const lines = fc.sample(fc.tuple(hclogLine, fc.array(lineMutation, { minLength: 1, maxLength: 3 })), { numRuns: 2000, seed: 5 }).map(([l, ms]) => ms.reduce(mutateLine, l));
    const parser = createStderrParser();
    await assertNoGrowth(t, 'createStderrParser', lines.length, () => {
      for (const line of lines) parser.parseLine(line);
    });
  });
});
