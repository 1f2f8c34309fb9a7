/**
 * servePlugin(): the plugin side of go-plugin, for plugins written in TypeScript. Any go-plugin host
 * (Go's, or loopp's) can launch the process: it checks the magic cookie, negotiates the app protocol
 * version, listens, optionally does AutoMTLS, prints the handshake line and serves health,
 * controller, stdio, broker and the app's services.
 */
import type * as grpc from '@grpc/grpc-js';
import { createLog, type Log } from '../core/debug';
import { ConfigError, messageOf } from '../core/errors';
import { TeardownScope } from '../core/teardown';
import { transportCredentials, type TransportCredentials } from '../net/grpc/credentials';
import { requireChannelKind, type ChannelKind } from '../net/grpc/open-channel';
import { encodeHandshakeCert, generateCertificate } from '../net/mtls/cert';
import { listenTcp, listenUnix, type Listener } from '../net/transport';
import type { GrpcBroker } from '../shared/broker';
import { versionTable, type PluginSet, type VersionedPluginSets } from '../shared/plugin-set';
import { checkMagicCookie, readPluginEnv, type HandshakeConfig, type PluginEnv } from '../wire/env';
import { formatHandshakeLine, negotiateVersion, type Network } from '../wire/handshake';
import { createHclogLogger, type HclogLevel, type HclogLogger } from '../wire/hclog';
import { watchHost } from './host-watch';
import { reflectionSetting, type ReflectionOptions, type ReflectionSetting } from './reflection/options';
import { createPluginServer, type PluginServerParts } from './server';
import type { GrpcServer, GrpcServerKind } from '../net/h2server/server';

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
   * when the host dies, the signal's status on SIGTERM (default true). When false, errors are thrown
   * and `closed` resolves instead.
   */
  exitProcess?: boolean;
  /** Exit within ~250 ms when the host process dies (default true). */
  exitWithHost?: boolean;
  /** Level of the hclog JSON logger on the real stderr (default 'trace', as go-plugin). */
  logLevel?: HclogLevel;
  /** Extra grpc-js server options for the main server (go-plugin's GRPCServer factory options). */
  serverOptions?: grpc.ServerOptions;
  /**
   * The server implementation for the main server and the broker's (acceptAndServe) servers: 'loopp'
   * (node:http2 directly; grpc-js's addService, handler signatures, interceptors and limits) or
   * 'grpc-js' (grpc-js's Server). Default 'loopp', or 'grpc-js' when `serverOptions` has options only
   * grpc-js implements (keepalive, connection age or idle limits, ...). See docs/plugin.md.
   */
  grpcServer?: GrpcServerKind;
  /** The channel for broker ids this plugin dials: `'loopp'` (default) or `'grpc-js'`; see docs/host.md. */
  grpcChannel?: ChannelKind;
  /**
   * gRPC server reflection (grpc.reflection.v1 and v1alpha) on the main server, on by default as in
   * go-plugin: `false` turns it off; `{ descriptors }` describes the application's services, which are
   * otherwise listed by name only. Checked at start: bad descriptors fail with `ERR_LOOPP_DESCRIPTORS`.
   * See docs/plugin.md, "Reflection".
   */
  reflection?: ReflectionOptions | boolean;
  /** Aborting stops serving (like a graceful close). */
  signal?: AbortSignal;
}

export interface PluginServer extends AsyncDisposable {
  readonly network: Network;
  readonly address: string;
  /** The app protocol version agreed with the host. */
  readonly protocolVersion: number;
  readonly broker: GrpcBroker;
  readonly server: GrpcServer;
  /** hclog logger writing JSON lines to the real stderr (what the host parses). */
  readonly logger: HclogLogger;
  /** Resolves once the server has stopped (Shutdown, close(), kill(), host gone). */
  readonly closed: Promise<void>;
  /** Stops serving and removes the socket. Idempotent. */
  close(): Promise<void>;
  /** Stops at once. */
  kill(): void;
}

/** How long a Shutdown lets the host's streams finish (the reply's trailers, first of all) before cutting them. */
const SHUTDOWN_GRACE_MS = 1000;

/** The process's real stdout/stderr writers, taken before stdio capture replaces them. */
interface RealStdio {
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function servePlugin(options: ServePluginOptions): Promise<PluginServer> {
  const exitProcess = options.exitProcess ?? true;
  const io = realStdio();
  const logger = createHclogLogger({ level: options.logLevel ?? 'trace', write: io.err });
  ignoreInterrupts(logger);
  const fail = (err: unknown): never => {
    logger.error('plugin init error', { error: messageOf(err) });
    if (exitProcess) process.exit(1);
    throw err;
  };
  let reflection!: ReflectionSetting;
  try {
    requireChannelKind('servePlugin', options.grpcChannel);
    reflection = reflectionSetting(options.reflection);
  } catch (err) {
    fail(err);
  }
  const setup = agreeWithHost(options, io, exitProcess, fail);
  const listener = await setup.listen().catch(fail);
  const parts = await serveInto(listener, setup, { ...options, reflection }, logger, fail);
  const stop = createStop({ parts, listener, log: setup.log, exitProcess });
  // Before the address is published: a host may signal us as soon as it has read the handshake.
  if (exitProcess) stop.whenStopped(onTermination(() => listener.close()));
  parts.onShutdown((reply) => stop('GRPCController.Shutdown', 0, reply));
  parts.serve(listener, (why) => void stop(why, 1));
  parts.onMuxClosed(() => void stop('multiplexed connection closed', 0));
  publish(listener, setup, io, logger);
  if (options.captureStdio ?? true) parts.stdio.capture();
  if (options.exitWithHost ?? true) {
    stop.whenStopped(
      watchHost(() => {
        logger.info('host process is gone, exiting');
        void stop('host gone', 0);
      }),
    );
  }
  options.signal?.addEventListener('abort', () => void stop('aborted', undefined), { once: true });
  const handle: PluginServer = {
    network: listener.network,
    address: listener.address,
    protocolVersion: setup.version,
    broker: parts.broker,
    server: parts.server,
    logger,
    closed: stop.closed,
    close: () => stop('close()', undefined),
    kill: () => void stop('kill()', undefined),
    [Symbol.asyncDispose]: () => handle.close(),
  };
  return handle;
}

/** What the plugin and its host agreed on before anything listens. */
interface Agreement {
  penv: PluginEnv;
  version: number;
  plugins: PluginSet;
  tls: { credentials: TransportCredentials; certField: string | undefined };
  /** A listener by the host's rules (the main one, and classic broker ids). */
  listen: () => Promise<Listener>;
  log: Log;
}

/** The magic cookie, the protocol environment, the app protocol version and AutoMTLS. */
function agreeWithHost(options: ServePluginOptions, io: RealStdio, exitProcess: boolean, fail: (err: unknown) => never): Agreement {
  const env = options.env ?? process.env;
  checkCookie(options.handshake, env, io, exitProcess);
  const penv = readEnvOrFail(env, io, fail);
  const { version, plugins } = negotiate(options, penv, fail);
  const log = createLog('server', `pid=${process.pid}`);
  log('negotiated app protocol version %d (host offers %s)', version, penv.hostVersions?.join(',') ?? 'nothing');
  const transport = options.transport ?? (process.platform === 'win32' ? 'tcp' : 'unix');
  const listen = (): Promise<Listener> =>
    transport === 'tcp' ? listenTcp({ minPort: penv.minPort, maxPort: penv.maxPort }) : listenUnix({ dir: penv.unixSocketDir, group: penv.unixSocketGroup });
  return { penv, version, plugins, tls: autoMtls(penv, log, fail), listen, log };
}

/** The main server with the plugin set's services; a plugin whose server() fails leaves nothing behind. */
async function serveInto(
  listener: Listener,
  a: Agreement,
  options: ServePluginOptions & { reflection: ReflectionSetting },
  logger: HclogLogger,
  fail: (err: unknown) => never,
): Promise<PluginServerParts> {
  const scope = new TeardownScope();
  scope.defer(() => listener.close());
  const parts = createPluginServer({
    credentials: a.tls.credentials,
    listen: a.listen,
    penv: a.penv,
    serverOptions: options.serverOptions,
    grpcServer: options.grpcServer,
    channel: options.grpcChannel,
    reflection: options.reflection,
    log: a.log,
    logger,
  });
  scope.defer(() => parts.stop(0));
  try {
    for (const plugin of Object.values(a.plugins)) await plugin.server?.({ server: parts.server, broker: parts.broker });
  } catch (err) {
    await scope.teardown();
    return fail(err);
  }
  scope.dismiss();
  return parts;
}

/** The handshake line, the only thing a plugin writes to its real stdout. */
function publish(listener: Listener, a: Agreement, io: RealStdio, logger: HclogLogger): void {
  logger.debug('plugin address', { address: listener.address, network: listener.network });
  // Field 7 only when asked (older hosts would glue it onto the certificate); like Go plugins we
  // support multiplexing, so the answer is true.
  io.out(formatHandshakeLine({ appVersion: a.version, network: listener.network, address: listener.address, serverCert: a.tls.certField, muxSupported: a.penv.muxAsked ? true : undefined }));
}

function realStdio(): RealStdio {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  // A host that died closes our pipes; Node would otherwise crash on the EPIPE 'error' event.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  return { out: (text) => void out(text), err: (text) => void err(text) };
}

/** A terminal Ctrl-C reaches the host, which drives our shutdown; installed before anything can take long. */
function ignoreInterrupts(logger: HclogLogger): void {
  let interrupts = 0;
  process.on('SIGINT', () => logger.trace('plugin received interrupt signal, ignoring', { count: ++interrupts }));
}

function checkCookie(handshake: HandshakeConfig, env: NodeJS.ProcessEnv, io: RealStdio, exitProcess: boolean): void {
  const problem = checkMagicCookie(handshake, env);
  if (problem === undefined) return;
  if (exitProcess) {
    io.err(problem);
    process.exit(1);
  }
  throw new ConfigError('ERR_LOOPP_ENV', problem.trimEnd(), {
    input: handshake.magicCookieKey,
    hint: 'Launch this program through a go-plugin host, which sets the magic cookie.',
  });
}

function readEnvOrFail(env: NodeJS.ProcessEnv, io: RealStdio, fail: (err: unknown) => never): PluginEnv {
  let penv: PluginEnv;
  try {
    penv = readPluginEnv(env);
  } catch (err) {
    return fail(err);
  }
  for (const bad of penv.invalidVersions) io.err(`server sent invalid plugin version ${JSON.stringify(bad)}\n`);
  return penv;
}

function negotiate(options: ServePluginOptions, penv: PluginEnv, fail: (err: unknown) => never): { version: number; plugins: PluginSet } {
  const table = versionTable('plugin', options.handshake.protocolVersion, options.plugins, options.versionedPlugins);
  if (table.size === 0) {
    return fail(new ConfigError('ERR_LOOPP_CONFIG', 'servePlugin needs `plugins` or `versionedPlugins`', { hint: 'Pass at least one plugin set.' }));
  }
  const version = negotiateVersion([...table.keys()], penv.hostVersions);
  return { version, plugins: table.get(version) as PluginSet };
}

/**
 * AutoMTLS only when the host sent its certificate, and only then may field 6 carry ours (a Go host
 * without TLS config would dereference nil on a certificate it did not ask for).
 */
function autoMtls(penv: PluginEnv, log: Log, fail: (err: unknown) => never): { credentials: TransportCredentials; certField: string | undefined } {
  if (penv.clientCertPem === undefined) return { credentials: transportCredentials(undefined), certField: undefined };
  try {
    const own = generateCertificate();
    const credentials = transportCredentials({ own, peerCertPem: penv.clientCertPem });
    log('AutoMTLS on');
    return { credentials, certField: encodeHandshakeCert(own.certDer) };
  } catch (err) {
    return fail(
      new ConfigError('ERR_LOOPP_ENV', `plugin tls init: ${messageOf(err)}`, { input: 'PLUGIN_CLIENT_CERT', cause: err, hint: 'PLUGIN_CLIENT_CERT must hold one PEM certificate.' }),
    );
  }
}

/**
 * On SIGTERM the plugin removes its socket (a killed process cannot) and still ends with the signal's
 * status: the handler goes away and the signal is raised again. Returns the un-installer.
 */
function onTermination(removeSocket: () => unknown): () => void {
  const handler = () => {
    process.off('SIGTERM', handler);
    try {
      void removeSocket();
    } finally {
      process.kill(process.pid, 'SIGTERM');
    }
  };
  process.on('SIGTERM', handler);
  return () => process.off('SIGTERM', handler);
}

interface Stop {
  /** Stops serving (once); exits with `exitCode` when the process is ours to exit. */
  (why: string, exitCode: number | undefined, reply?: () => void): Promise<void>;
  readonly closed: Promise<void>;
  /** Runs `undo` when serving stops (a watch, a signal handler). */
  whenStopped(undo: () => void): void;
}

/**
 * The one way serving ends. The socket goes first (synchronously: nobody can connect once a stop has
 * begun, and a host that signals us right after Shutdown finds no file left), then a Shutdown's reply
 * is sent and allowed to finish before the connections are cut.
 */
function createStop(o: { parts: PluginServerParts; listener: Listener; log: Log; exitProcess: boolean }): Stop {
  let stopping: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const undos: (() => void)[] = [];
  const stop = ((why, exitCode, reply) => {
    if (stopping !== undefined) {
      reply?.();
      return stopping;
    }
    stopping = (async () => {
      o.log('stopping: %s', why);
      const listenerClosed = o.listener.close();
      for (const undo of undos.splice(0)) undo();
      reply?.();
      await o.parts.stop(reply === undefined ? 0 : SHUTDOWN_GRACE_MS);
      await listenerClosed;
      o.log('stopped');
      resolveClosed();
      if (o.exitProcess && exitCode !== undefined) process.exit(exitCode);
    })();
    return stopping;
  }) as Stop;
  Object.defineProperty(stop, 'closed', { value: closed });
  stop.whenStopped = (undo) => {
    if (stopping === undefined) undos.push(undo);
    else undo();
  };
  return stop;
}
