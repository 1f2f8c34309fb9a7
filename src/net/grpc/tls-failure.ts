import { MTLS_SERVER_NAME } from './credentials';

/**
 * loopp's own words for a failed handshake, chosen by Node's error code, never Node's message: that
 * text belongs to Node and OpenSSL and changes between majors (Node 24 appends advice about
 * --use-system-ca to verification failures), while hosts log, compare and document ours. Node's
 * error stays available as the `cause`, and its code as `input.tlsCode`. The categories follow the ones a
 * Go host reports for the same failures (crypto/x509, crypto/tls), so both read alike in a log.
 */
export function describeTlsFailure(code: string | undefined): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return 'certificate has expired or is not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `certificate is not valid for "${MTLS_SERVER_NAME}"`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
    case 'ERR_SSL_HTTP_REQUEST':
      return 'the plugin does not speak TLS';
  }
  if (code === undefined) return 'unknown TLS error';
  if (/^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE)$/.test(code)) {
    return 'the plugin refused our certificate';
  }
  if (/^ERR_SSL_.*ALERT/.test(code)) return 'the plugin refused the handshake';
  // OpenSSL's verification results come without the ERR_ prefix (DEPTH_ZERO_SELF_SIGNED_CERT,
  // UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_SIGNATURE_FAILURE, ...): with AutoMTLS the announced
  // certificate is the only CA, so each of them means the peer's certificate does not chain to it.
  if (!code.startsWith('ERR_')) return 'certificate signed by unknown authority';
  return 'TLS handshake error';
}
