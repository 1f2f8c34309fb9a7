/**
 * loopp — HashiCorp go-plugin (gRPC) for Node.js, host and plugin sides.
 * Public surface, curated by hand; internals are not re-exported.
 */

/**** Host side ****/
export { startPlugin } from './client/start';
export type { StartPluginOptions, SecureConfig } from './client/start';
export { reattachPlugin } from './client/reattach';
export type { ReattachPluginOptions } from './client/reattach';
export { PluginClient } from './client/plugin-client';
export type { ReattachConfig, PingOptions } from './client/plugin-client';
export type { PluginExit, ExitReason } from './client/process';
export type { PluginLogger, PluginLogEntry } from './client/stderr';

/**** Plugin side ****/
export { servePlugin } from './server/serve';
export type { ServePluginOptions, PluginServer } from './server/serve';

/**** Both sides ****/
export { grpcPlugin, clientConstructorFor } from './plugin';
export type { GrpcPlugin, PluginSet, VersionedPluginSets, PluginClientContext, PluginServerContext, DispensedClient } from './plugin';
export type { HandshakeConfig } from './env';
export type { GrpcBroker, BrokerServer } from './broker';
export { CORE_PROTOCOL_VERSION, ENV } from './constants';
export { parseHandshakeLine, formatHandshakeLine, negotiateVersion } from './handshake';
export type { Handshake, Network } from './handshake';
export { createHclogLogger } from './hclog';
export type { HclogLevel, HclogLogger } from './hclog';

/**** Errors ****/
export { LooppError, ConfigError, HandshakeError, StartError, PluginError, BrokerError, isLooppError } from './errors';
export type { LooppErrorCode } from './errors';
