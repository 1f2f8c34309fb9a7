/**
 * AutoMTLS certificates, wire-compatible with go-plugin's `generateCert` (mtls.go).
 *
 * Node can generate and use EC keys but cannot build X.509 certificates, so the one certificate template
 * go-plugin uses is written here by hand with a small DER writer (./der.ts). The result matches what Go's
 * `x509.CreateCertificate` produces for that template field by field and in the same order (checked
 * against Go's parser by test/interop/cert-go.test.ts).
 *
 * Measured on the project's 2-core machine (Node 20.20, compiled JS, 5 fresh processes, other jobs running):
 *   - loading this module cold (require, including ./der.js and ../errors.js; node:crypto is built in):
 *     5.4-7.9 ms, of which ~2 ms is the CommonJS loader's first-require warm-up
 *   - generateCertificate(): median of 20 calls 4.7-6.6 ms (P-521 key pair ~2 ms, ECDSA-SHA512 signature
 *     ~2 ms, DER writing and PEM export well under 1 ms); the first call in a process 7.6-10 ms
 *   - for comparison, ./credentials.js costs ~35-40 ms to load, almost all of it @grpc/grpc-js
 * That is cheap enough to stay synchronous on the plugin start-up path.
 */
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { ConfigError, HandshakeError, messageOf } from '../../core/errors';
import {
  TAG,
  bitString,
  boolean,
  contextExplicit,
  contextPrimitive,
  namedBitString,
  octetString,
  oid,
  printableString,
  readChildren,
  readTlv,
  sequence,
  setOfOne,
  smallInteger,
  unsignedInteger,
  x509Time,
} from './der';

/** A freshly generated AutoMTLS identity. */
export interface CertificateBundle {
  /** The certificate as Go's `pem.Encode` writes it (64-character lines, trailing newline). */
  certPem: string;
  /** The private key as SEC1 `EC PRIVATE KEY` PEM (what Go's `x509.MarshalECPrivateKey` holds). */
  keyPem: string;
  /** The certificate's DER bytes (what goes, base64-encoded, into handshake field 6). */
  certDer: Buffer;
}

export interface GenerateCertificateOptions {
  /** The clock reading the validity period is computed from. Default: `new Date()`. */
  now?: Date;
}

const OID = {
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  subjectAltName: '2.5.29.17',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** go-plugin's template values. */
const HOST = 'localhost';
const ORGANIZATION = 'HashiCorp';
/** `time.Now().Add(-30 * time.Second)` */
const NOT_BEFORE_SKEW_MS = 30_000;
/** `time.Now().Add(262980 * time.Hour)` */
const LIFETIME_MS = 262_980 * 3_600_000;

/** Go's x509.KeyUsage bit values (bit i is named bit i of the RFC 5280 KeyUsage BIT STRING). */
export const KEY_USAGE = {
  digitalSignature: 1 << 0,
  contentCommitment: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  certSign: 1 << 5,
  crlSign: 1 << 6,
} as const;

/** DigitalSignature | KeyEncipherment | KeyAgreement | CertSign = 53, go-plugin's KeyUsage. */
export const GO_PLUGIN_KEY_USAGE =
  KEY_USAGE.digitalSignature | KEY_USAGE.keyEncipherment | KEY_USAGE.keyAgreement | KEY_USAGE.certSign;

/** AlgorithmIdentifier for ecdsa-with-SHA512; ECDSA algorithm identifiers carry no parameters (RFC 5758). */
const ECDSA_WITH_SHA512 = sequence(oid(OID.ecdsaWithSHA512));

/**
 * Go's `pkix.Name{CommonName: "localhost", Organization: ["HashiCorp"]}.ToRDNSequence()`: Go emits
 * Organization before CommonName, each attribute in its own RDN, as PrintableString (Go's choice for
 * strings in that character set).
 */
const NAME = sequence(
  setOfOne(sequence(oid(OID.organizationName), printableString(ORGANIZATION))),
  setOfOne(sequence(oid(OID.commonName), printableString(HOST))),
);

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  // Go's pkix.Extension marks Critical `asn1:"optional"`, so FALSE is omitted rather than encoded.
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** Extensions in the order Go's buildCertExtensions writes them. */
function extensions(subjectPublicKey: Buffer): Buffer {
  // Go ≥ 1.25 fills SubjectKeyId for CA templates with the leftmost 160 bits of SHA-256 over the
  // subjectPublicKey bit string contents (RFC 7093 method 1); before 1.25 (or with GODEBUG
  // x509sha256skid=0) it was the SHA-1 of the same bytes. Both are 20 bytes; nothing checks the method.
  const skid = createHash('sha256').update(subjectPublicKey).digest().subarray(0, 20);
  return contextExplicit(
    3,
    sequence(
      extension(OID.keyUsage, true, namedBitString(GO_PLUGIN_KEY_USAGE)),
      extension(OID.extKeyUsage, false, sequence(oid(OID.clientAuth), oid(OID.serverAuth))),
      // cA TRUE, pathLenConstraint absent (Go's MaxPathLen 0 without MaxPathLenZero means "no limit")
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      extension(OID.subjectKeyIdentifier, false, octetString(skid)),
      // GeneralNames [ dNSName [2] IMPLICIT IA5String ]; not critical because the subject is not empty
      extension(OID.subjectAltName, false, sequence(contextPrimitive(2, Buffer.from(HOST, 'latin1')))),
    ),
  );
}

/** 128 random bits as a positive serial, like Go's `rand.Int(rand.Reader, 1<<128)`, but never zero. */
function serialNumber(): Buffer {
  for (;;) {
    const bytes = randomBytes(16);
    if (bytes.some((b) => b !== 0)) return unsignedInteger(bytes);
  }
}

/** The BIT STRING contents (the uncompressed EC point) of a DER SubjectPublicKeyInfo. */
function subjectPublicKeyBits(spki: Buffer): Buffer {
  const [, bits] = readChildren(readTlv(spki).node);
  if (bits === undefined || bits.tag !== TAG.BIT_STRING || bits.value[0] !== 0) {
    // node:crypto exports P-521 keys in one layout; anything else is a bug here, not bad input (and
    // node:assert would cost a millisecond of every plugin's start to say so).
    throw new Error('unexpected SubjectPublicKeyInfo layout from node:crypto');
  }
  return bits.value.subarray(1);
}

/**
 * Builds go-plugin's AutoMTLS certificate: a fresh ECDSA P-521 key and a self-signed X.509 v3 CA
 * certificate for `localhost` (subject/issuer `O=HashiCorp, CN=localhost`), valid from 30 s before `now`
 * for 262980 hours, signed with ecdsa-with-SHA512, usable for both TLS server and client authentication.
 * Synchronous; a few milliseconds.
 */
export function generateCertificate(options: GenerateCertificateOptions = {}): CertificateBundle {
  const now = options.now ?? new Date();
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new ConfigError('ERR_LOOPP_CONFIG', 'generateCertificate: options.now is an invalid Date', { input: options.now });

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });

  const tbs = sequence(
    contextExplicit(0, smallInteger(2)), // version v3
    serialNumber(),
    ECDSA_WITH_SHA512,
    NAME, // issuer
    sequence(x509Time(new Date(nowMs - NOT_BEFORE_SKEW_MS)), x509Time(new Date(nowMs + LIFETIME_MS))),
    NAME, // subject
    spki,
    extensions(subjectPublicKeyBits(spki)),
  );
  // crypto.sign returns the DER Ecdsa-Sig-Value for EC keys, which is what X.509 carries.
  const signature = sign('sha512', tbs, privateKey);
  const certDer = sequence(tbs, ECDSA_WITH_SHA512, bitString(signature));

  return { certPem: derToPem(certDer), keyPem: exportKey(privateKey), certDer };
}

function exportKey(key: KeyObject): string {
  return key.export({ type: 'sec1', format: 'pem' }).toString();
}

/** Go `pem.Encode` of a `CERTIFICATE` block: padded base64 in 64-character lines, trailing newline. */
export function derToPem(der: Buffer): string {
  const b64 = der.toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}

/** Handshake field 6 form: standard base64 without `=` padding (Go's `base64.RawStdEncoding`). */
export function encodeHandshakeCert(der: Buffer): string {
  return der.toString('base64').replace(/=+$/, '');
}

/**
 * Position of the first byte Go's base64 decoder would reject, or -1 when `text` is valid standard
 * base64, padded or not.
 */
function base64Problem(text: string): number {
  const m = /^[A-Za-z0-9+/]*/.exec(text);
  const dataLength = m === null ? 0 : m[0].length;
  const padding = text.length - dataLength;
  if (padding === 0) return dataLength % 4 === 1 ? dataLength - 1 : -1;
  // Only '=' may follow, and exactly as many as complete the last quantum.
  if (!/^=+$/.test(text.slice(dataLength))) {
    const bad = text.slice(dataLength).search(/[^=]/);
    return dataLength + bad;
  }
  const expected = (4 - (dataLength % 4)) % 4;
  if (dataLength % 4 === 1 || expected === 0 || padding !== expected) return dataLength;
  return -1;
}

function serverCertError(reason: string, field: string, cause?: unknown): HandshakeError {
  return new HandshakeError('ERR_LOOPP_SERVER_CERT', `error parsing server cert: ${reason}`, {
    input: field,
    hint: 'The plugin sent an unusable AutoMTLS certificate in handshake field 6 (expected base64 DER of an X.509 certificate).',
    cause,
  });
}

/**
 * Decodes handshake field 6 to certificate DER. Accepts standard base64 with or without `=` padding (Go
 * plugins send it unpadded); any other character, or bytes that are not an X.509 certificate, throw
 * HandshakeError `ERR_LOOPP_SERVER_CERT` with Go's message prefix "error parsing server cert: ".
 */
export function decodeHandshakeCert(field: string): Buffer {
  if (field.length === 0) throw serverCertError('empty certificate', field);
  const bad = base64Problem(field);
  if (bad >= 0) throw serverCertError(`illegal base64 data at input byte ${bad}`, field);
  const der = Buffer.from(field, 'base64');
  const problem = x509Problem(der);
  if (problem !== undefined) throw serverCertError(problem.reason, field, problem.cause);
  return der;
}

/**
 * Why `der` is not exactly one X.509 certificate in DER form, in Go's x509.ParseCertificate words, or undefined.
 * OpenSSL (behind X509Certificate) stops after the certificate and ignores bytes after it; Go rejects
 * them ("x509: trailing data"), so a Go host refuses such a handshake. The property tests found us
 * accepting it (and handing the trailing bytes on as the peer's DER).
 */
function x509Problem(der: Buffer): { reason: string; cause?: unknown } | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    return { reason: `x509: malformed certificate (${messageOf(err)})`, cause: err };
  }
  if (cert.raw.length < der.length && cert.raw.equals(der.subarray(0, cert.raw.length))) return { reason: 'x509: trailing data' };
  // OpenSSL also accepts encodings that are not DER (e.g. a signature BIT STRING with a non-zero unused-bits
  // count, found by `make fuzz`) and hands back its own re-encoding as `raw`; only canonical DER, as Go
  // writes it, is passed on.
  if (!cert.raw.equals(der)) return { reason: 'x509: malformed certificate (not in DER form)' };
  return undefined;
}

const PEM_BLOCK = /^\s*-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END CERTIFICATE-----[ \t]*(?:\r?\n)?\s*$/;

/**
 * DER of a single `CERTIFICATE` PEM block (surrounding whitespace allowed). Throws ConfigError
 * `ERR_LOOPP_CONFIG` for anything else: no block, another block type, several blocks, headers, bad base64,
 * or contents that do not parse as an X.509 certificate.
 */
export function pemToDer(pem: string): Buffer {
  const m = PEM_BLOCK.exec(pem);
  const tlsError = (reason: string, cause?: unknown) =>
    new ConfigError('ERR_LOOPP_CONFIG', `invalid certificate PEM: ${reason}`, {
      input: pem,
      hint: 'Pass exactly one "-----BEGIN CERTIFICATE-----" block.',
      cause,
    });
  if (m === null) throw tlsError('expected exactly one CERTIFICATE block');
  const body = (m[1] as string).replace(/\r?\n/g, '');
  if (body.length === 0 || base64Problem(body) >= 0) throw tlsError('bad base64 body');
  const der = Buffer.from(body, 'base64');
  const problem = x509Problem(der);
  if (problem !== undefined) throw tlsError(problem.reason, problem.cause);
  return der;
}
