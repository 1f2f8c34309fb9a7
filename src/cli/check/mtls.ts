/**
 * Rules on the AutoMTLS certificate of handshake field 6 (go-plugin's template: ECDSA P-521, for
 * localhost, valid from 30 s ago for 30 years) and on the certificate the TLS server really presents.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { ProbeResult } from './probe';
import { fail, notReached, pass, verdict, type RuleId, type RuleResult } from './rules';

export const CERT_RULES: readonly RuleId[] = ['mtls.cert-key', 'mtls.cert-names', 'mtls.cert-validity'];

function keyRule(cert: X509Certificate): RuleResult {
  const key = cert.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const evidence = `${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}`;
  return verdict('mtls.cert-key', key.asymmetricKeyType === 'ec' && curve === 'secp521r1', evidence, 'Generate an ECDSA P-521 key, as go-plugin does (hosts with strict checks expect it).');
}

function namesRule(cert: X509Certificate): RuleResult {
  const evidence = `subject ${cert.subject.replace(/\n/g, ', ')}; SAN ${cert.subjectAltName ?? '(none)'}`;
  return verdict('mtls.cert-names', cert.checkHost('localhost') !== undefined, evidence, 'Name the certificate localhost (DNS SAN): hosts verify the server name "localhost".');
}

function validityRule(cert: X509Certificate, nowMs: number): RuleResult {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  const evidence = `valid ${new Date(from).toISOString()} .. ${new Date(to).toISOString()}; now ${new Date(nowMs).toISOString()}`;
  return verdict('mtls.cert-validity', from <= nowMs && nowMs <= to, evidence, 'Make the certificate valid from a little before now (go-plugin: 30 s) and for long enough.');
}

/** The three rules on the certificate itself; `n/a` when there is none to read. */
export function certRules(der: Buffer | undefined, nowMs: number): RuleResult[] {
  if (der === undefined) return notReached(CERT_RULES, 'no certificate in field 6 (handshake.server-cert)');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    return CERT_RULES.map((id) => fail(id, `field 6 does not parse as X.509: ${(err as Error).message}`, 'Print the DER of a valid X.509 certificate.'));
  }
  return [keyRule(cert), namesRule(cert), validityRule(cert, nowMs)];
}

/** The first 8 bytes of the certificate's SHA-256 fingerprint, as openssl prints them. */
function fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').slice(0, 16).toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

function presentedText(p: NonNullable<ProbeResult['tls']>, announced: Buffer): string {
  if (p.presentedDer === undefined) return 'no certificate presented';
  if (p.presentedDer.equals(announced)) return 'presents the announced certificate';
  return `presents another certificate (SHA-256 ${fingerprint(p.presentedDer)}…, announced ${fingerprint(announced)}…)`;
}

/**
 * The probe's TLS handshake: the announced certificate presented and ours accepted. Whether it also
 * verifies (dates, name) is the certificate rules' business; the evidence says it.
 */
export function peerCertRule(p: ProbeResult, announced: Buffer): RuleResult {
  const id = 'mtls.peer-cert';
  if (!p.connected || p.tls === undefined) return notReached([id], 'no connection (transport.connect)')[0]!;
  const t = p.tls;
  const same = t.presentedDer?.equals(announced) === true;
  const verified = t.authorizationError === undefined ? 'verifies against field 6' : `does not verify against field 6 (${t.authorizationError})`;
  const ours = t.accepted ? 'accepted our client certificate' : `refused the connection: ${t.error}`;
  const evidence = `TLS server ${presentedText(t, announced)}, ${verified}, ${ours}`;
  if (same && t.accepted) return pass(id, evidence);
  return fail(id, evidence, 'Serve TLS with the very certificate printed in field 6 and trust the one in PLUGIN_CLIENT_CERT (client auth required).');
}
