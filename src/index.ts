/**
 * loopp — HashiCorp go-plugin (gRPC) for Node.js, host and plugin sides.
 * Public surface, curated by hand; internals are not re-exported. The protocol's building blocks
 * (handshake line, environment, certificates, log lines) are in `loopp/protocol`.
 */

/**** Host side ****/
export { startPlugin } from './host/start';
export type { StartPluginOptions, SecureConfig } from './host/start';
export { reattachPlugin } from './host/reattach';
export type { ReattachPluginOptions } from './host/reattach';
export type { PluginClient, ReattachConfig, PingOptions } from './host/plugin-client';
export type { PluginExit, ExitReason } from './host/runner/exit-state';
export type { PluginLogEntry } from './host/stderr';
export type { UnleveledEntry } from './wire/hclog';

/**** Plugin side ****/
export { servePlugin } from './plugin/serve';
export type { ServePluginOptions, PluginServer } from './plugin/serve';
export type { ReflectionOptions } from './plugin/reflection/options';
export { createHclogLogger } from './wire/hclog';
export type { HclogLevel, HclogLogger, HclogLoggerOptions, HclogFields } from './wire/hclog';

/**** Both sides ****/
export { grpcPlugin } from './shared/plugin-set';
export type { GrpcPlugin, PluginSet, VersionedPluginSets, PluginClientContext, PluginServerContext, DispensedClient } from './shared/plugin-set';
export type { HandshakeConfig } from './wire/env';
export type { Network } from './wire/handshake';
export type { GrpcBroker, BrokerServer } from './shared/broker';
export { createGrpcServer } from './net/h2server/server';
export type { GrpcServer, GrpcServerKind } from './net/h2server/server';
export type { Logger, LogFields } from './core/logger';

/**** Errors ****/
export { LooppError, ConfigError, HandshakeError, StartError, PluginError, BrokerError, isLooppError, ERROR_CODES } from './core/errors';
export type { LooppErrorCode, LooppErrorOptions } from './core/errors';
