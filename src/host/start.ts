/**
 * startPlugin(): launch a go-plugin plugin (Go or TypeScript), read its handshake, connect, and
 * return a ready PluginClient. Every failure is a typed error carrying Go's text, the offending line
 * and the tail of the plugin's stderr; whatever the start had set up (child process, connection,
 * the sockets the plugin announced) is gone when it fails.
 */
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { DEFAULT_GRACEFUL_SHUTDOWN_MS, DEFAULT_LOG_BUFFER_BYTES, DEFAULT_START_TIMEOUT_MS } from '../core/constants';
import { createLog, type Log } from '../core/debug';
import { ConfigError, HandshakeError, StartError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { TeardownScope } from '../core/teardown';
import { checkFirstConnection } from '../net/grpc/connect-check';
import { transportCredentials } from '../net/grpc/credentials';
import { requireChannelKind, type ChannelKind } from '../net/grpc/open-channel';
import { describeTlsFailure } from '../net/grpc/tls-failure';
import { decodeHandshakeCert, derToPem, generateCertificate, type CertificateBundle } from '../net/mtls/cert';
import { listenTcp, listenUnix } from '../net/transport';
import { versionTable, type PluginSet, type VersionedPluginSets } from '../shared/plugin-set';
import { buildPluginEnv, type HandshakeConfig } from '../wire/env';
import { DIAGNOSE_TEXT, announcedSocketPath, parseHandshakeLine, type Handshake } from '../wire/handshake';
import { connectPlugin, type PluginConnection } from './connection';
import { readHandshakeLine } from './handshake-line';
import { PluginClient } from './plugin-client';
import { spawnPlugin, type SpawnedPlugin } from './runner/process';
import { verifiedExecutable, type SecureConfig } from './secure-config';
import { startDeadline } from './start-deadline';
import { removeStaleSockets } from './stale-sockets';
import { createStderrPump, type PluginLogEntry, type StderrPump } from './stderr';

export type { SecureConfig } from './secure-config';

export interface StartPluginOptions<P extends PluginSet> {
  /** Executable to run (PATH is searched when it has no slash). */
  command: string;
  args?: readonly string[];
  cwd?: string;
  /** The application's own variables for the plugin (go-plugin's cmd.Env). */
  env?: Readonly<Record<string, string>>;
  /** Do not pass the host's environment to the plugin (go-plugin's SkipHostEnv). */
  skipHostEnv?: boolean;
  handshake: HandshakeConfig;
  /** Plugins dispensable under `handshake.protocolVersion`. */
  plugins?: P;
  /** Plugin sets per app protocol version; the plugin picks the newest it shares with us. */
  versionedPlugins?: VersionedPluginSets;
  /**
   * Ask for go-plugin's multiplexed broker (PLUGIN_MULTIPLEX_GRPC): every connection, brokered ones
   * included, travels as a yamux stream over the single main connection. A plugin that does not
   * answer `true` in handshake field 7 is refused with go-plugin's message.
   */
  grpcBrokerMultiplex?: boolean;
  /** AutoMTLS (P-521 certificates exchanged at start), default true. */
  autoMTLS?: boolean;
  /** Port range passed to the plugin (PLUGIN_MIN_PORT/MAX_PORT; default 10000..25000). */
  minPort?: number;
  maxPort?: number;
  /** PLUGIN_UNIX_SOCKET_GROUP for the plugin's sockets; the host's broker sockets take it too (0660). */
  unixSocketGroup?: string;
  /** PLUGIN_UNIX_SOCKET_DIR for the plugin's sockets (and the host's broker sockets). */
  unixSocketDir?: string;
  /**
   * Time allowed for the whole start: the handshake line, the connection and the first TLS handshake
   * (default 60 000, go-plugin's StartTimeout).
   */
  startTimeoutMs?: number;
  /** Aborts the start (not the plugin's later life). */
  signal?: AbortSignal;
  /** Time close() waits for a graceful exit before SIGKILL (default 2000, as go-plugin). */
  gracefulShutdownMs?: number;
  /** Refuse to run the executable unless its digest matches. */
  secureConfig?: SecureConfig;
  /** Receives what the plugin writes to its stdout after the handshake (GRPCStdio). */
  syncStdout?: Writable;
  /** Receives what the plugin writes to its stderr after the handshake (GRPCStdio). */
  syncStderr?: Writable;
  /** Raw copy of the plugin's real stderr (its log lines). */
  stderr?: Writable;
  /** Receives the plugin's log lines at their level (`console` and pino fit). */
  logger?: Logger;
  onLog?: (entry: PluginLogEntry) => void;
  /** Stderr line buffer (go-plugin's PluginLogBufferSize, default 65536). */
  logBufferBytes?: number;
  /** Name used in logs; defaults to the command's basename. */
  name?: string;
  /** Extra grpc-js channel options (go-plugin's GRPCDialOptions). */
  channelOptions?: grpc.ChannelOptions;
  /**
   * The gRPC channel under the plugin connection and every brokered connection: `'loopp'` (default),
   * loopp's own channel on one node:http2 session, or `'grpc-js'`, grpc-js's Channel. Both carry the
   * same grpc-js clients; see docs/host.md.
   */
  grpcChannel?: ChannelKind;
}

/** What the options say, checked once. */
interface StartPlan {
  name: string;
  table: Map<number, PluginSet>;
  versions: number[];
  muxRequested: boolean;
  startTimeoutMs: number;
  gracefulShutdownMs: number;
  log: Log;
}

/** A launched child, its stderr, and the socket it announced (for clean-up after a failed start). */
interface Launched {
  proc: SpawnedPlugin;
  stderr: StderrPump;
  announced: string | undefined;
  /** `<name> pid=<pid>`, the debug prefix of everything about this plugin. */
  instance: string;
  log: Log;
}

/** Launches a plugin and returns a connected client. */
export async function startPlugin<P extends PluginSet>(options: StartPluginOptions<P>): Promise<PluginClient<P>> {
  const plan = planStart(options);
  options.signal?.throwIfAborted();
  const identity = (options.autoMTLS ?? true) ? generateCertificate() : undefined;
  const env = buildPluginEnv({
    handshake: options.handshake,
    versions: plan.versions,
    hostEnv: options.skipHostEnv ? null : process.env,
    extraEnv: options.env,
    minPort: options.minPort,
    maxPort: options.maxPort,
    multiplex: options.grpcBrokerMultiplex,
    clientCertPem: identity?.certPem,
    unixSocketGroup: options.unixSocketGroup,
    unixSocketDir: options.unixSocketDir,
  });
  const file =
    options.secureConfig === undefined ? options.command : await verifiedExecutable(options.command, options.cwd, env.PATH, options.secureConfig);
  const deadline = startDeadline(plan.startTimeoutMs, options.signal);
  const scope = new TeardownScope();
  let child: Launched | undefined;
  try {
    child = await launch(file, env, options, plan, scope);
    const handshake = await handshakeOf(child, plan, identity, deadline.signal);
    const tls = identity === undefined ? undefined : { own: identity, peerPem: derToPem(handshake.serverCert as Buffer) };
    const connection = await connect(handshake, options, tls, child, deadline.signal);
    scope.defer(() => connection.close());
    await ensureConnected(connection, tls, deadline.signal);
    scope.dismiss();
    return new PluginClient<P>({
      name: plan.name,
      connection,
      process: child.proc,
      spawnedAtMs: child.proc.spawnedAtMs,
      plugins: (plan.table.get(handshake.appVersion) ?? {}) as P,
      protocolVersion: handshake.appVersion,
      network: handshake.network,
      address: handshake.address,
      reattached: undefined,
      gracefulShutdownMs: plan.gracefulShutdownMs,
      log: child.log,
    });
  } catch (err) {
    await scope.teardown((e) => plan.log('teardown after a failed start: %s', messageOf(e)));
    throw startFailure(err, child?.stderr.tail() ?? '');
  } finally {
    deadline.dispose();
  }
}

/** @internal Also loopp/testing's. */
export function requireCount(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `${name} must be a non-negative integer`, { input: v, hint: `Pass a whole number of ${name.endsWith('Ms') ? 'milliseconds' : 'units'}.` });
  }
}

function planStart(options: StartPluginOptions<PluginSet>): StartPlan {
  if (typeof options.command !== 'string' || options.command === '') {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'startPlugin: `command` must be a non-empty string', { input: options.command, hint: 'Pass the plugin executable.' });
  }
  const hs = options.handshake;
  if (hs === undefined || typeof hs.magicCookieKey !== 'string' || typeof hs.magicCookieValue !== 'string' || hs.magicCookieKey === '' || hs.magicCookieValue === '') {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'startPlugin: handshake needs a non-empty magicCookieKey and magicCookieValue', { input: hs, hint: 'Use the values the plugin was built with.' });
  }
  for (const key of ['startTimeoutMs', 'gracefulShutdownMs', 'minPort', 'maxPort'] as const) requireCount(key, options[key]);
  requireChannelKind('startPlugin', options.grpcChannel);
  const table = versionTable('host', hs.protocolVersion, options.plugins, options.versionedPlugins);
  if (table.size === 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'startPlugin needs `plugins` or `versionedPlugins`', { hint: 'Say which plugins the host can dispense.' });
  }
  const name = options.name ?? path.basename(options.command);
  return {
    name,
    table,
    versions: [...table.keys()],
    muxRequested: options.grpcBrokerMultiplex ?? false,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    gracefulShutdownMs: options.gracefulShutdownMs ?? DEFAULT_GRACEFUL_SHUTDOWN_MS,
    log: createLog('client', name),
  };
}

/** Spawns the plugin and pumps its stderr; the scope kills it, waits for it and removes what it announced. */
async function launch(file: string, env: Record<string, string>, options: StartPluginOptions<PluginSet>, plan: StartPlan, scope: TeardownScope): Promise<Launched> {
  let proc: SpawnedPlugin;
  try {
    proc = await spawnPlugin({ command: file, argv0: options.command, args: options.args ?? [], env, cwd: options.cwd });
  } catch (err) {
    // Node's argument errors quote the offending value (`... Received 'pass\x00word'`), and an env
    // value or argument may be a secret: the quote is cut and that raw error is not kept as cause.
    const code = (err as NodeJS.ErrnoException).code;
    const quotesValue = code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE';
    throw new StartError('ERR_LOOPP_SPAWN', `error starting plugin: ${quotesValue ? messageOf(err).replace(/\. Received [\s\S]*$/, '') : messageOf(err)}`, {
      input: options.command,
      cause: quotesValue ? undefined : err,
      hint: 'Check the path and that the file is executable.',
    });
  }
  plan.log('started pid=%d', proc.pid);
  const stderr = createStderrPump({
    name: plan.name,
    logger: options.logger,
    onLog: options.onLog,
    rawStderr: options.stderr,
    maxLineBytes: options.logBufferBytes ?? DEFAULT_LOG_BUFFER_BYTES,
  });
  proc.child.stderr?.on('data', (c: Buffer) => stderr.push(c));
  proc.child.stderr?.on('end', () => stderr.end());
  const instance = `${plan.name} pid=${proc.pid}`;
  const launched: Launched = { proc, stderr, announced: undefined, instance, log: plan.log.instance(instance) };
  scope.defer(async () => {
    proc.kill();
    await proc.exited;
    if (launched.announced !== undefined) await removeStaleSockets([launched.announced], proc.spawnedAtMs);
  });
  return launched;
}

/** Reads and checks the handshake line (Go's order and texts); remembers the socket it announces. */
/** The host's reading of a handshake line (go-plugin's), and the certificate AutoMTLS needs from it. */
export function acceptHandshakeLine(line: string, hostVersions: number[], muxRequested: boolean, autoMTLS: boolean): Handshake<Buffer> {
  const handshake = parseHandshakeLine(line, { hostVersions, muxRequested, diagnose: DIAGNOSE_TEXT, decodeServerCert: decodeHandshakeCert });
  if (autoMTLS && handshake.serverCert === undefined) {
    throw new HandshakeError('ERR_LOOPP_SERVER_CERT', 'plugin did not send a server certificate although AutoMTLS was requested', {
      line,
      hint: 'The plugin does not support AutoMTLS; start it with autoMTLS: false.',
    });
  }
  return handshake;
}

async function handshakeOf(child: Launched, plan: StartPlan, identity: CertificateBundle | undefined, signal: AbortSignal): Promise<Handshake<Buffer>> {
  const line = await readHandshakeLine(child.proc, signal);
  child.log('handshake line: %s', line.length > 200 ? `${line.slice(0, 200)}…` : line);
  // Known before the line is accepted: a refused plugin is killed and cannot remove its socket.
  child.announced = announcedSocketPath(line);
  const handshake = acceptHandshakeLine(line, plan.versions, plan.muxRequested, identity !== undefined);
  child.log('using plugin version=%d %s %s tls=%s', handshake.appVersion, handshake.network, handshake.address, identity !== undefined);
  return handshake;
}

/** The start options the connection step reads. */
export type ConnectStepOptions = Pick<
  StartPluginOptions<PluginSet>,
  'channelOptions' | 'grpcChannel' | 'syncStdout' | 'syncStderr' | 'unixSocketDir' | 'unixSocketGroup' | 'grpcBrokerMultiplex'
>;

/** @internal Also loopp/testing's, which connects to a plugin served in its own process. */
export function connect(
  handshake: Handshake<Buffer>,
  options: ConnectStepOptions,
  tls: { own: CertificateBundle; peerPem: string } | undefined,
  child: Pick<Launched, 'instance' | 'log'>,
  signal: AbortSignal,
): Promise<PluginConnection> {
  return connectPlugin({
    network: handshake.network,
    address: handshake.address,
    credentials: transportCredentials(tls && { own: tls.own, peerCertPem: tls.peerPem }),
    channelOptions: options.channelOptions,
    channel: options.grpcChannel,
    syncStdout: options.syncStdout,
    syncStderr: options.syncStderr,
    brokerListen: () =>
      process.platform === 'win32'
        ? listenTcp({ minPort: 0, maxPort: 0 })
        : // As go-plugin's host applies its UnixSocketConfig to its broker listeners: a group that may reach
          // the plugin's sockets may reach the host's.
          listenUnix({ dir: options.unixSocketDir, group: options.unixSocketGroup }),
    multiplex: options.grpcBrokerMultiplex ?? false,
    bridgeDir: options.unixSocketDir,
    signal,
    instance: child.instance,
    log: child.log,
  });
}

/**
 * The plugin is reachable before startPlugin resolves: a plugin that exits right after printing its
 * handshake, or an impostor serving another certificate than the announced one, is a failed start.
 * @internal Also loopp/testing's.
 */
export async function ensureConnected(connection: PluginConnection, tls: { own: CertificateBundle; peerPem: string } | undefined, signal: AbortSignal): Promise<void> {
  const failure = await checkFirstConnection({ channel: connection.channel, tls, signal });
  if (failure === undefined) return;
  signal.throwIfAborted();
  const target = connection.channel.getTarget();
  if (failure.kind === 'tls') {
    throw new StartError('ERR_LOOPP_TLS', `error connecting to plugin: TLS handshake failed: ${describeTlsFailure(failure.error.code)}`, {
      input: { target, tlsCode: failure.error.code },
      cause: failure.error,
      hint: 'The process serving this address is not the one that printed the handshake (its certificate differs from handshake field 6), or it does not trust ours.',
    });
  }
  throw new StartError('ERR_LOOPP_CONNECT', `error connecting to plugin: ${failure.error === undefined ? `no connection to ${target}` : messageOf(failure.error)}`, {
    input: target,
    cause: failure.error,
    hint: 'The plugin printed its handshake but does not serve gRPC at that address (it may have exited); see its stderr.',
  });
}

/** The error the caller sees: typed, complete with the plugin's stderr tail. */
function startFailure(err: unknown, stderrTail: string): Error {
  if (err instanceof HandshakeError || err instanceof StartError) return err.withStderrTail(stderrTail);
  if (err instanceof ConfigError) return err;
  return new StartError('ERR_LOOPP_CONNECT', `error connecting to plugin: ${messageOf(err)}`, { cause: err, stderrTail });
}
