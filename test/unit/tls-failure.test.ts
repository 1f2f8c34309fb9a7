/**
 * The words of startPlugin's ERR_LOOPP_TLS error are loopp's, chosen by Node's error code, so they stay
 * the same across Node majors (whose messages for the same failure differ).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTlsFailure } from '../../src/net/grpc/tls-failure';

describe('describeTlsFailure', () => {
  it('names each kind of handshake failure in loopp words', () => {
    const cases: Array<[string, string]> = [
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'certificate signed by unknown authority'],
      ['SELF_SIGNED_CERT_IN_CHAIN', 'certificate signed by unknown authority'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'certificate signed by unknown authority'],
      ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'certificate signed by unknown authority'],
      ['CERT_SIGNATURE_FAILURE', 'certificate signed by unknown authority'],
      ['CERT_HAS_EXPIRED', 'certificate has expired or is not yet valid'],
      ['CERT_NOT_YET_VALID', 'certificate has expired or is not yet valid'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'certificate is not valid for "localhost"'],
      ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'the plugin refused our certificate'],
      ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'the plugin refused our certificate'],
      ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'the plugin refused our certificate'],
      ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'the plugin refused the handshake'],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'the plugin does not speak TLS'],
      ['ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM', 'TLS handshake error'],
    ];
    for (const [code, text] of cases) assert.equal(describeTlsFailure(code), text, code);
  });
});
