/**
 * The LOOP environment contract, its schema: the variables a Chainlink host passes to every LOOP
 * plugin (EnvConfig, their names, the zero config). emit.ts writes them as a host does, parse.ts reads
 * them as a plugin does; together they match matching chainlink-common's `loop.EnvConfig` (`AsCmdEnv()` / `parse()`).
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
 * - durations are **bigint nanoseconds** (Go's time.Duration, see src/core/go/duration.ts), written with
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
import type { GoDuration } from '../../../core/go/duration';

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
export function zeroEnvConfig(): EnvConfig {
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

