/**
 * servePlugin(): the plugin side of go-plugin, for plugins written in TypeScript. Any go-plugin host
 * (Go's, or loopp's) can launch the process: it checks the magic cookie, negotiates the app protocol
 * version, listens, optionally does AutoMTLS, prints the handshake line and serves health,
 * controller, stdio, broker and the app's services.
 */
import * as grpc from '@grpc/grpc-js';
import { GrpcBroker, createLock, type BrokerTransport, type MuxContext } from '../shared/broker';
import { SERVER_MAX_CONCURRENT_STREAMS } from '../core/constants';
import { createLog } from '../core/debug';
import { checkMagicCookie, readPluginEnv, type HandshakeConfig, type PluginEnv } from '../wire/env';
import { BrokerError, ConfigError, LooppError, messageOf } from '../core/errors';
import { type ConnInfo, GRPCBrokerService, GRPCControllerService } from '../gen';
import { formatHandshakeLine, negotiateVersion, type Network } from '../wire/handshake';
import { createHclogLogger, type HclogLevel, type HclogLogger } from '../wire/hclog';
import { versionTable, type PluginSet, type VersionedPluginSets } from '../shared/plugin-set';
import { MuxRouter } from '../net/yamux/router';
import { listenTcp, listenUnix, type Listener } from '../net/transport';
import { createYamuxSession, type YamuxSession } from '../net/yamux/session';
import { HealthState } from './health';
import { watchHost } from './host-watch';
import { StdioForwarder } from './stdio';

export interface ServePluginOptions {
  handshake: HandshakeConfig;
  /** The plugins served under `handshake.protocolVersion`. */
  plugins?: PluginSet;
  /** Plugin sets per app protocol version; the newest version the host also speaks is served. */
  versionedPlugins?: VersionedPluginSets;
  /**
   * `unix` (default except on Windows) or `tcp` (127.0.0.1 in PLUGIN_MIN_PORT..PLUGIN_MAX_PORT). Go
   * plugins use tcp only on Windows; a TS plugin may choose it anywhere.
   */
  transport?: 'unix' | 'tcp';
  /** Environment to read the protocol variables from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Forward process.stdout/stderr writes to the host over GRPCStdio after the handshake (default true). */
  captureStdio?: boolean;
  /**
   * Exit the process as go-plugin's Serve does: code 1 on a cookie or setup error, 0 after Shutdown or
   * when the host dies (default true). When false, errors are thrown and `closed` resolves instead.
   */
  exitProcess?: boolean;
  /** Exit within ~250 ms when the host process dies (default true). */
  exitWithHost?: boolean;
  /** Level of the hclog JSON logger on the real stderr (default 'trace', as go-plugin). */
  logLevel?: HclogLevel;
  /** Extra grpc-js server options for the main server (go-plugin's GRPCServer factory options). */
  serverOptions?: grpc.ServerOptions;
  /** Aborting stops serving (like a graceful close). */
  signal?: AbortSignal;
}

export interface PluginServer extends AsyncDisposable {
  readonly network: Network;
  readonly address: string;
  /** The app protocol version agreed with the host. */
  readonly protocolVersion: number;
  readonly broker: GrpcBroker;
  readonly server: grpc.Server;
  /** hclog logger writing JSON lines to the real stderr (what the host parses). */
  readonly logger: HclogLogger;
  /** Resolves once the server has stopped (Shutdown, close(), kill(), host gone). */
  readonly closed: Promise<void>;
  /** Stops serving and removes the socket. Idempotent. */
  close(): Promise<void>;
  /** Stops at once. */
  kill(): void;
}

function exitNow(code: number): never {
  process.exit(code);
}

export async function servePlugin(options: ServePluginOptions): Promise<PluginServer> {
  const env = options.env ?? process.env;
  const exitProcess = options.exitProcess ?? true;
  const realStderrWrite = process.stderr.write.bind(process.stderr);
  const realStdoutWrite = process.stdout.write.bind(process.stdout);
  // A host that died closes our pipes; Node would otherwise crash on the EPIPE 'error' event.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});

  const logger = createHclogLogger({ level: options.logLevel ?? 'trace', write: (line) => void realStderrWrite(line) });
  const log = createLog('server', `pid=${process.pid}`);
  // Before anything else: a terminal Ctrl-C reaches the host, which drives our shutdown. Installed
  // ahead of the handshake so an early SIGINT cannot hit the default (terminate) disposition.
  let interrupts = 0;
  process.on('SIGINT', () => logger.trace('plugin received interrupt signal, ignoring', { count: ++interrupts }));

  const cookieProblem = checkMagicCookie(options.handshake, env);
  if (cookieProblem !== undefined) {
    if (exitProcess) {
      realStderrWrite(cookieProblem);
      exitNow(1);
    }
    throw new ConfigError('ERR_LOOPP_ENV', cookieProblem.trimEnd(), {
      input: options.handshake.magicCookieKey,
      hint: 'Launch this program through a go-plugin host, which sets the magic cookie.',
    });
  }

  const fail = (err: unknown): never => {
    logger.error('plugin init error', { error: messageOf(err) });
    if (exitProcess) exitNow(1);
    throw err;
  };

  let penv: PluginEnv;
  try {
    penv = readPluginEnv(env);
  } catch (err) {
    return fail(err);
  }
  for (const bad of penv.invalidVersions) realStderrWrite(`server sent invalid plugin version ${JSON.stringify(bad)}\n`);

  const table = versionTable('plugin', options.handshake.protocolVersion, options.plugins, options.versionedPlugins);
  if (table.size === 0) {
    return fail(new ConfigError('ERR_LOOPP_CONFIG', 'servePlugin needs `plugins` or `versionedPlugins`', { hint: 'Pass at least one plugin set.' }));
  }
  const version = negotiateVersion([...table.keys()], penv.hostVersions);
  const pluginSet = table.get(version) as PluginSet;
  log('negotiated app protocol version %d (host offers %s)', version, penv.hostVersions?.join(',') ?? 'nothing');

  // AutoMTLS: only when the host sent its certificate, and only then may field 6 carry ours (a Go host
  // without TLS config would dereference nil on a certificate it did not ask for).
  let serverCreds = grpc.ServerCredentials.createInsecure();
  let channelCreds: () => { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } = () => ({
    credentials: grpc.credentials.createInsecure(),
    options: {},
  });
  let certField: string | undefined;
  if (penv.clientCertPem !== undefined) {
    try {
      const { generateCertificate, encodeHandshakeCert } = await import('../net/mtls/cert');
      const { serverCredentials, channelCredentials } = await import('../net/grpc/credentials');
      const own = generateCertificate();
      const hostPem = penv.clientCertPem;
      serverCreds = serverCredentials(own, hostPem);
      channelCreds = () => channelCredentials(own, hostPem);
      certField = encodeHandshakeCert(own.certDer);
      log('AutoMTLS on');
    } catch (err) {
      return fail(new LooppError('ERR_LOOPP_TLS', `plugin tls init: ${messageOf(err)}`, { cause: err, hint: 'PLUGIN_CLIENT_CERT must hold one PEM certificate.' }));
    }
  }

  const transport = options.transport ?? (process.platform === 'win32' ? 'tcp' : 'unix');
  const listen = (): Promise<Listener> =>
    transport === 'tcp'
      ? listenTcp({ minPort: penv.minPort, maxPort: penv.maxPort })
      : listenUnix({ dir: penv.unixSocketDir, group: penv.unixSocketGroup });
  let listener: Listener;
  try {
    listener = await listen();
  } catch (err) {
    return fail(err);
  }

  // Multiplexed mode: the host makes exactly one raw connection and runs yamux over it; every stream
  // is the main server's unless a broker knock claimed it.
  let session: YamuxSession | undefined;
  let mux: MuxContext | undefined;
  if (penv.muxEnabled) {
    mux = {
      open: () => {
        if (session === undefined) throw new BrokerError('ERR_LOOPP_BROKER', 'multiplexed connection not established yet');
        return session.open();
      },
      router: new MuxRouter(createLog('broker', `pid=${process.pid} plugin`)),
      lock: createLock(),
      bridgeDir: penv.unixSocketDir,
    };
  }
  const brokerTransport: BrokerTransport = { listen, serverCredentials: () => serverCreds, channelCredentials: channelCreds };
  const broker = new GrpcBroker({ side: 'plugin', transport: brokerTransport, instance: `pid=${process.pid}`, mux });
  // Go's plugin server keeps grpc-go's 4 MiB receive limit unless the plugin raises it. The stream
  // limit (see SERVER_MAX_CONCURRENT_STREAMS) can be overridden through serverOptions too.
  const server = new grpc.Server({ 'grpc.max_concurrent_streams': SERVER_MAX_CONCURRENT_STREAMS, ...options.serverOptions });
  const health = new HealthState();
  health.addTo(server);
  const stdio = new StdioForwarder({ log });
  stdio.addTo(server);

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let stopWatch = () => {};
  const injector = server.createConnectionInjector(serverCreds);

  const stop = (why: string, exitCode: number | undefined): Promise<void> =>
    (closing ??= (async () => {
      log('stopping: %s', why);
      stopWatch();
      clearTimeout(firstConnectionTimer);
      health.shutdown();
      stdio.end();
      stdio.release();
      await broker.close();
      injector.destroy();
      server.forceShutdown();
      session?.close();
      await listener.close();
      log('stopped');
      resolveClosed();
      if (exitProcess && exitCode !== undefined) exitNow(exitCode);
    })());

  server.addService(GRPCControllerService, {
    shutdown: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<object>) => {
      log('Shutdown requested');
      callback(null, {});
      // Let the reply reach the socket before the connection is torn down.
      setImmediate(() => void stop('GRPCController.Shutdown', 0));
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
  try {
    for (const plugin of Object.values(pluginSet)) await plugin.server?.({ server, broker });
  } catch (err) {
    await listener.close();
    return fail(err);
  }
  let firstConnectionTimer: NodeJS.Timeout | undefined;
  if (mux === undefined) {
    listener.server.on('connection', (socket) => injector.injectConnection(socket));
  } else {
    mux.router.setDefault((stream) => injector.injectConnection(stream));
    listener.server.on('connection', (socket) => {
      if (session !== undefined) {
        log('multiplexed mode accepts one connection; another was refused');
        socket.destroy();
        return;
      }
      clearTimeout(firstConnectionTimer);
      const s = createYamuxSession({ socket, side: 'server', instance: `pid=${process.pid}` });
      session = s;
      s.on('stream', (stream) => mux?.router.route(stream));
      s.once('close', () => void stop('multiplexed connection closed', 0));
      log('multiplexed connection established');
    });
    // go-plugin's muxer gives the host 5 s to connect, then gives up on the main server.
    firstConnectionTimer = setTimeout(() => {
      logger.error('error serving plugin', { error: 'timed out waiting for connection to be established' });
      void stop('no multiplexed connection within 5 s', 1);
    }, 5000);
    firstConnectionTimer.unref();
  }

  logger.debug('plugin address', { address: listener.address, network: listener.network });
  const line = formatHandshakeLine({
    appVersion: version,
    network: listener.network,
    address: listener.address,
    serverCert: certField,
    // Field 7 only when asked (older hosts would glue it onto the certificate); like Go plugins we
    // support multiplexing, so the answer is true.
    muxSupported: penv.muxAsked ? true : undefined,
  });
  realStdoutWrite(line);

  if (options.captureStdio ?? true) stdio.capture();
  if (options.exitWithHost ?? true) {
    stopWatch = watchHost(() => {
      logger.info('host process is gone, exiting');
      void stop('host gone', 0);
    });
  }
  options.signal?.addEventListener('abort', () => void stop('aborted', undefined), { once: true });

  const handle: PluginServer = {
    network: listener.network,
    address: listener.address,
    protocolVersion: version,
    broker,
    server,
    logger,
    closed,
    close: () => stop('close()', undefined),
    kill: () => void stop('kill()', undefined),
    [Symbol.asyncDispose]: () => handle.close(),
  };
  return handle;
}
