/** The host side of the LOOP environment contract: EnvConfig as the variables Go's `AsCmdEnv` writes (see schema.ts). */
import { ConfigError } from '../../../core/errors';
import { goFormatBool, goFormatFloat } from '../../../core/go/strconv';
import { formatGoDuration } from '../../../core/go/duration';
import { ENV, ENV_LOG_SQL_MIGRATIONS, type EnvConfig } from './schema';


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
