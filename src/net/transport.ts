/**
 * Listeners for the plugin's main gRPC server and (classic mode) every broker server: a unix socket
 * named `plugin<digits>` in PLUGIN_UNIX_SOCKET_DIR or the temp dir, or TCP on 127.0.0.1 within the
 * PLUGIN_MIN_PORT..PLUGIN_MAX_PORT range. We own the net.Server and hand accepted sockets to grpc-js,
 * so permissions are set before the address is published and multiplexed streams can share the path.
 */
import { randomInt } from 'node:crypto';
import { chmodSync, chownSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MAX_UNIX_SOCKET_PATH_BYTES } from '../core/constants';
import { ConfigError, PluginError, messageOf } from '../core/errors';
import type { Network } from '../wire/handshake';

export interface Listener {
  readonly network: Network;
  /** What goes into the handshake / ConnInfo: a socket path or `127.0.0.1:<port>`. */
  readonly address: string;
  readonly server: net.Server;
  /** Stops listening and removes the socket file. Idempotent. */
  close(): Promise<void>;
}

export interface UnixListenOptions {
  /** Directory of the socket; defaults to the OS temp dir, as go-plugin. */
  dir?: string;
  /** PLUGIN_UNIX_SOCKET_GROUP: a group name or numeric gid; the socket becomes 0660 with that group. */
  group?: string;
}

export interface TcpListenOptions {
  minPort: number;
  maxPort: number;
  host?: string;
}

/** Resolves a group name or numeric gid as go-plugin does (texts included). */
export function resolveGroupId(group: string): number {
  if (/^[0-9]+$/.test(group)) {
    const gid = Number(group);
    if (!Number.isSafeInteger(gid) || gid > 0xffffffff) {
      throw new ConfigError('ERR_LOOPP_ENV', `failed to parse ${JSON.stringify(group)} group's gid as an integer: value out of range`, {
        input: group,
        hint: 'PLUGIN_UNIX_SOCKET_GROUP must be a group name or a numeric gid.',
      });
    }
    return gid;
  }
  let content = '';
  try {
    content = readFileSync('/etc/group', 'utf8');
  } catch (err) {
    throw new ConfigError('ERR_LOOPP_ENV', `failed to find gid from ${JSON.stringify(group)}: ${messageOf(err)}`, { input: group });
  }
  for (const line of content.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^[0-9]+$/.test(gid)) return Number(gid);
  }
  throw new ConfigError('ERR_LOOPP_ENV', `failed to find gid from ${JSON.stringify(group)}: group: unknown group ${group}`, {
    input: group,
    hint: 'Name an existing group in PLUGIN_UNIX_SOCKET_GROUP.',
  });
}

function listenOn(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** A listening unix socket `plugin<uint32>` in `dir`; 0600 by default, 0660 with a group. */
export async function listenUnix(options: UnixListenOptions = {}): Promise<Listener> {
  const dir = path.resolve(options.dir ?? tmpdir());
  const gid = options.group === undefined ? undefined : resolveGroupId(options.group);
  for (let attempt = 0; ; attempt++) {
    const socketPath = path.join(dir, `plugin${randomInt(0, 2 ** 32 - 1)}`);
    if (Buffer.byteLength(socketPath) > MAX_UNIX_SOCKET_PATH_BYTES) {
      throw new PluginError('ERR_LOOPP_LISTEN', `unix socket path too long (${Buffer.byteLength(socketPath)} > ${MAX_UNIX_SOCKET_PATH_BYTES} bytes): ${socketPath}`, {
        input: socketPath,
        hint: 'Point PLUGIN_UNIX_SOCKET_DIR (or TMPDIR) at a shorter directory.',
      });
    }
    const server = net.createServer({ pauseOnConnect: false });
    try {
      await listenOn(server, { path: socketPath, exclusive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 16) continue;
      throw new PluginError('ERR_LOOPP_LISTEN', `plugin init error: failed to listen on ${socketPath}: ${messageOf(err)}`, {
        input: socketPath,
        hint: 'Check that the socket directory exists and is writable.',
        cause: err,
      });
    }
    let closing: Promise<void> | undefined;
    // The file goes first and synchronously: once close() is called nobody can connect, and the
    // path is gone before the caller's next step (a plugin answers Shutdown only after this).
    const close = () =>
      (closing ??= (() => {
        try {
          rmSync(socketPath, { force: true });
        } catch {
          // left for the host's stale-socket clean-up
        }
        return closeServer(server);
      })());
    try {
      // Nobody knows the path before the handshake is printed, so tightening it now closes the window.
      // Synchronous: a metadata call on a local file costs microseconds, a trip through libuv's thread
      // pool an event-loop turn more before the broker can send the ConnInfo (B4).
      if (gid !== undefined) {
        chownSync(socketPath, -1, gid);
        chmodSync(socketPath, 0o660);
      } else {
        chmodSync(socketPath, 0o600);
      }
    } catch (err) {
      await close();
      throw new PluginError('ERR_LOOPP_LISTEN', `plugin init error: failed to set permissions on ${socketPath}: ${messageOf(err)}`, {
        input: socketPath,
        cause: err,
      });
    }
    return { network: 'unix', address: socketPath, server, close };
  }
}

/** A TCP listener on the first free port of [minPort, maxPort] (an ephemeral port for 0..0). */
export async function listenTcp(options: TcpListenOptions): Promise<Listener> {
  const host = options.host ?? '127.0.0.1';
  const { minPort, maxPort } = options;
  for (let port = minPort; port <= maxPort; port++) {
    const server = net.createServer();
    try {
      await listenOn(server, { host, port, exclusive: true });
    } catch {
      continue;
    }
    const bound = (server.address() as net.AddressInfo).port;
    let closing: Promise<void> | undefined;
    return {
      network: 'tcp',
      address: `${host}:${bound}`,
      server,
      close: () => (closing ??= closeServer(server)),
    };
  }
  throw new PluginError('ERR_LOOPP_LISTEN', "Couldn't bind plugin TCP listener", {
    input: { minPort, maxPort },
    hint: 'Every port of PLUGIN_MIN_PORT..PLUGIN_MAX_PORT is taken; widen the range.',
  });
}

/** grpc-js target for a plugin address. */
/** net.connect options for a handshake address: a socket path, or `host:port` (`[v6]:port`, `:port`). */
export function netConnectOptions(network: Network, address: string): net.NetConnectOpts {
  if (network === 'unix') return { path: address };
  const i = address.lastIndexOf(':');
  // Go dials ":1234" on the local host; an IPv6 host comes bracketed, which net.connect does not take.
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return { host, port: Number(address.slice(i + 1)) };
}

export function grpcTarget(network: Network, address: string): string {
  if (network === 'unix') return `unix://${address}`;
  // Go dials ":1234" on the local host; grpc-js needs the host spelled out.
  return address.startsWith(':') ? `127.0.0.1${address}` : address;
}
