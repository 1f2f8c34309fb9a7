/**
 * loopp/loop — Chainlink's LOOP plugin layer on top of loopp's go-plugin implementation.
 * Public surface, curated by hand. prom-client (an optional peer) is loaded only by the plugin-side
 * server base, on first use: a LOOP host needs none of it.
 */

/**** Kinds and plugin definitions (both sides) ****/
export { LOOP_KINDS } from './wire/handshakes';
export type { LoopKind, LoopKindName } from './wire/handshakes';
export { relayerLoopPlugin } from './relayer';
export { medianLoopPlugin } from './host/median';
export type { Keystore } from './wire/keystore';
export { LoopServiceDefinition } from './wire/rpc';
export type { LoopServiceObject, GrpcCodeName, MaybePromise } from './wire/rpc';
export { statusError, grpcCodeName } from './wire/rpc';
export type { MetricsRegistry } from './wire/metrics-registry';
export type { ChainInfo, ChainStatus, Head, NodeStatus, NodeStatusPage, PluginArgs, Promised, RelayArgs, RelayerCalls, ReplayRequest, TransactRequest } from './wire/relayer-api';
export type { ConfigProvider, ContractConfigTracker, ContractTransmitter, OffchainConfigDigester, ProviderService } from './wire/ocr2-provider';
export type { MedianContract, MedianProvider, OnchainConfig, OnchainConfigCodec, ParsedAttributedObservation, PreciseTime, ReportCodec } from './wire/median-provider';
export { serveMedianProvider } from './wire/median-provider';
export type { BoundContract, ContractBatch, ContractBatchResult, ContractKeyFilter, ContractReader, Sequence, SequenceWithKey } from './wire/contract-reader';
export type { ComparisonOperator, Confidence, Expression, KeyFilter, LimitAndSort, SortType } from './wire/query';
export type { ContractWriter, EstimateFee, EstimateFeeRequest, FeeComponents, SubmitTransactionRequest, TransactionStatus, TxMeta } from './wire/contract-writer';
export type { CborValue } from './wire/versioned-bytes';

/**** Host side: registry, ports, environment, command factory ****/
export { LoopRegistry, isErrExists, ERR_EXISTS_MESSAGE } from './host/registry';
export type { RegisteredLoop, LoopRegistryOptions, LoopMode } from './host/registry';
export { createFreePortAllocator, createSequentialPortAllocator } from './host/ports';
export type { PortAllocator, FreePortAllocator, FreePortAllocatorOptions } from './host/ports';
export { newEnvConfig, ENV as LOOP_ENV } from './wire/env-config/schema';
export type { EnvConfig } from './wire/env-config/schema';
export { asCmdEnv, v24CmdEnv } from './wire/env-config/emit';
export { parseEnvConfig, parseV24EnvConfig } from './wire/env-config/parse';
export { durationFromMs, durationToMs } from '../core/go/duration';
export type { GoDuration } from '../core/go/duration';
export { parseEnvFile, pluginEnvVars } from './wire/env-file';
export { newCmdFactory, RegistrarConfig } from './host/cmd-factory';
export type { LaunchSpec, CmdConfig } from './host/cmd-factory';

/**** Host side: the node's switch (CL_<KIND>_CMD / CL_<KIND>_ENV) and its two LOOPs ****/
export { configuredLoop, startConfiguredLoop } from './host/loop-switch';
export type { ConfiguredLoop, EnvSource, StartConfiguredLoopOptions } from './host/loop-switch';
export { startRelayerLoop, startMedianLoop } from './host/node-loops';
export type { StartRelayerLoopOptions, StartMedianLoopOptions } from './host/node-loops';
export { minOcr2MaxDurationQueryNs, queryDeadlineNs, MIN_OCR2_MAX_DURATION_QUERY_ENV, DEFAULT_MIN_OCR2_MAX_DURATION_QUERY_NS } from './host/query-deadline';
export { PLUGIN_KINDS } from './wire/env-file';
export type { PluginKind } from './wire/env-file';

/**** Host side: supervision, logs, discovery, LOOP clients ****/
export { LoopService, PLUGIN_UNAVAILABLE } from './host/service';
export type { LoopServiceOptions, LoopLaunchSpec, LoopHostedService } from './host/service';
export { classifyLoopLog, createLoopRelogger } from './host/relog';
export type { LoopLogLevel, LoopLogRecord } from './host/relog';
export { startMetricsServer, discoveryGroups } from './host/discovery';
export type { MetricsServer, MetricsServerOptions, TargetGroup, DiscoverableLoops } from './host/discovery';
export type { PluginRelayerHost, NewRelayerOptions, RelayerHandle } from './host/relayer';
export type { NewPluginProviderOptions, RelayerObjects } from './host/relayer-objects';
export type { MedianProviderHandle } from './host/median-provider-client';
export type { ConfigProviderHandle } from './host/config-provider';
export type { ProviderConnection } from './host/ocr2-clients';
export type { ContractReaderClient } from './host/contract-reader';
export type { ContractReaderHandle } from './host/contract-reader-handle';
export type { ContractWriterHandle } from './host/contract-writer';
export type {
  PluginMedianHost,
  NewMedianFactoryOptions,
  MedianFactoryHandle,
  ProxiedProvider,
  DataSource,
  ErrorLog,
  ReportingPluginHandle,
  AttributedObservation,
  AttributedOnchainSignature,
  ContractConfig,
  ReportContext,
  ReportingPluginConfig,
  ReportingPluginInfo,
  ReportTimestamp,
} from './host/median';

/**** Plugin side: server base and LOOP servers ****/
export { startServer } from './plugin/start-server';
export type { LoopServer, LoopServerOptions, RegistrableService } from './plugin/start-server';
export { createPromServer } from './plugin/prom-server';
export type { PromServer, PromServerOptions } from './plugin/prom-server';
export { createHealthChecker } from './plugin/checker';
export type { HealthChecker, HealthCheckerOptions } from './plugin/checker';
export { Base, ServiceError } from './plugin/base';
export type { Service, HealthReporter } from './plugin/base';
export { createLoopPluginLogger, formatLoopLogLine } from './plugin/logger';
export type { LoopPluginLogger, LoopPluginLogLevel, LoopPluginLoggerOptions } from './plugin/logger';
export type { RelayerServer, RelayerServerOptions } from './plugin/relayer-server';
export type { PluginProvider, RelayerFactories } from './plugin/relayer-objects-server';

/**** Errors of the LOOP layer ****/
export { LoopError } from '../core/errors';
export type { LoopErrorCode } from '../core/errors';
