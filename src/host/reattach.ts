/**
 * reattachPlugin(): connect to a plugin another host started, from go-plugin's ReattachConfig. As in
 * go-plugin there is no handshake (so no version negotiation, AutoMTLS or mux); the address is probed
 * once, and the pid (when non-zero) is polled every second for liveness.
 */
import * as net from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import type { Writable } from 'node:stream';
import { DEFAULT_GRACEFUL_SHUTDOWN_MS } from '../core/constants';
import { createLog } from '../core/debug';
import { ConfigError, StartError } from '../core/errors';
import type { PluginSet } from '../shared/plugin-set';
import { listenTcp, listenUnix, netConnectOptions } from '../net/transport';
import { transportCredentials } from '../net/grpc/credentials';
import { requireChannelKind, type ChannelKind } from '../net/grpc/open-channel';
import { connectPlugin } from './connection';
import { PluginClient, type ReattachConfig } from './plugin-client';
import { watchPid } from './runner/watch-pid';

export interface ReattachPluginOptions<P extends PluginSet> {
  reattach: ReattachConfig;
  /** The plugin set to dispense from (go-plugin requires it explicitly on reattach). */
  plugins: P;
  gracefulShutdownMs?: number;
  syncStdout?: Writable;
  syncStderr?: Writable;
  name?: string;
  channelOptions?: grpc.ChannelOptions;
  /**
   * The gRPC channel under the plugin connection and every brokered connection: `'loopp'` (default),
   * loopp's own channel on one node:http2 session, or `'grpc-js'`, grpc-js's Channel. Both carry the
   * same grpc-js clients; see docs/host.md.
   */
  grpcChannel?: ChannelKind;
  signal?: AbortSignal;
}

function probe(network: 'unix' | 'tcp', address: string, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ ...netConnectOptions(network, address), signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function reattachPlugin<P extends PluginSet>(options: ReattachPluginOptions<P>): Promise<PluginClient<P>> {
  requireChannelKind('reattachPlugin', options.grpcChannel);
  const rc = options.reattach;
  const addr = rc?.Addr;
  if (rc === undefined || addr === undefined || (addr.Network !== 'unix' && addr.Network !== 'tcp') || typeof addr.String !== 'string' || addr.String === '') {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'reattach config needs Addr.Network ("unix" or "tcp") and Addr.String', {
      input: rc,
      hint: 'Pass the JSON a ReattachConfig() produced.',
    });
  }
  const protocol = rc.Protocol === '' || rc.Protocol === undefined ? 'netrpc' : rc.Protocol;
  if (protocol !== 'grpc') {
    throw new ConfigError('ERR_LOOPP_CONFIG', `Unsupported plugin protocol ${JSON.stringify(protocol)}. Supported: [grpc]`, {
      input: rc.Protocol,
      hint: 'Only gRPC plugins can be reattached from Node (an empty Protocol means netrpc).',
    });
  }
  if (!Number.isInteger(rc.Pid) || rc.Pid < 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'reattach config Pid must be a non-negative integer', { input: rc.Pid });
  }
  const name = options.name ?? `reattach-${rc.Pid}`;
  const log = createLog('client', `${name} pid=${rc.Pid}`);
  if (!(await probe(addr.Network, addr.String, options.signal))) {
    throw new StartError('ERR_LOOPP_PROCESS_NOT_FOUND', 'Reattachment process not found', {
      input: addr,
      hint: 'Nothing accepts connections at that address; the plugin has probably exited.',
    });
  }
  const proc = watchPid(rc.Pid);
  const connection = await connectPlugin({
    network: addr.Network,
    address: addr.String,
    credentials: transportCredentials(undefined),
    signal: options.signal,
    channelOptions: options.channelOptions,
    channel: options.grpcChannel,
    syncStdout: options.syncStdout,
    syncStderr: options.syncStderr,
    brokerListen: () => (process.platform === 'win32' ? listenTcp({ minPort: 0, maxPort: 0 }) : listenUnix()),
    instance: name,
    log,
  });
  log('reattached to %s %s', addr.Network, addr.String);
  return new PluginClient<P>({
    name,
    connection,
    process: proc,
    plugins: options.plugins,
    protocolVersion: rc.ProtocolVersion ?? 0,
    network: addr.Network,
    address: addr.String,
    reattached: rc,
    spawnedAtMs: 0,
    gracefulShutdownMs: options.gracefulShutdownMs ?? DEFAULT_GRACEFUL_SHUTDOWN_MS,
    log,
  });
}
