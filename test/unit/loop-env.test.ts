/**
 * LOOP environment: Go duration text, Go strconv texts, EnvConfig (AsCmdEnv order and formatting,
 * parse rules and error texts, gates, quirks), the v2.4.0 variant, go-envparse files and the
 * per-kind variable names. Expected values were produced by running the Go originals (time,
 * strconv, net/url at go1.26, chainlink-common v1.3.1/HEAD, go-envparse v0.1.0).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { ConfigError } from '../../src/core/errors';
import { goAtoi, goFormatFloat, goParseFloat, goParseUint, goQuote } from '../../src/core/go/strconv';
import { ENV, newEnvConfig, type EnvConfig } from '../../src/loop/wire/env-config/schema';
import { asCmdEnv, asCmdEnvStrings, v24CmdEnv } from '../../src/loop/wire/env-config/emit';
import { goURLParseError } from '../../src/core/go/url';
import { parseEnvConfig, parseV24EnvConfig } from '../../src/loop/wire/env-config/parse';
import { PLUGIN_KINDS, parseEnvFile, parseEnvText, pluginEnvVars } from '../../src/loop/wire/env-file';
import {
  Hour,
  Millisecond,
  Minute,
  Second,
  durationFromMs,
  durationToMs,
  formatGoDuration,
  parseGoDuration,
  tryParseGoDuration,
} from '../../src/core/go/duration';
import { rmDir, tmpDir } from '../helpers';
import { fullEnvConfig } from '../loop-env-fixtures';

function envOf(pairs: Array<[string, string]>): Record<string, string> {
  return Object.fromEntries(pairs);
}

function throwsEnv(fn: () => unknown, message: string, name?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    assert.equal(err.code, 'ERR_LOOPP_ENV');
    assert.equal(err.message, message);
    if (name !== undefined) assert.equal((err.input as { name: string }).name, name);
    assert.ok(err.hint !== undefined && err.hint.length > 0);
    return true;
  });
}

/** What a Go host always writes for the mercury uint32s, so parse tests can focus on one variable. */
const BASE: Record<string, string> = {
  CL_PROMETHEUS_PORT: '2112',
  CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE: '0',
  CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY: '0',
};

describe('formatGoDuration (time.Duration.String)', () => {
  const cases: Array<[bigint, string]> = [
    [0n, '0s'],
    [1n, '1ns'],
    [999n, '999ns'],
    [1500n, '1.5\u00b5s'],
    [1100000n, '1.1ms'],
    [500000000n, '500ms'],
    [90000000000n, '1m30s'],
    [3600000000000n, '1h0m0s'],
    [9900500000000n, '2h45m0.5s'],
    [-1500n, '-1.5\u00b5s'],
    [-(1n << 63n), '-2562047h47m16.854775808s'],
    [(1n << 63n) - 1n, '2562047h47m16.854775807s'],
    [Second, '1s'],
    [61n * Second + 1n, '1m1.000000001s'],
  ];
  for (const [ns, text] of cases) {
    it(`${ns} → ${text}`, () => assert.equal(formatGoDuration(ns), text));
  }
  it('accepts integral numbers and rejects fractions and out-of-int64 values', () => {
    assert.equal(formatGoDuration(1500), '1.5\u00b5s');
    assert.throws(() => formatGoDuration(1.5), ConfigError);
    assert.throws(() => formatGoDuration(1n << 63n), ConfigError);
  });
  it('converts milliseconds both ways', () => {
    assert.equal(durationFromMs(1500), 1500n * Millisecond);
    assert.equal(durationFromMs(0.5), 500000n);
    assert.equal(durationToMs(2n * Second + 500000n), 2000.5);
  });
});

describe('parseGoDuration (time.ParseDuration)', () => {
  const ok: Array<[string, bigint]> = [
    ['0', 0n],
    ['+0', 0n],
    ['-0', 0n],
    ['1ns', 1n],
    ['1.5\u00b5s', 1500n],
    ['1\u03bcs', 1000n],
    ['1us', 1000n],
    ['500ms', 500n * Millisecond],
    ['1m30s', 90n * Second],
    ['1h0m0s', Hour],
    ['2h45m0.5s', 2n * Hour + 45n * Minute + 500n * Millisecond],
    ['-1.5h', -(Hour + 30n * Minute)],
    ['1.s', Second],
    ['.5s', 500n * Millisecond],
    ['9223372036854775807ns', (1n << 63n) - 1n],
    ['-9223372036854775808ns', -(1n << 63n)],
    ['2562047h47m16.854775807s', (1n << 63n) - 1n],
    ['1.0000000000000000000000001h', 3600000000000n],
    ['0.3333333333333333333h', 1200000000000n],
  ];
  for (const [text, ns] of ok) {
    it(`${text} → ${ns}`, () => assert.equal(parseGoDuration(text), ns));
  }
  const bad: Array<[string, string]> = [
    ['1q', 'time: unknown unit "q" in duration "1q"'],
    ['1', 'time: missing unit in duration "1"'],
    ['x', 'time: invalid duration "x"'],
    ['', 'time: invalid duration ""'],
    ['-', 'time: invalid duration "-"'],
    ['.s', 'time: invalid duration ".s"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['2562048h', 'time: invalid duration "2562048h"'],
    ['1\u00e9', 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'],
    ['1"s', 'time: unknown unit "\\"s" in duration "1\\"s"'],
  ];
  for (const [text, message] of bad) {
    it(`${JSON.stringify(text)} → ${message}`, () => {
      const r = tryParseGoDuration(text);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.error, message);
      assert.throws(() => parseGoDuration(text), (err: unknown) => err instanceof ConfigError && err.message === message);
    });
  }
  it('round-trips what it formats', () => {
    for (const ns of [0n, 1n, 1500n, 123456789n, 3n * Hour + 7n, -(1n << 63n), (1n << 63n) - 1n]) {
      assert.equal(parseGoDuration(formatGoDuration(ns)), ns);
    }
  });
});

describe('Go strconv texts', () => {
  it('goQuote matches strconv.Quote', () => {
    assert.equal(goQuote('a\x01\x7f\u00a0\u00e9\u00ad"\\\t\u{1F600}\u200b'), '"a\\x01\\x7f\\u00a0\u00e9\\u00ad\\"\\\\\\t\u{1F600}\\u200b"');
    assert.equal(goQuote(''), '""');
  });
  it('Atoi / ParseUint errors', () => {
    const atoi = (s: string) => { const r = goAtoi(s); return r.ok ? r.value : r.error; };
    const pu = (s: string) => { const r = goParseUint(s, 32); return r.ok ? r.value : r.error; };
    assert.equal(atoi('99999999999999999999x'), 'strconv.Atoi: parsing "99999999999999999999x": value out of range');
    assert.equal(atoi('-9223372036854775809'), 'strconv.Atoi: parsing "-9223372036854775809": value out of range');
    assert.equal(atoi('+'), 'strconv.Atoi: parsing "+": invalid syntax');
    assert.equal(atoi(' 1'), 'strconv.Atoi: parsing " 1": invalid syntax');
    assert.equal(atoi('1_0'), 'strconv.Atoi: parsing "1_0": invalid syntax');
    assert.equal(atoi('-42'), -42);
    assert.equal(pu(''), 'strconv.ParseUint: parsing "": invalid syntax');
    assert.equal(pu('-1'), 'strconv.ParseUint: parsing "-1": invalid syntax');
    assert.equal(pu('4294967296'), 'strconv.ParseUint: parsing "4294967296": value out of range');
    assert.equal(pu('4294967295'), 4294967295);
  });
  it('ParseFloat', () => {
    const pf = (s: string) => { const r = goParseFloat(s); return r.ok ? r.value : r.error; };
    assert.equal(pf('1_000'), 1000);
    assert.equal(pf('0x1_0p0'), 16);
    assert.equal(pf('1e400'), 'strconv.ParseFloat: parsing "1e400": value out of range');
    assert.equal(pf('1e-400'), 0);
    assert.ok(Object.is(pf('-0'), -0));
    assert.equal(pf('inf'), Infinity);
    assert.equal(pf('+Inf'), Infinity);
    assert.equal(pf('-infinity'), -Infinity);
    assert.equal(pf('infin'), 'strconv.ParseFloat: parsing "infin": invalid syntax');
    assert.ok(Number.isNaN(pf('nan')));
    assert.equal(pf('+nan'), 'strconv.ParseFloat: parsing "+nan": invalid syntax');
    assert.equal(pf('.5'), 0.5);
    assert.equal(pf('5.'), 5);
    assert.equal(pf('.'), 'strconv.ParseFloat: parsing ".": invalid syntax');
    assert.equal(pf('0x1p-2'), 0.25);
    assert.equal(pf('0x.8p1'), 1);
    assert.equal(pf('1e'), 'strconv.ParseFloat: parsing "1e": invalid syntax');
    assert.equal(pf('0x10'), 'strconv.ParseFloat: parsing "0x10": invalid syntax');
    assert.equal(pf('1__0'), 'strconv.ParseFloat: parsing "1__0": invalid syntax');
    assert.equal(pf('_1'), 'strconv.ParseFloat: parsing "_1": invalid syntax');
    assert.equal(pf('4.9e-324'), 5e-324);
    assert.equal(pf('0x1p-1074'), 5e-324);
    assert.equal(pf('0.1'), 0.1);
  });
  it("FormatFloat(f, 'f', -1, 64)", () => {
    assert.equal(goFormatFloat(0), '0');
    assert.equal(goFormatFloat(-0), '-0');
    assert.equal(goFormatFloat(0.1), '0.1');
    assert.equal(goFormatFloat(1e-7), '0.0000001');
    assert.equal(goFormatFloat(1e21), '1000000000000000000000');
    assert.equal(goFormatFloat(123456789.123), '123456789.123');
    assert.equal(goFormatFloat(5e-324), '0.' + '0'.repeat(323) + '5');
    assert.equal(goFormatFloat(1.7976931348623157e308), '17976931348623157' + '0'.repeat(292));
    assert.equal(goFormatFloat(NaN), 'NaN');
    assert.equal(goFormatFloat(-Infinity), '-Inf');
  });
});

describe('goURLParseError (net/url)', () => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    // input, url.Parse, url.ParseRequestURI
    ['', undefined, 'parse "": empty url'],
    ['localhost:4317', undefined, undefined],
    ['127.0.0.1:4317', 'parse "127.0.0.1:4317": first path segment in URL cannot contain colon', 'parse "127.0.0.1:4317": invalid URI for request'],
    ['http://[::1]:80', undefined, undefined],
    ['http://a b', 'parse "http://a b": invalid character " " in host name', 'parse "http://a b": invalid character " " in host name'],
    ['http://x:y:z/', 'parse "http://x:y:z/": invalid port ":y:z" after host', 'parse "http://x:y:z/": invalid port ":y:z" after host'],
    ['postgres://u:p@h1:5432,h2:5433/db', undefined, undefined],
    ['http://[::1', `parse "http://[::1": missing ']' in host`, `parse "http://[::1": missing ']' in host`],
    ['http://%41/', 'parse "http://%41/": invalid URL escape "%41"', 'parse "http://%41/": invalid URL escape "%41"'],
    ['http://ex%2Fa/', 'parse "http://ex%2Fa/": invalid URL escape "%2F"', 'parse "http://ex%2Fa/": invalid URL escape "%2F"'],
    ['x\x01', 'parse "x\\x01": net/url: invalid control character in URL', 'parse "x\\x01": net/url: invalid control character in URL'],
    ['://x', 'parse "://x": missing protocol scheme', 'parse "://x": missing protocol scheme'],
    ['a:b/c', undefined, undefined],
    ['/a%zz', 'parse "/a%zz": invalid URL escape "%zz"', 'parse "/a%zz": invalid URL escape "%zz"'],
    ['http://h/#%zz', 'parse "http://h/#%zz": invalid URL escape "%zz"', 'parse "http://h/#%zz": invalid URL escape "%zz"'],
    ['http://[1.2.3.4]/', 'parse "http://[1.2.3.4]/": invalid IP-literal', 'parse "http://[1.2.3.4]/": invalid IP-literal'],
    ['http://[fe80::1%25en0]/', undefined, undefined],
    ['http://[zz]/', 'parse "http://[zz]/": invalid host: ParseAddr("zz"): unable to parse IP', 'parse "http://[zz]/": invalid host: ParseAddr("zz"): unable to parse IP'],
    ['http://u^@h/', 'parse "http://u^@h/": net/url: invalid userinfo', 'parse "http://u^@h/": net/url: invalid userinfo'],
  ];
  for (const [input, parse, request] of cases) {
    it(JSON.stringify(input), () => {
      assert.equal(goURLParseError(input, false), parse);
      assert.equal(goURLParseError(input, true), request);
    });
  }
});

/** The variable names asCmdEnv writes for a zero config, in Go's order. */
const MINIMAL_KEYS = [
  'CL_APP_ID',
  'CL_FEATURE_LOG_POLLER',
  'CL_GRPC_SERVER_MAX_RECV_MSG_SIZE',
  'CL_MERCURY_CACHE_LATEST_REPORT_DEADLINE',
  'CL_MERCURY_CACHE_LATEST_REPORT_TTL',
  'CL_MERCURY_CACHE_MAX_STALE_AGE',
  'CL_MERCURY_TRANSMITTER_PROTOCOL',
  'CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE',
  'CL_MERCURY_TRANSMITTER_TRANSMIT_TIMEOUT',
  'CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY',
  'CL_MERCURY_TRANSMITTER_REAPER_FREQUENCY',
  'CL_MERCURY_TRANSMITTER_REAPER_MAX_AGE',
  'CL_MERCURY_VERBOSE_LOGGING',
  'CL_PROMETHEUS_PORT',
  'CL_PYROSCOPE_AUTH_TOKEN',
  'CL_PYROSCOPE_SERVER_ADDRESS',
  'CL_PYROSCOPE_ENVIRONMENT',
  'CL_PYROSCOPE_LINK_TRACES_TO_PROFILES',
  'CL_PYROSCOPE_PPROF_BLOCK_PROFILE_RATE',
  'CL_PYROSCOPE_PPROF_MUTEX_PROFILE_FRACTION',
  'CL_TRACING_ENABLED',
  'CL_TRACING_COLLECTOR_TARGET',
  'CL_TRACING_SAMPLING_RATIO',
  'CL_TRACING_TLS_CERT_PATH',
  'CL_TELEMETRY_ENABLED',
  'CL_TELEMETRY_ENDPOINT',
  'CL_TELEMETRY_INSECURE_CONNECTION',
  'CL_TELEMETRY_CA_CERT_FILE',
  'CL_TELEMETRY_TRACE_SAMPLE_RATIO',
  'CL_TELEMETRY_AUTH_PUB_KEY_HEX',
  'CL_TELEMETRY_AUTH_HEADERS_TTL',
  'CL_TELEMETRY_EMITTER_BATCH_PROCESSOR',
  'CL_TELEMETRY_EMITTER_EXPORT_TIMEOUT',
  'CL_TELEMETRY_EMITTER_EXPORT_INTERVAL',
  'CL_TELEMETRY_EMITTER_EXPORT_MAX_BATCH_SIZE',
  'CL_TELEMETRY_EMITTER_MAX_QUEUE_SIZE',
  'CL_TELEMETRY_LOG_STREAMING_ENABLED',
  'CL_TELEMETRY_LOG_LEVEL',
  'CL_TELEMETRY_LOG_BATCH_PROCESSOR',
  'CL_TELEMETRY_LOG_EXPORT_TIMEOUT',
  'CL_TELEMETRY_LOG_EXPORT_MAX_BATCH_SIZE',
  'CL_TELEMETRY_LOG_EXPORT_INTERVAL',
  'CL_TELEMETRY_LOG_MAX_QUEUE_SIZE',
  'CL_TELEMETRY_TRACE_COMPRESSOR',
  'CL_TELEMETRY_METRIC_COMPRESSOR',
  'CL_TELEMETRY_PROMETHEUS_BRIDGE_ENABLED',
  'CL_TELEMETRY_PROMETHEUS_BRIDGE_PREFIXES',
  'CL_TELEMETRY_LOG_COMPRESSOR',
  'CL_METER_RECORDS_ENABLED',
  'CL_METER_SNAPSHOTS_ENABLED',
  'CL_METER_PRODUCT',
  'CL_METER_TENANT',
  'CL_METER_NUMERIC_TENANT_ID',
  'CL_METER_ENVIRONMENT',
  'CL_METER_ZONE',
  'CL_METER_NODE_ID',
  'CL_CHIP_INGRESS_ENDPOINT',
  'CL_CHIP_INGRESS_INSECURE_CONNECTION',
  'CL_CHIP_INGRESS_BATCH_EMITTER_ENABLED',
  'CL_CHIP_INGRESS_DURABLE_EMITTER_ENABLED',
  'CL_CHIP_INGRESS_BUFFER_SIZE',
  'CL_CHIP_INGRESS_MAX_BATCH_SIZE',
  'CL_CHIP_INGRESS_MAX_CONCURRENT_SENDS',
  'CL_CHIP_INGRESS_SEND_INTERVAL',
  'CL_CHIP_INGRESS_SEND_TIMEOUT',
  'CL_CHIP_INGRESS_DRAIN_TIMEOUT',
  'CL_CHIP_INGRESS_MAX_GRPC_REQUEST_SIZE',
];

/** Every group set, with values that exercise each formatter. */
function fullConfig(): EnvConfig {
  return fullEnvConfig();
}

describe('EnvConfig: newEnvConfig and asCmdEnv', () => {
  it('defaults to Go zero values', () => {
    const cfg = newEnvConfig();
    assert.equal(cfg.prometheusPort, 0);
    assert.equal(cfg.databaseUrl, undefined);
    assert.equal(cfg.telemetryLogLevel, 'info');
    assert.equal(cfg.mercuryCacheMaxStaleAge, 0n);
    assert.deepEqual(cfg.tracingAttributes, {});
    assert.equal(cfg.telemetryMetricCardinalityLimit, undefined);
    assert.deepEqual(Object.keys(cfg).sort(), Object.keys(ENV).sort());
  });
  it('copies maps and lists', () => {
    const attrs = { a: '1' };
    const cfg = newEnvConfig({ tracingAttributes: attrs });
    attrs.a = '2';
    assert.equal(cfg.tracingAttributes.a, '1');
  });
  it('writes every non-database variable for a zero config, in Go order', () => {
    const env = asCmdEnv(newEnvConfig({ prometheusPort: 2112 }));
    assert.deepEqual(env.map(([k]) => k), MINIMAL_KEYS);
    const m = envOf(env);
    assert.equal(m.CL_PROMETHEUS_PORT, '2112');
    assert.equal(m.CL_MERCURY_CACHE_MAX_STALE_AGE, '0s');
    assert.equal(m.CL_FEATURE_LOG_POLLER, 'false');
    assert.equal(m.CL_TRACING_SAMPLING_RATIO, '0');
    assert.equal(m.CL_TELEMETRY_LOG_LEVEL, 'info');
    assert.equal(m.CL_TELEMETRY_PROMETHEUS_BRIDGE_PREFIXES, '');
    assert.equal(m.CL_APP_ID, '');
  });
  it('formats every group of a full config like Go', () => {
    const env = asCmdEnv(fullConfig());
    const keys = env.map(([k]) => k);
    // database group right after CL_APP_ID, map entries after their group's scalars, CRE last
    assert.deepEqual(keys.slice(0, 10), [
      'CL_APP_ID',
      'CL_DATABASE_URL',
      'CL_DATABASE_IDLE_IN_TX_SESSION_TIMEOUT',
      'CL_DATABASE_LOCK_TIMEOUT',
      'CL_DATABASE_QUERY_TIMEOUT',
      'CL_DATABASE_LISTNER_FALLBACK_POLL_INTERVAL',
      'CL_DATABASE_LOG_SQL',
      'CL_DATABASE_MAX_OPEN_CONNS',
      'CL_DATABASE_MAX_IDLE_CONNS',
      'CL_DATABASE_TRACING_ENABLED',
    ]);
    assert.deepEqual(keys.slice(keys.indexOf('CL_TRACING_TLS_CERT_PATH') + 1, keys.indexOf('CL_TELEMETRY_ENABLED')), ['CL_TRACING_ATTRIBUTE_env', 'CL_TRACING_ATTRIBUTE_team']);
    assert.deepEqual(keys.slice(keys.indexOf('CL_TELEMETRY_TRACE_SAMPLE_RATIO') + 1, keys.indexOf('CL_TELEMETRY_AUTH_PUB_KEY_HEX')), ['CL_TELEMETRY_ATTRIBUTE_node', 'CL_TELEMETRY_AUTH_HEADERX-Auth']);
    assert.deepEqual(keys.slice(keys.indexOf('CL_TELEMETRY_METRIC_COMPRESSOR') + 1, keys.indexOf('CL_TELEMETRY_PROMETHEUS_BRIDGE_ENABLED')), ['CL_TELEMETRY_METRIC_CARDINALITY_LIMIT', 'CL_TELEMETRY_METRIC_VIEWS_DENY_ATTRIBUTES']);
    assert.deepEqual(keys.slice(-2), ['CL_CRE_SETTINGS', 'CL_CRE_SETTINGS_DEFAULT']);
    const m = envOf(env);
    assert.equal(m.CL_DATABASE_IDLE_IN_TX_SESSION_TIMEOUT, '1m0s');
    assert.equal(m.CL_DATABASE_LOG_SQL, 'true');
    assert.equal(m.CL_MERCURY_TRANSMITTER_REAPER_MAX_AGE, '48h0m0s');
    assert.equal(m.CL_TELEMETRY_EMITTER_EXPORT_INTERVAL, '1.5s');
    assert.equal(m.CL_TRACING_SAMPLING_RATIO, '0.25');
    assert.equal(m.CL_TELEMETRY_LOG_LEVEL, 'warn');
    assert.equal(m.CL_TELEMETRY_PROMETHEUS_BRIDGE_PREFIXES, 'go_,process_');
    assert.equal(m.CL_TELEMETRY_METRIC_VIEWS_DENY_ATTRIBUTES, 'event_id,trace_id');
    assert.equal(m['CL_TELEMETRY_AUTH_HEADERX-Auth'], 'secret');
    assert.equal(m.CL_CHIP_INGRESS_SEND_INTERVAL, '250ms');
    assert.equal(asCmdEnvStrings(fullConfig())[0], 'CL_APP_ID=app-1');
  });
  it('writes the database group for an empty-but-set URL (Go: non-nil empty URL)', () => {
    const keys = asCmdEnv(newEnvConfig({ databaseUrl: '' })).map(([k]) => k);
    assert.ok(keys.includes('CL_DATABASE_URL'));
  });
  it('rejects values Go could not hold', () => {
    assert.throws(() => asCmdEnv(newEnvConfig({ prometheusPort: 1.5 })), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_LOOPP_CONFIG');
    assert.throws(() => asCmdEnv(newEnvConfig({ mercuryTransmitterTransmitConcurrency: -1 })), ConfigError);
    assert.throws(() => asCmdEnv(newEnvConfig({ mercuryTransmitterTransmitQueueMaxSize: 2 ** 32 })), ConfigError);
  });
});

describe('EnvConfig: parseEnvConfig', () => {
  it('parses what asCmdEnv writes (round trip)', () => {
    for (const cfg of [newEnvConfig({ prometheusPort: 2112 }), fullConfig()]) {
      const parsed = parseEnvConfig(envOf(asCmdEnv(cfg)));
      const expected = newEnvConfig(cfg);
      if (expected.telemetryEnabled) {
        // Go quirk: the headers-TTL variable matches the auth-header prefix
        expected.telemetryAuthHeaders = { ...expected.telemetryAuthHeaders, S_TTL: formatGoDuration(expected.telemetryAuthHeadersTtl) };
      }
      assert.deepEqual(parsed, expected);
    }
  });
  it('gates database, tracing and telemetry sub-values', () => {
    const env = { ...envOf(asCmdEnv(fullConfig())), CL_DATABASE_URL: '', CL_TRACING_ENABLED: 'false', CL_TELEMETRY_ENABLED: '0' };
    const cfg = parseEnvConfig(env);
    assert.equal(cfg.databaseUrl, undefined);
    assert.equal(cfg.databaseMaxOpenConns, 0);
    assert.equal(cfg.tracingCollectorTarget, '');
    assert.deepEqual(cfg.tracingAttributes, {});
    assert.equal(cfg.telemetryEndpoint, '');
    assert.equal(cfg.chipIngressEndpoint, '');
    assert.equal(cfg.telemetryMetricCardinalityLimit, undefined);
    // ungated groups are still read
    assert.equal(cfg.meterProduct, 'cre');
    assert.equal(cfg.creSettings, '{"a":1}');
    // a bad value behind a closed gate is never looked at
    assert.doesNotThrow(() => parseEnvConfig({ ...BASE, CL_DATABASE_LOCK_TIMEOUT: 'bad', CL_TRACING_COLLECTOR_TARGET: '127.0.0.1:1', CL_TELEMETRY_LOG_EXPORT_TIMEOUT: 'x' }));
  });
  it('keeps the Go quirks', () => {
    const cfg = parseEnvConfig({
      ...BASE,
      CL_TELEMETRY_ENABLED: 'true',
      CL_TELEMETRY_AUTH_HEADERS_TTL: '1m',
      CL_TELEMETRY_AUTH_HEADERauthorization: 'Bearer x',
      CL_TELEMETRY_LOG_LEVEL: 'LOUD',
      CL_TELEMETRY_TRACE_SAMPLE_RATIO: 'half',
      CL_TELEMETRY_METRIC_VIEWS_DENY_ATTRIBUTES: ' a , ,b ',
    });
    assert.deepEqual(cfg.telemetryAuthHeaders, { S_TTL: '1m', authorization: 'Bearer x' });
    assert.equal(cfg.telemetryLogLevel, 'info');
    assert.equal(cfg.telemetryTraceSampleRatio, 0);
    assert.deepEqual(cfg.telemetryPrometheusBridgePrefixes, ['']);
    assert.equal(cfg.telemetryMetricCardinalityLimit, 100000);
    assert.deepEqual(cfg.telemetryMetricViewsDenyAttributes, ['a', 'b']);
    assert.equal(parseEnvConfig({ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_TELEMETRY_LOG_LEVEL: 'WARNING' }).telemetryLogLevel, 'warn');
    assert.equal(parseEnvConfig({ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_TELEMETRY_METRIC_CARDINALITY_LIMIT: '0' }).telemetryMetricCardinalityLimit, 0);
  });
  const errors: Array<[Record<string, string>, string, string]> = [
    [{ ...BASE, CL_PROMETHEUS_PORT: 'x' }, 'failed to parse CL_PROMETHEUS_PORT = "x": strconv.Atoi: parsing "x": invalid syntax', 'CL_PROMETHEUS_PORT'],
    [{ ...BASE, CL_PROMETHEUS_PORT: '' }, 'failed to parse CL_PROMETHEUS_PORT = "": strconv.Atoi: parsing "": invalid syntax', 'CL_PROMETHEUS_PORT'],
    [{ CL_PROMETHEUS_PORT: '2112' }, 'strconv.ParseUint: parsing "": invalid syntax', 'CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE'],
    [{ ...BASE, CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY: '4294967296' }, 'strconv.ParseUint: parsing "4294967296": value out of range', 'CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY'],
    [{ ...BASE, CL_FEATURE_LOG_POLLER: 'yes' }, 'strconv.ParseBool: parsing "yes": invalid syntax', 'CL_FEATURE_LOG_POLLER'],
    [{ ...BASE, CL_GRPC_SERVER_MAX_RECV_MSG_SIZE: '8mb' }, 'strconv.Atoi: parsing "8mb": invalid syntax', 'CL_GRPC_SERVER_MAX_RECV_MSG_SIZE'],
    [{ ...BASE, CL_MERCURY_CACHE_LATEST_REPORT_TTL: '5' }, 'time: missing unit in duration "5"', 'CL_MERCURY_CACHE_LATEST_REPORT_TTL'],
    [{ ...BASE, CL_DATABASE_URL: 'postgres://h:x/db' }, 'failed to parse CL_DATABASE_URL=postgres://h:x/db: parse "postgres://h:x/db": invalid port ":x" after host', 'CL_DATABASE_URL'],
    [{ ...BASE, CL_DATABASE_URL: 'postgres://h/db', CL_DATABASE_LOCK_TIMEOUT: '1q' }, 'time: unknown unit "q" in duration "1q"', 'CL_DATABASE_LOCK_TIMEOUT'],
    [{ ...BASE, CL_DATABASE_URL: 'postgres://h/db', CL_DATABASE_MAX_OPEN_CONNS: 'many' }, 'strconv.Atoi: parsing "many": invalid syntax', 'CL_DATABASE_MAX_OPEN_CONNS'],
    [{ ...BASE, CL_PYROSCOPE_LINK_TRACES_TO_PROFILES: 'on' }, 'failed to parse CL_PYROSCOPE_LINK_TRACES_TO_PROFILES: strconv.ParseBool: parsing "on": invalid syntax', 'CL_PYROSCOPE_LINK_TRACES_TO_PROFILES'],
    [{ ...BASE, CL_PYROSCOPE_PPROF_BLOCK_PROFILE_RATE: '1.5' }, 'failed to parse CL_PYROSCOPE_PPROF_BLOCK_PROFILE_RATE: strconv.Atoi: parsing "1.5": invalid syntax', 'CL_PYROSCOPE_PPROF_BLOCK_PROFILE_RATE'],
    [{ ...BASE, CL_TRACING_ENABLED: 'maybe' }, 'failed to parse CL_TRACING_ENABLED: strconv.ParseBool: parsing "maybe": invalid syntax', 'CL_TRACING_ENABLED'],
    [{ ...BASE, CL_TRACING_ENABLED: 'true' }, 'invalid CL_TRACING_COLLECTOR_TARGET: parse "": empty url', 'CL_TRACING_COLLECTOR_TARGET'],
    [{ ...BASE, CL_TRACING_ENABLED: 'true', CL_TRACING_COLLECTOR_TARGET: '127.0.0.1:4317' }, 'invalid CL_TRACING_COLLECTOR_TARGET: parse "127.0.0.1:4317": invalid URI for request', 'CL_TRACING_COLLECTOR_TARGET'],
    [{ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_TELEMETRY_INSECURE_CONNECTION: 'nope' }, 'failed to parse CL_TELEMETRY_ENDPOINT: strconv.ParseBool: parsing "nope": invalid syntax', 'CL_TELEMETRY_INSECURE_CONNECTION'],
    [{ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_TELEMETRY_AUTH_HEADERS_TTL: '10' }, 'failed to parse CL_TELEMETRY_AUTH_HEADERS_TTL: time: missing unit in duration "10"', 'CL_TELEMETRY_AUTH_HEADERS_TTL'],
    [{ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_TELEMETRY_METRIC_CARDINALITY_LIMIT: '' }, 'failed to parse CL_TELEMETRY_METRIC_CARDINALITY_LIMIT: strconv.Atoi: parsing "": invalid syntax', 'CL_TELEMETRY_METRIC_CARDINALITY_LIMIT'],
    [{ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_TELEMETRY_METRIC_CARDINALITY_LIMIT: '-1' }, 'failed to parse CL_TELEMETRY_METRIC_CARDINALITY_LIMIT: value -1 must not be negative (0 disables the limit)', 'CL_TELEMETRY_METRIC_CARDINALITY_LIMIT'],
    [{ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_CHIP_INGRESS_BUFFER_SIZE: '-5' }, 'failed to parse CL_CHIP_INGRESS_BUFFER_SIZE: strconv.ParseUint: parsing "-5": invalid syntax', 'CL_CHIP_INGRESS_BUFFER_SIZE'],
    [{ ...BASE, CL_TELEMETRY_ENABLED: 'true', CL_CHIP_INGRESS_MAX_GRPC_REQUEST_SIZE: '-1' }, 'failed to parse CL_CHIP_INGRESS_MAX_GRPC_REQUEST_SIZE: value -1 must not be negative', 'CL_CHIP_INGRESS_MAX_GRPC_REQUEST_SIZE'],
    [{ ...BASE, CL_METER_SNAPSHOTS_ENABLED: 'y' }, 'failed to parse CL_METER_SNAPSHOTS_ENABLED: strconv.ParseBool: parsing "y": invalid syntax', 'CL_METER_SNAPSHOTS_ENABLED'],
  ];
  for (const [env, message, name] of errors) {
    it(message, () => throwsEnv(() => parseEnvConfig(env), message, name));
  }
  it('reports the first failure in Go parse order', () => {
    throwsEnv(() => parseEnvConfig({ CL_PROMETHEUS_PORT: 'x', CL_FEATURE_LOG_POLLER: 'x' }), 'strconv.ParseBool: parsing "x": invalid syntax', 'CL_FEATURE_LOG_POLLER');
  });
  it('does not put the database password into error input (redacted as Go\'s url.Redacted)', () => {
    assert.throws(() => parseEnvConfig({ ...BASE, CL_DATABASE_URL: 'postgres://u:secret@h:x/db' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.input, { name: 'CL_DATABASE_URL', value: 'postgres://u:xxxxx@h:x/db' });
      return true;
    });
  });
});

describe('EnvConfig: the v2.4.0 contract', () => {
  it('v24CmdEnv forwards CL_LOG_SQL_MIGRATIONS only when set (even empty), then the port', () => {
    assert.deepEqual(v24CmdEnv(2112, {}), [['CL_PROMETHEUS_PORT', '2112']]);
    assert.deepEqual(v24CmdEnv(2113, { CL_LOG_SQL_MIGRATIONS: '' }), [['CL_LOG_SQL_MIGRATIONS', ''], ['CL_PROMETHEUS_PORT', '2113']]);
    assert.deepEqual(v24CmdEnv(2114, { CL_LOG_SQL_MIGRATIONS: 'true' }), [['CL_LOG_SQL_MIGRATIONS', 'true'], ['CL_PROMETHEUS_PORT', '2114']]);
  });
  it('parseV24EnvConfig reads only the port', () => {
    const cfg = parseV24EnvConfig({ CL_PROMETHEUS_PORT: '2112', CL_FEATURE_LOG_POLLER: 'garbage' });
    assert.equal(cfg.prometheusPort, 2112);
    assert.equal(cfg.featureLogPoller, false);
    throwsEnv(() => parseV24EnvConfig({}), 'failed to parse CL_PROMETHEUS_PORT = "": strconv.Atoi: parsing "": invalid syntax', 'CL_PROMETHEUS_PORT');
  });
});

describe('env files (go-envparse v0.1.0)', () => {
  // [input, what Go's envparse.Parse returned]
  const cases: Array<[string, { out?: Record<string, string>; err?: string }]> = [
    ['GOMEMLIMIT=1MiB\n', { out: { GOMEMLIMIT: '1MiB' } }],
    ['A=1\nB=2\n\n# comment\n  # indented comment\nC = spaced value  \n', { out: { A: '1', B: '2', C: 'spaced value' } }],
    ['export FOO=bar\nexport=1\nexport =2\n', { out: { FOO: 'bar', export: '2' } }],
    ['K=a # trailing comment\n', { out: { K: 'a' } }],
    ["K='single # not comment' \n", { out: { K: 'single # not comment' } }],
    ['K="double \\"esc\\" \\\\ \\/ \\b\\f\\r\\n\\t"\n', { out: { K: 'double "esc" \\ / \b\f\r\n\t' } }],
    ['K="\\u00e9\\u0041"\n', { out: { K: '\u00e9A' } }],
    ['K="\\ud83d\\ude00"\n', { out: { K: '\u{1F600}' } }],
    ['K="\\ud83d"\n', { err: 'error on line 1: incomplete Unicode surrogate pair' }],
    ['K="\\ud83d\\u0041"\n', { out: { K: '\ufffd' } }],
    ['K="\\ud83dxx"\n', { err: 'error on line 1: incomplete Unicode surrogate pair' }],
    ['K="\\u12"\n', { err: 'error on line 1: incomplete hex sequence' }],
    ['K="\\u12zz"\n', { err: 'error on line 1: invalid hex character: "z"' }],
    ['K="\\x"\n', { err: 'error on line 1: invalid escape sequence: "x"' }],
    ['K="abc\n', { err: 'error on line 1: unmatched "' }],
    ["K='abc\n", { err: "error on line 1: unmatched '" }],
    ['K="abc\\\n', { err: 'error on line 1: incomplete escape sequence' }],
    ['K=a\tb\n', { err: 'error on line 1: 0x09 is an invalid value character' }],
    ['NOEQUALS\n', { err: 'error on line 1: missing =' }],
    ['=v\n', { err: 'error on line 1: empty key' }],
    ['1K=v\n', { err: "error on line 1: key must start with [A-Za-z_] but found '1'" }],
    ['K-1=v\n', { err: "error on line 1: key characters must be [A-Za-z0-9/_.] but found '-'" }],
    ['a.b/c_d=v\n', { out: { 'a.b/c_d': 'v' } }],
    ['_K=v\n', { out: { _K: 'v' } }],
    ['K=\n', { out: { K: '' } }],
    ['K=v\r\nL=w\r\n', { out: { K: 'v', L: 'w' } }],
    ['K=v\nK=w\n', { out: { K: 'w' } }],
    ['K=caf\u00e9 # c\n', { out: { K: 'caf\ufffd' } }],
    ['K=caf\u00e9\n', { out: { K: 'caf\u00e9' } }],
    ['K=mixed \'single\' "double" end\n', { out: { K: 'mixed single double end' } }],
    ['K="\\\u00e9"\n', { err: 'error on line 1: multibyte characters disallowed in escape sequences' }],
    ['\u00e9K=v\n', { err: "error on line 1: key must start with [A-Za-z_] but found '\u00c3'" }],
    ['K\u00e9=v\n', { err: "error on line 1: key characters must be [A-Za-z0-9/_.] but found '\u00c3'" }],
    ['[K=v\n', { err: "error on line 1: key must start with [A-Za-z_] but found '['" }],
    ['{K=v\n', { err: "error on line 1: key must start with [A-Za-z_] but found '{'" }],
    ['K =  "  padded  "  \n', { out: { K: '  padded  ' } }],
    ['K=a#b\n', { out: { K: 'a' } }],
    ['K=#b\n', { out: { K: '' } }],
    ['K=a \t# b\n', { err: 'error on line 1: 0x09 is an invalid value character' }],
    ['\u00a0K=v\u00a0\n', { out: { K: 'v' } }],
    ['\ufeffK=v\n', { err: "error on line 1: key must start with [A-Za-z_] but found '\u00ef'" }],
    ['K=\u007f\n', { out: { K: '\u007f' } }],
    ["K='a'#c\n", { out: { K: 'a' } }],
    ['K="a\\u0000b"\n', { out: { K: 'a\u0000b' } }],
    ['K=v', { out: { K: 'v' } }],
    ['', { out: {} }],
    ['\n\n', { out: {} }],
    ['A=1\nB=2\nC="x\n', { err: 'error on line 3: unmatched "' }],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => {
      if (want.err !== undefined) {
        assert.throws(() => parseEnvText(input), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_LOOPP_ENV' && e.message === want.err);
      } else {
        assert.deepEqual(Object.fromEntries(parseEnvText(input)), want.out);
      }
    });
  }
  it('keeps the last position of a repeated key', () => {
    assert.deepEqual(parseEnvText('A=1\nB=2\nA=3\n'), [['B', '2'], ['A', '3']]);
  });
  it('reports bufio.Scanner token-too-long', () => {
    assert.throws(() => parseEnvText(`A=1\nB=${'x'.repeat(70000)}\n`), (e: unknown) => e instanceof ConfigError && e.message === 'error on line 1: bufio.Scanner: token too long');
  });
  it('parseEnvFile: empty path, a file, a missing file, a directory', () => {
    assert.deepEqual(parseEnvFile(''), []);
    const dir = tmpDir();
    try {
      const file = path.join(dir, 'median.env');
      fs.writeFileSync(file, 'GOMEMLIMIT=1MiB\nexport GODEBUG="x=1"\n');
      assert.deepEqual(parseEnvFile(file), [['GOMEMLIMIT', '1MiB'], ['GODEBUG', 'x=1']]);
      const missing = path.join(dir, 'nope.env');
      assert.throws(() => parseEnvFile(missing), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, 'ERR_LOOPP_ENV');
        assert.equal(e.message, `open ${missing}: no such file or directory`);
        assert.equal(e.input, missing);
        return true;
      });
      assert.throws(() => parseEnvFile(dir), (e: unknown) => e instanceof ConfigError && e.message === `error reading: read ${dir}: is a directory`);
    } finally {
      rmDir(dir);
    }
  });
});

describe('pluginEnvVars', () => {
  it('names CL_<KIND>_CMD, CL_<KIND>_ENV and chainlink-<kind>', () => {
    assert.deepEqual(pluginEnvVars('evm'), { cmd: 'CL_EVM_CMD', env: 'CL_EVM_ENV', cmdDefault: 'chainlink-evm' });
    assert.deepEqual(pluginEnvVars('starknet'), { cmd: 'CL_STARKNET_CMD', env: 'CL_STARKNET_ENV', cmdDefault: 'chainlink-starknet' });
    assert.deepEqual([...PLUGIN_KINDS], ['median', 'mercury', 'aptos', 'evm', 'cosmos', 'solana', 'starknet', 'tron', 'ton', 'sui']);
    for (const k of PLUGIN_KINDS) assert.equal(pluginEnvVars(k).cmd, `CL_${k.toUpperCase()}_CMD`);
    assert.throws(() => pluginEnvVars(''), ConfigError);
  });
});
