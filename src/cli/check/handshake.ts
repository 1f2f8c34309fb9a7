/**
 * Rules on the handshake line, field by field, judged on the line as printed. A field that breaks
 * its rule does not stop the others: check goes on with whatever the line still makes usable.
 */
import * as path from 'node:path';
import { CORE_PROTOCOL_VERSION, decodeHandshakeCert, parseHandshakeLine, type Network } from '../../protocol';
import type { LaunchPlan } from '../launch-options';
import type { Launch } from './launch';
import { fail, notApplicable, notReached, pass, verdict, type RuleId, type RuleResult } from './rules';

/** What the line gives the rest of the check (set when fields 3 and 4 are usable). */
export interface Announced {
  readonly network: Network;
  readonly address: string;
  /** Field 6 decoded, when it is a certificate. */
  readonly certDer: Buffer | undefined;
  /** Field 7 as printed. */
  readonly muxField: string | undefined;
}

export interface HandshakeVerdict {
  readonly results: RuleResult[];
  /** undefined: the line is not a handshake at all (the plugin cannot be started). */
  readonly fields: readonly string[] | undefined;
  readonly announced: Announced | undefined;
}

const FIELD_RULES: readonly RuleId[] = [
  'handshake.core-version',
  'handshake.app-version',
  'handshake.network',
  'handshake.address',
  'handshake.protocol',
  'handshake.server-cert',
  'handshake.mux',
];

/** The line with field 6 shortened: a certificate is 1 000+ characters of base64. */
export function shortLine(line: string): string {
  const parts = line.split('|');
  if (parts.length >= 6 && (parts[5] as string).length > 40) parts[5] = `${(parts[5] as string).slice(0, 24)}…(${(parts[5] as string).length} chars)`;
  const s = parts.join('|');
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

const TCP_ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]*):([0-9]{1,5})$/;

function integer(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
}

function coreVersion(field: string): RuleResult {
  return verdict('handshake.core-version', integer(field) === CORE_PROTOCOL_VERSION, `field 1 = ${JSON.stringify(field)}`, 'Print 1: the go-plugin core protocol version every go-plugin v1.x host speaks.');
}

function appVersion(field: string, plan: LaunchPlan): RuleResult {
  const v = integer(field);
  const evidence = `field 2 = ${JSON.stringify(field)}; offered PLUGIN_PROTOCOL_VERSIONS=${plan.versions.join(',')}`;
  return verdict('handshake.app-version', v !== undefined && plan.versions.includes(v), evidence, 'Print the newest version in PLUGIN_PROTOCOL_VERSIONS that the plugin serves (go-plugin\'s VersionedPlugins).');
}

function network(field: string): RuleResult {
  return verdict('handshake.network', field === 'unix' || field === 'tcp', `field 3 = ${JSON.stringify(field)}`, 'Print "unix" (a unix socket) or "tcp".');
}

function addressOk(net: string, address: string): boolean {
  if (net === 'unix') return address !== '' && path.isAbsolute(address);
  const m = TCP_ADDRESS.exec(address);
  return m !== null && Number(m[2]) <= 65535;
}

function address(net: string, field: string): RuleResult {
  if (net !== 'unix' && net !== 'tcp') return notReached(['handshake.address'], 'field 3 names no network (handshake.network)')[0]!;
  const hint = net === 'unix' ? 'Print the absolute path of the listening socket.' : 'Print the listener as 127.0.0.1:PORT.';
  return verdict('handshake.address', addressOk(net, field), `field 4 = ${JSON.stringify(field)} (${net})`, hint);
}

function protocol(fields: readonly string[]): RuleResult {
  const field = fields.length === 4 ? undefined : fields[4];
  const evidence = field === undefined ? 'field 5 missing (go-plugin reads that as netrpc)' : `field 5 = ${JSON.stringify(field)}`;
  return verdict('handshake.protocol', field === 'grpc', evidence, 'Serve gRPC and print "grpc": net/rpc plugins only work with Go hosts.');
}

function decodeCert(field: string | undefined): { der?: Buffer; error?: string } {
  if (field === undefined || field.length <= 50) return { error: field === undefined || field === '' ? 'field 6 is empty' : `field 6 is ${field.length} characters (a certificate is more than 50)` };
  try {
    return { der: decodeHandshakeCert(field) };
  } catch (err) {
    return { error: `field 6 is not a certificate: ${(err as Error).message}` };
  }
}

function serverCert(field: string | undefined, plan: LaunchPlan): RuleResult {
  if (!plan.autoMTLS) return notApplicable('handshake.server-cert', `AutoMTLS off (--no-automtls); field 6 = ${JSON.stringify(field ?? '')}`);
  const { der, error } = decodeCert(field);
  if (der === undefined) return fail('handshake.server-cert', error!, 'With PLUGIN_CLIENT_CERT set, serve TLS and print the server certificate as base64 of its DER (std encoding, no padding removed).');
  return pass('handshake.server-cert', `field 6: a ${der.length}-byte DER certificate`);
}

function mux(field: string | undefined, plan: LaunchPlan): RuleResult {
  const seen = field === undefined ? 'field 7 absent' : `field 7 = ${JSON.stringify(field)}`;
  if (!plan.mux) return notApplicable('handshake.mux', `multiplexing not asked (no --mux); ${seen}`);
  return verdict('handshake.mux', field === 'true', `PLUGIN_MULTIPLEX_GRPC=true; ${seen}`, 'When PLUGIN_MULTIPLEX_GRPC is true, serve the multiplexed broker and print "true" in field 7.');
}

/** Fields 3 and 4 when both are usable, and the certificate of field 6. */
function announcedOf(fields: readonly string[]): Announced | undefined {
  const [, , net, addr] = fields as [string, string, string, string];
  if ((net !== 'unix' && net !== 'tcp') || !addressOk(net, addr)) return undefined;
  return { network: net, address: addr, certDer: decodeCert(fields[5]).der, muxField: fields[6] };
}

/** Judges the main launch's first line. */
export function judgeHandshake(l: Launch, plan: LaunchPlan): HandshakeVerdict {
  if (l.line === undefined) {
    const f = l.failure!;
    const results = [fail('handshake.line', `no handshake line: ${f.message.split('\n')[0]} (${f.code})`, f.hint), ...notReached(FIELD_RULES, 'no handshake line (handshake.line)')];
    return { results, fields: undefined, announced: undefined };
  }
  const line = l.line.trim();
  const fields = line.split('|');
  if (fields.length < 4) {
    const hint = 'The first line on stdout must be the handshake: print nothing before it (logs go to stderr).';
    const results = [fail('handshake.line', `first stdout line is not a handshake: ${JSON.stringify(shortLine(line))}`, hint), ...notReached(FIELD_RULES, 'no handshake line (handshake.line)')];
    return { results, fields: undefined, announced: undefined };
  }
  const results = [
    pass('handshake.line', `${JSON.stringify(shortLine(line))} after ${l.lineMs} ms`),
    coreVersion(fields[0]!),
    appVersion(fields[1]!, plan),
    network(fields[2]!),
    address(fields[2]!, fields[3]!),
    protocol(fields),
    serverCert(fields[5], plan),
    mux(fields[6], plan),
  ];
  return { results, fields, announced: announcedOf(fields) };
}

/** A version the plugin surely lacks: above everything offered. */
export function unsupportedVersion(plan: LaunchPlan): number {
  return Math.max(9999, ...plan.versions.map((v) => v + 1));
}

/** What a Go host says to the line when it offered only `version`. */
function goHostSays(line: string, version: number): string {
  try {
    parseHandshakeLine(line, { hostVersions: [version] });
    return 'a host accepts it';
  } catch (err) {
    return `a host refuses it: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Judges the launch that offered only `version`, which the plugin does not serve. */
export function judgeWrongVersion(l: Launch, version: number): RuleResult {
  const id = 'handshake.wrong-version';
  if (l.line === undefined) {
    const exit = l.exit();
    const ended = exit === undefined ? l.failure!.message.split('\n')[0] : `exited with ${exit.signal ?? `status ${exit.code}`} before a handshake`;
    const said = l.stderr().trim().split('\n').filter(Boolean).slice(-1)[0];
    const evidence = `offered only ${version}: ${ended}${said === undefined ? '' : `; last stderr line: ${JSON.stringify(said.slice(0, 200))}`}`;
    const ok = exit !== undefined;
    return verdict(id, ok, evidence, 'Exit with an error (or print your own version) when no offered version is served: a host waits for the start timeout otherwise.');
  }
  const field = l.line.trim().split('|')[1] ?? '';
  const evidence = `offered only ${version}: printed ${JSON.stringify(shortLine(l.line.trim()))}; ${goHostSays(l.line, version)}`;
  return verdict(id, integer(field) !== version, evidence, `Do not echo PLUGIN_PROTOCOL_VERSIONS: print a version the plugin serves (go-plugin prints its default ProtocolVersion), and the host refuses a mismatch.`);
}
