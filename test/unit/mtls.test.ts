import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';

import {
  GO_PLUGIN_KEY_USAGE,
  decodeHandshakeCert,
  derToPem,
  encodeHandshakeCert,
  generateCertificate,
  pemToDer,
} from '../../src/net/mtls/cert';
import { channelCredentials, serverCredentials } from '../../src/net/grpc/credentials';
import {
  TAG,
  decodeOid,
  namedBitString,
  readChildren,
  readTlv,
  unsignedInteger,
  x509Time,
  type DerNode,
} from '../../src/net/mtls/der';
import { ConfigError, HandshakeError, LooppError } from '../../src/core/errors';
import { HealthCheckResponse_ServingStatus, HealthClient, HealthService, type HealthServer } from '../../src/gen';

const HOURS_262980_MS = 262_980 * 3_600_000;

function hex(buf: Buffer): string {
  return buf.toString('hex');
}

/** tbsCertificate children, signature algorithm, signature value. */
function certParts(der: Buffer): { tbs: DerNode[]; sigAlg: DerNode; sig: DerNode } {
  const { node: cert, next } = readTlv(der);
  assert.equal(next, der.length, 'no bytes after the certificate');
  assert.equal(cert.tag, TAG.SEQUENCE);
  const [tbs, sigAlg, sig, ...extra] = readChildren(cert);
  assert.ok(tbs && sigAlg && sig);
  assert.equal(extra.length, 0);
  return { tbs: readChildren(tbs), sigAlg, sig };
}

function extensionsOf(der: Buffer): Array<{ id: string; critical: boolean; value: Buffer }> {
  const { tbs } = certParts(der);
  const exts = tbs[7];
  assert.ok(exts);
  assert.equal(exts.tag, 0xa3, '[3] EXPLICIT extensions');
  const [seq] = readChildren(exts);
  assert.ok(seq);
  return readChildren(seq).map((ext) => {
    const parts = readChildren(ext);
    const id = decodeOid((parts[0] as DerNode).value);
    if (parts.length === 3) {
      assert.equal(hex((parts[1] as DerNode).raw), '0101ff', `${id}: critical encoded as TRUE`);
      return { id, critical: true, value: (parts[2] as DerNode).value };
    }
    assert.equal(parts.length, 2, `${id}: FALSE critical flag is omitted, as Go does`);
    return { id, critical: false, value: (parts[1] as DerNode).value };
  });
}

describe('der', () => {
  test('INTEGER from unsigned magnitude is minimal and positive', () => {
    assert.equal(hex(unsignedInteger(Buffer.from([0x00, 0x00, 0x7f]))), '02017f');
    assert.equal(hex(unsignedInteger(Buffer.from([0x80, 0x01]))), '0203008001');
    assert.equal(hex(unsignedInteger(Buffer.from([0x00, 0xff]))), '020200ff');
    assert.equal(hex(unsignedInteger(Buffer.from([0x00]))), '020100');
  });

  test('KeyUsage bit string is encoded like Go (53 -> 03 02 02 ac)', () => {
    assert.equal(GO_PLUGIN_KEY_USAGE, 53);
    assert.equal(hex(namedBitString(GO_PLUGIN_KEY_USAGE)), '030202ac');
    assert.equal(hex(namedBitString(1)), '03020780'); // digitalSignature only
    assert.equal(hex(namedBitString(1 << 8)), '0303070080'); // decipherOnly needs a second byte
  });

  test('X.509 time switches from UTCTime to GeneralizedTime in 2050', () => {
    assert.equal(x509Time(new Date('2049-12-31T23:59:59.999Z')).toString('latin1'), '\x17\x0d491231235959Z');
    assert.equal(x509Time(new Date('2050-01-01T00:00:00Z')).toString('latin1'), '\x18\x0f20500101000000Z');
    assert.equal(x509Time(new Date('1950-01-01T00:00:00Z')).toString('latin1'), '\x17\x0d500101000000Z');
    assert.equal(x509Time(new Date('1949-12-31T23:59:59Z')).toString('latin1'), '\x18\x0f19491231235959Z');
  });
});

describe('generateCertificate', () => {
  const now = new Date();
  const bundle = generateCertificate({ now });
  const x = new X509Certificate(bundle.certPem);

  test('subject, issuer, SAN, CA, host name', () => {
    assert.equal(x.subject, 'O=HashiCorp\nCN=localhost');
    assert.equal(x.issuer, 'O=HashiCorp\nCN=localhost');
    assert.equal(x.subjectAltName, 'DNS:localhost');
    assert.equal(x.ca, true);
    assert.equal(x.checkHost('localhost'), 'localhost');
    assert.equal(x.checkHost('example.com'), undefined);
    assert.equal(x.checkIssued(x), true);
    assert.deepEqual([...x.keyUsage].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  test('validity is now - 30 s .. now + 262980 h, whole seconds', () => {
    const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;
    assert.equal(Date.parse(x.validFrom), seconds(now.getTime() - 30_000));
    assert.equal(Date.parse(x.validTo), seconds(now.getTime() + HOURS_262980_MS));
  });

  test('P-521 key, ecdsa-with-SHA512 self-signature that verifies', () => {
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'secp521r1');
    assert.equal(x.verify(x.publicKey), true);
    const { sigAlg } = certParts(bundle.certDer);
    const [algOid, ...params] = readChildren(sigAlg);
    assert.equal(decodeOid((algOid as DerNode).value), '1.2.840.10045.4.3.4');
    assert.equal(params.length, 0, 'ECDSA algorithm identifiers have no parameters');
  });

  test('private key is SEC1 PEM and matches the certificate', () => {
    assert.match(bundle.keyPem, /^-----BEGIN EC PRIVATE KEY-----\n[\s\S]+\n-----END EC PRIVATE KEY-----\n$/);
    const key = createPrivateKey(bundle.keyPem);
    assert.equal(createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(x.publicKey.export({ type: 'spki', format: 'der' })), true);
    const data = Buffer.from('hello');
    assert.equal(verify('sha512', data, x.publicKey, sign('sha512', data, key)), true);
  });

  test('DER layout matches Go x509.CreateCertificate for go-plugin template', () => {
    const { tbs, sig } = certParts(bundle.certDer);
    assert.equal(tbs.length, 8, 'version, serial, sigAlg, issuer, validity, subject, spki, extensions');
    const [version, serial, tbsAlg, issuer, validity, subject, spki] = tbs as DerNode[] as [DerNode, DerNode, DerNode, DerNode, DerNode, DerNode, DerNode];
    assert.equal(hex(version.raw), 'a003020102', 'v3');
    // serial: positive, at most 17 content bytes (16 random + sign byte), minimal
    assert.equal(serial.tag, TAG.INTEGER);
    assert.ok(serial.value.length >= 1 && serial.value.length <= 17);
    assert.ok(((serial.value[0] as number) & 0x80) === 0, 'positive');
    if (serial.value[0] === 0) assert.ok(((serial.value[1] as number) & 0x80) !== 0, 'leading 0x00 only when needed');
    assert.ok(serial.value.some((b) => b !== 0), 'non-zero');
    assert.equal(hex(tbsAlg.raw), '300a06082a8648ce3d040304');
    // O=HashiCorp then CN=localhost, one attribute per RDN, PrintableString
    const name = '3028' + '3112301006035504' + '0a1309' + Buffer.from('HashiCorp').toString('hex') + '3112301006035504' + '031309' + Buffer.from('localhost').toString('hex');
    assert.equal(hex(issuer.raw), name);
    assert.equal(hex(subject.raw), name);
    const [nb, na] = readChildren(validity) as [DerNode, DerNode];
    assert.equal(nb.tag, TAG.UTC_TIME);
    assert.equal(na.tag, TAG.GENERALIZED_TIME, 'now + 30 years is after 2049');
    assert.equal(spki.raw.equals(x.publicKey.export({ type: 'spki', format: 'der' })), true);
    assert.equal(sig.tag, TAG.BIT_STRING);
    assert.equal(sig.value[0], 0, 'signature BIT STRING has no unused bits');
  });

  test('extensions: order, criticality and values as Go writes them', () => {
    const exts = extensionsOf(bundle.certDer);
    assert.deepEqual(
      exts.map((e) => [e.id, e.critical]),
      [
        ['2.5.29.15', true], // KeyUsage
        ['2.5.29.37', false], // ExtKeyUsage
        ['2.5.29.19', true], // BasicConstraints
        ['2.5.29.14', false], // SubjectKeyIdentifier
        ['2.5.29.17', false], // SubjectAltName
      ],
    );
    const [ku, eku, bc, skid, san] = exts as [typeof exts[0], typeof exts[0], typeof exts[0], typeof exts[0], typeof exts[0]];
    assert.equal(hex(ku.value), '030202ac');
    assert.equal(hex(eku.value), '3014' + '06082b06010505070302' + '06082b06010505070301', 'clientAuth, serverAuth');
    assert.equal(hex(bc.value), '30030101ff', 'cA TRUE, no pathLen');
    const point = x.publicKey.export({ type: 'spki', format: 'der' }).subarray(-133);
    assert.equal(point[0], 0x04, 'uncompressed P-521 point');
    assert.equal(hex(skid.value), '0414' + hex(createHash('sha256').update(point).digest().subarray(0, 20)));
    assert.equal(hex(san.value), '300b8209' + Buffer.from('localhost').toString('hex'));
  });

  test('validity before 2020 uses UTCTime for both dates', () => {
    const old = generateCertificate({ now: new Date('1990-06-01T12:00:00Z') });
    const { tbs } = certParts(old.certDer);
    const [nb, na] = readChildren(tbs[4] as DerNode) as [DerNode, DerNode];
    assert.equal(nb.raw.toString('latin1'), '\x17\x0d900601115930Z');
    assert.equal(na.raw.toString('latin1'), '\x17\x0d200601000000Z'); // 262980 h = 10957.5 days
  });

  test('certificates differ: fresh key and serial each time', () => {
    const other = generateCertificate();
    assert.notEqual(other.keyPem, bundle.keyPem);
    assert.notEqual(new X509Certificate(other.certDer).serialNumber, x.serialNumber);
  });

  test('PEM is Go pem.Encode output', () => {
    assert.equal(bundle.certPem, derToPem(bundle.certDer));
    const lines = bundle.certPem.split('\n');
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
    assert.equal(lines.at(-2), '-----END CERTIFICATE-----');
    assert.equal(lines.at(-1), '', 'ends with a newline');
    const body = lines.slice(1, -2);
    for (const line of body.slice(0, -1)) assert.equal(line.length, 64);
    assert.ok((body.at(-1) as string).length <= 64);
    assert.equal(Buffer.from(body.join(''), 'base64').equals(bundle.certDer), true);
    assert.equal(x.raw.equals(bundle.certDer), true);
  });
});

describe('handshake certificate field', () => {
  const { certDer } = generateCertificate();

  test('encodes unpadded and round-trips', () => {
    const field = encodeHandshakeCert(certDer);
    assert.match(field, /^[A-Za-z0-9+/]+$/);
    assert.equal(field, certDer.toString('base64').replace(/=+$/, ''));
    assert.ok(field.length > 50, 'longer than the 50-char threshold of the Go host');
    assert.equal(decodeHandshakeCert(field).equals(certDer), true);
  });

  test('accepts padded base64 (one and two "=")', () => {
    // DER lengths vary by a few bytes (serial, signature), so collect certificates until both paddings occur.
    const paddings = new Set<number>();
    for (let i = 0; i < 200 && paddings.size < 2; i++) {
      const der = i === 0 ? certDer : generateCertificate().certDer;
      const padded = der.toString('base64');
      const count = padded.length - padded.replace(/=+$/, '').length;
      if (count === 0) continue;
      paddings.add(count);
      assert.equal(decodeHandshakeCert(padded).equals(der), true);
      assert.equal(decodeHandshakeCert(encodeHandshakeCert(der)).equals(der), true);
    }
    assert.deepEqual([...paddings].sort(), [1, 2]);
  });

  function assertServerCertError(fn: () => unknown, reason?: RegExp): void {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof HandshakeError);
      assert.ok(err instanceof LooppError);
      assert.equal(err.code, 'ERR_LOOPP_SERVER_CERT');
      assert.match(err.message, /^error parsing server cert: /);
      if (reason) assert.match(err.message, reason);
      return true;
    });
  }

  test('rejects characters outside standard base64', () => {
    const field = encodeHandshakeCert(certDer);
    assertServerCertError(() => decodeHandshakeCert(field.slice(0, 10) + '!' + field.slice(11)), /illegal base64 data at input byte 10/);
    assertServerCertError(() => decodeHandshakeCert(field.slice(0, 20) + '-' + field.slice(21)), /byte 20$/); // base64url
    assertServerCertError(() => decodeHandshakeCert(field.slice(0, 30) + '_' + field.slice(31)), /byte 30$/);
    assertServerCertError(() => decodeHandshakeCert(field + ' '));
    assertServerCertError(() => decodeHandshakeCert(' ' + field));
    assertServerCertError(() => decodeHandshakeCert(field + '\n'));
    assertServerCertError(() => decodeHandshakeCert(field.slice(0, 100) + '=' + field.slice(100)));
    assertServerCertError(() => decodeHandshakeCert(''));
  });

  test('rejects wrong padding and impossible lengths', () => {
    const b64 = 'QUJDRA'; // "ABCD", needs '=='
    assertServerCertError(() => decodeHandshakeCert(b64 + '='));
    assertServerCertError(() => decodeHandshakeCert(b64 + '==='));
    assertServerCertError(() => decodeHandshakeCert('QUJDRA=='.slice(0, 4) + '='));
    assertServerCertError(() => decodeHandshakeCert('QUJDR')); // 5 chars: one dangling sextet
  });

  test('rejects base64 that is not a certificate', () => {
    assertServerCertError(() => decodeHandshakeCert(Buffer.from('definitely not DER, but long enough to pass the threshold').toString('base64')), /x509/);
    assertServerCertError(() => decodeHandshakeCert(encodeHandshakeCert(certDer.subarray(0, certDer.length - 10))), /x509/);
  });
});

describe('pemToDer', () => {
  const bundle = generateCertificate();

  test('decodes one CERTIFICATE block, tolerant of CRLF and surrounding whitespace', () => {
    assert.equal(pemToDer(bundle.certPem).equals(bundle.certDer), true);
    assert.equal(pemToDer(bundle.certPem.replace(/\n/g, '\r\n')).equals(bundle.certDer), true);
    assert.equal(pemToDer(`\n  ${bundle.certPem}\n\n`).equals(bundle.certDer), true);
    assert.equal(pemToDer(bundle.certPem.trimEnd()).equals(bundle.certDer), true);
  });

  test('rejects other input with ConfigError ERR_LOOPP_CONFIG', () => {
    const other = generateCertificate();
    const bad = [
      '',
      'garbage',
      bundle.keyPem,
      bundle.certPem + other.certPem,
      bundle.certPem.replace('MII', 'M!I'),
      derToPem(Buffer.from('not a certificate at all')),
      bundle.certDer.toString('base64'),
    ];
    for (const input of bad) {
      assert.throws(
        () => pemToDer(input),
        (err: unknown) => err instanceof ConfigError && err.code === 'ERR_LOOPP_CONFIG' && err.message.startsWith('invalid certificate PEM: '),
        JSON.stringify(input.slice(0, 40)),
      );
    }
  });
});

describe('grpc-js mutual TLS', () => {
  const A = generateCertificate(); // server
  const B = generateCertificate(); // the server's expected client
  const C = generateCertificate(); // a stranger

  const dir = mkdtempSync(join(tmpdir(), 'loopp-mtls-'));
  const address = `unix:${join(dir, 's.sock')}`;
  const server = new grpc.Server();
  const impl: HealthServer = {
    check: (_call, callback) => callback(null, { status: HealthCheckResponse_ServingStatus.SERVING }),
    watch: (call) => call.end(),
  };
  server.addService(HealthService, impl);
  let ready: Promise<void> | undefined;
  const clients: grpc.Client[] = [];

  function start(): Promise<void> {
    ready ??= new Promise<void>((resolve, reject) => {
      server.bindAsync(address, serverCredentials(A, B.certPem), (err) => (err ? reject(err) : resolve()));
    });
    return ready;
  }

  function check(credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): Promise<grpc.ServiceError | null> {
    const client = new HealthClient(address, credentials, options);
    clients.push(client);
    return new Promise((resolve) => {
      client.check({ service: '' }, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
        if (err) return resolve(err);
        assert.equal(res.status, HealthCheckResponse_ServingStatus.SERVING);
        resolve(null);
      });
    });
  }

  after(async () => {
    for (const c of clients) c.close();
    if (ready) await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('accepts the expected peer', async () => {
    await start();
    const { credentials, options } = channelCredentials(B, A.certPem);
    assert.equal(await check(credentials, options), null);
  });

  test('refuses a client with another certificate', async () => {
    await start();
    const { credentials, options } = channelCredentials(C, A.certPem);
    const err = await check(credentials, options);
    assert.ok(err, 'call must fail');
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });

  test('refuses a TLS client without a certificate', async () => {
    await start();
    const err = await check(grpc.credentials.createSsl(Buffer.from(A.certPem)), {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.default_authority': 'localhost',
    });
    assert.ok(err, 'call must fail');
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });

  test('refuses plaintext', async () => {
    await start();
    const err = await check(grpc.credentials.createInsecure());
    assert.ok(err, 'call must fail');
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });

  test('client refuses a server that is not the expected peer', async () => {
    await start();
    const { credentials, options } = channelCredentials(B, C.certPem); // expects C, server is A
    const err = await check(credentials, options);
    assert.ok(err, 'call must fail');
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });

  test('server negotiates ALPN h2 with TLS 1.2+', async () => {
    await start();
    const socket = tls.connect({
      path: join(dir, 's.sock'),
      servername: 'localhost',
      ca: [A.certPem],
      key: B.keyPem,
      cert: B.certPem,
      ALPNProtocols: ['h2'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      assert.equal(socket.authorized, true, String(socket.authorizationError));
      assert.equal(socket.alpnProtocol, 'h2');
      assert.ok(['TLSv1.2', 'TLSv1.3'].includes(socket.getProtocol() ?? ''));
    } finally {
      socket.destroy();
    }
  });

  test('client offers ALPN h2 and presents its certificate', async (t) => {
    const path = join(dir, 'alpn.sock');
    let offered: string[] | undefined;
    const seen = new Promise<tls.TLSSocket>((resolve) => {
      const probe = tls.createServer(
        {
          key: A.keyPem,
          cert: A.certPem,
          ca: [B.certPem],
          requestCert: true,
          rejectUnauthorized: true,
          ALPNCallback: ({ protocols }) => {
            offered = protocols;
            return 'h2';
          },
        },
        (sock) => {
          resolve(sock);
        },
      );
      probe.listen(path);
      t.after(() => new Promise<void>((r) => probe.close(() => r())));
    });
    const { credentials, options } = channelCredentials(B, A.certPem);
    const client = new HealthClient(`unix:${path}`, credentials, options);
    clients.push(client);
    client.check({ service: '' }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, () => {});
    const sock = await seen;
    try {
      assert.deepEqual(offered, ['h2']);
      assert.equal(sock.alpnProtocol, 'h2');
      assert.equal(sock.authorized, true);
      assert.equal(new X509Certificate(sock.getPeerX509Certificate()?.raw ?? Buffer.alloc(0)).fingerprint256, new X509Certificate(B.certDer).fingerprint256);
    } finally {
      sock.destroy();
      client.close();
    }
  });

  test('bad peer PEM is a ConfigError ERR_LOOPP_CONFIG', () => {
    assert.throws(() => serverCredentials(A, 'nope'), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_LOOPP_CONFIG' && e.message.startsWith('invalid certificate PEM: '));
    assert.throws(() => channelCredentials(A, A.keyPem), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_LOOPP_CONFIG' && e.message.startsWith('invalid certificate PEM: '));
  });
});

