/** The plugin side of the LOOP environment contract: the variables read back as Go's `parse()` does (see schema.ts). */
import { ConfigError } from '../../../core/errors';
import { goTrimSpace } from '../../../core/lines';
import { goAtoi, goParseBool, goParseFloat, goParseUint, goQuote, type GoParseResult } from '../../../core/go/strconv';
import { tryParseGoDuration, type GoDuration } from '../../../core/go/duration';
import { redactUrl, goURLParseError } from '../../../core/go/url';
import { DEFAULT_METRIC_CARDINALITY_LIMIT, ENV, newEnvConfig, zeroEnvConfig, type EnvConfig, type ZapLevel } from './schema';


/** A plugin-side environment failure, carrying Go's exact text. */
function envError(name: string, value: string, message: string, hint: string): ConfigError {
  const shown = name === ENV.databaseUrl || name === ENV.tracingCollectorTarget ? redactUrl(value) : value;
  return new ConfigError('ERR_LOOPP_ENV', message, { input: { name, value: shown }, hint });
}

class EnvReader {
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  get(name: string): string {
    return this.env[name] ?? '';
  }

  lookup(name: string): string | undefined {
    return this.env[name];
  }

  /** Go's getMap: every variable whose name starts with `prefix`, keyed by the rest of the name. */
  map(prefix: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.env)) {
      // defineProperty, not assignment: a variable named e.g. CL_TRACING_ATTRIBUTE___proto__ is a map
      // entry for Go, while `out['__proto__'] = v` would silently drop it (found by the property tests).
      if (v !== undefined && k.startsWith(prefix)) {
        Object.defineProperty(out, k.slice(prefix.length), { value: v, enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  }

  private check<T>(name: string, r: GoParseResult<T>, wrap: boolean, hint: string, errName = name): T {
    if (!r.ok) {
      const v = this.get(name);
      throw envError(name, v, wrap ? `failed to parse ${errName}: ${r.error}` : r.error, hint);
    }
    return r.value;
  }

  bool(name: string, wrap: boolean, errName = name): boolean {
    const s = this.get(name);
    if (s === '') return false;
    return this.check(name, goParseBool(s), wrap, `${name} must be true or false (Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False)`, errName);
  }

  int(name: string, wrap: boolean): number {
    const s = this.get(name);
    if (s === '') return 0;
    return this.check(name, goAtoi(s), wrap, `${name} must be a decimal integer`);
  }

  uint(name: string, bits: 32 | 64, wrap: boolean, emptyIsZero: boolean): number {
    const s = this.get(name);
    if (s === '' && emptyIsZero) return 0;
    const hint = emptyIsZero
      ? `${name} must be an unsigned decimal integer`
      : `${name} is required (an unsigned 32-bit decimal integer; Go hosts always write it, 0 included)`;
    return this.check(name, goParseUint(s, bits), wrap, hint);
  }

  duration(name: string, wrap: boolean): GoDuration {
    const s = this.get(name);
    if (s === '') return 0n;
    return this.check(name, tryParseGoDuration(s), wrap, `${name} must be a Go duration such as 500ms, 1m30s or 1h0m0s`);
  }

  /** Go's getFloat64OrZero: any error gives 0. */
  floatOrZero(name: string): number {
    const s = this.get(name);
    if (s === '') return 0;
    const r = goParseFloat(s);
    return r.ok ? r.value : 0;
  }

  /** Throws with `wrap ? "failed to parse NAME: " : ""` + Go's error. */
  failWith(name: string, error: string, wrap: boolean, hint: string): never {
    throw envError(name, this.get(name), wrap ? `failed to parse ${name}: ${error}` : error, hint);
  }
}

/** zapcore Level.Set(): exact names, then the lower-cased text; `""` is info. */
function parseZapLevel(s: string): ZapLevel | undefined {
  const exact = (t: string): ZapLevel | undefined => {
    switch (t) {
      case 'debug': return 'debug';
      case 'info': case '': return 'info';
      case 'warn': case 'warning': return 'warn';
      case 'error': return 'error';
      case 'dpanic': return 'dpanic';
      case 'panic': return 'panic';
      case 'fatal': return 'fatal';
      default: return undefined;
    }
  };
  // Go's bytes.ToLower maps U+0130 (capital I with dot) to a plain 'i'.
  return exact(s) ?? exact(s.replace(/\u0130/g, 'i').toLowerCase());
}

/** HEAD's splitCommaTrimmed: split on ",", trim each part, drop empty parts. */
function splitCommaTrimmed(s: string): string[] {
  return s.split(',').map(goTrimSpace).filter((p) => p !== '');
}

/**
 * chainlink-common's `(*EnvConfig).parse()` run on `env` (default `process.env`): the plugin side.
 * Throws a ConfigError (code ERR_LOOPP_ENV, `input` = { name, value }) whose message is Go's exact
 * text, e.g. `failed to parse CL_PROMETHEUS_PORT = "x": strconv.Atoi: parsing "x": invalid syntax`.
 */
export function parseEnvConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const r: EnvReader = new EnvReader(env);
  const e = zeroEnvConfig();

  e.appId = r.get(ENV.appId);

  const dbUrl = r.get(ENV.databaseUrl);
  if (dbUrl !== '') {
    // Go prints the URL, password included; ours shows its redacted form (a documented deviation).
    const err = goURLParseError(dbUrl, false, redactUrl);
    if (err !== undefined) {
      r.failWith(ENV.databaseUrl, `failed to parse ${ENV.databaseUrl}=${redactUrl(dbUrl)}: ${err}`, false, 'CL_DATABASE_URL must be a URL Go\'s url.Parse accepts, e.g. postgres://user:pass@host:5432/db');
    }
    e.databaseUrl = dbUrl;
    e.databaseIdleInTxSessionTimeout = r.duration(ENV.databaseIdleInTxSessionTimeout, false);
    e.databaseLockTimeout = r.duration(ENV.databaseLockTimeout, false);
    e.databaseQueryTimeout = r.duration(ENV.databaseQueryTimeout, false);
    e.databaseListenerFallbackPollInterval = r.duration(ENV.databaseListenerFallbackPollInterval, false);
    e.databaseLogSql = r.bool(ENV.databaseLogSql, false);
    e.databaseMaxOpenConns = r.int(ENV.databaseMaxOpenConns, false);
    e.databaseMaxIdleConns = r.int(ENV.databaseMaxIdleConns, false);
    e.databaseTracingEnabled = r.bool(ENV.databaseTracingEnabled, false);
  }

  e.featureLogPoller = r.bool(ENV.featureLogPoller, false);
  e.grpcServerMaxRecvMsgSize = r.int(ENV.grpcServerMaxRecvMsgSize, false);

  e.mercuryCacheLatestReportDeadline = r.duration(ENV.mercuryCacheLatestReportDeadline, false);
  e.mercuryCacheLatestReportTtl = r.duration(ENV.mercuryCacheLatestReportTtl, false);
  e.mercuryCacheMaxStaleAge = r.duration(ENV.mercuryCacheMaxStaleAge, false);

  e.mercuryTransmitterProtocol = r.get(ENV.mercuryTransmitterProtocol);
  e.mercuryTransmitterTransmitQueueMaxSize = r.uint(ENV.mercuryTransmitterTransmitQueueMaxSize, 32, false, false);
  e.mercuryTransmitterTransmitTimeout = r.duration(ENV.mercuryTransmitterTransmitTimeout, false);
  e.mercuryTransmitterTransmitConcurrency = r.uint(ENV.mercuryTransmitterTransmitConcurrency, 32, false, false);
  e.mercuryTransmitterReaperFrequency = r.duration(ENV.mercuryTransmitterReaperFrequency, false);
  e.mercuryTransmitterReaperMaxAge = r.duration(ENV.mercuryTransmitterReaperMaxAge, false);
  e.mercuryVerboseLogging = r.bool(ENV.mercuryVerboseLogging, false);

  const promPort = r.get(ENV.prometheusPort);
  const port = goAtoi(promPort);
  if (!port.ok) {
    r.failWith(ENV.prometheusPort, `failed to parse ${ENV.prometheusPort} = ${goQuote(promPort)}: ${port.error}`, false, `${ENV.prometheusPort} is required: the decimal port the plugin serves /metrics on (the host's LoopRegistry assigns it)`);
  }
  e.prometheusPort = port.value;

  e.pyroscopeAuthToken = r.get(ENV.pyroscopeAuthToken);
  e.pyroscopeServerAddress = r.get(ENV.pyroscopeServerAddress);
  e.pyroscopeEnvironment = r.get(ENV.pyroscopeEnvironment);
  e.pyroscopeLinkTracesToProfiles = r.bool(ENV.pyroscopeLinkTracesToProfiles, true);
  e.pyroscopePprofBlockProfileRate = r.int(ENV.pyroscopePprofBlockProfileRate, true);
  e.pyroscopePprofMutexProfileFraction = r.int(ENV.pyroscopePprofMutexProfileFraction, true);

  e.tracingEnabled = r.bool(ENV.tracingEnabled, true);
  if (e.tracingEnabled) {
    const target = r.get(ENV.tracingCollectorTarget);
    const err = goURLParseError(target, true, redactUrl);
    if (err !== undefined) {
      r.failWith(ENV.tracingCollectorTarget, `invalid ${ENV.tracingCollectorTarget}: ${err}`, false, 'with CL_TRACING_ENABLED=true, CL_TRACING_COLLECTOR_TARGET must be an absolute URI (Go url.ParseRequestURI), e.g. localhost:4317 or http://otel:4317');
    }
    e.tracingCollectorTarget = target;
    e.tracingAttributes = r.map(ENV.tracingAttributes);
    e.tracingSamplingRatio = r.floatOrZero(ENV.tracingSamplingRatio);
    e.tracingTlsCertPath = r.get(ENV.tracingTlsCertPath);
  }

  e.telemetryEnabled = r.bool(ENV.telemetryEnabled, true);
  if (e.telemetryEnabled) {
    e.telemetryEndpoint = r.get(ENV.telemetryEndpoint);
    // Go's own quirk: this error names CL_TELEMETRY_ENDPOINT.
    e.telemetryInsecureConnection = r.bool(ENV.telemetryInsecureConnection, true, ENV.telemetryEndpoint);
    e.telemetryCaCertFile = r.get(ENV.telemetryCaCertFile);
    e.telemetryAttributes = r.map(ENV.telemetryAttributes);
    e.telemetryTraceSampleRatio = r.floatOrZero(ENV.telemetryTraceSampleRatio);
    e.telemetryAuthHeaders = r.map(ENV.telemetryAuthHeaders);
    e.telemetryAuthPubKeyHex = r.get(ENV.telemetryAuthPubKeyHex);
    e.telemetryAuthHeadersTtl = r.duration(ENV.telemetryAuthHeadersTtl, true);
    e.telemetryEmitterBatchProcessor = r.bool(ENV.telemetryEmitterBatchProcessor, true);
    e.telemetryEmitterExportTimeout = r.duration(ENV.telemetryEmitterExportTimeout, true);
    e.telemetryEmitterExportInterval = r.duration(ENV.telemetryEmitterExportInterval, true);
    e.telemetryEmitterExportMaxBatchSize = r.int(ENV.telemetryEmitterExportMaxBatchSize, true);
    e.telemetryEmitterMaxQueueSize = r.int(ENV.telemetryEmitterMaxQueueSize, true);
    e.telemetryLogStreamingEnabled = r.bool(ENV.telemetryLogStreamingEnabled, true);
    e.telemetryLogLevel = parseZapLevel(r.get(ENV.telemetryLogLevel)) ?? 'info';
    e.telemetryLogBatchProcessor = r.bool(ENV.telemetryLogBatchProcessor, true);
    e.telemetryLogExportTimeout = r.duration(ENV.telemetryLogExportTimeout, true);
    e.telemetryLogExportMaxBatchSize = r.int(ENV.telemetryLogExportMaxBatchSize, true);
    e.telemetryLogExportInterval = r.duration(ENV.telemetryLogExportInterval, true);
    e.telemetryLogMaxQueueSize = r.int(ENV.telemetryLogMaxQueueSize, true);
    e.telemetryTraceCompressor = r.get(ENV.telemetryTraceCompressor);
    e.telemetryMetricCompressor = r.get(ENV.telemetryMetricCompressor);
    const limitText = r.lookup(ENV.telemetryMetricCardinalityLimit);
    if (limitText !== undefined) {
      const name = ENV.telemetryMetricCardinalityLimit;
      const hint = `${name} must be a non-negative decimal integer (0 disables the limit)`;
      const limit = goAtoi(limitText);
      if (!limit.ok) r.failWith(name, limit.error, true, hint);
      if (limit.value < 0) r.failWith(name, `value ${limit.value} must not be negative (0 disables the limit)`, true, hint);
      e.telemetryMetricCardinalityLimit = limit.value;
    } else {
      e.telemetryMetricCardinalityLimit = DEFAULT_METRIC_CARDINALITY_LIMIT;
    }
    const deny = r.lookup(ENV.telemetryMetricViewsDenyAttributes);
    if (deny !== undefined && deny !== '') e.telemetryMetricViewsDenyAttributes = splitCommaTrimmed(deny);
    e.telemetryPrometheusBridgeEnabled = r.bool(ENV.telemetryPrometheusBridgeEnabled, true);
    e.telemetryPrometheusBridgePrefixes = r.get(ENV.telemetryPrometheusBridgePrefixes).split(',');
    e.telemetryLogCompressor = r.get(ENV.telemetryLogCompressor);

    e.chipIngressEndpoint = r.get(ENV.chipIngressEndpoint);
    e.chipIngressInsecureConnection = r.bool(ENV.chipIngressInsecureConnection, true);
    e.chipIngressBatchEmitterEnabled = r.bool(ENV.chipIngressBatchEmitterEnabled, true);
    e.chipIngressDurableEmitterEnabled = r.bool(ENV.chipIngressDurableEmitterEnabled, true);
    e.chipIngressBufferSize = r.uint(ENV.chipIngressBufferSize, 64, true, true);
    e.chipIngressMaxBatchSize = r.uint(ENV.chipIngressMaxBatchSize, 64, true, true);
    e.chipIngressMaxConcurrentSends = r.int(ENV.chipIngressMaxConcurrentSends, true);
    e.chipIngressSendInterval = r.duration(ENV.chipIngressSendInterval, true);
    e.chipIngressSendTimeout = r.duration(ENV.chipIngressSendTimeout, true);
    e.chipIngressDrainTimeout = r.duration(ENV.chipIngressDrainTimeout, true);
    e.chipIngressMaxGrpcRequestSize = r.int(ENV.chipIngressMaxGrpcRequestSize, true);
    if (e.chipIngressMaxGrpcRequestSize < 0) {
      r.failWith(ENV.chipIngressMaxGrpcRequestSize, `value ${e.chipIngressMaxGrpcRequestSize} must not be negative`, true, `${ENV.chipIngressMaxGrpcRequestSize} must be >= 0`);
    }
  }

  e.creSettings = r.get(ENV.creSettings);
  e.creSettingsDefault = r.get(ENV.creSettingsDefault);

  e.meterRecordsEnabled = r.bool(ENV.meterRecordsEnabled, true);
  e.meterSnapshotsEnabled = r.bool(ENV.meterSnapshotsEnabled, true);
  e.meterProduct = r.get(ENV.meterProduct);
  e.meterTenant = r.get(ENV.meterTenant);
  e.meterNumericTenantId = r.get(ENV.meterNumericTenantId);
  e.meterEnvironment = r.get(ENV.meterEnvironment);
  e.meterZone = r.get(ENV.meterZone);
  e.meterNodeId = r.get(ENV.meterNodeId);

  return e;
}

/**
 * v2.4.0's `GetEnvConfig()`: reads only CL_PROMETHEUS_PORT (everything else keeps its zero value).
 * Missing gives `failed to parse CL_PROMETHEUS_PORT = "": strconv.Atoi: parsing "": invalid syntax`.
 */
export function parseV24EnvConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const text = env[ENV.prometheusPort] ?? '';
  const port = goAtoi(text);
  if (!port.ok) {
    throw envError(ENV.prometheusPort, text, `failed to parse ${ENV.prometheusPort} = ${goQuote(text)}: ${port.error}`, `${ENV.prometheusPort} is required: the decimal port the plugin serves /metrics on (the host assigns it)`);
  }
  return newEnvConfig({ prometheusPort: port.value });
}
