/**
 * One direct connection to the plugin, beside the gRPC channel: does the address accept a connection,
 * which certificate does the TLS server present, and does it accept ours. The probe sends the HTTP/2
 * preface and waits for the server's first frame: a server that refused our certificate says so with
 * a TLS alert after the client's side of a TLS 1.3 handshake has completed.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { CertificateBundle } from '../../protocol';

export interface ProbeTarget {
  /** A unix socket path, or host:port. */
  readonly path?: string;
  readonly host?: string;
  readonly port?: number;
}

export interface ProbeResult {
  readonly connected: boolean;
  /** The socket error of a connection that did not open (ECONNREFUSED, ENOENT, ...). */
  readonly socketError?: string;
  /** With TLS: the certificate presented, whether it verifies against the announced one, and whether the server went on. */
  readonly tls?: {
    readonly presentedDer: Buffer | undefined;
    readonly authorizationError: string | undefined;
    readonly accepted: boolean;
    readonly error: string | undefined;
  };
}

const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
const PROBE_TIMEOUT_MS = 2000;

/** `unix:///p`, `unix:/p` or `host:port` (a channel's target, or a handshake address). */
export function probeTarget(network: 'unix' | 'tcp', address: string): ProbeTarget {
  if (network === 'unix') return { path: address.replace(/^unix:(\/\/)?/, '') };
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^dns:/, '').replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}

function connectOptions(t: ProbeTarget): net.NetConnectOpts {
  return t.path !== undefined ? { path: t.path } : { host: t.host!, port: t.port! };
}

function errText(err: NodeJS.ErrnoException): string {
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

/** A plain connection: does it open. */
export function probePlain(t: ProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect(connectOptions(t));
    const timer = setTimeout(() => done({ connected: false, socketError: `no connection within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS);
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    socket.once('connect', () => done({ connected: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ connected: false, socketError: errText(err) }));
  });
}

/** A TLS connection with our identity, trusting only `peerPem` (verification is judged, not enforced). */
export function probeTls(t: ProbeTarget, own: CertificateBundle, peerPem: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let connected = false;
    let presentedDer: Buffer | undefined;
    let authorizationError: string | undefined;
    let secure = false;
    const socket = tls.connect({ ...connectOptions(t), ca: [peerPem], cert: own.certPem, key: own.keyPem, servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    const timer = setTimeout(() => done(false, secure ? undefined : `no TLS handshake within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
    const done = (accepted: boolean, error: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      if (!connected) resolve({ connected, socketError: error });
      else resolve({ connected, tls: { presentedDer, authorizationError, accepted, error } });
    };
    socket.once('connect', () => (connected = true));
    socket.once('secureConnect', () => {
      secure = connected = true;
      presentedDer = socket.getPeerCertificate(true)?.raw;
      authorizationError = socket.authorized ? undefined : String(socket.authorizationError);
      socket.write(HTTP2_PREFACE);
    });
    socket.once('data', () => done(true, undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(false, errText(err)));
    socket.once('close', () => done(false, 'the server closed the connection'));
  });
}
