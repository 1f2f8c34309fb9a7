/**
 * The LOOP environment contract: the variables a Chainlink host passes to every LOOP plugin, and
 * the plugin-side parser, matching chainlink-common's `loop.EnvConfig` (`AsCmdEnv()` / `parse()`).
 *
 * Version implemented: chainlink-common HEAD ceb4f7f4 (2026-08-21). Its variable set is a superset
 * of the pinned tag v1.3.1 (go-interop/chainlink/go.mod); HEAD only adds
 * CL_TELEMETRY_METRIC_CARDINALITY_LIMIT, CL_TELEMETRY_METRIC_VIEWS_DENY_ATTRIBUTES and seven
 * CL_CHIP_INGRESS_* tuning variables, which a v1.3.1 plugin ignores. Everything else (order,
 * formatting, gates, error texts) is identical in both.
 *
 * Implemented — every variable of that EnvConfig:
 * - app: CL_APP_ID
 * - database (emitted only when `databaseUrl` is set, parsed only when CL_DATABASE_URL is
 *   non-empty): CL_DATABASE_URL, CL_DATABASE_IDLE_IN_TX_SESSION_TIMEOUT, CL_DATABASE_LOCK_TIMEOUT,
 *   CL_DATABASE_QUERY_TIMEOUT, CL_DATABASE_LISTNER_FALLBACK_POLL_INTERVAL (sic),
 *   CL_DATABASE_LOG_SQL, CL_DATABASE_MAX_OPEN_CONNS, CL_DATABASE_MAX_IDLE_CONNS,
 *   CL_DATABASE_TRACING_ENABLED
 * - CL_FEATURE_LOG_POLLER, CL_GRPC_SERVER_MAX_RECV_MSG_SIZE
 * - mercury: CL_MERCURY_CACHE_LATEST_REPORT_DEADLINE, CL_MERCURY_CACHE_LATEST_REPORT_TTL,
 *   CL_MERCURY_CACHE_MAX_STALE_AGE, CL_MERCURY_TRANSMITTER_PROTOCOL,
 *   CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE (sic), CL_MERCURY_TRANSMITTER_TRANSMIT_TIMEOUT,
 *   CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY, CL_MERCURY_TRANSMITTER_REAPER_FREQUENCY,
 *   CL_MERCURY_TRANSMITTER_REAPER_MAX_AGE, CL_MERCURY_VERBOSE_LOGGING
 * - CL_PROMETHEUS_PORT (required)
 * - pyroscope: CL_PYROSCOPE_AUTH_TOKEN, CL_PYROSCOPE_SERVER_ADDRESS, CL_PYROSCOPE_ENVIRONMENT,
 *   CL_PYROSCOPE_LINK_TRACES_TO_PROFILES, CL_PYROSCOPE_PPROF_BLOCK_PROFILE_RATE,
 *   CL_PYROSCOPE_PPROF_MUTEX_PROFILE_FRACTION
 * - tracing (sub-values parsed only when CL_TRACING_ENABLED is true): CL_TRACING_ENABLED,
 *   CL_TRACING_COLLECTOR_TARGET, CL_TRACING_SAMPLING_RATIO, CL_TRACING_TLS_CERT_PATH,
 *   CL_TRACING_ATTRIBUTE_<key>
 * - telemetry (sub-values and chip ingress parsed only when CL_TELEMETRY_ENABLED is true): all 29
 *   CL_TELEMETRY_* variables including CL_TELEMETRY_ATTRIBUTE_<key> and CL_TELEMETRY_AUTH_HEADER<key>
 * - metering: CL_METER_RECORDS_ENABLED, CL_METER_SNAPSHOTS_ENABLED, CL_METER_PRODUCT,
 *   CL_METER_TENANT, CL_METER_NUMERIC_TENANT_ID, CL_METER_ENVIRONMENT, CL_METER_ZONE, CL_METER_NODE_ID
 * - chip ingress: CL_CHIP_INGRESS_ENDPOINT, _INSECURE_CONNECTION, _BATCH_EMITTER_ENABLED,
 *   _DURABLE_EMITTER_ENABLED, _BUFFER_SIZE, _MAX_BATCH_SIZE, _MAX_CONCURRENT_SENDS, _SEND_INTERVAL,
 *   _SEND_TIMEOUT, _DRAIN_TIMEOUT, _MAX_GRPC_REQUEST_SIZE
 * - CRE: CL_CRE_SETTINGS, CL_CRE_SETTINGS_DEFAULT (emitted only when non-empty)
 * Not implemented: `TelemetryMetricExportBatchSize` (exists only on an unmerged chainlink-common
 * branch; its variable name is unconfirmed).
 *
 * Representation:
 * - durations are **bigint nanoseconds** (Go's time.Duration, see go-duration.ts), written with
 *   Go's `Duration.String()`;
 * - Go `int`/`uint`/`uint32` are numbers (integral; asCmdEnv rejects anything else);
 * - floats are numbers written with Go's `FormatFloat(f, 'f', -1, 64)`;
 * - the zap log level is its name (`info` is the zero value);
 * - `databaseUrl` is the URL string (undefined = Go's nil: no database group). It is written as
 *   given; Go writes `url.String()` of its parsed URL, which is the same text for any URL that is
 *   already in canonical form (all ordinary `postgres://user:pass@host:port/db?opts` URLs).
 * - maps (`tracingAttributes`, `telemetryAttributes`, `telemetryAuthHeaders`) are records; Go's map
 *   order is random, asCmdEnv writes them in the record's key order.
 *
 * Go quirks kept on purpose (a TS plugin must read what a Go host writes, and vice versa):
 * - the CL_TELEMETRY_INSECURE_CONNECTION parse error names CL_TELEMETRY_ENDPOINT;
 * - the auth-header prefix has no trailing underscore, so CL_TELEMETRY_AUTH_HEADERS_TTL also lands
 *   in `telemetryAuthHeaders` under the key `S_TTL`;
 * - an unparsable CL_TELEMETRY_LOG_LEVEL silently becomes `info`; an unparsable sampling ratio 0;
 * - CL_TELEMETRY_PROMETHEUS_BRIDGE_PREFIXES="" parses to `[""]` (Go's strings.Split);
 * - the two mercury uint32 variables are required even when empty (ParseUint("") fails);
 * - the database sub-field, mercury and CL_FEATURE_LOG_POLLER / CL_GRPC_SERVER_MAX_RECV_MSG_SIZE
 *   errors are not wrapped with the variable name.
 *
 * The v2.4.0 contract (`plugins.SetCmdEnvFromConfig` / `GetEnvConfig`) is `v24CmdEnv` /
 * `parseV24EnvConfig`: only CL_LOG_SQL_MIGRATIONS (forwarded) and CL_PROMETHEUS_PORT.
 */
import { isIPv6 } from 'node:net';

import { ConfigError } from '../../core/errors';
import { goTrimSpace } from '../../core/lines';
import {
  goAtoi,
  goFormatBool,
  goFormatFloat,
  goParseBool,
  goParseFloat,
  goParseUint,
  goQuote,
  type GoParseResult,
} from '../../core/go/strconv';
import { formatGoDuration, tryParseGoDuration, type GoDuration } from '../../core/go/duration';

/** zapcore.Level names. */
export type ZapLevel = 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';

/** chainlink-common's `loop.EnvConfig`. Field order follows the Go struct. */
export interface EnvConfig {
  appId: string;

  chipIngressEndpoint: string;
  chipIngressInsecureConnection: boolean;
  chipIngressBatchEmitterEnabled: boolean;
  chipIngressDurableEmitterEnabled: boolean;
  /** Go `uint`. */
  chipIngressBufferSize: number;
  /** Go `uint`. */
  chipIngressMaxBatchSize: number;
  chipIngressMaxConcurrentSends: number;
  chipIngressSendInterval: GoDuration;
  chipIngressSendTimeout: GoDuration;
  chipIngressDrainTimeout: GoDuration;
  /** Must be >= 0 for the parser. */
  chipIngressMaxGrpcRequestSize: number;

  creSettings: string;
  creSettingsDefault: string;

  /** Undefined: no database (Go's nil `*SecretURL`); the whole database group is then omitted. */
  databaseUrl: string | undefined;
  databaseIdleInTxSessionTimeout: GoDuration;
  databaseLockTimeout: GoDuration;
  databaseQueryTimeout: GoDuration;
  databaseListenerFallbackPollInterval: GoDuration;
  databaseLogSql: boolean;
  databaseMaxOpenConns: number;
  databaseMaxIdleConns: number;
  databaseTracingEnabled: boolean;

  featureLogPoller: boolean;

  grpcServerMaxRecvMsgSize: number;

  mercuryCacheLatestReportDeadline: GoDuration;
  mercuryCacheLatestReportTtl: GoDuration;
  mercuryCacheMaxStaleAge: GoDuration;

  mercuryTransmitterProtocol: string;
  /** Go `uint32`. */
  mercuryTransmitterTransmitQueueMaxSize: number;
  mercuryTransmitterTransmitTimeout: GoDuration;
  /** Go `uint32`. */
  mercuryTransmitterTransmitConcurrency: number;
  mercuryTransmitterReaperFrequency: GoDuration;
  mercuryTransmitterReaperMaxAge: GoDuration;
  mercuryVerboseLogging: boolean;

  /** Also serves pprof routes in Go plugins. */
  prometheusPort: number;

  pyroscopeAuthToken: string;
  pyroscopeServerAddress: string;
  pyroscopeEnvironment: string;
  pyroscopeLinkTracesToProfiles: boolean;
  pyroscopePprofBlockProfileRate: number;
  pyroscopePprofMutexProfileFraction: number;

  telemetryEnabled: boolean;
  telemetryEndpoint: string;
  telemetryInsecureConnection: boolean;
  telemetryCaCertFile: string;
  telemetryAttributes: Record<string, string>;
  telemetryTraceSampleRatio: number;
  telemetryAuthHeaders: Record<string, string>;
  telemetryAuthPubKeyHex: string;
  telemetryAuthHeadersTtl: GoDuration;
  telemetryEmitterBatchProcessor: boolean;
  telemetryEmitterExportTimeout: GoDuration;
  telemetryEmitterExportInterval: GoDuration;
  telemetryEmitterExportMaxBatchSize: number;
  telemetryEmitterMaxQueueSize: number;
  telemetryLogStreamingEnabled: boolean;
  telemetryLogLevel: ZapLevel;
  telemetryLogBatchProcessor: boolean;
  telemetryLogExportTimeout: GoDuration;
  telemetryLogExportMaxBatchSize: number;
  telemetryLogExportInterval: GoDuration;
  telemetryLogMaxQueueSize: number;
  telemetryTraceCompressor: string;
  telemetryMetricCompressor: string;
  /**
   * Undefined means "no opinion" (not written; a telemetry-enabled plugin then uses beholder's
   * default, 100000). 0 disables the limit; negative values are rejected by the parser.
   */
  telemetryMetricCardinalityLimit: number | undefined;
  /** Written (comma-joined) only when non-empty. */
  telemetryMetricViewsDenyAttributes: string[];
  telemetryPrometheusBridgeEnabled: boolean;
  telemetryPrometheusBridgePrefixes: string[];
  telemetryLogCompressor: string;
  meterRecordsEnabled: boolean;
  meterSnapshotsEnabled: boolean;
  meterProduct: string;
  meterTenant: string;
  meterNumericTenantId: string;
  meterEnvironment: string;
  meterZone: string;
  meterNodeId: string;

  tracingEnabled: boolean;
  tracingCollectorTarget: string;
  tracingSamplingRatio: number;
  tracingTlsCertPath: string;
  tracingAttributes: Record<string, string>;
}

/** Environment variable names (and map prefixes) of EnvConfig, exactly as Go spells them. */
export const ENV = {
  appId: 'CL_APP_ID',
  databaseUrl: 'CL_DATABASE_URL',
  databaseIdleInTxSessionTimeout: 'CL_DATABASE_IDLE_IN_TX_SESSION_TIMEOUT',
  databaseLockTimeout: 'CL_DATABASE_LOCK_TIMEOUT',
  databaseQueryTimeout: 'CL_DATABASE_QUERY_TIMEOUT',
  databaseListenerFallbackPollInterval: 'CL_DATABASE_LISTNER_FALLBACK_POLL_INTERVAL',
  databaseLogSql: 'CL_DATABASE_LOG_SQL',
  databaseMaxOpenConns: 'CL_DATABASE_MAX_OPEN_CONNS',
  databaseMaxIdleConns: 'CL_DATABASE_MAX_IDLE_CONNS',
  databaseTracingEnabled: 'CL_DATABASE_TRACING_ENABLED',
  featureLogPoller: 'CL_FEATURE_LOG_POLLER',
  grpcServerMaxRecvMsgSize: 'CL_GRPC_SERVER_MAX_RECV_MSG_SIZE',
  mercuryCacheLatestReportDeadline: 'CL_MERCURY_CACHE_LATEST_REPORT_DEADLINE',
  mercuryCacheLatestReportTtl: 'CL_MERCURY_CACHE_LATEST_REPORT_TTL',
  mercuryCacheMaxStaleAge: 'CL_MERCURY_CACHE_MAX_STALE_AGE',
  mercuryTransmitterProtocol: 'CL_MERCURY_TRANSMITTER_PROTOCOL',
  mercuryTransmitterTransmitQueueMaxSize: 'CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE',
  mercuryTransmitterTransmitTimeout: 'CL_MERCURY_TRANSMITTER_TRANSMIT_TIMEOUT',
  mercuryTransmitterTransmitConcurrency: 'CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY',
  mercuryTransmitterReaperFrequency: 'CL_MERCURY_TRANSMITTER_REAPER_FREQUENCY',
  mercuryTransmitterReaperMaxAge: 'CL_MERCURY_TRANSMITTER_REAPER_MAX_AGE',
  mercuryVerboseLogging: 'CL_MERCURY_VERBOSE_LOGGING',
  prometheusPort: 'CL_PROMETHEUS_PORT',
  pyroscopeAuthToken: 'CL_PYROSCOPE_AUTH_TOKEN',
  pyroscopeServerAddress: 'CL_PYROSCOPE_SERVER_ADDRESS',
  pyroscopeEnvironment: 'CL_PYROSCOPE_ENVIRONMENT',
  pyroscopeLinkTracesToProfiles: 'CL_PYROSCOPE_LINK_TRACES_TO_PROFILES',
  pyroscopePprofBlockProfileRate: 'CL_PYROSCOPE_PPROF_BLOCK_PROFILE_RATE',
  pyroscopePprofMutexProfileFraction: 'CL_PYROSCOPE_PPROF_MUTEX_PROFILE_FRACTION',
  tracingEnabled: 'CL_TRACING_ENABLED',
  tracingCollectorTarget: 'CL_TRACING_COLLECTOR_TARGET',
  tracingSamplingRatio: 'CL_TRACING_SAMPLING_RATIO',
  tracingAttributes: 'CL_TRACING_ATTRIBUTE_',
  tracingTlsCertPath: 'CL_TRACING_TLS_CERT_PATH',
  telemetryEnabled: 'CL_TELEMETRY_ENABLED',
  telemetryEndpoint: 'CL_TELEMETRY_ENDPOINT',
  telemetryInsecureConnection: 'CL_TELEMETRY_INSECURE_CONNECTION',
  telemetryCaCertFile: 'CL_TELEMETRY_CA_CERT_FILE',
  telemetryAttributes: 'CL_TELEMETRY_ATTRIBUTE_',
  telemetryTraceSampleRatio: 'CL_TELEMETRY_TRACE_SAMPLE_RATIO',
  telemetryAuthHeaders: 'CL_TELEMETRY_AUTH_HEADER',
  telemetryAuthPubKeyHex: 'CL_TELEMETRY_AUTH_PUB_KEY_HEX',
  telemetryAuthHeadersTtl: 'CL_TELEMETRY_AUTH_HEADERS_TTL',
  telemetryEmitterBatchProcessor: 'CL_TELEMETRY_EMITTER_BATCH_PROCESSOR',
  telemetryEmitterExportTimeout: 'CL_TELEMETRY_EMITTER_EXPORT_TIMEOUT',
  telemetryEmitterExportInterval: 'CL_TELEMETRY_EMITTER_EXPORT_INTERVAL',
  telemetryEmitterExportMaxBatchSize: 'CL_TELEMETRY_EMITTER_EXPORT_MAX_BATCH_SIZE',
  telemetryEmitterMaxQueueSize: 'CL_TELEMETRY_EMITTER_MAX_QUEUE_SIZE',
  telemetryLogStreamingEnabled: 'CL_TELEMETRY_LOG_STREAMING_ENABLED',
  telemetryLogLevel: 'CL_TELEMETRY_LOG_LEVEL',
  telemetryLogBatchProcessor: 'CL_TELEMETRY_LOG_BATCH_PROCESSOR',
  telemetryLogExportTimeout: 'CL_TELEMETRY_LOG_EXPORT_TIMEOUT',
  telemetryLogExportMaxBatchSize: 'CL_TELEMETRY_LOG_EXPORT_MAX_BATCH_SIZE',
  telemetryLogExportInterval: 'CL_TELEMETRY_LOG_EXPORT_INTERVAL',
  telemetryLogMaxQueueSize: 'CL_TELEMETRY_LOG_MAX_QUEUE_SIZE',
  telemetryTraceCompressor: 'CL_TELEMETRY_TRACE_COMPRESSOR',
  telemetryMetricCompressor: 'CL_TELEMETRY_METRIC_COMPRESSOR',
  telemetryMetricCardinalityLimit: 'CL_TELEMETRY_METRIC_CARDINALITY_LIMIT',
  telemetryMetricViewsDenyAttributes: 'CL_TELEMETRY_METRIC_VIEWS_DENY_ATTRIBUTES',
  telemetryPrometheusBridgeEnabled: 'CL_TELEMETRY_PROMETHEUS_BRIDGE_ENABLED',
  telemetryPrometheusBridgePrefixes: 'CL_TELEMETRY_PROMETHEUS_BRIDGE_PREFIXES',
  telemetryLogCompressor: 'CL_TELEMETRY_LOG_COMPRESSOR',
  meterRecordsEnabled: 'CL_METER_RECORDS_ENABLED',
  meterSnapshotsEnabled: 'CL_METER_SNAPSHOTS_ENABLED',
  meterProduct: 'CL_METER_PRODUCT',
  meterTenant: 'CL_METER_TENANT',
  meterNumericTenantId: 'CL_METER_NUMERIC_TENANT_ID',
  meterEnvironment: 'CL_METER_ENVIRONMENT',
  meterZone: 'CL_METER_ZONE',
  meterNodeId: 'CL_METER_NODE_ID',
  chipIngressEndpoint: 'CL_CHIP_INGRESS_ENDPOINT',
  chipIngressInsecureConnection: 'CL_CHIP_INGRESS_INSECURE_CONNECTION',
  chipIngressBatchEmitterEnabled: 'CL_CHIP_INGRESS_BATCH_EMITTER_ENABLED',
  chipIngressDurableEmitterEnabled: 'CL_CHIP_INGRESS_DURABLE_EMITTER_ENABLED',
  chipIngressBufferSize: 'CL_CHIP_INGRESS_BUFFER_SIZE',
  chipIngressMaxBatchSize: 'CL_CHIP_INGRESS_MAX_BATCH_SIZE',
  chipIngressMaxConcurrentSends: 'CL_CHIP_INGRESS_MAX_CONCURRENT_SENDS',
  chipIngressSendInterval: 'CL_CHIP_INGRESS_SEND_INTERVAL',
  chipIngressSendTimeout: 'CL_CHIP_INGRESS_SEND_TIMEOUT',
  chipIngressDrainTimeout: 'CL_CHIP_INGRESS_DRAIN_TIMEOUT',
  chipIngressMaxGrpcRequestSize: 'CL_CHIP_INGRESS_MAX_GRPC_REQUEST_SIZE',
  creSettings: 'CL_CRE_SETTINGS',
  creSettingsDefault: 'CL_CRE_SETTINGS_DEFAULT',
} as const satisfies Record<keyof EnvConfig, string>;

/** The v2.4.0-only variable forwarded from the host's own environment. */
export const ENV_LOG_SQL_MIGRATIONS = 'CL_LOG_SQL_MIGRATIONS';

/** beholder.DefaultMetricCardinalityLimit: what a telemetry-enabled plugin uses when the host sent none. */
export const DEFAULT_METRIC_CARDINALITY_LIMIT = 100000;

/** Go's zero values: every string empty, every number 0, every duration 0s, level `info`, no database. */
function zeroEnvConfig(): EnvConfig {
  return {
    appId: '',
    chipIngressEndpoint: '',
    chipIngressInsecureConnection: false,
    chipIngressBatchEmitterEnabled: false,
    chipIngressDurableEmitterEnabled: false,
    chipIngressBufferSize: 0,
    chipIngressMaxBatchSize: 0,
    chipIngressMaxConcurrentSends: 0,
    chipIngressSendInterval: 0n,
    chipIngressSendTimeout: 0n,
    chipIngressDrainTimeout: 0n,
    chipIngressMaxGrpcRequestSize: 0,
    creSettings: '',
    creSettingsDefault: '',
    databaseUrl: undefined,
    databaseIdleInTxSessionTimeout: 0n,
    databaseLockTimeout: 0n,
    databaseQueryTimeout: 0n,
    databaseListenerFallbackPollInterval: 0n,
    databaseLogSql: false,
    databaseMaxOpenConns: 0,
    databaseMaxIdleConns: 0,
    databaseTracingEnabled: false,
    featureLogPoller: false,
    grpcServerMaxRecvMsgSize: 0,
    mercuryCacheLatestReportDeadline: 0n,
    mercuryCacheLatestReportTtl: 0n,
    mercuryCacheMaxStaleAge: 0n,
    mercuryTransmitterProtocol: '',
    mercuryTransmitterTransmitQueueMaxSize: 0,
    mercuryTransmitterTransmitTimeout: 0n,
    mercuryTransmitterTransmitConcurrency: 0,
    mercuryTransmitterReaperFrequency: 0n,
    mercuryTransmitterReaperMaxAge: 0n,
    mercuryVerboseLogging: false,
    prometheusPort: 0,
    pyroscopeAuthToken: '',
    pyroscopeServerAddress: '',
    pyroscopeEnvironment: '',
    pyroscopeLinkTracesToProfiles: false,
    pyroscopePprofBlockProfileRate: 0,
    pyroscopePprofMutexProfileFraction: 0,
    telemetryEnabled: false,
    telemetryEndpoint: '',
    telemetryInsecureConnection: false,
    telemetryCaCertFile: '',
    telemetryAttributes: {},
    telemetryTraceSampleRatio: 0,
    telemetryAuthHeaders: {},
    telemetryAuthPubKeyHex: '',
    telemetryAuthHeadersTtl: 0n,
    telemetryEmitterBatchProcessor: false,
    telemetryEmitterExportTimeout: 0n,
    telemetryEmitterExportInterval: 0n,
    telemetryEmitterExportMaxBatchSize: 0,
    telemetryEmitterMaxQueueSize: 0,
    telemetryLogStreamingEnabled: false,
    telemetryLogLevel: 'info',
    telemetryLogBatchProcessor: false,
    telemetryLogExportTimeout: 0n,
    telemetryLogExportMaxBatchSize: 0,
    telemetryLogExportInterval: 0n,
    telemetryLogMaxQueueSize: 0,
    telemetryTraceCompressor: '',
    telemetryMetricCompressor: '',
    telemetryMetricCardinalityLimit: undefined,
    telemetryMetricViewsDenyAttributes: [],
    telemetryPrometheusBridgeEnabled: false,
    telemetryPrometheusBridgePrefixes: [],
    telemetryLogCompressor: '',
    meterRecordsEnabled: false,
    meterSnapshotsEnabled: false,
    meterProduct: '',
    meterTenant: '',
    meterNumericTenantId: '',
    meterEnvironment: '',
    meterZone: '',
    meterNodeId: '',
    tracingEnabled: false,
    tracingCollectorTarget: '',
    tracingSamplingRatio: 0,
    tracingTlsCertPath: '',
    tracingAttributes: {},
  };
}

/**
 * A complete EnvConfig: Go's zero values overlaid with `partial` (maps and lists are copied, so the
 * result never aliases the caller's objects). Keys of `partial` set to undefined are ignored,
 * except `databaseUrl` and `telemetryMetricCardinalityLimit`, whose undefined is meaningful.
 */
export function newEnvConfig(partial: Partial<EnvConfig> = {}): EnvConfig {
  const cfg = zeroEnvConfig() as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(partial)) {
    if (!(k in ENV)) continue;
    if (v === undefined && k !== 'databaseUrl' && k !== 'telemetryMetricCardinalityLimit') continue;
    if (Array.isArray(v)) cfg[k] = [...(v as string[])];
    else if (v !== null && typeof v === 'object') cfg[k] = { ...(v as Record<string, string>) };
    else cfg[k] = v;
  }
  return cfg as unknown as EnvConfig;
}

// ---------------------------------------------------------------------------------------------
// AsCmdEnv

function invalidField(field: keyof EnvConfig, message: string, value: unknown): ConfigError {
  return new ConfigError('ERR_LOOPP_CONFIG', `EnvConfig.${field}: ${message}`, {
    input: { name: ENV[field], value },
    hint: 'fix the EnvConfig passed to newEnvConfig/LoopRegistry (envDefaults)',
  });
}

function fmtInt(cfg: EnvConfig, field: keyof EnvConfig): string {
  const v = cfg[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalidField(field, `must be an integer, got ${String(v)}`, v);
  return String(v);
}

function fmtUint(cfg: EnvConfig, field: keyof EnvConfig, bits: 32 | 64): string {
  const v = cfg[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || (bits === 32 && v > 0xffffffff)) {
    throw invalidField(field, `must be an unsigned ${bits}-bit integer, got ${String(v)}`, v);
  }
  return String(v);
}

function fmtDur(cfg: EnvConfig, field: keyof EnvConfig): string {
  const v = cfg[field];
  if (typeof v !== 'bigint' && typeof v !== 'number') throw invalidField(field, `must be a bigint of nanoseconds, got ${String(v)}`, v);
  try {
    return formatGoDuration(v);
  } catch (err) {
    throw invalidField(field, (err as Error).message, v);
  }
}

function fmtBool(cfg: EnvConfig, field: keyof EnvConfig): string {
  return goFormatBool(cfg[field] === true);
}

function fmtFloat(cfg: EnvConfig, field: keyof EnvConfig): string {
  const v = cfg[field];
  if (typeof v !== 'number') throw invalidField(field, `must be a number, got ${String(v)}`, v);
  return goFormatFloat(v);
}

function fmtStr(cfg: EnvConfig, field: keyof EnvConfig): string {
  const v = cfg[field];
  return v === undefined || v === null ? '' : String(v);
}

/**
 * chainlink-common's `EnvConfig.AsCmdEnv()`: the `[name, value]` pairs for the plugin's environment,
 * in Go's order. Every variable is written every time (zero values too), except the database group
 * (only when `databaseUrl` is set), CRE settings (only when non-empty), the cardinality limit (only
 * when set) and the deny-attributes list (only when non-empty).
 */
export function asCmdEnv(cfg: EnvConfig): Array<[string, string]> {
  const env: Array<[string, string]> = [];
  const add = (k: string, v: string): void => {
    env.push([k, v]);
  };
  const str = (f: keyof EnvConfig): void => add(ENV[f], fmtStr(cfg, f));
  const int = (f: keyof EnvConfig): void => add(ENV[f], fmtInt(cfg, f));
  const dur = (f: keyof EnvConfig): void => add(ENV[f], fmtDur(cfg, f));
  const bool = (f: keyof EnvConfig): void => add(ENV[f], fmtBool(cfg, f));
  const float = (f: keyof EnvConfig): void => add(ENV[f], fmtFloat(cfg, f));
  const map = (f: 'tracingAttributes' | 'telemetryAttributes' | 'telemetryAuthHeaders'): void => {
    for (const [k, v] of Object.entries(cfg[f] ?? {})) add(ENV[f] + k, v);
  };

  str('appId');

  if (cfg.databaseUrl !== undefined) {
    str('databaseUrl');
    dur('databaseIdleInTxSessionTimeout');
    dur('databaseLockTimeout');
    dur('databaseQueryTimeout');
    dur('databaseListenerFallbackPollInterval');
    bool('databaseLogSql');
    int('databaseMaxOpenConns');
    int('databaseMaxIdleConns');
    bool('databaseTracingEnabled');
  }

  bool('featureLogPoller');
  int('grpcServerMaxRecvMsgSize');

  dur('mercuryCacheLatestReportDeadline');
  dur('mercuryCacheLatestReportTtl');
  dur('mercuryCacheMaxStaleAge');

  str('mercuryTransmitterProtocol');
  add(ENV.mercuryTransmitterTransmitQueueMaxSize, fmtUint(cfg, 'mercuryTransmitterTransmitQueueMaxSize', 32));
  dur('mercuryTransmitterTransmitTimeout');
  add(ENV.mercuryTransmitterTransmitConcurrency, fmtUint(cfg, 'mercuryTransmitterTransmitConcurrency', 32));
  dur('mercuryTransmitterReaperFrequency');
  dur('mercuryTransmitterReaperMaxAge');
  bool('mercuryVerboseLogging');

  int('prometheusPort');

  str('pyroscopeAuthToken');
  str('pyroscopeServerAddress');
  str('pyroscopeEnvironment');
  bool('pyroscopeLinkTracesToProfiles');
  int('pyroscopePprofBlockProfileRate');
  int('pyroscopePprofMutexProfileFraction');

  bool('tracingEnabled');
  str('tracingCollectorTarget');
  float('tracingSamplingRatio');
  str('tracingTlsCertPath');
  map('tracingAttributes');

  bool('telemetryEnabled');
  str('telemetryEndpoint');
  bool('telemetryInsecureConnection');
  str('telemetryCaCertFile');
  float('telemetryTraceSampleRatio');
  map('telemetryAttributes');
  map('telemetryAuthHeaders');
  str('telemetryAuthPubKeyHex');
  dur('telemetryAuthHeadersTtl');
  bool('telemetryEmitterBatchProcessor');
  dur('telemetryEmitterExportTimeout');
  dur('telemetryEmitterExportInterval');
  int('telemetryEmitterExportMaxBatchSize');
  int('telemetryEmitterMaxQueueSize');
  bool('telemetryLogStreamingEnabled');
  add(ENV.telemetryLogLevel, cfg.telemetryLogLevel ?? 'info');
  bool('telemetryLogBatchProcessor');
  dur('telemetryLogExportTimeout');
  int('telemetryLogExportMaxBatchSize');
  dur('telemetryLogExportInterval');
  int('telemetryLogMaxQueueSize');
  str('telemetryTraceCompressor');
  str('telemetryMetricCompressor');
  if (cfg.telemetryMetricCardinalityLimit !== undefined) int('telemetryMetricCardinalityLimit');
  if ((cfg.telemetryMetricViewsDenyAttributes ?? []).length > 0) {
    add(ENV.telemetryMetricViewsDenyAttributes, cfg.telemetryMetricViewsDenyAttributes.join(','));
  }
  bool('telemetryPrometheusBridgeEnabled');
  add(ENV.telemetryPrometheusBridgePrefixes, (cfg.telemetryPrometheusBridgePrefixes ?? []).join(','));
  str('telemetryLogCompressor');
  bool('meterRecordsEnabled');
  bool('meterSnapshotsEnabled');
  str('meterProduct');
  str('meterTenant');
  str('meterNumericTenantId');
  str('meterEnvironment');
  str('meterZone');
  str('meterNodeId');

  str('chipIngressEndpoint');
  bool('chipIngressInsecureConnection');
  bool('chipIngressBatchEmitterEnabled');
  bool('chipIngressDurableEmitterEnabled');
  add(ENV.chipIngressBufferSize, fmtUint(cfg, 'chipIngressBufferSize', 64));
  add(ENV.chipIngressMaxBatchSize, fmtUint(cfg, 'chipIngressMaxBatchSize', 64));
  int('chipIngressMaxConcurrentSends');
  dur('chipIngressSendInterval');
  dur('chipIngressSendTimeout');
  dur('chipIngressDrainTimeout');
  int('chipIngressMaxGrpcRequestSize');

  if (cfg.creSettings) str('creSettings');
  if (cfg.creSettingsDefault) str('creSettingsDefault');

  return env;
}

/** asCmdEnv as Go's `[]string` of `KEY=VALUE`. */
export function asCmdEnvStrings(cfg: EnvConfig): string[] {
  return asCmdEnv(cfg).map(([k, v]) => `${k}=${v}`);
}

// ---------------------------------------------------------------------------------------------
// parse

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

// ---------------------------------------------------------------------------------------------
// v2.4.0

/**
 * v2.4.0's `SetCmdEnvFromConfig`: `CL_LOG_SQL_MIGRATIONS` forwarded from `parentEnv` when it is set
 * there (even to ""), then `CL_PROMETHEUS_PORT`.
 */
export function v24CmdEnv(prometheusPort: number, parentEnv: NodeJS.ProcessEnv = process.env): Array<[string, string]> {
  if (!Number.isSafeInteger(prometheusPort)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `prometheus port must be an integer, got ${prometheusPort}`, { input: prometheusPort });
  }
  const env: Array<[string, string]> = [];
  const migrations = parentEnv[ENV_LOG_SQL_MIGRATIONS];
  if (migrations !== undefined) env.push([ENV_LOG_SQL_MIGRATIONS, migrations]);
  env.push([ENV.prometheusPort, String(prometheusPort)]);
  return env;
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

// ---------------------------------------------------------------------------------------------
// Go's net/url validation (errors only): url.Parse (viaRequest=false) and url.ParseRequestURI.

const HOST_OK = new Set("!$&'()*+,;=:[]<>\"-_.~");

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function unhex(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c <= 0x46) return c - 0x41 + 10;
  return c - 0x61 + 10;
}

/** Bytes allowed unescaped in a host (Go's shouldEscape(c, encodeHost) == false). */
function hostByteOk(c: number): boolean {
  return isAlnum(c) || HOST_OK.has(String.fromCharCode(c));
}

type UnescapeMode = 'host' | 'zone' | 'other';

/** Go's unescape() error checks, over UTF-8 bytes; returns the error text or undefined. */
function unescapeError(s: string, mode: UnescapeMode): string | undefined {
  const b = Buffer.from(s, 'utf8');
  for (let i = 0; i < b.length; ) {
    const c = b[i] ?? 0;
    if (c === 0x25) {
      if (i + 2 >= b.length || !isHex(b[i + 1] ?? 0) || !isHex(b[i + 2] ?? 0)) {
        return `invalid URL escape ${goQuote(b.subarray(i, i + 3).toString('latin1'))}`;
      }
      const three = b.subarray(i, i + 3).toString('latin1');
      if (mode === 'host' && unhex(b[i + 1] ?? 0) < 8 && three !== '%25') return `invalid URL escape ${goQuote(three)}`;
      if (mode === 'zone') {
        const v = (unhex(b[i + 1] ?? 0) << 4) | unhex(b[i + 2] ?? 0);
        if (three !== '%25' && v !== 0x20 && !hostByteOk(v)) return `invalid URL escape ${goQuote(three)}`;
      }
      i += 3;
      continue;
    }
    if ((mode === 'host' || mode === 'zone') && c < 0x80 && !hostByteOk(c)) {
      return `invalid character ${goQuote(String.fromCharCode(c))} in host name`;
    }
    i++;
  }
  return undefined;
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port[0] !== ':') return false;
  return /^[0-9]*$/.test(port.slice(1));
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseHostError(scheme: string, host: string): string | undefined {
  const open = host.lastIndexOf('[');
  if (open > 0) return 'invalid IP-literal';
  if (open === 0) {
    const close = host.lastIndexOf(']');
    if (close < 0) return "missing ']' in host";
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
    const portErr = unescapeError(colonPort, 'host');
    if (portErr !== undefined) return portErr;
    const hostname = host.slice(1, close);
    const zone = hostname.indexOf('%25');
    let unescaped: string;
    if (zone >= 0) {
      const e1 = unescapeError(hostname.slice(0, zone), 'host');
      if (e1 !== undefined) return e1;
      const e2 = unescapeError(hostname.slice(zone), 'zone');
      if (e2 !== undefined) return e2;
      unescaped = decodeURIComponentSafe(hostname.slice(0, zone));
    } else {
      const e = unescapeError(hostname, 'host');
      if (e !== undefined) return e;
      unescaped = decodeURIComponentSafe(hostname);
    }
    // Go: netip.ParseAddr must accept it as IPv6 (an IPv4 literal in brackets is rejected).
    if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(unescaped)) return 'invalid IP-literal';
    if (!isIPv6(unescaped)) return `invalid host: ParseAddr(${goQuote(unescaped)}): unable to parse IP`;
    return undefined;
  }
  let i = host.indexOf(':');
  if (i !== -1) {
    const last = host.lastIndexOf(':');
    // Go 1.26: several colons are only rejected for http/https (a comma-separated host list with
    // ports is fine for postgres:// and others).
    if (last !== i && scheme !== 'http' && scheme !== 'https') i = last;
    const colonPort = host.slice(i);
    if (!validOptionalPort(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
  }
  return unescapeError(host, 'host');
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A URL (parsable or not) with its secrets masked, for error texts and `input`: the userinfo
 * password becomes `xxxxx` as Go's url.Redacted() does, and so do the values of query parameters
 * whose names look like credentials (Postgres accepts `?password=`).
 */
export function redactUrl(raw: string): string {
  // Greedy up to the authority's end, so a password holding '@' is masked whole (Go splits at the last '@').
  return raw
    .replace(/(\/\/[^/?#:@]*:)[^/?#]*@/g, '$1xxxxx@')
    .replace(/([?&;][^=&#]*(?:pass|secret|token|key|auth)[^=&#]*=)[^&#]*/gi, '$1xxxxx');
}

/**
 * The error text Go's url.Parse (viaRequest=false) or url.ParseRequestURI (true) gives, or
 * undefined. `show` transforms the URL where the text quotes it (redaction).
 */
export function goURLParseError(raw: string, viaRequest: boolean, show: (url: string) => string = (u) => u): string | undefined {
  let input = raw;
  let frag: string | undefined;
  if (!viaRequest) {
    const hash = raw.indexOf('#');
    if (hash >= 0) {
      input = raw.slice(0, hash);
      frag = raw.slice(hash + 1);
    }
  }
  const err = goURLParseInner(input, viaRequest);
  if (err !== undefined) return `parse ${goQuote(show(input))}: ${err}`;
  if (frag !== undefined && frag !== '') {
    const fe = unescapeError(frag, 'other');
    if (fe !== undefined) return `parse ${goQuote(show(raw))}: ${fe}`;
  }
  return undefined;
}

function goURLParseInner(raw: string, viaRequest: boolean): string | undefined {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'net/url: invalid control character in URL';
  }
  if (raw === '' && viaRequest) return 'empty url';
  if (raw === '*') return undefined;
  // scheme
  let scheme = '';
  let rest = raw;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) break;
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) return 'missing protocol scheme';
      scheme = raw.slice(0, i).toLowerCase();
      rest = raw.slice(i + 1);
    }
    break;
  }
  const q = rest.indexOf('?');
  if (rest.endsWith('?') && q === rest.length - 1) rest = rest.slice(0, -1);
  else if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith('/')) {
    if (scheme !== '') return undefined; // opaque
    if (viaRequest) return 'invalid URI for request';
    const slash = rest.indexOf('/');
    const segment = slash >= 0 ? rest.slice(0, slash) : rest;
    if (segment.includes(':')) return 'first path segment in URL cannot contain colon';
  }
  if ((scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf('@');
    const hostErr = parseHostError(scheme, at < 0 ? authority : authority.slice(at + 1));
    if (hostErr !== undefined) return hostErr;
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!validUserinfo(userinfo)) return 'net/url: invalid userinfo';
      const colon = userinfo.indexOf(':');
      const parts = colon < 0 ? [userinfo] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
      for (const p of parts) {
        const e = unescapeError(p, 'other');
        if (e !== undefined) return e;
      }
    }
  }
  return unescapeError(rest, 'other');
}
