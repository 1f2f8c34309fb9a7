/**
 * The relayer LOOP's plugin definition, both sides in one object as go-plugin's GRPCPlugin (and
 * chainlink-common's GRPCPluginRelayer): a host dispenses `relayer` to get a PluginRelayerHost; a
 * TypeScript relayer LOOP passes `newRelayer` and serves.
 */
import { grpcPlugin, type GrpcPlugin } from '../index';
import { PluginRelayerHost } from './host/relayer';
import { servePluginRelayer, type RelayerServerOptions } from './plugin/relayer-server';

/** The plugin definition of a relayer LOOP (dispense name `relayer`); with `server`, it also serves one. */
export function relayerLoopPlugin(server?: RelayerServerOptions): GrpcPlugin<PluginRelayerHost> {
  return grpcPlugin({
    client: (ctx) => new PluginRelayerHost(ctx),
    ...(server === undefined ? {} : { server: (ctx) => servePluginRelayer(ctx, server) }),
  });
}
