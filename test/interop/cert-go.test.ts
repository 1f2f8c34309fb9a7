/**
 * Go's crypto/x509 must parse and verify our AutoMTLS certificate exactly as it does go-plugin's own.
 * Uses go-interop/bin/certcheck (built by `make interop-bin`): it reads a PEM or unpadded-base64 DER
 * certificate on stdin and prints what Go's parser and verifier make of it as JSON; `certcheck -gen`
 * prints {certPem, keyPem} made from go-plugin's template by Go itself, for comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { encodeHandshakeCert, generateCertificate } from '../../src/net/mtls/cert';
import { readChildren, readTlv } from '../../src/net/mtls/der';

// dist/test/interop/cert-go.test.js -> repository root
const ROOT = resolve(__dirname, '..', '..', '..');
const CERTCHECK = resolve(ROOT, 'go-interop', 'bin', process.platform === 'win32' ? 'certcheck.exe' : 'certcheck');

interface CertCheck {
  rawStdOK?: boolean;
  parseError?: string | null;
  serialPositive?: boolean;
  subject?: string;
  issuer?: string;
  dnsNames?: string[];
  signatureAlgorithm?: string;
  publicKeyCurve?: string;
  isCA?: boolean;
  basicConstraintsValid?: boolean;
  keyUsage?: number;
  extKeyUsage?: string[];
  notBefore?: string;
  notAfter?: string;
  verifyServerAuth?: string;
  verifyClientAuth?: string;
  subjectKeyIdPresent?: boolean;
  criticalExtensions?: unknown[];
  [key: string]: unknown;
}

function requireCertcheck(): string {
  if (!existsSync(CERTCHECK)) {
    assert.fail(`${CERTCHECK} is missing: run \`make interop-bin\` (needs Go) before the interop tests`);
  }
  return CERTCHECK;
}

function certcheck(input: string, args: string[] = []): string {
  return execFileSync(requireCertcheck(), args, { input, encoding: 'utf8', timeout: 30_000 });
}

function check(input: string): CertCheck {
  const out = certcheck(input);
  try {
    return JSON.parse(out) as CertCheck;
  } catch {
    assert.fail(`certcheck printed something other than JSON: ${out.slice(0, 500)}`);
  }
}

/** Go's own certificate from go-plugin's template (`certcheck -gen`), run through certcheck in the given form. */
function goGenerated(form: 'pem' | 'handshake'): CertCheck {
  const out = certcheck('', ['-gen']);
  let certPem: unknown;
  try {
    certPem = (JSON.parse(out) as { certPem?: unknown }).certPem;
  } catch {
    certPem = undefined;
  }
  assert.ok(typeof certPem === 'string', `certcheck -gen did not print {"certPem": ...}: ${out.slice(0, 200)}`);
  if (form === 'pem') return check(certPem);
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(certPem);
  assert.ok(m, `certcheck -gen certPem is not a PEM certificate: ${certPem.slice(0, 200)}`);
  return check(encodeHandshakeCert(Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64')) + '\n');
}

const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;
const HOURS_262980_MS = 262_980 * 3_600_000;

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function assertGoAccepts(r: CertCheck, now: Date, label: string): void {
  assert.ok(isEmpty(r.parseError), `${label}: Go failed to parse: ${String(r.parseError)}`);
  assert.equal(r.serialPositive, true, `${label}: serialPositive`);
  assert.equal(r.subject, 'CN=localhost,O=HashiCorp', `${label}: subject`);
  assert.equal(r.issuer, 'CN=localhost,O=HashiCorp', `${label}: issuer`);
  assert.deepEqual(r.dnsNames, ['localhost'], `${label}: dnsNames`);
  assert.equal(r.signatureAlgorithm, 'ECDSA-SHA512', `${label}: signatureAlgorithm`);
  assert.equal(r.publicKeyCurve, 'P-521', `${label}: publicKeyCurve`);
  assert.equal(r.isCA, true, `${label}: isCA`);
  assert.equal(r.basicConstraintsValid, true, `${label}: basicConstraintsValid`);
  // Go: KeyUsageDigitalSignature 1 | KeyUsageKeyEncipherment 4 | KeyUsageKeyAgreement 16 | KeyUsageCertSign 32
  assert.equal(r.keyUsage, 53, `${label}: keyUsage`);
  assert.deepEqual(r.extKeyUsage, ['ClientAuth', 'ServerAuth'], `${label}: extKeyUsage, in go-plugin's order`);
  assert.equal(Date.parse(String(r.notBefore)), seconds(now.getTime() - 30_000), `${label}: notBefore ${r.notBefore}`);
  assert.equal(Date.parse(String(r.notAfter)), seconds(now.getTime() + HOURS_262980_MS), `${label}: notAfter ${r.notAfter}`);
  assert.ok(isEmpty(r.verifyServerAuth), `${label}: Go verify (serverAuth, localhost): ${String(r.verifyServerAuth)}`);
  assert.ok(isEmpty(r.verifyClientAuth), `${label}: Go verify (clientAuth): ${String(r.verifyClientAuth)}`);
  assert.equal(r.subjectKeyIdPresent, true, `${label}: subjectKeyIdPresent`);
  // KeyUsage and BasicConstraints, as Go marks them
  assert.deepEqual(r.criticalExtensions, ['2.5.29.15', '2.5.29.19'], `${label}: criticalExtensions`);
}

/** Fields that legitimately differ between two certificates from the same template. */
const VOLATILE = new Set(['notbefore', 'notafter', 'serial', 'serialnumber', 'serialhex', 'serialbits', 'subjectkeyid', 'signature', 'raw', 'fingerprint', 'pem', 'der', 'publickey']);

function stable(r: CertCheck): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!VOLATILE.has(k.toLowerCase())) out[k] = v;
  return out;
}

test('Go parses and verifies our certificate (PEM, as in PLUGIN_CLIENT_CERT)', () => {
  const now = new Date();
  const { certPem } = generateCertificate({ now });
  assertGoAccepts(check(certPem), now, 'PEM');
});

test('Go parses and verifies our certificate (handshake field 6, RawStdEncoding)', () => {
  const now = new Date();
  const { certDer } = generateCertificate({ now });
  const r = check(encodeHandshakeCert(certDer) + '\n');
  assert.equal(r.rawStdOK, true, 'base64.RawStdEncoding decodes the handshake field');
  assertGoAccepts(r, now, 'handshake');
});

test('Go accepts both serial encodings (with and without the leading 0x00)', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 64 && seen.size < 2; i++) {
    const now = new Date();
    const bundle = generateCertificate({ now });
    const [tbs] = readChildren(readTlv(bundle.certDer).node);
    const serial = readChildren(tbs!)[1]!;
    const padded = serial.value[0] === 0 ? 1 : 0;
    if (seen.has(padded)) continue;
    seen.add(padded);
    assertGoAccepts(check(bundle.certPem), now, padded ? 'serial with 0x00' : 'serial without 0x00');
  }
  assert.equal(seen.size, 2, 'both serial forms were produced within 64 tries');
});

test('Go sees the same fields in our certificate as in its own from the go-plugin template', () => {
  for (const form of ['pem', 'handshake'] as const) {
    const { certPem, certDer } = generateCertificate();
    const ours = check(form === 'pem' ? certPem : encodeHandshakeCert(certDer) + '\n');
    const theirs = goGenerated(form);
    assert.ok(isEmpty(theirs.parseError), `Go's own certificate failed certcheck: ${String(theirs.parseError)}`);
    assert.deepEqual(stable(ours), stable(theirs), `${form}: fields differ from Go's own certificate`);
  }
});
