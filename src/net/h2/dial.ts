/**
 * How an H2Channel gets its connections: a unix or TCP socket, a stream someone else opens (a yamux
 * stream), and TLS on top of either (AutoMTLS runs end to end inside a yamux stream too).
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { Network } from '../../wire/handshake';
import { netConnectOptions } from '../transport';

/** Opens one connection for a channel; rejects when it cannot (the channel reports UNAVAILABLE). */
export type Dial = (signal: AbortSignal) => Promise<Duplex>;

export function dialNet(network: Network, address: string): Dial {
  return (signal) =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ ...netConnectOptions(network, address), signal });
      socket.once('connect', () => {
        socket.off('error', reject);
        // As Go's net.Dial: no Nagle delay, TCP keep-alive on.
        if (network === 'tcp') socket.setNoDelay(true).setKeepAlive(true);
        resolve(socket);
      });
      socket.once('error', reject);
    });
}

/** TLS over whatever `dial` opens; resolves once the handshake (peer verification included) is done. */
export function overTls(dial: Dial, options: tls.ConnectionOptions): Dial {
  return async (signal) => {
    const raw = await dial(signal);
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ ...options, socket: raw, ALPNProtocols: ['h2'] });
      const fail = (err: Error) => {
        socket.destroy();
        raw.destroy();
        reject(err);
      };
      const onAbort = () => fail(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('secureConnect', () => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        resolve(socket);
      });
      socket.once('error', fail);
    });
  };
}
