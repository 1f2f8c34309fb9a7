/**
 * The host's check that the process it reaches is the plugin that printed the handshake: with
 * AutoMTLS, the certificate in handshake field 6 is the only CA, so a server presenting any other
 * certificate fails the TLS handshake. grpc-js only reports that on the first RPC, as a generic
 * UNAVAILABLE ("No connection established. Last error: ..."), and startPlugin would have returned a
 * client to an impostor. So startPlugin waits for the channel's first connection (the broker and
 * stdio streams are already making it, so the first RPC would have waited as long), and when that
 * fails, one direct TLS handshake with the same material says whether the certificate was the reason.
 * Failures that are not about certificates (the plugin died, refused the connection) are left to the
 * calls that meet them, as before.
 */
import * as grpc from '@grpc/grpc-js';
import * as tls from 'node:tls';
import { PluginError } from '../../core/errors';
import { netConnectOptions } from '../transport';
import type { CertificateBundle } from '../mtls/cert';
import { MTLS_SERVER_NAME } from './credentials';
import { describeTlsFailure } from './tls-failure';

export interface PeerCheckOptions {
  /** The host's main channel; the probe dials its target (the bridge socket in multiplexed mode). */
  channel: grpc.Channel;
  own: CertificateBundle;
  peerPem: string;
  /** Absolute deadline (ms since epoch) for the first connection. */
  deadline: number;
  signal?: AbortSignal;
}

/** Node's codes for a failed TLS handshake (verification, alerts), as opposed to socket errors. */
function isTlsFailure(err: NodeJS.ErrnoException): boolean {
  return typeof err.code === 'string' && /CERT|SSL|TLS|UNABLE_TO|SIGNATURE/.test(err.code);
}

function waitFirstConnection(channel: grpc.Channel, deadline: number, signal: AbortSignal | undefined): Promise<grpc.connectivityState> {
  return new Promise((resolve) => {
    const step = () => {
      const state = channel.getConnectivityState(true);
      if (state !== grpc.connectivityState.IDLE && state !== grpc.connectivityState.CONNECTING) return resolve(state);
      if (signal?.aborted || Date.now() >= deadline) return resolve(state);
      try {
        channel.watchConnectivityState(state, deadline, step);
      } catch {
        resolve(channel.getConnectivityState(false));
      }
    };
    step();
  });
}

/** One TLS handshake with the AutoMTLS material; resolves with its failure, or undefined on success. */
function probe(o: PeerCheckOptions): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const target = o.channel.getTarget();
    const where = target.startsWith('unix:')
      ? netConnectOptions('unix', target.replace(/^unix:(\/\/)?/, ''))
      : netConnectOptions('tcp', target.replace(/^dns:/, ''));
    const socket = tls.connect({
      ...where,
      ca: [o.peerPem],
      cert: o.own.certPem,
      key: o.own.keyPem,
      servername: MTLS_SERVER_NAME,
      ALPNProtocols: ['h2'],
    });
    const timer = setTimeout(() => socket.destroy(), Math.max(1000, o.deadline - Date.now()));
    const done = (err: NodeJS.ErrnoException | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(err);
    };
    socket.once('secureConnect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err));
    socket.once('close', () => done(undefined));
  });
}

/**
 * Resolves with a PluginError `ERR_LOOPP_TLS` when the peer's TLS certificate is not the announced
 * one (or it refuses ours), otherwise with undefined.
 */
export async function checkPeerCertificate(o: PeerCheckOptions): Promise<PluginError | undefined> {
  const state = await waitFirstConnection(o.channel, o.deadline, o.signal);
  if (state !== grpc.connectivityState.TRANSIENT_FAILURE) return undefined;
  const err = await probe(o);
  if (err === undefined || !isTlsFailure(err)) return undefined;
  return new PluginError('ERR_LOOPP_TLS', `error connecting to plugin: TLS handshake failed: ${describeTlsFailure(err.code)}`, {
    input: { target: o.channel.getTarget(), tlsCode: err.code },
    cause: err,
    hint: 'The process serving this address is not the one that printed the handshake (its certificate differs from handshake field 6), or it does not trust ours.',
  });
}
