/**
 * The host's check that a started plugin can be reached before startPlugin resolves: the channel's
 * first connection (the broker and stdio streams are already making it, so the first RPC would have
 * waited as long). loopp's channel keeps the error of its failed connection; grpc-js only reports a failed connection on the first RPC, as a generic
 * UNAVAILABLE; here a failure is explained by one direct connection attempt with the same material:
 * its socket error, or, under AutoMTLS, the certificate the process at the address presents when it
 * is not the one announced in the handshake (an impostor on the socket), or refuses ours.
 */
import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { H2Channel } from '../h2/channel';
import type { CertificateBundle } from '../mtls/cert';
import { netConnectOptions } from '../transport';
import { MTLS_SERVER_NAME } from './credentials';

export interface ConnectCheckOptions {
  /** The host's main channel; the probe dials its target (the bridge socket in multiplexed mode). */
  channel: grpc.ChannelInterface;
  /** AutoMTLS material, when in use. */
  tls: { own: CertificateBundle; peerPem: string } | undefined;
  /** Ends the wait (the start deadline). */
  signal: AbortSignal;
}

/** Why the first connection failed. */
export type ConnectFailure =
  | { kind: 'tls'; error: NodeJS.ErrnoException }
  | { kind: 'socket'; error: NodeJS.ErrnoException | undefined };

/** Node's codes for a failed TLS handshake (verification, alerts), as opposed to socket errors. */
function isTlsFailure(err: NodeJS.ErrnoException): boolean {
  return typeof err.code === 'string' && /CERT|SSL|TLS|UNABLE_TO|SIGNATURE/.test(err.code);
}

/** Resolves with READY, TRANSIENT_FAILURE or SHUTDOWN, or with the state at the signal's abort. */
function waitFirstConnection(channel: grpc.ChannelInterface, signal: AbortSignal): Promise<grpc.connectivityState> {
  return new Promise((resolve) => {
    // grpc-js's watch needs a deadline (its timer must fit 32 bits); the signal ends the wait first.
    const far = Date.now() + 24 * 3600 * 1000;
    const step = () => {
      const state = channel.getConnectivityState(true);
      if (state !== grpc.connectivityState.IDLE && state !== grpc.connectivityState.CONNECTING) return finish(state);
      if (signal.aborted) return finish(state);
      try {
        channel.watchConnectivityState(state, far, step);
      } catch {
        finish(channel.getConnectivityState(false));
      }
    };
    const onAbort = () => finish(channel.getConnectivityState(false));
    const finish = (state: grpc.connectivityState) => {
      signal.removeEventListener('abort', onAbort);
      resolve(state);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    step();
  });
}

/** One connection attempt to the channel's target with the channel's material; its error, if any. */
function probe(o: ConnectCheckOptions): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const target = o.channel.getTarget();
    const where = target.startsWith('unix:')
      ? netConnectOptions('unix', target.replace(/^unix:(\/\/)?/, ''))
      : netConnectOptions('tcp', target.replace(/^dns:/, ''));
    const socket =
      o.tls === undefined
        ? net.connect(where)
        : tls.connect({ ...where, ca: [o.tls.peerPem], cert: o.tls.own.certPem, key: o.tls.own.keyPem, servername: MTLS_SERVER_NAME, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => socket.destroy(), 1000);
    const done = (err: NodeJS.ErrnoException | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(err);
    };
    socket.once(o.tls === undefined ? 'connect' : 'secureConnect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err));
    socket.once('close', () => done(undefined));
  });
}

/** Undefined once the channel is connected; otherwise why not (after a failed connection, or at the abort). */
export async function checkFirstConnection(o: ConnectCheckOptions): Promise<ConnectFailure | undefined> {
  const state = await waitFirstConnection(o.channel, o.signal);
  if (state === grpc.connectivityState.READY) return undefined;
  if (o.signal.aborted) return { kind: 'socket', error: undefined };
  // loopp's channel knows why its connection failed; grpc-js's only says UNAVAILABLE, so ask the address.
  const error = o.channel instanceof H2Channel ? (o.channel.lastConnectError as NodeJS.ErrnoException | undefined) : await probe(o);
  if (error !== undefined && o.tls !== undefined && isTlsFailure(error)) return { kind: 'tls', error };
  return { kind: 'socket', error };
}
