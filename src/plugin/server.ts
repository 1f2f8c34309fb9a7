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
import type { Listener } from '../net/transport';
import { Broker, type GrpcBroker } from '../shared/broker';
import { createMultiplexer, type Multiplexer } from '../shared/mux';
import type { PluginEnv } from '../wire/env';
import type { HclogLogger } from '../wire/hclog';
import { HealthState } from './health';
import { StdioForwarder } from './stdio';

export interface PluginServerOptions {
  credentials: TransportCredentials;
  /** Listener factory for broker ids this side serves (classic mode). */
  listen: () => Promise<Listener>;
  penv: PluginEnv;
  serverOptions: grpc.ServerOptions | undefined;
  log: Log;
  logger: HclogLogger;
}

export interface PluginServerParts {
  readonly server: grpc.Server;
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

/** go-plugin's muxer gives the host this long to make its one connection. */
const MUX_FIRST_CONNECTION_MS = 5000;

export function createPluginServer(o: PluginServerOptions): PluginServerParts {
  const instance = `pid=${process.pid}`;
  let shutdownHandler: (reply: () => void) => void = (reply) => reply();
  let muxClosed: () => void = () => {};
  const server = new grpc.Server({ 'grpc.max_concurrent_streams': SERVER_MAX_CONCURRENT_STREAMS, ...o.serverOptions });
  const injector = server.createConnectionInjector(o.credentials.server());
  // The host's connections (raw sockets, or the one multiplexed connection), to know when it has let go.
  const connections = new Set<Duplex>();
  const track = (connection: Duplex) => {
    connections.add(connection);
    connection.once('close', () => connections.delete(connection));
  };
  // Multiplexed mode: every stream is the main server's unless a broker knock claimed it.
  const mux: Multiplexer | undefined = o.penv.muxEnabled
    ? createMultiplexer({
        side: 'server',
        instance,
        bridgeDir: o.penv.unixSocketDir,
        log: createLog('broker', `${instance} plugin`),
        defaultRoute: (stream) => injector.injectConnection(stream),
      })
    : undefined;
  const broker = new Broker({ side: 'plugin', instance, mux: mux?.context, transport: { listen: o.listen, credentials: o.credentials } });
  const health = new HealthState();
  health.addTo(server);
  const stdio = new StdioForwarder({ log: o.log });
  stdio.addTo(server);
  server.addService(GRPCControllerService, {
    shutdown: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<object>) => {
      o.log('Shutdown requested');
      shutdownHandler(() => callback(null, {}));
    },
  });
  server.addService(GRPCBrokerService, {
    startStream: (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>) => {
      try {
        broker.attach(call);
      } catch (err) {
        call.destroy(err as Error);
      }
    },
  });
  let firstConnectionTimer: NodeJS.Timeout | undefined;
  return {
    server,
    broker,
    stdio,
    onShutdown: (handler) => void (shutdownHandler = handler),
    onMuxClosed: (handler) => void (muxClosed = handler),
    serve(listener, onFatal) {
      if (mux === undefined) {
        listener.server.on('connection', (socket) => {
          track(socket);
          injector.injectConnection(socket);
        });
        return;
      }
      listener.server.on('connection', (socket) => {
        if (mux.session !== undefined) {
          o.log('multiplexed mode accepts one connection; another was refused');
          socket.destroy();
          return;
        }
        clearTimeout(firstConnectionTimer);
        track(socket);
        mux.attach(socket).once('close', () => muxClosed());
        o.log('multiplexed connection established');
      });
      firstConnectionTimer = setTimeout(() => {
        o.logger.error('error serving plugin', { error: 'timed out waiting for connection to be established' });
        onFatal(`no multiplexed connection within ${MUX_FIRST_CONNECTION_MS / 1000} s`);
      }, MUX_FIRST_CONNECTION_MS);
      firstConnectionTimer.unref();
    },
    async stop(graceMs) {
      clearTimeout(firstConnectionTimer);
      health.shutdown();
      stdio.end();
      stdio.release();
      await broker.close();
      if (graceMs > 0) await closedByPeer(connections, graceMs);
      injector.destroy();
      server.forceShutdown();
      mux?.close();
    },
  };
}

/**
 * Resolves once every connection has closed, or after `graceMs`. No GOAWAY is sent first: a graceful
 * server shutdown (grpc-js tryShutdown) made grpc-js hosts leak the TLS socket of a multiplexed
 * connection (found by the soak test).
 */
function closedByPeer(connections: ReadonlySet<Duplex>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const pending = [...connections].filter((c) => !c.destroyed);
    if (pending.length === 0) return resolve();
    let open = pending.length;
    const timer = setTimeout(resolve, graceMs);
    timer.unref();
    for (const c of pending) {
      c.once('close', () => {
        if (--open === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}
