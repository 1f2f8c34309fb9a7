/**
 * loopp — HashiCorp go-plugin (gRPC) for Node.js, host and plugin sides.
 * Public surface, curated by hand; internals are not re-exported.
 */

/**** Host side ****/
export { startPlugin } from './host/start';
export type { StartPluginOptions, SecureConfig } from './host/start';
export { reattachPlugin } from './host/reattach';
export type { ReattachPluginOptions } from './host/reattach';
export { PluginClient } from './host/plugin-client';
export type { ReattachConfig, PingOptions } from './host/plugin-client';
export type { PluginExit, ExitReason } from './host/runner/process';
export type { PluginLogger, PluginLogEntry } from './host/stderr';

/**** Plugin side ****/
export { servePlugin } from './plugin/serve';
export type { ServePluginOptions, PluginServer } from './plugin/serve';

/**** Both sides ****/
export { grpcPlugin, clientConstructorFor } from './shared/plugin-set';
export type { GrpcPlugin, PluginSet, VersionedPluginSets, PluginClientContext, PluginServerContext, DispensedClient } from './shared/plugin-set';
export type { HandshakeConfig } from './wire/env';
export type { GrpcBroker, BrokerServer } from './shared/broker';
export { CORE_PROTOCOL_VERSION, ENV } from './core/constants';
export { parseHandshakeLine, formatHandshakeLine, negotiateVersion } from './wire/handshake';
export type { Handshake, Network } from './wire/handshake';
export { createHclogLogger } from './wire/hclog';
export type { HclogLevel, HclogLogger } from './wire/hclog';

/**** Errors ****/
export { LooppError, ConfigError, HandshakeError, StartError, PluginError, BrokerError, isLooppError } from './core/errors';
export type { LooppErrorCode } from './core/errors';
