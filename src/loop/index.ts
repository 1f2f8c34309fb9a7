/**
 * loopp/loop — Chainlink's LOOP plugin layer on top of loopp's go-plugin implementation.
 * Public surface, curated by hand.
 */

/**** Handshakes ****/
export { LOOP_KINDS } from './handshakes';
export type { LoopKind, LoopKindName } from './handshakes';

/**** Host side: registry, ports, environment, command factory ****/
export { LoopRegistry, isErrExists, ERR_EXISTS_MESSAGE } from './registry';
export type { RegisteredLoop, LoopRegistryOptions, LoopMode } from './registry';
export { createFreePortAllocator, createSequentialPortAllocator } from './ports';
export type { PortAllocator, FreePortAllocator, FreePortAllocatorOptions } from './ports';
export { newEnvConfig, asCmdEnv, parseEnvConfig, v24CmdEnv, parseV24EnvConfig, ENV as LOOP_ENV } from './env-config';
export type { EnvConfig } from './env-config';
export { formatGoDuration, parseGoDuration, durationFromMs, durationToMs } from './go-duration';
export type { GoDuration } from './go-duration';
export { parseEnvFile, pluginEnvVars } from './env-file';
export { newCmdFactory, RegistrarConfig } from './cmd-factory';
export type { LaunchSpec, CmdConfig } from './cmd-factory';

/**** Host side: supervision, logs, discovery ****/
export { LoopService, PLUGIN_UNAVAILABLE } from './service';
export type { LoopServiceOptions, LoopLaunchSpec, LoopHostedService } from './service';
export { classifyLoopLog, createLoopRelogger } from './relog';
export type { LoopLogLevel, LoopLogRecord, LoopLogger } from './relog';
export { startMetricsServer, discoveryGroups } from './discovery';
export type { MetricsServer, MetricsServerOptions, TargetGroup, DiscoverableLoops } from './discovery';
export { PluginRelayerHost, relayerLoopPlugin } from './relayer';
export { LoopServiceDefinition } from './rpc';
export type { Keystore, NewRelayerOptions, RelayerHandle } from './relayer';
export { PluginMedianHost, medianLoopPlugin } from './median';
export type {
  NewMedianFactoryOptions,
  MedianFactoryHandle,
  MedianProvider,
  DataSource,
  ErrorLog,
  ReportingPluginHandle,
} from './median';

/**** Plugin side: server base ****/
export { startServer, newStartedServer } from './server';
export type { LoopServer, LoopServerOptions, RegistrableService } from './server';
export { PromServer, createPromServer } from './prom-server';
export type { PromServerOptions } from './prom-server';
export { createHealthChecker } from './checker';
export type { HealthChecker, HealthCheckerOptions } from './checker';
export { Base, ServiceError } from './base';
export type { Service, HealthReporter } from './base';
export { createLoopPluginLogger, formatLoopLogLine } from './logger';
export type { LoopPluginLogger, LoopPluginLogLevel, LoopPluginLoggerOptions } from './logger';
