import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  HCLOG_LEVELS,
  createHclogLogger,
  createStderrParser,
  formatHclogLine,
  formatHclogTimestamp,
  isHclogTimestamp,
  isPanicLine,
  levelAtLeast,
  parseHclogLevel,
  type HclogLevel,
  type ParsedLogLine,
} from '../../src/wire/hclog';
import { isLooppError } from '../../src/core/errors';

// 2024-03-05T07:08:09.123Z
const T = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 123));

function parse(line: string): ParsedLogLine {
  return createStderrParser().parseLine(line);
}

describe('levels', () => {
  it('orders levels and compares them', () => {
    assert.deepEqual(HCLOG_LEVELS, ['trace', 'debug', 'info', 'warn', 'error']);
    assert.equal(levelAtLeast('warn', 'info'), true);
    assert.equal(levelAtLeast('info', 'info'), true);
    assert.equal(levelAtLeast('debug', 'info'), false);
    assert.equal(levelAtLeast('error', 'trace'), true);
  });

  it('parses levels like hclog.LevelFromString', () => {
    assert.equal(parseHclogLevel(' INFO\t'), 'info');
    assert.equal(parseHclogLevel('Warn'), 'warn');
    assert.equal(parseHclogLevel('\u0130NFO'), 'info', 'Go lower-cases U+0130 to i');
    for (const bad of ['warning', 'fatal', 'off', 'all', '', 'err']) assert.equal(parseHclogLevel(bad), undefined, bad);
  });
});

describe('formatHclogLine', () => {
  it('writes one JSON object line with hclog key order and a 6-digit UTC timestamp', () => {
    const line = formatHclogLine(
      { level: 'debug', message: 'plugin address', time: T, fields: { network: 'unix', address: '/tmp/plugin1' } },
      { utcOffsetMinutes: 0 },
    );
    assert.equal(
      line,
      '{"@level":"debug","@message":"plugin address","@timestamp":"2024-03-05T07:08:09.123000Z","address":"/tmp/plugin1","network":"unix"}\n',
    );
  });

  it('sorts user fields in among the @ keys and includes @module only when set', () => {
    const line = formatHclogLine(
      { level: 'info', message: 'm', module: 'plugin.kv', time: T, fields: { zeta: 1, A: 2, '@caller': 'x.go:1', '0': 3, é: 4 } },
      { utcOffsetMinutes: 0 },
    );
    const order = [...line.matchAll(/"([^"]+)":/g)].map((m) => m[1]);
    assert.deepEqual(order, ['0', '@caller', '@level', '@message', '@module', '@timestamp', 'A', 'zeta', 'é']);
    assert.ok(!formatHclogLine({ level: 'info', message: 'm', module: '' }).includes('@module'));
    assert.ok(!formatHclogLine({ level: 'info', message: 'm' }).includes('@module'));
  });

  it('formats the offset as ±hh:mm in local time (injected offset)', () => {
    assert.match(
      formatHclogLine({ level: 'info', message: 'x', time: T }, { utcOffsetMinutes: 330 }),
      /"@timestamp":"2024-03-05T12:38:09\.123000\+05:30"/,
    );
    assert.equal(formatHclogTimestamp(T, -210), '2024-03-05T03:38:09.123000-03:30');
    assert.equal(formatHclogTimestamp(T, -480), '2024-03-04T23:08:09.123000-08:00');
    assert.equal(formatHclogTimestamp(new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 7)), 0), '2024-01-01T00:00:00.007000Z');
    assert.equal(formatHclogTimestamp(new Date('0005-01-01T00:00:00Z'), 0).slice(0, 10), '0005-01-01');
  });

  it('uses the process time zone by default (TZ=UTC and TZ=Asia/Kolkata child processes)', () => {
    const script =
      `const { formatHclogTimestamp } = require(${JSON.stringify(require.resolve('../../src/wire/hclog'))});` +
      `process.stdout.write(formatHclogTimestamp(new Date(${T.getTime()})));`;
    const run = (tz: string) =>
      execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TZ: tz }, encoding: 'utf8' });
    assert.equal(run('UTC'), '2024-03-05T07:08:09.123000Z');
    assert.equal(run('Asia/Kolkata'), '2024-03-05T12:38:09.123000+05:30');
    assert.equal(run('America/St_Johns'), '2024-03-05T03:38:09.123000-03:30');
  });

  it('produces timestamps the parser accepts', () => {
    for (const offset of [0, 330, -210, 840, -720]) {
      assert.ok(isHclogTimestamp(formatHclogTimestamp(new Date(), offset)), String(offset));
    }
    assert.ok(isHclogTimestamp(formatHclogTimestamp(new Date())));
  });

  it('keeps the line on one line and escapes like Go', () => {
    const line = formatHclogLine({ level: 'error', message: 'a\nb\r\n<c> & "d"\u2028', time: T }, { utcOffsetMinutes: 0 });
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.ok(line.includes('"@message":"a\\nb\\r\\n\\u003cc\\u003e \\u0026 \\"d\\"\\u2028"'));
    assert.equal((JSON.parse(line) as { '@message': string })['@message'], 'a\nb\r\n<c> & "d"\u2028');
  });

  it('renders field values as hclog would, and never throws', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    const line = formatHclogLine(
      {
        level: 'info',
        message: 'values',
        time: T,
        fields: {
          str: 's',
          num: 12,
          float: 1.5,
          yes: true,
          nil: null,
          undef: undefined,
          err: new TypeError('bad thing'),
          big: 12345678901234567890n,
          obj: { a: [1, 'two', { b: null }], when: T, e: new Error('inner') },
          cyclic,
          hostile,
          nan: Number.NaN,
          inf: Number.NEGATIVE_INFINITY,
          bytes: Buffer.from('hi'),
          map: new Map<unknown, unknown>([['k', 1], [2, 'v']]),
          set: new Set([1, 2]),
          fn: function namedFn() {},
          sym: Symbol('s'),
          '@level': 'fake',
          '@message': 42,
          '@timestamp': {},
        },
      },
      { utcOffsetMinutes: 0 },
    );
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal(parsed['@level'], 'info');
    assert.equal(parsed['@message'], 'values');
    assert.equal(parsed['@timestamp'], '2024-03-05T07:08:09.123000Z');
    assert.equal(parsed.str, 's');
    assert.equal(parsed.num, 12);
    assert.equal(parsed.float, 1.5);
    assert.equal(parsed.yes, true);
    assert.equal(parsed.nil, null);
    assert.equal(parsed.undef, null);
    assert.equal(parsed.err, 'bad thing');
    assert.equal(parsed.big, '12345678901234567890');
    assert.deepEqual(parsed.obj, { a: [1, 'two', { b: null }], when: '2024-03-05T07:08:09.123Z', e: 'inner' });
    assert.deepEqual(parsed.cyclic, { name: 'loop', self: '[Circular]' });
    assert.match(String(parsed.hostile), /^\[unserializable: getter exploded\]$/);
    assert.equal(parsed.nan, 'NaN');
    assert.equal(parsed.inf, '-Inf');
    assert.equal(parsed.bytes, 'aGk=');
    assert.deepEqual(parsed.map, { k: 1, '2': 'v' });
    assert.deepEqual(parsed.set, [1, 2]);
    assert.equal(parsed.fn, '[Function namedFn]');
    assert.equal(parsed.sym, 'Symbol(s)');
    // The round trip through the parser works for all of it.
    const back = parse(line.slice(0, -1));
    assert.equal(back.kind, 'json');
  });

  it('shares non-cyclic references without marking them circular', () => {
    const shared = { v: 1 };
    const parsed = JSON.parse(formatHclogLine({ level: 'info', message: 'm', fields: { x: [shared, shared] } })) as {
      x: unknown;
    };
    assert.deepEqual(parsed.x, [{ v: 1 }, { v: 1 }]);
  });

  it('survives nonsense input', () => {
    const line = formatHclogLine({ level: 'bogus' as HclogLevel, message: 123 as unknown as string, time: new Date(NaN) });
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal(parsed['@level'], 'info');
    assert.equal(parsed['@message'], '123');
    assert.ok(isHclogTimestamp(parsed['@timestamp'] as string));
    const deep: Record<string, unknown> = {};
    let cur = deep;
    for (let i = 0; i < 1000; i++) cur = (cur.next = {}) as Record<string, unknown>;
    assert.doesNotThrow(() => JSON.parse(formatHclogLine({ level: 'info', message: 'deep', fields: { deep } })));
  });
});

describe('createHclogLogger', () => {
  function capture(options: { name?: string; level?: HclogLevel } = {}) {
    const lines: string[] = [];
    const logger = createHclogLogger({ ...options, write: (l) => lines.push(l), now: () => T, utcOffsetMinutes: 0 });
    return { logger, lines, objects: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('writes a line per call at each level', () => {
    const { logger, lines, objects } = capture();
    logger.trace('t');
    logger.debug('d', { k: 1 });
    logger.info('i');
    logger.warn('w');
    logger.error('e', { error: new Error('oops') });
    assert.equal(lines.length, 5);
    assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1));
    assert.deepEqual(
      objects().map((o) => [o['@level'], o['@message']]),
      [
        ['trace', 't'],
        ['debug', 'd'],
        ['info', 'i'],
        ['warn', 'w'],
        ['error', 'e'],
      ],
    );
    assert.equal(objects()[4]?.error, 'oops');
    assert.equal(lines[1], '{"@level":"debug","@message":"d","@timestamp":"2024-03-05T07:08:09.123000Z","k":1}\n');
  });

  it('filters by level', () => {
    const { logger, objects } = capture({ level: 'warn' });
    logger.trace('no');
    logger.info('no');
    logger.warn('yes');
    logger.error('yes');
    logger.log('debug', 'no');
    assert.deepEqual(objects().map((o) => o['@level']), ['warn', 'error']);
    assert.equal(logger.isLevelEnabled('info'), false);
    assert.equal(logger.isLevelEnabled('error'), true);
    assert.equal(logger.level, 'warn');
  });

  it('names sub-loggers with dots and carries implied fields', () => {
    const { logger, objects } = capture({ name: 'plugin' });
    const sub = logger.named('kv').named('store');
    sub.info('hello');
    assert.equal(sub.name, 'plugin.kv.store');
    assert.equal(createHclogLogger({ write: () => {} }).named('solo').name, 'solo');
    assert.equal(sub.resetNamed('other').name, 'other');

    const withFields = logger.with({ a: 1, b: 2 }).with({ b: 3 });
    withFields.info('w', { c: 4, a: 5 });
    withFields.info('w2');
    const [first, second, third] = objects();
    assert.equal(first?.['@module'], 'plugin.kv.store');
    assert.deepEqual([second?.a, second?.b, second?.c, second?.['@module']], [5, 3, 4, 'plugin']);
    assert.deepEqual([third?.a, third?.b], [1, 3]);
  });

  it('never throws from logging, even when write or the clock throws', () => {
    const logger = createHclogLogger({
      write: () => {
        throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      },
    });
    assert.doesNotThrow(() => logger.error('x'));
    const badClock = createHclogLogger({ write: () => {}, now: () => { throw new Error('clock'); } });
    assert.doesNotThrow(() => badClock.info('x'));
  });

  it('rejects a bad level with a ConfigError', () => {
    assert.throws(
      () => createHclogLogger({ level: 'verbose' as HclogLevel, write: () => {} }),
      (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_CONFIG',
    );
  });
});

describe('createStderrParser', () => {
  it('round-trips formatHclogLine output', () => {
    for (const level of HCLOG_LEVELS) {
      const line = formatHclogLine(
        { level, message: 'round\ntrip', module: 'plugin.x', time: T, fields: { foo: 'bar', n: 12, nested: { a: [true] } } },
        { utcOffsetMinutes: 330 },
      );
      assert.deepEqual(parse(line.slice(0, -1)), {
        kind: 'json',
        level,
        message: 'round\ntrip',
        fields: { '@module': 'plugin.x', foo: 'bar', n: 12, nested: { a: [true] } },
        timestamp: '2024-03-05T12:38:09.123000+05:30',
        raw: line.slice(0, -1),
      });
    }
  });

  it('accepts hclog JSON without @timestamp or @message', () => {
    assert.deepEqual(parse('{"@level":"INFO ","foo":"bar"}'), {
      kind: 'json',
      level: 'info',
      message: '',
      fields: { foo: 'bar' },
      timestamp: undefined,
      raw: '{"@level":"INFO ","foo":"bar"}',
    });
  });

  it('go-plugin stderr-json: an array, a number and an object without level are text at debug', () => {
    for (const raw of ['["HELLO"]', '12345', '{"a":1}', '"a string"', 'true', 'null', '{}']) {
      assert.deepEqual(parse(raw), { kind: 'text', level: 'debug', raw }, raw);
    }
  });

  it('logs JSON with an unknown level verbatim at debug', () => {
    for (const level of ['warning', 'fatal', 'off', 'all', '']) {
      const raw = `{"@level":"${level}","@message":"m","@timestamp":"2024-03-05T07:08:09.123000Z"}`;
      assert.deepEqual(parse(raw), { kind: 'text', level: 'debug', raw }, level);
    }
  });

  it('treats JSON that would panic or fail in Go as text', () => {
    const cases = [
      '{"@level":"info","@message":42}',
      '{"@level":"info","@message":null}',
      '{"@level":["info"],"@message":"m"}',
      '{"@level":"info","@message":"m","@timestamp":1700000000}',
      '{"@level":"info","@message":"m","@timestamp":"2024-03-05T07:08:09.123Z"}',
      '{"@level":"info","@message":"m","@timestamp":"2024-03-05T07:08:09.1230000Z"}',
      '{"@level":"info","@message":"m","@timestamp":"2024-03-05T07:08:09Z"}',
      '{"@level":"info","@message":"m","@timestamp":"2024-03-05T07:08:09.123000+0530"}',
      '{"@level":"info","@message":"m","@timestamp":"2024-03-05 07:08:09.123000Z"}',
      '{"@level":"info","@message":"m","@timestamp":"2023-02-29T07:08:09.123000Z"}',
      '{"@level":"info","@message":"m","n":1e400}',
      '{"@level":"info","@message":"m"',
    ];
    for (const raw of cases) assert.deepEqual(parse(raw), { kind: 'text', level: 'debug', raw }, raw);
    // Text rules still apply to such lines.
    assert.equal(parse('[WARN] {"@message":1}').level, 'warn');
  });

  it('accepts the timestamps Go accepts', () => {
    for (const ts of [
      '2024-03-05T07:08:09.123000Z',
      '2024-03-05T07:08:09.123456+05:30',
      '2024-03-05T07:08:09.123456-00:00',
      '2024-02-29T23:59:59.999999Z',
      '2024-03-05T7:08:09.123000Z',
      '2024-03-05T07:08:09,123000Z',
    ]) {
      assert.ok(isHclogTimestamp(ts), ts);
      assert.equal(parse(`{"@level":"info","@timestamp":"${ts}"}`).kind, 'json', ts);
    }
    for (const ts of ['2024-13-01T00:00:00.000000Z', '2024-03-05T24:00:00.000000Z', '2024-03-05T07:60:00.000000Z', '2024-03-05T07:08:09.123000+25:00', '2024-03-05T07:08:09.123000z']) {
      assert.equal(isHclogTimestamp(ts), false, ts);
    }
  });

  it('infers text levels from case-sensitive prefixes at column 0', () => {
    const p = createStderrParser();
    assert.deepEqual(p.parseLine('[WARN] test line 98765'), { kind: 'text', level: 'warn', raw: '[WARN] test line 98765' });
    assert.equal(p.parseLine('[TRACE] t').level, 'trace');
    assert.equal(p.parseLine('[DEBUG] d').level, 'debug');
    assert.equal(p.parseLine('[INFO] i').level, 'info');
    assert.equal(p.parseLine('[ERROR] e').level, 'error');
    assert.equal(p.parseLine('[WARNING] x').level, 'debug');
    assert.equal(p.parseLine('[warn] x').level, 'debug');
    assert.equal(p.parseLine(' [WARN] x').level, 'debug');
    assert.equal(p.parseLine('HELLO').level, 'debug');
  });

  it('switches to panic mode on panic: / fatal error: and logs later untagged text at error', () => {
    const p = createStderrParser();
    assert.equal(p.parseLine('before').level, 'debug');
    assert.equal(p.panicking, false);
    assert.deepEqual(p.parseLine('panic: invalid foo bar'), { kind: 'text', level: 'error', raw: 'panic: invalid foo bar' });
    assert.equal(p.panicking, true);
    assert.equal(p.parseLine('').level, 'error');
    assert.equal(p.parseLine('goroutine 1 [running]:').level, 'error');
    assert.equal(p.parseLine('\tmain.go:12 +0x1d').level, 'error');
    assert.equal(p.parseLine('[INFO] tagged lines keep their level').level, 'info');
    // JSON is still JSON, and JSON that Go logs verbatim stays at debug.
    assert.equal(p.parseLine('{"@level":"trace","@message":"j"}').level, 'trace');
    assert.equal(p.parseLine('{"a":1}').level, 'debug');
    // Fragments of over-long lines are always debug.
    assert.equal(p.parseLine('stack frame fragment', { fragment: true }).level, 'debug');

    const q = createStderrParser();
    assert.equal(q.parseLine('fatal error: all goroutines are asleep - deadlock!').level, 'error');
    assert.equal(q.parseLine('goroutine 1 [chan receive]:').level, 'error');
    assert.equal(createStderrParser().parseLine('goroutine 1').level, 'debug', 'panic mode is per parser');

    const r = createStderrParser();
    assert.equal(r.parseLine('[ERROR] panic: tagged').level, 'error');
    assert.equal(r.panicking, false, 'a tagged line does not start panic mode');
    assert.equal(r.parseLine('panic:no space').level, 'debug');
    assert.equal(r.parseLine(' panic: indented').level, 'debug');
  });

  it('isPanicLine matches Go crash headers at column 0', () => {
    assert.equal(isPanicLine('panic: x'), true);
    assert.equal(isPanicLine('fatal error: x'), true);
    assert.equal(isPanicLine('panic:x'), false);
    assert.equal(isPanicLine('Panic: x'), false);
    assert.equal(isPanicLine('  panic: x'), false);
  });

  it('keeps every non-reserved key, including __proto__, as a plain field', () => {
    const res = parse('{"@level":"info","@message":"m","__proto__":{"polluted":true},"@caller":"f.go:1","x":[1,{"y":null}]}');
    assert.equal(res.kind, 'json');
    if (res.kind !== 'json') return;
    assert.deepEqual(Object.keys(res.fields).sort(), ['@caller', '__proto__', 'x']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(res.fields), Object.prototype);
  });

  it('never throws on garbage', () => {
    const p = createStderrParser();
    for (const raw of ['', ' ', '{', '}', '\u0000', '{"@level":', 'n', 'nul', '\ud800', '{"a":1}{"b":2}', '9'.repeat(400)]) {
      assert.doesNotThrow(() => p.parseLine(raw), raw);
      assert.equal(p.parseLine(raw).kind, 'text');
    }
  });
});
