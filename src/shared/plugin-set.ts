/**
 * Plugin definitions shared by both sides, the TypeScript shape of go-plugin's GRPCPlugin: one object
 * per plugin name that knows how to serve it (plugin side) and how to build its client (host side).
 * Services are plain grpc-js ServiceDefinitions, so code from ts-proto, grpc-tools or
 * @grpc/proto-loader all work.
 */
import * as grpc from '@grpc/grpc-js';
import type { GrpcBroker } from './broker';
import type { GrpcServer } from '../net/h2server/server';
import { clientOnChannel } from '../net/h2/lean-client';

export interface PluginServerContext {
  /** The plugin's gRPC server: add the plugin's services here. */
  server: GrpcServer;
  /** For bidirectional plugins: serve or dial sub-services by id. */
  broker: GrpcBroker;
}

export interface PluginClientContext {
  /** The connection to the plugin (shared by every dispensed client). */
  channel: grpc.ChannelInterface;
  broker: GrpcBroker;
  /** Aborted when the plugin process exits or the client closes (go-plugin's doneCtx). */
  signal: AbortSignal;
  /** `createClient(definition, channel)` on this connection's channel. */
  createClient<T extends grpc.Client = grpc.Client>(definition: grpc.ServiceDefinition): T;
}

export interface GrpcPlugin<C = unknown> {
  /** Plugin side (go-plugin's GRPCServer): register the services of this plugin. */
  server?(ctx: PluginServerContext): void | Promise<void>;
  /** Host side (go-plugin's GRPCClient): what `dispense(name)` returns. */
  client?(ctx: PluginClientContext): C;
}

/** Plugin name → definition (go-plugin's PluginSet). */
export type PluginSet = Record<string, GrpcPlugin<any>>;
/** App protocol version → plugin set (go-plugin's VersionedPlugins). */
export type VersionedPluginSets = Record<number, PluginSet>;

/** What `dispense(name)` returns for a plugin of a set. */
export type DispensedClient<P extends GrpcPlugin<any>> = P extends GrpcPlugin<infer C> ? C : never;

/** Identity helper that keeps the client type of a plugin definition. */
export function grpcPlugin<C>(definition: GrpcPlugin<C>): GrpcPlugin<C> {
  return definition;
}

/** A typed grpc-js client constructor for any ServiceDefinition (cached per definition). */
const ctorCache = new WeakMap<grpc.ServiceDefinition, grpc.ServiceClientConstructor>();
function clientConstructorFor(definition: grpc.ServiceDefinition): grpc.ServiceClientConstructor {
  let ctor = ctorCache.get(definition);
  if (ctor === undefined) {
    ctor = grpc.makeGenericClientConstructor(definition as unknown as grpc.ServiceDefinition<grpc.UntypedServiceImplementation>, '');
    ctorCache.set(definition, ctor);
  }
  return ctor;
}

/**
 * The versions offered and the plugin sets behind them, from the `plugins` / `versionedPlugins` pair.
 * go-plugin resolves a clash (the un-versioned set under a number the versioned sets also have) one way
 * on each side: a host keeps the versioned set, a plugin takes the un-versioned one.
 */
export function versionTable(
  side: 'host' | 'plugin',
  protocolVersion: number,
  plugins: PluginSet | undefined,
  versioned: VersionedPluginSets | undefined,
): Map<number, PluginSet> {
  const table = new Map<number, PluginSet>();
  for (const [v, set] of Object.entries(versioned ?? {})) table.set(Number(v), set);
  if (plugins !== undefined && (side === 'plugin' || !table.has(protocolVersion))) table.set(protocolVersion, plugins);
  return table;
}

/**
 * A grpc-js client for any ServiceDefinition (ts-proto, grpc-tools, proto-loader) on a channel loopp
 * gave you: the plugin connection, or a brokered one from `broker.dial()`. Same as
 * `new Client('unused', insecure, { channelOverride: channel })`, except that on loopp's own channel
 * unary calls without interceptors skip grpc-js's interceptor stack (docs/host.md, "Clients").
 */
export function createClient<T extends grpc.Client = grpc.Client>(definition: grpc.ServiceDefinition, channel: grpc.ChannelInterface): T {
  return clientOnChannel<T>(clientConstructorFor(definition), definition, channel);
}
