/**
 * Property tests: environment parsing. go-plugin's contract (readPluginEnv, checkMagicCookie,
 * PLUGIN_PROTOCOL_VERSIONS), the LOOP EnvConfig (parseEnvConfig / parseV24EnvConfig with asCmdEnv as the
 * writer), go-envparse files (parseEnvText) and Go durations.
 * Seed / runs / replay: see fc-config.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ENV as PLUGIN_ENV } from '../../src/wire/env';
import { ConfigError } from '../../src/core/errors';
import { COOKIE_MISCONFIGURED_TEXT, NOT_A_PLUGIN_TEXT, buildPluginEnv, checkMagicCookie, readPluginEnv } from '../../src/wire/env';
import { formatProtocolVersions, parseProtocolVersions } from '../../src/wire/handshake';
import { goAtoi } from '../../src/core/go/strconv';
import { DEFAULT_METRIC_CARDINALITY_LIMIT, ENV, newEnvConfig, type EnvConfig, type ZapLevel } from '../../src/loop/wire/env-config/schema';
import { asCmdEnv } from '../../src/loop/wire/env-config/emit';
import { goURLParseError, redactUrl } from '../../src/core/go/url';
import { parseEnvConfig, parseV24EnvConfig } from '../../src/loop/wire/env-config/parse';
import { parseEnvText } from '../../src/loop/wire/env-file';
import { formatGoDuration, parseGoDuration, tryParseGoDuration } from '../../src/core/go/duration';
import { CHECK_COVERAGE, RUNS, assertNoGrowth, check, nastyString, typed } from './fc-config';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Values that probe Go's strconv and time parsers at their edges. */
const numberish = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: INT64_MIN * 2n, max: INT64_MAX * 2n }).map(String),
  fc.constantFrom('', ' ', '0', '-0', '+0', '00', '1_000', '0x10', '1e3', '1.5', '65535', '65536', '-1', '2147483647', '2147483648', '-2147483649', '4294967295', '4294967296', '18446744073709551615', '18446744073709551616', '9223372036854775807', '9223372036854775808', '\u0661\u0662', '１', 'NaN', 'Inf', '+Inf', '-inf', 'infinity', '0x1p-2', '1_0.5', '.5', '5.'),
);
const durationish = fc.oneof(
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map((d) => formatGoDuration(d)),
  fc.constantFrom('', '0', '1', '1s', '-1.5h', '+3m', '1h2m3s4ms5us6µs7μs8ns', '.s', '1.s', '.5s', '1q', '9223372036854775807ns', '9223372036854775808ns', '2562047h47m16.854775807s', '2562048h', '0.0000000000000000000001s', '1' + '0'.repeat(40) + 's', 'µs', '1µ', '1 s', ' 1s', '1s '),
  nastyString(10),
);
const boolish = fc.constantFrom('', '1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False', 'yes', 'on', 'tRUE', ' true', 'true\n');
const urlish = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom('postgres://u:p@db:5432/x?sslmode=disable', 'localhost:4317', 'http://[::1]:80/', 'http://[::1', 'http://a b', '%zz', 'http://x/%', ':foo', '/just/path', '//host', 'mailto:x', 'http://h:port', 'http://h:99999', 'postgres://u:p%@h/', '\u0000', 'http://ü.example'),
  nastyString(12),
);
const anyValue = fc.oneof(numberish, durationish, boolish, urlish, nastyString(20), fc.string({ unit: 'binary', maxLength: 20 }));

// ---- go-plugin's environment ----------------------------------------------------------------------------

describe('property: go-plugin environment', () => {
  it(`readPluginEnv: random values give a PluginEnv or an ERR_LOOPP_ENV ConfigError (${RUNS} cases)`, (t) => {
    const names = Object.values(PLUGIN_ENV);
    check(
      t,
      fc.property(fc.dictionary(fc.constantFrom(...names), anyValue), (env) => {
        const r = typed(() => readPluginEnv(env), { codes: ['ERR_LOOPP_ENV'], error: (e) => assert.ok(e instanceof ConfigError) });
        if (!r.ok) return;
        const p = r.value;
        assert.ok(Number.isInteger(p.minPort) && Number.isInteger(p.maxPort) && p.minPort >= 0 && p.minPort <= p.maxPort && p.maxPort <= 65535);
        // every entry of PLUGIN_PROTOCOL_VERSIONS is either a version or reported invalid, in order
        const raw = env[PLUGIN_ENV.PROTOCOL_VERSIONS];
        if (raw === undefined || raw === '') assert.equal(p.hostVersions, undefined);
        else assert.equal((p.hostVersions?.length ?? 0) + p.invalidVersions.length, raw.split(',').length);
        assert.equal(p.muxAsked, (env[PLUGIN_ENV.MULTIPLEX_GRPC] ?? '') !== '');
        if (p.muxEnabled) assert.ok(p.muxAsked);
      }),
    );
  });

  it(`buildPluginEnv -> readPluginEnv gives back versions, ports, mux, cert and socket settings (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(
        fc.array(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.boolean(),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        (versions, a, b, multiplex, cert, dir) => {
          const env = buildPluginEnv({
            handshake: { protocolVersion: 1, magicCookieKey: 'K', magicCookieValue: 'v' },
            versions,
            hostEnv: null,
            minPort: Math.min(a, b),
            maxPort: Math.max(a, b),
            multiplex,
            clientCertPem: cert,
            unixSocketDir: dir,
          });
          const p = readPluginEnv(env);
          assert.deepEqual(p.hostVersions, versions);
          assert.deepEqual(p.invalidVersions, []);
          if (a === 0 && b === 0) assert.deepEqual([p.minPort, p.maxPort], [10000, 25000]);
          else assert.deepEqual([p.minPort, p.maxPort], [Math.min(a, b), Math.max(a, b)]);
          assert.equal(p.muxEnabled, multiplex);
          assert.equal(p.clientCertPem, cert);
          assert.equal(p.unixSocketDir, dir);
          assert.equal(checkMagicCookie({ protocolVersion: 1, magicCookieKey: 'K', magicCookieValue: 'v' }, env), undefined);
        },
      ),
    );
  });

  it(`PLUGIN_PROTOCOL_VERSIONS: a formatted list parses to itself; mixed lists keep the good entries in order (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.array(fc.oneof(fc.integer().map((n) => ({ good: true, text: String(n) })), numberish.map((s) => ({ good: goAtoi(s).ok, text: s.replace(/,/g, '') })))), (entries) => {
        const invalid: string[] = [];
        const text = entries.map((e) => e.text).join(',');
        const parsed = parseProtocolVersions(text, (e) => invalid.push(e));
        if (text === '') {
          assert.equal(parsed, undefined);
          return;
        }
        const valid = entries.filter((e) => goAtoi(e.text).ok);
        assert.deepEqual(parsed, valid.map((e) => Number(BigInt(e.text.replace(/^\+/, '')))));
        assert.deepEqual(invalid, entries.filter((e) => !goAtoi(e.text).ok).map((e) => e.text));
        if (entries.every((e) => /^-?[0-9]+$/.test(e.text) && Number.isSafeInteger(Number(e.text)) && e.text === String(Number(e.text)))) {
          assert.equal(formatProtocolVersions(parsed ?? []), text);
        }
      }),
    );
  });

  it(`checkMagicCookie never throws and matches only the exact value (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(nastyString(8), nastyString(8), fc.option(nastyString(8), { nil: undefined }), (key, value, actual) => {
        const env: NodeJS.ProcessEnv = {};
        if (actual !== undefined) Object.defineProperty(env, key, { value: actual, enumerable: true });
        const r = checkMagicCookie({ protocolVersion: 1, magicCookieKey: key, magicCookieValue: value }, env);
        if (key === '' || value === '') assert.equal(r, COOKIE_MISCONFIGURED_TEXT);
        else assert.equal(r, actual === value ? undefined : NOT_A_PLUGIN_TEXT);
      }),
    );
  });
});

// ---- LOOP EnvConfig ------------------------------------------------------------------------------------------

const CL_NAMES: readonly string[] = Object.values(ENV);
const duration = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
const safeInt = fc.oneof(fc.integer({ min: -1000, max: 100000 }), fc.maxSafeInteger(), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }));
const nonNeg = fc.oneof(fc.nat({ max: 100000 }), fc.maxSafeNat());
const uint32 = fc.oneof(fc.nat({ max: 1000 }), fc.constant(0xffffffff), fc.nat({ max: 0xffffffff }));
const anyFloat = fc.double();
const str = fc.string({ unit: 'binary', maxLength: 16 });
/** Map keys: anything an environment variable name can end with, Object.prototype names included. */
const mapKey = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.includes('=')), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'));
const strMap = fc.dictionary(mapKey, str, { maxKeys: 4 });
const listItem = fc.string({ minLength: 1, maxLength: 8 }).map((s) => s.replace(/,/g, '')).filter((s) => s !== '' && s.trim() === s && !/^[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(s));
const zapLevel = fc.constantFrom<ZapLevel>('debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal');
const dbUrl = fc.oneof(fc.constantFrom('postgres://user:pass@db.example:5432/chainlink?sslmode=disable', 'postgresql:///db?host=/var/run', 'file:x.db'), fc.webUrl()).filter((u) => goURLParseError(u, false) === undefined);
const target = fc.oneof(fc.constantFrom('localhost:4317', 'http://otel:4317', 'otel:4317'), fc.webUrl()).filter((u) => goURLParseError(u, true) === undefined);

/** A valid EnvConfig in the shape the plugin side reads back: gated groups are zero when their gate is off. */
const envConfigArb: fc.Arbitrary<EnvConfig> = fc
  .record({
    appId: str,
    db: fc.option(fc.record({ databaseUrl: dbUrl, t1: duration, t2: duration, t3: duration, t4: duration, logSql: fc.boolean(), open: safeInt, idle: safeInt, tracing: fc.boolean() }), { nil: undefined }),
    featureLogPoller: fc.boolean(),
    grpcServerMaxRecvMsgSize: safeInt,
    mercury: fc.tuple(duration, duration, duration, str, uint32, duration, uint32, duration, duration, fc.boolean()),
    prometheusPort: safeInt,
    pyro: fc.tuple(str, str, str, fc.boolean(), safeInt, safeInt),
    tracing: fc.option(fc.record({ target, ratio: anyFloat, cert: str, attrs: strMap }), { nil: undefined }),
    telemetry: fc.option(
      fc.record({
        endpoint: str, insecure: fc.boolean(), ca: str, attrs: strMap, ratio: anyFloat, headers: strMap, pub: str, ttl: duration,
        emitter: fc.tuple(fc.boolean(), duration, duration, safeInt, safeInt),
        log: fc.tuple(fc.boolean(), zapLevel, fc.boolean(), duration, safeInt, duration, safeInt),
        compressors: fc.tuple(str, str, str),
        limit: nonNeg,
        deny: fc.array(listItem, { maxLength: 3 }),
        bridge: fc.boolean(),
        prefixes: fc.array(fc.string({ maxLength: 6 }).map((s) => s.replace(/,/g, '')), { minLength: 1, maxLength: 3 }),
        chip: fc.tuple(str, fc.boolean(), fc.boolean(), fc.boolean(), nonNeg, nonNeg, safeInt, duration, duration, duration, nonNeg),
      }),
      { nil: undefined },
    ),
    meter: fc.tuple(fc.boolean(), fc.boolean(), str, str, str, str, str, str),
    cre: fc.tuple(str, str),
  })
  .map((g) => {
    const m = g.mercury;
    const c: Partial<EnvConfig> = {
      appId: g.appId,
      featureLogPoller: g.featureLogPoller,
      grpcServerMaxRecvMsgSize: g.grpcServerMaxRecvMsgSize,
      mercuryCacheLatestReportDeadline: m[0], mercuryCacheLatestReportTtl: m[1], mercuryCacheMaxStaleAge: m[2],
      mercuryTransmitterProtocol: m[3], mercuryTransmitterTransmitQueueMaxSize: m[4], mercuryTransmitterTransmitTimeout: m[5],
      mercuryTransmitterTransmitConcurrency: m[6], mercuryTransmitterReaperFrequency: m[7], mercuryTransmitterReaperMaxAge: m[8], mercuryVerboseLogging: m[9],
      prometheusPort: g.prometheusPort,
      pyroscopeAuthToken: g.pyro[0], pyroscopeServerAddress: g.pyro[1], pyroscopeEnvironment: g.pyro[2],
      pyroscopeLinkTracesToProfiles: g.pyro[3], pyroscopePprofBlockProfileRate: g.pyro[4], pyroscopePprofMutexProfileFraction: g.pyro[5],
      meterRecordsEnabled: g.meter[0], meterSnapshotsEnabled: g.meter[1], meterProduct: g.meter[2], meterTenant: g.meter[3],
      meterNumericTenantId: g.meter[4], meterEnvironment: g.meter[5], meterZone: g.meter[6], meterNodeId: g.meter[7],
      creSettings: g.cre[0], creSettingsDefault: g.cre[1],
    };
    if (g.db !== undefined) {
      Object.assign(c, {
        databaseUrl: g.db.databaseUrl, databaseIdleInTxSessionTimeout: g.db.t1, databaseLockTimeout: g.db.t2, databaseQueryTimeout: g.db.t3,
        databaseListenerFallbackPollInterval: g.db.t4, databaseLogSql: g.db.logSql, databaseMaxOpenConns: g.db.open, databaseMaxIdleConns: g.db.idle,
        databaseTracingEnabled: g.db.tracing,
      });
    }
    if (g.tracing !== undefined) {
      Object.assign(c, { tracingEnabled: true, tracingCollectorTarget: g.tracing.target, tracingSamplingRatio: g.tracing.ratio, tracingTlsCertPath: g.tracing.cert, tracingAttributes: g.tracing.attrs });
    }
    const tm = g.telemetry;
    if (tm !== undefined) {
      Object.assign(c, {
        telemetryEnabled: true, telemetryEndpoint: tm.endpoint, telemetryInsecureConnection: tm.insecure, telemetryCaCertFile: tm.ca,
        telemetryAttributes: tm.attrs, telemetryTraceSampleRatio: tm.ratio, telemetryAuthHeaders: tm.headers, telemetryAuthPubKeyHex: tm.pub,
        telemetryAuthHeadersTtl: tm.ttl,
        telemetryEmitterBatchProcessor: tm.emitter[0], telemetryEmitterExportTimeout: tm.emitter[1], telemetryEmitterExportInterval: tm.emitter[2],
        telemetryEmitterExportMaxBatchSize: tm.emitter[3], telemetryEmitterMaxQueueSize: tm.emitter[4],
        telemetryLogStreamingEnabled: tm.log[0], telemetryLogLevel: tm.log[1], telemetryLogBatchProcessor: tm.log[2], telemetryLogExportTimeout: tm.log[3],
        telemetryLogExportMaxBatchSize: tm.log[4], telemetryLogExportInterval: tm.log[5], telemetryLogMaxQueueSize: tm.log[6],
        telemetryTraceCompressor: tm.compressors[0], telemetryMetricCompressor: tm.compressors[1], telemetryLogCompressor: tm.compressors[2],
        telemetryMetricCardinalityLimit: tm.limit, telemetryMetricViewsDenyAttributes: tm.deny,
        telemetryPrometheusBridgeEnabled: tm.bridge, telemetryPrometheusBridgePrefixes: tm.prefixes,
        chipIngressEndpoint: tm.chip[0], chipIngressInsecureConnection: tm.chip[1], chipIngressBatchEmitterEnabled: tm.chip[2],
        chipIngressDurableEmitterEnabled: tm.chip[3], chipIngressBufferSize: tm.chip[4], chipIngressMaxBatchSize: tm.chip[5],
        chipIngressMaxConcurrentSends: tm.chip[6], chipIngressSendInterval: tm.chip[7], chipIngressSendTimeout: tm.chip[8],
        chipIngressDrainTimeout: tm.chip[9], chipIngressMaxGrpcRequestSize: tm.chip[10],
      });
    }
    return newEnvConfig(c);
  });

/** The environment object a plugin process would see for `pairs` (later pairs win, as in exec.Cmd). */
function envOf(pairs: ReadonlyArray<readonly [string, string]>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of pairs) Object.defineProperty(env, k, { value: v, enumerable: true, writable: true, configurable: true });
  return env;
}

/** What a parse error of `env` must look like: typed, naming the variable, URL secrets masked. */
function envError(env: NodeJS.ProcessEnv) {
  return {
    codes: ['ERR_LOOPP_ENV'] as const,
    error: (e: { input: unknown; message: string }) => {
      assert.ok(e instanceof ConfigError);
      const input = e.input as { name: string; value: string };
      assert.ok(CL_NAMES.includes(input.name), `input.name ${input.name}`);
      assert.equal(typeof input.value, 'string');
      if (input.name === ENV.databaseUrl || input.name === ENV.tracingCollectorTarget) {
        const raw = env[input.name] ?? '';
        assert.equal(input.value, redactUrl(raw), 'a URL in an error has its password masked');
        const password = /\/\/[^/?#:@]*:([^/?#]*)@/.exec(raw)?.[1];
        if (password !== undefined && password.length >= 4 && password !== 'xxxxx') {
          assert.ok(!e.message.includes(password), 'the password is never in the message');
        }
      }
    },
  };
}

describe('property: LOOP EnvConfig', () => {
  it(`asCmdEnv -> parseEnvConfig is the identity on valid EnvConfigs (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(envConfigArb, (cfg) => {
        const parsed = parseEnvConfig(envOf(asCmdEnv(cfg)));
        const expected = newEnvConfig(cfg);
        if (expected.telemetryEnabled) {
          // Go quirk kept on purpose: CL_TELEMETRY_AUTH_HEADERS_TTL also matches the CL_TELEMETRY_AUTH_HEADER prefix.
          Object.defineProperty(expected.telemetryAuthHeaders, 'S_TTL', { value: formatGoDuration(expected.telemetryAuthHeadersTtl), enumerable: true, writable: true, configurable: true });
          expected.telemetryMetricCardinalityLimit ??= DEFAULT_METRIC_CARDINALITY_LIMIT;
        }
        assert.deepEqual(parsed, expected);
      }),
    );
  });

  it(`parseEnvConfig: random values for every CL_ variable give an EnvConfig or an ERR_LOOPP_ENV ConfigError naming it (${RUNS} cases)`, (t) => {
    const gates = fc.record({ CL_TRACING_ENABLED: fc.constantFrom('true', '1', ''), CL_TELEMETRY_ENABLED: fc.constantFrom('true', 'T', ''), CL_DATABASE_URL: fc.oneof(urlish, fc.constant('postgres://u:p@h/db')) });
    const seen = { ok: 0, error: 0 };
    check(
      t,
      fc.property(gates, fc.dictionary(fc.constantFrom(...CL_NAMES, 'CL_TRACING_ATTRIBUTE_x', 'CL_TELEMETRY_AUTH_HEADER__proto__'), anyValue, { maxKeys: 4 }), fc.boolean(), (g, vars, keepPort) => {
        // Start from what a host writes for a zero config (so required variables exist), then override.
        const env = envOf([...asCmdEnv(newEnvConfig({ prometheusPort: keepPort ? 9090 : 0 })), ...Object.entries(g), ...Object.entries(vars)]);
        const r = typed(() => parseEnvConfig(env), envError(env));
        seen[r.ok ? 'ok' : 'error']++;
        if (r.ok) {
          assert.equal(r.value.prometheusPort, (goAtoi(env['CL_PROMETHEUS_PORT'] ?? '') as { value: number }).value);
          assert.equal(r.value.appId, env['CL_APP_ID'] ?? '');
          // What the plugin parsed, the host can write again, except integers beyond 2^53, which Go's int64
          // accepts but a JS number only approximates: asCmdEnv refuses to write those.
          const w = typed(() => asCmdEnv(r.value), { codes: ['ERR_LOOPP_CONFIG'] });
          if (!w.ok) {
            const m = /must be an (?:unsigned \d+-bit )?integer, got (-?\d+)$/.exec(w.error.message);
            assert.ok(m !== null && !Number.isSafeInteger(Number(m[1])), w.error.message);
          }
        }
      }),
    );
    t.diagnostic(`outcomes: ${JSON.stringify(seen)}`);
    if (CHECK_COVERAGE) assert.ok(seen.ok > 0 && seen.error > 0);
  });

  it(`parseV24EnvConfig reads CL_PROMETHEUS_PORT like strconv.Atoi, nothing else (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.option(numberish, { nil: undefined }), fc.dictionary(fc.constantFrom(...CL_NAMES), anyValue, { maxKeys: 4 }), (port, others) => {
        const env: NodeJS.ProcessEnv = { ...others };
        delete env['CL_PROMETHEUS_PORT'];
        if (port !== undefined) env['CL_PROMETHEUS_PORT'] = port;
        const r = typed(() => parseV24EnvConfig(env), envError(env));
        const atoi = goAtoi(port ?? '');
        assert.equal(r.ok, atoi.ok);
        if (r.ok && atoi.ok) assert.deepEqual(r.value, newEnvConfig({ prometheusPort: atoi.value }));
      }),
    );
  });

  it('grows no memory over repeated parse batches', async (t) => {
    const cases = fc.sample(envConfigArb, { numRuns: 1000, seed: 3 }).map((cfg) => envOf(asCmdEnv(cfg)));
    await assertNoGrowth(t, 'parseEnvConfig', cases.length, () => {
      for (const env of cases) parseEnvConfig(env);
    });
  });
});

// ---- go-envparse files and Go durations ---------------------------------------------------------------------------

const envKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9/_.]{0,10}$/);
/** Values in the three quoting styles go-envparse reads, each with what it must decode to. */
const envValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }).map((v) => ({ text: JSON.stringify(v), value: v })),
  fc.string({ maxLength: 12 }).filter((v) => !/['\x00-\x1f]/.test(v)).map((v) => ({ text: `'${v}'`, value: v })),
  fc.stringMatching(/^[A-Za-z0-9_./:@-]{0,12}$/).map((v) => ({ text: v, value: v })),
);

describe('property: env files and durations', () => {
  it(`parseEnvText: KEY=VALUE lines in any quoting read back, last one wins (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(
        fc.array(fc.tuple(envKey, envValue, fc.constantFrom('', 'export '), fc.constantFrom('\n', '\r\n'), fc.constantFrom('', ' ', '\t')), { maxLength: 8 }),
        fc.array(fc.constantFrom('# comment', '', '   ', '\t# x=y'), { maxLength: 3 }),
        (lines, noise) => {
          const text = [...noise, ...lines.map(([k, v, exp, eol, pad]) => `${pad}${exp}${k}${pad}=${pad}${v.text}${pad}${eol}`)].map((l) => (l.endsWith('\n') ? l : l + '\n')).join('');
          const expected = new Map<string, string>();
          for (const [k, v] of lines) {
            expected.delete(k);
            expected.set(k, v.value);
          }
          assert.deepEqual(parseEnvText(text), [...expected.entries()]);
        },
      ),
    );
  });

  it(`parseEnvText: arbitrary bytes give pairs or an ERR_LOOPP_ENV ConfigError with the line (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
          fc.array(fc.oneof(nastyString(12), fc.constantFrom('A=1', 'A="\\u00e9"', 'B="\\ud83d\\ude00"', 'C="\\ud800"', 'C="\\ud800\\u0041"', 'D="\\uZZZZ"', "E='x", 'F="x', 'G="\\', '=x', '1A=b', 'export =', 'H=a#b', 'I=é#b', 'J="\\q"')), { maxLength: 8 }).map((a) => Buffer.from(a.join('\n'))),
          fc.constantFrom(Buffer.alloc(64 * 1024, 0x41), Buffer.concat([Buffer.from('A=1\n'), Buffer.alloc(70000, 0x42)])),
        ),
        (bytes) => {
          const r = typed(() => parseEnvText(bytes, 'fuzz.env'), {
            codes: ['ERR_LOOPP_ENV'],
            error: (e) => {
              assert.ok(e instanceof ConfigError);
              const input = e.input as { file: string; line: number };
              assert.equal(input.file, 'fuzz.env');
              assert.ok(Number.isInteger(input.line) && input.line >= 0);
            },
          });
          if (r.ok) for (const [k, v] of r.value) assert.ok(/^[A-Za-z_][A-Za-z0-9/_.]*$/.test(k) && typeof v === 'string');
        },
      ),
    );
  });

  it(`Go durations: formatGoDuration -> parse is the identity on int64 nanoseconds (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.oneof(duration, fc.bigInt({ min: -1000n, max: 1000n }), fc.constantFrom(INT64_MIN, INT64_MAX, 0n)), (d) => {
        assert.equal(parseGoDuration(formatGoDuration(d)), d);
      }),
    );
  });

  it(`Go durations: any text parses or gives Go's error as an ERR_LOOPP_CONFIG ConfigError (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.oneof(durationish, fc.array(fc.oneof(fc.stringMatching(/^[0-9]{0,25}(\.[0-9]{0,25})?$/), fc.constantFrom('ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h', 'd', '.', '-', '+')), { maxLength: 8 }).map((a) => a.join(''))), (text) => {
        const r = typed(() => parseGoDuration(text), { codes: ['ERR_LOOPP_CONFIG'] });
        const q = tryParseGoDuration(text);
        assert.equal(r.ok, q.ok);
        if (r.ok) {
          assert.ok(r.value >= INT64_MIN && r.value <= INT64_MAX);
          assert.equal(parseGoDuration(formatGoDuration(r.value)), r.value);
        } else {
          assert.match(r.error.message, /^time: (invalid duration|missing unit in duration|unknown unit) /);
        }
      }),
    );
  });
});
