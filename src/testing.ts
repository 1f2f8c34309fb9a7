/**
 * loopp/testing — a plugin set served inside the test's own process over a real gRPC connection, so
 * a plugin's unit tests need no subprocess (go-plugin's TestPluginGRPCConn). Both halves are the
 * ones a launch runs: servePlugin on the plugin side (cookie, version negotiation, AutoMTLS, its
 * health, controller, stdio and broker services), and on the host side the handshake line it prints,
 * parsed, connected to and wrapped in the same PluginClient startPlugin returns. Only the process is
 * missing: the sockets (in a private temp dir) and the HTTP/2 connection are real.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { DEFAULT_GRACEFUL_SHUTDOWN_MS, DEFAULT_LOG_BUFFER_BYTES, DEFAULT_START_TIMEOUT_MS } from './core/constants';
import { createLog } from './core/debug';
import { ConfigError, messageOf } from './core/errors';
import type { Logger } from './core/logger';
import { TeardownScope } from './core/teardown';
import { transportCredentials } from './net/grpc/credentials';
import type { ChannelKind } from './net/grpc/open-channel';
import type { GrpcServerKind } from './net/h2server/server';
import { derToPem, generateCertificate, type CertificateBundle } from './net/mtls/cert';
import { versionTable, type DispensedClient, type PluginSet, type VersionedPluginSets } from './shared/plugin-set';
import { buildPluginEnv, type HandshakeConfig } from './wire/env';
import type { HclogLevel } from './wire/hclog';
import { PluginClient } from './host/plugin-client';
import { createExitState, type ProcessControl } from './host/runner/exit-state';
import { acceptHandshakeLine, connect, ensureConnected, requireCount } from './host/start';
import { startDeadline } from './host/start-deadline';
import { createStderrPump, type PluginLogEntry, type StderrPump } from './host/stderr';
import { serveWith, type PluginServer } from './plugin/serve';

export interface ServePluginInProcessOptions<P extends PluginSet> {
  /** The plugin set, served and dispensed under `handshake.protocolVersion` (the object servePlugin and startPlugin take). */
  plugins?: P;
  /** Plugin sets per app protocol version; both sides offer them all, so the newest is served. */
  versionedPlugins?: VersionedPluginSets;
  /** Default: app protocol version 1 and a cookie of loopp/testing's own (the environment is private). */
  handshake?: HandshakeConfig;
  /** The plugin's listener: `unix` (default except on Windows, in the private temp dir) or `tcp`. */
  transport?: 'unix' | 'tcp';
  /** AutoMTLS, as startPlugin (default true). */
  autoMTLS?: boolean;
  /** go-plugin's multiplexed broker (PLUGIN_MULTIPLEX_GRPC), as startPlugin. */
  grpcBrokerMultiplex?: boolean;
  /** servePlugin's server implementation for the main and the broker's servers. */
  grpcServer?: GrpcServerKind;
  /** servePlugin's extra grpc-js server options. */
  serverOptions?: grpc.ServerOptions;
  /** The channel implementation on both sides (main connection and dialled broker ids). */
  grpcChannel?: ChannelKind;
  /** startPlugin's extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
  /**
   * Forward process.stdout/stderr writes over GRPCStdio to `syncStdout`/`syncStderr` while the plugin
   * serves (default false). It takes the writes of the whole process, the test runner's included.
   */
  captureStdio?: boolean;
  syncStdout?: Writable;
  syncStderr?: Writable;
  /** Level of the plugin's hclog logger (`server.logger`), default 'trace'. */
  logLevel?: HclogLevel;
  /** Receives the plugin's log lines at their level, as startPlugin's `logger`. */
  logger?: Logger;
  onLog?: (entry: PluginLogEntry) => void;
  /** Name in debug lines and errors (default 'in-process'). */
  name?: string;
  /** Time close() lets the plugin stop gracefully before it is stopped at once (default 2000). */
  gracefulShutdownMs?: number;
  /** Bound on the set-up: listen, handshake, connection, first TLS handshake (default 60 000). */
  startTimeoutMs?: number;
  /** Aborting fails a set-up in progress (StartError ERR_LOOPP_ABORTED), and later closes the plugin. */
  signal?: AbortSignal;
}

export interface InProcessPlugin<P extends PluginSet = PluginSet> extends AsyncDisposable {
  /** The host side: what startPlugin would have returned (dispense, broker, ping, channel...). */
  readonly client: PluginClient<P>;
  /** The plugin side: what servePlugin returned inside the plugin (its broker, server, logger). */
  readonly server: PluginServer;
  /** The private temp dir holding the sockets of both sides; removed by close(). */
  readonly dir: string;
  /** `client.dispense(name)`. */
  dispense<K extends keyof P & string>(name: K): DispensedClient<P[K]>;
  /** The host's graceful close (broker close, GRPCController.Shutdown), then the temp dir goes. Idempotent. */
  close(): Promise<void>;
  /** Stops both sides at once, then removes the temp dir. Idempotent. */
  kill(): Promise<void>;
}

/**
 * Temp dirs of in-process plugins not yet closed. A test that forgot close() (or a runner that ends
 * with process.exit, as --test-force-exit does) would leave them behind: they go at exit too. One
 * listener for all, installed while any is live.
 */
const liveDirs = new Set<string>();
const removeLiveDirs = () => {
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
};
function trackDir(dir: string, live: boolean): void {
  if (live && liveDirs.size === 0) process.on('exit', removeLiveDirs);
  if (live) liveDirs.add(dir);
  else liveDirs.delete(dir);
  if (!live && liveDirs.size === 0) process.off('exit', removeLiveDirs);
}

const DEFAULT_HANDSHAKE: HandshakeConfig = { protocolVersion: 1, magicCookieKey: 'LOOPP_IN_PROCESS_PLUGIN', magicCookieValue: 'loopp/testing' };

/** Serves `plugins` in this process and returns a connected client to it. */
export async function servePluginInProcess<P extends PluginSet>(options: ServePluginInProcessOptions<P>): Promise<InProcessPlugin<P>> {
  const handshake = options.handshake ?? DEFAULT_HANDSHAKE;
  for (const key of ['startTimeoutMs', 'gracefulShutdownMs'] as const) requireCount(key, options[key]);
  const table = versionTable('host', handshake.protocolVersion, options.plugins, options.versionedPlugins);
  const versions = [...table.keys()];
  if (table.size === 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'servePluginInProcess needs `plugins` or `versionedPlugins`', { hint: 'Pass the plugin set the plugin serves.' });
  }
  options.signal?.throwIfAborted();
  const name = options.name ?? 'in-process';
  const log = createLog('client', `${name} in-process`);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'loopp-inproc-'));
  trackDir(dir, true);
  const scope = new TeardownScope();
  scope.defer(() => removeDir(dir));
  const deadline = startDeadline(options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, options.signal);
  try {
    const identity = (options.autoMTLS ?? true) ? generateCertificate() : undefined;
    const stderr = createStderrPump({ name, logger: options.logger, onLog: options.onLog, maxLineBytes: DEFAULT_LOG_BUFFER_BYTES });
    scope.defer(() => stderr.end());
    const spawnedAtMs = Date.now();
    const served = await serve(options, handshake, versions, dir, identity, stderr);
    scope.defer(async () => {
      served.server.kill();
      await served.server.closed;
    });
    deadline.signal.throwIfAborted();
    const hs = acceptHandshakeLine(served.line.replace(/\n$/, ''), versions, options.grpcBrokerMultiplex ?? false, identity !== undefined);
    const tls = identity === undefined ? undefined : { own: identity, peerPem: derToPem(hs.serverCert as Buffer) };
    const connection = await connect(hs, { ...options, unixSocketDir: dir }, tls, { instance: `${name} in-process`, log }, deadline.signal);
    scope.defer(() => connection.close());
    await ensureConnected(connection, tls, deadline.signal);
    const client = new PluginClient<P>({
      name,
      connection,
      process: servedHere(served.server),
      plugins: (table.get(hs.appVersion) ?? {}) as P,
      protocolVersion: hs.appVersion,
      network: hs.network,
      address: hs.address,
      reattached: undefined,
      spawnedAtMs,
      gracefulShutdownMs: options.gracefulShutdownMs ?? DEFAULT_GRACEFUL_SHUTDOWN_MS,
      log,
    });
    deadline.signal.throwIfAborted();
    scope.dismiss();
    return handleOf(client, served.server, dir, stderr, options.signal);
  } catch (err) {
    await scope.teardown((e) => log('teardown after a failed set-up: %s', messageOf(e)));
    throw deadline.signal.aborted ? deadline.signal.reason : err;
  } finally {
    deadline.dispose();
  }
}

async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
  trackDir(dir, false);
}

/** servePlugin with the environment a host would give it; its handshake line and stderr come back here. */
async function serve(
  options: ServePluginInProcessOptions<PluginSet>,
  handshake: HandshakeConfig,
  versions: number[],
  dir: string,
  identity: CertificateBundle | undefined,
  stderr: StderrPump,
): Promise<{ server: PluginServer; line: string }> {
  const env = buildPluginEnv({ handshake, versions, hostEnv: null, multiplex: options.grpcBrokerMultiplex, clientCertPem: identity?.certPem, unixSocketDir: dir });
  let line = '';
  const server = await serveWith(
    {
      handshake,
      plugins: options.plugins,
      versionedPlugins: options.versionedPlugins,
      transport: options.transport,
      env,
      captureStdio: options.captureStdio ?? false,
      exitProcess: false,
      exitWithHost: false,
      logLevel: options.logLevel,
      serverOptions: options.serverOptions,
      grpcServer: options.grpcServer,
      grpcChannel: options.grpcChannel,
    },
    { out: (text) => (line += text), err: (text) => stderr.push(Buffer.from(text)) },
  );
  return { server, line };
}

/**
 * The plugin's "process" as its PluginClient sees it: it exits when the server has stopped, with
 * code 0 (servePlugin's exit after a Shutdown) or, stopped by kill(), no code. There is no pid (0,
 * as a reattached plugin without one): nothing to signal or guard.
 */
function servedHere(server: PluginServer): ProcessControl {
  const state = createExitState();
  let killed = false;
  void server.closed.then(() => {
    state.exit(killed ? null : 0, null);
    state.settle();
  });
  return {
    pid: 0,
    exited: state.exited,
    get hasExited() {
      return state.hasExited;
    },
    expectExit: (reason) => state.expect(reason),
    kill() {
      if (state.hasExited || killed) return;
      killed = true;
      state.expect('killed');
      server.kill();
    },
  };
}

/** The handle: one teardown path (the client's close or kill, the server's stop, the temp dir). */
function handleOf<P extends PluginSet>(client: PluginClient<P>, server: PluginServer, dir: string, stderr: StderrPump, signal: AbortSignal | undefined): InProcessPlugin<P> {
  let finishing: Promise<void> | undefined;
  const finish = (stopClient: () => Promise<unknown>): Promise<void> =>
    (finishing ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      try {
        await stopClient();
        await server.closed;
      } finally {
        stderr.end();
        await removeDir(dir);
      }
    })());
  const handle: InProcessPlugin<P> = {
    client,
    server,
    dir,
    dispense: (name) => client.dispense(name),
    close: () => finish(() => client.close()),
    kill: () => {
      // Also hurries a close() under way: the client's kill is idempotent and overrides its wait.
      const killed = client.kill();
      return finish(() => killed);
    },
    [Symbol.asyncDispose]: () => handle.close(),
  };
  const onAbort = () => void handle.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  return handle;
}
