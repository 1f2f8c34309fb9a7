/**
 * The go-plugin handshake line: `CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT[|MUX]`.
 * Pure functions only; both sides of loopp use them, and the parser follows a Go host's order of
 * checks and error texts (go-plugin v1.6.x wording) so a failure reads the same as from a Go host.
 */
import { CORE_PROTOCOL_VERSION } from '../core/constants';
import { HandshakeError, type HandshakeErrorCode } from '../core/errors';
import { goAtoi, goIntSlice, goParseBool } from '../core/go/strconv';

export type Network = 'unix' | 'tcp';

/** `Cert` is what field 6 decodes to: its text by default, DER when the host passes a decoder. */
export interface Handshake<Cert = string> {
  coreVersion: number;
  /** The app protocol version the plugin chose. */
  appVersion: number;
  network: Network;
  /** Absolute socket path, or `host:port`. */
  address: string;
  protocol: 'grpc';
  /**
   * The plugin's AutoMTLS certificate, when field 6 carried one (more than 50 characters): the field's
   * text, or what `decodeServerCert` made of it.
   */
  serverCert: Cert | undefined;
  /** Field 7: undefined when absent (the host did not ask, or an old plugin). */
  muxSupported: boolean | undefined;
}

export interface ParseHandshakeOptions<Cert = string> {
  /** Versions the host can speak; the plugin's choice must be one of them. */
  hostVersions: readonly number[];
  /** The host asked for the multiplexed broker (PLUGIN_MULTIPLEX_GRPC); field 7 must then say true. */
  muxRequested?: boolean;
  /** Appended to "Unrecognized remote plugin message" errors (go-plugin's runner Diagnose text). */
  diagnose?: string;
  /**
   * Decodes field 6 where a Go host does (after field 5, before field 7), e.g. net/mtls's
   * decodeHandshakeCert; it throws a HandshakeError `ERR_LOOPP_SERVER_CERT` for a bad certificate.
   * Without it, field 6 is passed on as text.
   */
  decodeServerCert?: (field: string) => Cert;
}

/** go-plugin's generic explanation appended to an unrecognised handshake line. */
export const DIAGNOSE_TEXT =
  'This usually means\n' +
  '  the plugin was not compiled for this architecture,\n' +
  '  the plugin is missing dynamic-link libraries necessary to run,\n' +
  '  the plugin is not executable by this process due to file permissions, or\n' +
  '  the plugin failed to negotiate the initial go-plugin protocol handshake\n';

export const MUX_UNSUPPORTED_TEXT =
  'client requested gRPC broker multiplexing but plugin does not support the feature; for Go plugins, ' +
  'you will need to update the github.com/hashicorp/go-plugin dependency and recompile';

/** Go's net.ResolveTCPAddr accepts `host:port` with an optional host; we accept what a plugin can print. */
const TCP_ADDR_RE = /^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]*):([0-9]{1,5})$/;

/**
 * Parses the first stdout line of a plugin as a go-plugin host does. Throws a HandshakeError whose
 * `code` says which check failed and whose message is the Go host's text.
 */
export function parseHandshakeLine<Cert = string>(rawLine: string, options: ParseHandshakeOptions<Cert>): Handshake<Cert> {
  const line = rawLine.trim();
  const parts = line.split('|');
  const fail = (code: HandshakeErrorCode, message: string, hint: string) =>
    new HandshakeError(code, message, { line, hint });

  if (parts.length < 4) {
    throw fail(
      'ERR_LOOPP_HANDSHAKE_MALFORMED',
      `Unrecognized remote plugin message: ${line}\n${options.diagnose ?? DIAGNOSE_TEXT}`,
      'The first line a plugin writes to stdout must be its handshake; make sure nothing is printed before it.',
    );
  }
  const [p0, p1, p2, p3] = parts as [string, string, string, string];

  const core = goAtoi(p0);
  if (!core.ok) {
    throw fail('ERR_LOOPP_CORE_VERSION', `Error parsing core protocol version: ${core.error}`, 'Field 1 must be the number 1.');
  }
  if (core.value !== CORE_PROTOCOL_VERSION) {
    throw fail(
      'ERR_LOOPP_CORE_VERSION',
      `Incompatible core API version with plugin. Plugin version: ${p0}, Core version: ${CORE_PROTOCOL_VERSION}\n\n` +
        'To fix this, the plugin usually only needs to be recompiled.\nPlease report this to the plugin author.',
      'Rebuild the plugin against a go-plugin v1.x compatible library.',
    );
  }

  const app = goAtoi(p1);
  if (!app.ok) {
    throw fail('ERR_LOOPP_APP_VERSION', `Error parsing protocol version ${JSON.stringify(p1)}: ${app.error}`, 'Field 2 must be a decimal version number.');
  }
  if (!options.hostVersions.includes(app.value)) {
    throw fail(
      'ERR_LOOPP_APP_VERSION',
      `Incompatible API version with plugin. Plugin version: ${app.value}, Client versions: ${goIntSlice(options.hostVersions)}`,
      'Host and plugin share no app protocol version; upgrade one of them or add the version to the host\'s plugin sets.',
    );
  }

  let network: Network;
  if (p2 === 'unix') {
    if (p3 === '') throw fail('ERR_LOOPP_ADDRESS', `Unknown address type: ${p3}`, 'A unix address must be a socket path.');
    network = 'unix';
  } else if (p2 === 'tcp') {
    if (!TCP_ADDR_RE.test(p3) || Number(TCP_ADDR_RE.exec(p3)?.[2]) > 65535) {
      throw fail('ERR_LOOPP_ADDRESS', `Unknown address type: ${p3}`, 'A tcp address must look like 127.0.0.1:1234.');
    }
    network = 'tcp';
  } else {
    throw fail('ERR_LOOPP_ADDRESS', `Unknown address type: ${p3}`, 'Field 3 must be "unix" or "tcp".');
  }

  const protocol = parts.length === 4 ? 'netrpc' : (parts[4] as string);
  if (protocol !== 'grpc') {
    throw fail(
      'ERR_LOOPP_PROTOCOL',
      `Unsupported plugin protocol ${JSON.stringify(protocol)}. Supported: [grpc]`,
      protocol === 'netrpc'
        ? 'This plugin speaks net/rpc (gob), which only Go can decode; rebuild it with a gRPC plugin.'
        : 'Field 5 must be "grpc".',
    );
  }

  // Field 6 is a certificate only when longer than 50 characters: pre-1.0 plugins printed a 48-char
  // base64 JSON blob there, which hosts must ignore.
  let serverCert: Cert | undefined;
  const certField = parts[5];
  if (certField !== undefined && certField.length > 50) {
    const decode = options.decodeServerCert ?? ((field: string) => field as Cert);
    try {
      serverCert = decode(certField);
    } catch (err) {
      // The decoder knows the certificate, not the line: the error names both.
      if (err instanceof HandshakeError) throw new HandshakeError(err.code, err.message, { line, hint: err.hint, cause: err.cause ?? err });
      throw err;
    }
  }

  let muxSupported: boolean | undefined;
  if (parts.length >= 7) {
    const b = goParseBool(parts[6] as string);
    if (b.ok) muxSupported = b.value;
    else if (options.muxRequested) {
      throw fail(
        'ERR_LOOPP_MUX_UNSUPPORTED',
        `error parsing ${JSON.stringify(parts[6])} as a boolean for gRPC broker multiplexing support`,
        'Field 7 must be true or false.',
      );
    }
  }
  if (options.muxRequested && muxSupported !== true) {
    throw fail('ERR_LOOPP_MUX_UNSUPPORTED', MUX_UNSUPPORTED_TEXT, 'Start the plugin without grpcBrokerMultiplex, or upgrade it.');
  }

  return { coreVersion: core.value, appVersion: app.value, network, address: p3, protocol: 'grpc', serverCert, muxSupported };
}

/**
 * The unix socket a handshake line announces (fields 3 and 4), read without checking the rest: what a
 * host must clean up after it refuses the line and kills the plugin.
 */
export function announcedSocketPath(rawLine: string): string | undefined {
  const parts = rawLine.trim().split('|');
  return parts[2] === 'unix' && parts[3] !== undefined && parts[3] !== '' ? parts[3] : undefined;
}

export interface FormatHandshakeOptions {
  appVersion: number;
  network: Network;
  address: string;
  /** Unpadded base64 DER (encodeHandshakeCert); only when the host sent PLUGIN_CLIENT_CERT. */
  serverCert?: string;
  /**
   * Field 7. Set it (true or false) only when PLUGIN_MULTIPLEX_GRPC was non-empty: hosts before
   * go-plugin v1.6 split into at most 6 parts and would glue a 7th field onto the certificate.
   */
  muxSupported?: boolean;
}

/** The line a plugin prints on stdout, with its trailing newline. */
export function formatHandshakeLine(h: FormatHandshakeOptions): string {
  const fields = [String(CORE_PROTOCOL_VERSION), String(h.appVersion), h.network, h.address, 'grpc', h.serverCert ?? ''];
  if (h.muxSupported !== undefined) fields.push(String(h.muxSupported));
  return `${fields.join('|')}\n`;
}

/** Host side: the value of PLUGIN_PROTOCOL_VERSIONS. */
export function formatProtocolVersions(versions: readonly number[]): string {
  return versions.join(',');
}

/**
 * Plugin side: parses PLUGIN_PROTOCOL_VERSIONS like go-plugin (bad entries reported through
 * `onInvalid` and skipped). Returns undefined for an unset or empty variable (a legacy host).
 */
export function parseProtocolVersions(value: string | undefined, onInvalid?: (entry: string) => void): number[] | undefined {
  if (value === undefined || value === '') return undefined;
  const out: number[] = [];
  for (const entry of value.split(',')) {
    const n = goAtoi(entry);
    if (n.ok) out.push(n.value);
    else onInvalid?.(entry);
  }
  return out;
}

/**
 * Plugin side version negotiation: the highest version both sides have; with no common version (or
 * no host list) the lowest the plugin supports, which the host will then refuse with a clear error.
 */
export function negotiateVersion(pluginVersions: readonly number[], hostVersions: readonly number[] | undefined): number {
  if (pluginVersions.length === 0) throw new RangeError('negotiateVersion: the plugin offers no versions');
  const sorted = [...pluginVersions].sort((a, b) => b - a);
  if (hostVersions !== undefined) {
    for (const v of sorted) if (hostVersions.includes(v)) return v;
  }
  return sorted[sorted.length - 1] as number;
}
