/**
 * startPlugin(): launch a go-plugin plugin (Go or TypeScript), read its handshake, connect, and
 * return a ready PluginClient. Every failure is a typed error carrying Go's text, the offending line
 * and the tail of the plugin's stderr; the child is always gone when start-up fails.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { DEFAULT_GRACEFUL_SHUTDOWN_MS, DEFAULT_LOG_BUFFER_BYTES, DEFAULT_START_TIMEOUT_MS, MAX_HANDSHAKE_LINE_BYTES } from '../core/constants';
import { createLog } from '../core/debug';
import { buildPluginEnv, type HandshakeConfig } from '../wire/env';
import { ConfigError, HandshakeError, StartError, messageOf } from '../core/errors';
import { DIAGNOSE_TEXT, parseHandshakeLine, type Handshake } from '../wire/handshake';
import { createFirstLineReader } from '../core/lines';
import { derToPem, generateCertificate, type CertificateBundle } from '../net/mtls/cert';
import { channelCredentials, serverCredentials } from '../net/grpc/credentials';
import { checkPeerCertificate } from '../net/grpc/peer-check';
import { versionTable, type PluginSet, type VersionedPluginSets } from '../shared/plugin-set';
import { listenTcp, listenUnix } from '../net/transport';
import { connectPlugin, type TlsMaterial } from './connection';
import { PluginClient } from './plugin-client';
import { spawnPlugin, type SpawnedPlugin } from './runner/process';
import { createStderrPump, type PluginLogEntry, type PluginLogger } from './stderr';

export interface SecureConfig {
  /** Expected digest of the executable, hex or raw bytes. */
  checksum: string | Uint8Array;
  /** Hash algorithm (default sha256). */
  hash?: string;
}

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
  /** Time allowed for the handshake line (default 60 000, go-plugin's StartTimeout). */
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
  /** Receives the plugin's log lines at their level. */
  logger?: PluginLogger;
  onLog?: (entry: PluginLogEntry) => void;
  /** Stderr line buffer (go-plugin's PluginLogBufferSize, default 65536). */
  logBufferBytes?: number;
  /** Name used in logs; defaults to the command's basename. */
  name?: string;
  /** Extra grpc-js channel options (go-plugin's GRPCDialOptions). */
  channelOptions?: grpc.ChannelOptions;
}

function requirePositiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `${name} must be a non-negative integer`, { input: v, hint: `Pass a whole number of ${name.endsWith('Ms') ? 'milliseconds' : 'units'}.` });
  }
}

async function resolveExecutable(command: string, cwd: string | undefined, envPath: string | undefined): Promise<string> {
  if (command.includes('/')) return path.resolve(cwd ?? process.cwd(), command);
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      await fsp.access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(`exec: ${JSON.stringify(command)}: executable file not found in $PATH`);
}

async function verifyChecksum(file: string, sc: SecureConfig): Promise<void> {
  let expected: Buffer;
  if (typeof sc.checksum === 'string') {
    if (!/^([0-9a-fA-F]{2})+$/.test(sc.checksum)) {
      throw new StartError('ERR_LOOPP_CHECKSUM', 'error verifying checksum: checksum is not hex', { input: sc.checksum, hint: 'Give the digest as hex.' });
    }
    expected = Buffer.from(sc.checksum, 'hex');
  } else {
    expected = Buffer.from(sc.checksum);
  }
  if (expected.length === 0) {
    throw new StartError('ERR_LOOPP_CHECKSUM', 'error verifying checksum: no checksum provided', { hint: 'Set secureConfig.checksum.' });
  }
  let actual: Buffer;
  try {
    const hash = createHash(sc.hash ?? 'sha256');
    hash.update(await fsp.readFile(file));
    actual = hash.digest();
  } catch (err) {
    throw new StartError('ERR_LOOPP_CHECKSUM', `error verifying checksum: ${messageOf(err)}`, { input: file, cause: err });
  }
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new StartError('ERR_LOOPP_CHECKSUM', 'checksums did not match', {
      input: { file, expected: expected.toString('hex'), actual: actual.toString('hex') },
      hint: 'The executable is not the one you pinned; rebuild it or update the checksum.',
    });
  }
}

/** Launches a plugin and returns a connected client. */
export async function startPlugin<P extends PluginSet>(options: StartPluginOptions<P>): Promise<PluginClient<P>> {
  if (typeof options.command !== 'string' || options.command === '') {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'startPlugin: `command` must be a non-empty string', { input: options.command, hint: 'Pass the plugin executable.' });
  }
  const hs = options.handshake;
  if (hs === undefined || typeof hs.magicCookieKey !== 'string' || typeof hs.magicCookieValue !== 'string' || hs.magicCookieKey === '' || hs.magicCookieValue === '') {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'startPlugin: handshake needs a non-empty magicCookieKey and magicCookieValue', { input: hs, hint: 'Use the values the plugin was built with.' });
  }
  requirePositiveInt('startTimeoutMs', options.startTimeoutMs);
  requirePositiveInt('gracefulShutdownMs', options.gracefulShutdownMs);
  requirePositiveInt('minPort', options.minPort);
  requirePositiveInt('maxPort', options.maxPort);
  const table = versionTable('host', hs.protocolVersion, options.plugins, options.versionedPlugins);
  if (table.size === 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'startPlugin needs `plugins` or `versionedPlugins`', { hint: 'Say which plugins the host can dispense.' });
  }
  options.signal?.throwIfAborted();

  const name = options.name ?? path.basename(options.command);
  const log = createLog('client', name);
  const hostEnv = options.skipHostEnv ? null : process.env;

  let tls: TlsMaterial | undefined;
  let peerPem: string | undefined;
  let own: CertificateBundle | undefined;
  if (options.autoMTLS ?? true) own = generateCertificate();

  const versions = [...table.keys()];
  const env = buildPluginEnv({
    handshake: hs,
    versions,
    hostEnv,
    extraEnv: options.env,
    minPort: options.minPort,
    maxPort: options.maxPort,
    multiplex: options.grpcBrokerMultiplex,
    clientCertPem: own?.certPem,
    unixSocketGroup: options.unixSocketGroup,
    unixSocketDir: options.unixSocketDir,
  });

  // The file whose checksum is verified is the file that runs: resolved once, on the PATH the plugin's
  // environment has (as Go checks and runs cmd.Path), then spawned by that absolute path.
  let file = options.command;
  if (options.secureConfig !== undefined) {
    try {
      file = await resolveExecutable(options.command, options.cwd, env.PATH);
    } catch (err) {
      throw new StartError('ERR_LOOPP_CHECKSUM', `error verifying checksum: ${messageOf(err)}`, { input: options.command, cause: err });
    }
    await verifyChecksum(file, options.secureConfig);
    log('checksum verified for %s', file);
  }

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
  log('started pid=%d', proc.pid);
  const plog = log.instance(`${name} pid=${proc.pid}`);
  const pump = createStderrPump({
    name,
    logger: options.logger,
    onLog: options.onLog,
    rawStderr: options.stderr,
    maxLineBytes: options.logBufferBytes ?? DEFAULT_LOG_BUFFER_BYTES,
  });
  proc.child.stderr?.on('data', (c: Buffer) => pump.push(c));
  proc.child.stderr?.on('end', () => pump.end());

  let handshake: Handshake;
  try {
    const line = await readHandshakeLine(proc, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, options.signal, pump.tail);
    plog('handshake line: %s', line.length > 200 ? `${line.slice(0, 200)}…` : line);
    handshake = parseHandshakeLine(line, { hostVersions: versions, muxRequested: options.grpcBrokerMultiplex ?? false, diagnose: DIAGNOSE_TEXT });
  } catch (err) {
    proc.kill();
    await proc.exited;
    if (err instanceof HandshakeError || err instanceof StartError) err.stderrTail = pump.tail();
    throw err;
  }
  plog('using plugin version=%d %s %s tls=%s', handshake.appVersion, handshake.network, handshake.address, own !== undefined);

  if (own !== undefined) {
    if (handshake.serverCert === undefined) {
      proc.kill();
      await proc.exited;
      throw new HandshakeError('ERR_LOOPP_SERVER_CERT', 'plugin did not send a server certificate although AutoMTLS was requested', {
        hint: 'The plugin does not support AutoMTLS; start it with autoMTLS: false.',
        stderrTail: pump.tail(),
      });
    }
    peerPem = derToPem(handshake.serverCert);
    // Built once: grpc-js credentials serve any number of channels and servers (the main channel and
    // every brokered connection), and building them parses the certificates and the P-521 key again.
    const channelTls = channelCredentials(own, peerPem);
    const serverTls = serverCredentials(own, peerPem);
    tls = { channel: () => channelTls, server: () => serverTls };
  }

  // Everything after the handshake on stdout is drained and dropped, as a Go host does.
  proc.child.stdout?.on('data', () => {});
  proc.child.stdout?.resume();

  const brokerListen = () =>
    process.platform === 'win32'
      ? listenTcp({ minPort: 0, maxPort: 0 })
      : // As go-plugin's host applies its UnixSocketConfig to its broker listeners: a group that may reach
        // the plugin's sockets may reach the host's.
        listenUnix({ dir: options.unixSocketDir, group: options.unixSocketGroup });
  let connection;
  try {
    connection = await connectPlugin({
      network: handshake.network,
      address: handshake.address,
      tls,
      channelOptions: options.channelOptions,
      syncStdout: options.syncStdout,
      syncStderr: options.syncStderr,
      brokerListen,
      multiplex: options.grpcBrokerMultiplex ?? false,
      bridgeDir: options.unixSocketDir,
      instance: `${name} pid=${proc.pid}`,
      log: plog,
    });
  } catch (err) {
    proc.kill();
    await proc.exited;
    if (err instanceof StartError) {
      err.stderrTail = pump.tail();
      throw err;
    }
    throw new StartError('ERR_LOOPP_SPAWN', `error connecting to plugin: ${messageOf(err)}`, { cause: err, stderrTail: pump.tail() });
  }
  if (own !== undefined && peerPem !== undefined) {
    // Without this, a process serving another certificate than the one it announced (an impostor on
    // the socket) got a started client and only a generic UNAVAILABLE on the first call.
    const refused = await checkPeerCertificate({
      channel: connection.channel,
      own,
      peerPem,
      deadline: Date.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS),
      signal: options.signal,
    });
    if (refused !== undefined) {
      connection.close();
      proc.kill();
      await proc.exited;
      // A SIGKILLed plugin cannot remove its socket; this host published nothing else yet.
      if (handshake.network === 'unix') await fsp.rm(handshake.address, { force: true });
      throw refused;
    }
  }
  return new PluginClient<P>({
    name,
    connection,
    process: proc,
    plugins: (table.get(handshake.appVersion) ?? {}) as P,
    protocolVersion: handshake.appVersion,
    network: handshake.network,
    address: handshake.address,
    reattached: undefined,
    gracefulShutdownMs: options.gracefulShutdownMs ?? DEFAULT_GRACEFUL_SHUTDOWN_MS,
    log: plog,
  });
}

/** Resolves with the first stdout line; rejects on timeout, abort, early exit or a closed stdout. */
function readHandshakeLine(proc: SpawnedPlugin, timeoutMs: number, signal: AbortSignal | undefined, tail: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = proc.child.stdout;
    const reader = createFirstLineReader(MAX_HANDSHAKE_LINE_BYTES);
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stdout?.off('data', onData);
      stdout?.off('end', onEnd);
      stdout?.pause();
      fn();
    };
    const onData = (chunk: Buffer) => {
      const r = reader.push(chunk);
      if (r.line !== undefined) {
        const line = r.line;
        finish(() => resolve(line));
      } else if (r.overflow) {
        finish(() =>
          reject(new HandshakeError('ERR_LOOPP_HANDSHAKE_MALFORMED', `Unrecognized remote plugin message: \nbufio.Scanner: token too long\n${DIAGNOSE_TEXT}`, {
            hint: 'The plugin wrote more than 64 KiB to stdout without a newline.',
          })),
        );
      }
    };
    const exitedError = (e: { code: number | null; signal: NodeJS.Signals | null }) =>
      new StartError('ERR_LOOPP_EXITED_BEFORE_HANDSHAKE', 'plugin exited before we could connect', {
        exitCode: e.code,
        signal: e.signal,
        input: { exitCode: e.code, signal: e.signal },
        hint: 'See the stderr tail for why the plugin stopped.',
        stderrTail: tail(),
      });
    const onEnd = () => {
      // bufio.Scanner hands out an unterminated last line at EOF, and so go-plugin connects to it.
      const last = reader.end();
      if (last.line !== undefined) {
        const line = last.line;
        finish(() => resolve(line));
        return;
      }
      // stdout closed without a line: either it exited (the usual case, settled by the exit handler
      // below) or it closed fd 1 and lives on.
      const t = setTimeout(
        () =>
          finish(() =>
            reject(new HandshakeError('ERR_LOOPP_HANDSHAKE_MALFORMED', `Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout\n${DIAGNOSE_TEXT}`, {
              hint: 'The plugin closed its stdout without printing the handshake.',
            })),
          ),
        500,
      );
      t.unref();
    };
    const onAbort = () =>
      finish(() =>
        reject(new StartError('ERR_LOOPP_ABORTED', 'plugin start aborted', { cause: signal?.reason, hint: 'The start signal was aborted.' })),
      );
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new StartError('ERR_LOOPP_START_TIMEOUT', 'timeout while waiting for plugin to start', {
            input: timeoutMs,
            hint: `The plugin printed no handshake within ${timeoutMs} ms; raise startTimeoutMs or check its stderr.`,
          })),
        ),
      timeoutMs,
    );
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
    stdout?.on('data', onData);
    stdout?.on('end', onEnd);
    void proc.exited.then((e) => {
      // Give stdout's 'end' a chance to deliver a final line first.
      setImmediate(() => finish(() => reject(exitedError(e))));
    });
  });
}

