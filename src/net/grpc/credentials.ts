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
import type { CertificateBundle } from '../mtls/cert';
import { pemToDer } from '../mtls/cert';

/** The name both go-plugin sides verify: the only DNS SAN of every AutoMTLS certificate. */
export const MTLS_SERVER_NAME = 'localhost';

/**
 * Server credentials that require a client certificate and accept only one that verifies against
 * `peerCertPem`. Throws PluginError `ERR_LOOPP_TLS` if `peerCertPem` is not one CERTIFICATE PEM block.
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
}

/**
 * Channel credentials that trust only `peerCertPem`, verify the server as "localhost" and present `own`
 * as the client certificate. Throws PluginError `ERR_LOOPP_TLS` if `peerCertPem` is not one CERTIFICATE
 * PEM block.
 */
export function channelCredentials(own: CertificateBundle, peerCertPem: string): MtlsChannel {
  pemToDer(peerCertPem);
  return {
    credentials: grpc.credentials.createSsl(Buffer.from(peerCertPem), Buffer.from(own.keyPem), Buffer.from(own.certPem)),
    options: {
      'grpc.ssl_target_name_override': MTLS_SERVER_NAME,
      'grpc.default_authority': MTLS_SERVER_NAME,
    },
  };
}
