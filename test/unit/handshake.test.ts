import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../src/core/errors';
import {
  DIAGNOSE_TEXT,
  announcedSocketPath,
  MUX_UNSUPPORTED_TEXT,
  formatHandshakeLine,
  formatProtocolVersions,
  negotiateVersion,
  parseHandshakeLine,
  parseProtocolVersions,
} from '../../src/wire/handshake';
import { decodeHandshakeCert, encodeHandshakeCert, generateCertificate } from '../../src/net/mtls/cert';

const host = { hostVersions: [1] };
/** What a host passes: field 6 decoded by net/mtls, in Go's order. */
const tlsHost = { hostVersions: [1], decodeServerCert: decodeHandshakeCert };

function parseError(line: string, opts: Parameters<typeof parseHandshakeLine<unknown>>[1] = host): HandshakeError {
  try {
    parseHandshakeLine(line, opts);
  } catch (err) {
    assert.ok(err instanceof HandshakeError, `expected HandshakeError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(line)} to be rejected`);
}

describe('parseHandshakeLine', () => {
  it('parses a plain 6-field unix line', () => {
    const h = parseHandshakeLine('1|1|unix|/tmp/plugin123|grpc|', host);
    assert.deepEqual(h, { coreVersion: 1, appVersion: 1, network: 'unix', address: '/tmp/plugin123', protocol: 'grpc', serverCert: undefined, muxSupported: undefined });
  });
  it('parses the 5-field line of the Python example and tolerates CRLF and spaces', () => {
    const h = parseHandshakeLine('  1|1|tcp|127.0.0.1:1234|grpc\r\n', host);
    assert.equal(h.network, 'tcp');
    assert.equal(h.address, '127.0.0.1:1234');
  });
  it('treats fewer than 4 fields as unrecognised, with the diagnose text', () => {
    const e = parseError('lolinvalid');
    assert.equal(e.code, 'ERR_LOOPP_HANDSHAKE_MALFORMED');
    assert.equal(e.message, `Unrecognized remote plugin message: lolinvalid\n${DIAGNOSE_TEXT}`);
    assert.equal(e.line, 'lolinvalid');
  });
  it('rejects 4 fields as netrpc with Go\'s text', () => {
    const e = parseError('1|1|tcp|127.0.0.1:1234');
    assert.equal(e.code, 'ERR_LOOPP_PROTOCOL');
    assert.equal(e.message, 'Unsupported plugin protocol "netrpc". Supported: [grpc]');
  });
  it('rejects an empty protocol field', () => {
    assert.equal(parseError('1|1|tcp|127.0.0.1:1234|').message, 'Unsupported plugin protocol "". Supported: [grpc]');
  });
  it('checks the core version', () => {
    const e = parseError('2|1|unix|/x|grpc|');
    assert.equal(e.code, 'ERR_LOOPP_CORE_VERSION');
    assert.equal(
      e.message,
      'Incompatible core API version with plugin. Plugin version: 2, Core version: 1\n\nTo fix this, the plugin usually only needs to be recompiled.\nPlease report this to the plugin author.',
    );
    assert.equal(parseError('x|1|unix|/x|grpc|').message, 'Error parsing core protocol version: strconv.Atoi: parsing "x": invalid syntax');
  });
  it('checks the app version against the host list, printed as a Go slice', () => {
    const e = parseError('1|11|tcp|127.0.0.1:1234|grpc|', { hostVersions: [1, 2] });
    assert.equal(e.code, 'ERR_LOOPP_APP_VERSION');
    assert.equal(e.message, 'Incompatible API version with plugin. Plugin version: 11, Client versions: [1 2]');
    assert.equal(parseError('1|v1|unix|/x|grpc|').message, 'Error parsing protocol version "v1": strconv.Atoi: parsing "v1": invalid syntax');
    assert.equal(parseError('1|99999999999999999999|unix|/x|grpc|').message, 'Error parsing protocol version "99999999999999999999": strconv.Atoi: parsing "99999999999999999999": value out of range');
  });
  it('rejects unknown networks and bad tcp addresses', () => {
    assert.equal(parseError('1|1|udp|127.0.0.1:1|grpc|').message, 'Unknown address type: 127.0.0.1:1');
    assert.equal(parseError('1|1|tcp|nonsense|grpc|').code, 'ERR_LOOPP_ADDRESS');
    assert.equal(parseError('1|1|tcp|127.0.0.1:70000|grpc|').code, 'ERR_LOOPP_ADDRESS');
    assert.equal(parseHandshakeLine('1|1|tcp|:1234|grpc|', host).address, ':1234');
  });
  it('ignores a 6th field of 50 characters or fewer (pre-1.0 plugins)', () => {
    const legacy = Buffer.from('{"stdout_addr":"","stderr_addr":""}').toString('base64');
    assert.equal(legacy.length, 48);
    assert.equal(parseHandshakeLine(`1|1|unix|/x|grpc|${legacy}`, host).serverCert, undefined);
  });
  it('passes field 6 on as text without a decoder (decoding is net/mtls\'s job)', () => {
    const raw = encodeHandshakeCert(generateCertificate().certDer);
    assert.equal(parseHandshakeLine(`1|1|unix|/x|grpc|${raw}`, host).serverCert, raw);
    assert.equal(parseHandshakeLine(`1|1|unix|/x|grpc|${'!'.repeat(60)}`, host).serverCert, '!'.repeat(60));
  });
  it('decodes the certificate with the host\'s decoder, unpadded (Go) and padded', () => {
    const cert = generateCertificate();
    const raw = encodeHandshakeCert(cert.certDer);
    assert.ok(!raw.includes('='));
    assert.deepEqual(parseHandshakeLine(`1|1|unix|/x|grpc|${raw}`, tlsHost).serverCert, cert.certDer);
    const padded = cert.certDer.toString('base64');
    assert.deepEqual(parseHandshakeLine(`1|1|unix|/x|grpc|${padded}`, tlsHost).serverCert, cert.certDer);
  });
  it('rejects a certificate field that is not base64 DER, with the line', () => {
    const e = parseError(`1|1|unix|/x|grpc|${'!'.repeat(60)}`, tlsHost);
    assert.equal(e.code, 'ERR_LOOPP_SERVER_CERT');
    assert.match(e.message, /^error parsing server cert: /);
    assert.equal(e.line, `1|1|unix|/x|grpc|${'!'.repeat(60)}`);
    const notDer = parseError(`1|1|unix|/x|grpc|${Buffer.alloc(60, 7).toString('base64')}`, tlsHost);
    assert.equal(notDer.code, 'ERR_LOOPP_SERVER_CERT');
  });
  it('checks field 6 before field 7, as a Go host does', () => {
    const e = parseError(`1|1|unix|/x|grpc|${'!'.repeat(60)}`, { ...tlsHost, muxRequested: true });
    assert.equal(e.code, 'ERR_LOOPP_SERVER_CERT');
  });
  it('names the unix socket a line announces, whatever else is wrong with it', () => {
    assert.equal(announcedSocketPath('1|9|unix|/tmp/plugin7|netrpc'), '/tmp/plugin7');
    assert.equal(announcedSocketPath(' 2|1|unix|/tmp/plugin8|grpc|\n'), '/tmp/plugin8');
    assert.equal(announcedSocketPath('1|1|tcp|127.0.0.1:5|grpc|'), undefined);
    assert.equal(announcedSocketPath('1|1|unix||grpc|'), undefined);
    assert.equal(announcedSocketPath('hello world'), undefined);
  });
  it('handles field 7 only when mux was requested', () => {
    assert.equal(parseHandshakeLine('1|1|unix|/x|grpc||true', host).muxSupported, true);
    assert.equal(parseHandshakeLine('1|1|unix|/x|grpc||bogus', host).muxSupported, undefined);
    const mux = { hostVersions: [1], muxRequested: true };
    assert.equal(parseHandshakeLine('1|1|unix|/x|grpc||true', mux).muxSupported, true);
    assert.equal(parseError('1|1|unix|/x|grpc|', mux).message, MUX_UNSUPPORTED_TEXT);
    assert.equal(parseError('1|1|unix|/x|grpc||false', mux).message, MUX_UNSUPPORTED_TEXT);
    assert.equal(parseError('1|1|unix|/x|grpc||maybe', mux).message, 'error parsing "maybe" as a boolean for gRPC broker multiplexing support');
  });
});

describe('formatHandshakeLine', () => {
  it('prints 6 fields with a trailing empty cert field', () => {
    assert.equal(formatHandshakeLine({ appVersion: 3, network: 'unix', address: '/tmp/plugin1' }), '1|3|unix|/tmp/plugin1|grpc|\n');
  });
  it('prints field 7 only when given', () => {
    assert.equal(formatHandshakeLine({ appVersion: 1, network: 'tcp', address: '127.0.0.1:10000', muxSupported: true }), '1|1|tcp|127.0.0.1:10000|grpc||true\n');
    assert.equal(formatHandshakeLine({ appVersion: 1, network: 'tcp', address: '127.0.0.1:10000', serverCert: 'QUJD', muxSupported: false }), '1|1|tcp|127.0.0.1:10000|grpc|QUJD|false\n');
  });
  it('round-trips through the parser', () => {
    const line = formatHandshakeLine({ appVersion: 2, network: 'unix', address: '/tmp/p' });
    assert.equal(parseHandshakeLine(line, { hostVersions: [2] }).appVersion, 2);
  });
});

describe('version negotiation', () => {
  it('formats and parses PLUGIN_PROTOCOL_VERSIONS', () => {
    assert.equal(formatProtocolVersions([3, 1, 2]), '3,1,2');
    assert.equal(formatProtocolVersions([]), '');
    const bad: string[] = [];
    assert.deepEqual(parseProtocolVersions('1,x,10', (s) => bad.push(s)), [1, 10]);
    assert.deepEqual(bad, ['x']);
    assert.equal(parseProtocolVersions(''), undefined);
    assert.equal(parseProtocolVersions(undefined), undefined);
  });
  it('picks the highest common version, comparing numerically', () => {
    assert.equal(negotiateVersion([9, 10, 2], [2, 9, 10]), 10);
    assert.equal(negotiateVersion([1, 2, 3], [2]), 2);
  });
  it('falls back to the lowest plugin version without a match or a host list', () => {
    assert.equal(negotiateVersion([5, 3, 4], [1]), 3);
    assert.equal(negotiateVersion([5, 3, 4], undefined), 3);
  });
});
