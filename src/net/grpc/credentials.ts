/**
 * grpc-js credentials for go-plugin AutoMTLS: each side trusts exactly one certificate, the peer's
 * self-signed one, and presents its own.
 *
 * Equivalent of go-plugin's tls.Config on both sides (spec §4.3): RequireAndVerifyClientCert,
 * RootCAs = ClientCAs = {peer cert}, ServerName "localhost". TLS 1.2 is Node's default minimum, and
 * grpc-js offers (client) and selects (server, through http2.createSecureServer) ALPN "h2", which
 * grpc-go ≥ 1.67 insists on.
 */
import * as grpc from '@grpc/grpc-js';
import * as tls from 'node:tls';
import { pemToDer, type CertificateBundle } from '../mtls/cert';

/** The name both go-plugin sides verify: the only DNS SAN of every AutoMTLS certificate. */
export const MTLS_SERVER_NAME = 'localhost';

/**
 * Server credentials that require a client certificate and accept only one that verifies against
 * `peerCertPem`. Throws ConfigError `ERR_LOOPP_CONFIG` if `peerCertPem` is not one CERTIFICATE PEM block.
 */
export function serverCredentials(own: CertificateBundle, peerCertPem: string): grpc.ServerCredentials {
  pemToDer(peerCertPem);
  return grpc.ServerCredentials.createSsl(
    Buffer.from(peerCertPem),
    [{ private_key: Buffer.from(own.keyPem), cert_chain: Buffer.from(own.certPem) }],
    true,
  );
}

/** What {@link channelCredentials} returns: pass both to the grpc-js client or channel constructor. */
export interface MtlsChannel {
  credentials: grpc.ChannelCredentials;
  /** Verify the server as "localhost" whatever the dial address is (unix sockets have no host name). */
  options: grpc.ChannelOptions;
  /** The same material for loopp's own channel (tls.connect options); undefined for plaintext. */
  tls: tls.ConnectionOptions | undefined;
}

/**
 * Channel credentials that trust only `peerCertPem`, verify the server as "localhost" and present `own`
 * as the client certificate. Throws ConfigError `ERR_LOOPP_CONFIG` if `peerCertPem` is not one
 * CERTIFICATE PEM block.
 */
export function channelCredentials(own: CertificateBundle, peerCertPem: string): MtlsChannel {
  pemToDer(peerCertPem);
  // One secure context for both channel kinds and every connection: parsing the P-521 key is the
  // costly part (about 0.4 ms), and createSsl would parse it a second time.
  const secureContext = tls.createSecureContext({ ca: [peerCertPem], cert: own.certPem, key: own.keyPem });
  return {
    credentials: grpc.credentials.createFromSecureContext(secureContext),
    options: {
      'grpc.ssl_target_name_override': MTLS_SERVER_NAME,
      'grpc.default_authority': MTLS_SERVER_NAME,
    },
    tls: { secureContext, servername: MTLS_SERVER_NAME },
  };
}

/** The credentials one side uses for every connection it serves or dials (main and brokered). */
export interface TransportCredentials {
  /** For servers this side runs (the plugin's main server, broker sub-servers). */
  server(): grpc.ServerCredentials;
  /** For channels this side dials (the host's main channel, broker dials). */
  channel(): MtlsChannel;
}

/**
 * AutoMTLS credentials trusting only `peerCertPem` when this side has an identity, plaintext
 * otherwise. Each kind is built on first use, then kept: grpc-js credentials serve any number of
 * channels and servers, and building them parses the certificates and the P-521 key (a few ms on a
 * plugin's start path, where a plugin only dials once a broker id is dialled).
 */
export function transportCredentials(tls: { own: CertificateBundle; peerCertPem: string } | undefined): TransportCredentials {
  if (tls === undefined) {
    return {
      server: once(() => grpc.ServerCredentials.createInsecure()),
      channel: once((): MtlsChannel => ({ credentials: grpc.credentials.createInsecure(), options: {}, tls: undefined })),
    };
  }
  // The peer's certificate is checked now, whichever kind is used first.
  pemToDer(tls.peerCertPem);
  return {
    server: once(() => serverCredentials(tls.own, tls.peerCertPem)),
    channel: once(() => channelCredentials(tls.own, tls.peerCertPem)),
  };
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
