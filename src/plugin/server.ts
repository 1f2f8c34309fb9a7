/**
 * The plugin's main gRPC server as go-plugin builds it: health (`plugin` SERVING), GRPCController,
 * GRPCStdio and the broker stream beside the application's services, fed with the connections the
 * listener accepts, or, in multiplexed mode, with the yamux streams of the host's one connection.
 */
import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { SERVER_MAX_CONCURRENT_STREAMS } from '../core/constants';
import { createLog, type Log } from '../core/debug';
import { type ConnInfo, GRPCBrokerService, GRPCControllerService } from '../gen';
import type { TransportCredentials } from '../net/grpc/credentials';
import type { ChannelKind } from '../net/grpc/open-channel';
import type { Listener } from '../net/transport';
import { Broker, type GrpcBroker } from '../shared/broker';
import { createMultiplexer, type Multiplexer } from '../shared/mux';
import type { PluginEnv } from '../wire/env';
import type { HclogLogger } from '../wire/hclog';
import { HealthState } from './health';
import { HostConnections } from './host-connections';
import { ServiceCatalog } from './reflection/catalog';
import type { ReflectionSetting } from './reflection/options';
import { addReflection } from './reflection/service';
import { StdioForwarder } from './stdio';
import { newGrpcServer, serverKindFor, type GrpcServer, type GrpcServerKind } from '../net/h2server/server';

export interface PluginServerOptions {
  credentials: TransportCredentials;
  /** Listener factory for broker ids this side serves (classic mode). */
  listen: () => Promise<Listener>;
  penv: PluginEnv;
  serverOptions: grpc.ServerOptions | undefined;
  /** Which server implementation serves the main and the brokered connections. */
  grpcServer: GrpcServerKind | undefined;
  /** The channel implementation for dialled broker ids. */
  channel?: ChannelKind;
  /** gRPC server reflection: off, or on with the application's descriptors. */
  reflection: ReflectionSetting;
  log: Log;
  logger: HclogLogger;
}

export interface PluginServerParts {
  readonly server: GrpcServer;
  readonly broker: GrpcBroker;
  readonly stdio: StdioForwarder;
  /** `handler(reply)` runs on GRPCController.Shutdown; it must call `reply` to answer. */
  onShutdown(handler: (reply: () => void) => void): void;
  /** Runs when the multiplexed connection closes. */
  onMuxClosed(handler: () => void): void;
  /** Feeds the listener's connections to the server; `onFatal` when the host never connects (multiplexed). */
  serve(listener: Listener, onFatal: (why: string) => void): void;
  /**
   * Ends the streams and the broker, gives the host up to `graceMs` to drop its connections (a host
   * closes them on the Shutdown reply, which so reaches it whole), then cuts whatever is left.
   */
  stop(graceMs: number): Promise<void>;
}

export function createPluginServer(o: PluginServerOptions): PluginServerParts {
  const instance = `pid=${process.pid}`;
  let shutdownHandler: (reply: () => void) => void = (reply) => reply();
  let muxClosed: () => void = () => {};
  let noConnection: (why: string) => void = () => {};
  // The plugins get the server through the catalog, which notes their services for reflection.
  const catalog = new ServiceCatalog();
  const serverOptions = { 'grpc.max_concurrent_streams': SERVER_MAX_CONCURRENT_STREAMS, ...o.serverOptions };
  // One kind for the main server and the brokered ones, whatever chose it.
  const serverKind = serverKindFor(o.grpcServer, serverOptions);
  const server = catalog.wrap(newGrpcServer(serverKind, serverOptions));
  const injector = server.createConnectionInjector(o.credentials.server());
  const inject = (connection: Duplex) => injector.injectConnection(connection);
  // Multiplexed mode: every stream is the main server's unless a broker knock claimed it.
  const mux: Multiplexer | undefined = o.penv.muxEnabled
    ? createMultiplexer({ side: 'server', instance, bridgeDir: o.penv.unixSocketDir, log: createLog('broker', `${instance} plugin`), defaultRoute: inject })
    : undefined;
  const connections = new HostConnections({
    inject,
    mux,
    log: o.log,
    onMuxClosed: () => muxClosed(),
    onNoConnection: () => {
      o.logger.error('error serving plugin', { error: 'timed out waiting for connection to be established' });
      noConnection('no multiplexed connection within 5 s');
    },
  });
  const broker = new Broker({ side: 'plugin', instance, mux: mux?.context, transport: { listen: o.listen, credentials: o.credentials, channel: o.channel }, grpcServer: serverKind });
  const health = new HealthState();
  const stdio = new StdioForwarder({ log: o.log });
  addProtocolServices(server, { health, stdio, broker, log: o.log, shutdown: (reply) => shutdownHandler(reply) });
  if (o.reflection.enabled) addReflection(server, { catalog, files: o.reflection.files, logger: o.logger });
  return {
    server,
    broker,
    stdio,
    onShutdown: (handler) => void (shutdownHandler = handler),
    onMuxClosed: (handler) => void (muxClosed = handler),
    serve(listener, onFatal) {
      noConnection = onFatal;
      connections.serve(listener);
    },
    async stop(graceMs) {
      health.shutdown();
      stdio.end();
      stdio.release();
      await broker.close();
      await connections.closedByHost(graceMs);
      injector.destroy();
      server.forceShutdown();
      mux?.close();
    },
  };
}

/** go-plugin's services beside the application's: health, GRPCStdio, GRPCController, GRPCBroker (reflection is added apart, being optional). */
function addProtocolServices(
  server: GrpcServer,
  o: { health: HealthState; stdio: StdioForwarder; broker: Broker; log: Log; shutdown: (reply: () => void) => void },
): void {
  o.health.addTo(server);
  o.stdio.addTo(server);
  server.addService(GRPCControllerService, {
    shutdown: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<object>) => {
      o.log('Shutdown requested');
      o.shutdown(() => callback(null, {}));
    },
  });
  server.addService(GRPCBrokerService, {
    startStream: (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>) => {
      try {
        o.broker.attach(call);
      } catch (err) {
        call.destroy(err as Error);
      }
    },
  });
}
