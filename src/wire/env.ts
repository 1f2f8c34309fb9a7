/**
 * The go-plugin environment contract: what a host puts in a plugin's environment (buildPluginEnv) and
 * what a plugin reads from it (readPluginEnv). Go's texts are kept for every error a user can hit.
 */
import { DEFAULT_MAX_PORT, DEFAULT_MIN_PORT } from '../core/constants';
import { ConfigError } from '../core/errors';
import { formatProtocolVersions, parseProtocolVersions } from './handshake';
import { goParseBool, goParseInt } from '../core/go/strconv';

/** Environment variables of the go-plugin protocol, in one place. */
export const ENV = {
  MIN_PORT: 'PLUGIN_MIN_PORT',
  MAX_PORT: 'PLUGIN_MAX_PORT',
  PROTOCOL_VERSIONS: 'PLUGIN_PROTOCOL_VERSIONS',
  CLIENT_CERT: 'PLUGIN_CLIENT_CERT',
  MULTIPLEX_GRPC: 'PLUGIN_MULTIPLEX_GRPC',
  UNIX_SOCKET_DIR: 'PLUGIN_UNIX_SOCKET_DIR',
  UNIX_SOCKET_GROUP: 'PLUGIN_UNIX_SOCKET_GROUP',
} as const;

/** go-plugin's HandshakeConfig: both sides must agree on all three values. */
export interface HandshakeConfig {
  /** Default app protocol version (go-plugin's ProtocolVersion); ignored where versioned plugin sets are given. */
  protocolVersion: number;
  magicCookieKey: string;
  magicCookieValue: string;
}

export const COOKIE_MISCONFIGURED_TEXT =
  'Misconfigured ServeConfig given to serve this plugin: no magic cookie\n' +
  'key or value was set. Please notify the plugin author and report\n' +
  'this as a bug.\n';

export const NOT_A_PLUGIN_TEXT =
  'This binary is a plugin. These are not meant to be executed directly.\n' +
  'Please execute the program that consumes these plugins, which will\n' +
  'load any plugins automatically\n';
/** Its first line: what a host finds in a stderr tail. */
export const NOT_A_PLUGIN_FIRST_LINE = NOT_A_PLUGIN_TEXT.split('\n')[0] as string;

export interface BuildPluginEnvOptions {
  handshake: HandshakeConfig;
  /** App protocol versions the host offers, in the order to print them. */
  versions: readonly number[];
  /** Start from this environment instead of process.env; `null` for nothing (go-plugin's SkipHostEnv). */
  hostEnv: NodeJS.ProcessEnv | null;
  /** The embedding application's own variables, applied before the host environment (go-plugin's cmd.Env). */
  extraEnv?: Readonly<Record<string, string>>;
  minPort?: number;
  maxPort?: number;
  multiplex?: boolean;
  /** The host's AutoMTLS certificate (PEM). */
  clientCertPem?: string;
  unixSocketGroup?: string;
  unixSocketDir?: string;
}

/**
 * Builds the child environment in go-plugin's order: the application's variables, then (unless
 * skipped) the host environment, then the protocol variables. Later entries win, as in Go's exec.Cmd,
 * so an inherited variable overrides one the application set (a Go quirk kept for parity) and the
 * protocol variables override both.
 */
export function buildPluginEnv(o: BuildPluginEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v === undefined) return;
    // Re-inserting moves the key to the end, keeping the final order faithful to Go's.
    delete env[k];
    env[k] = v;
  };
  for (const [k, v] of Object.entries(o.extraEnv ?? {})) put(k, v);
  for (const [k, v] of Object.entries(o.hostEnv ?? {})) put(k, v);
  let min = o.minPort ?? 0;
  let max = o.maxPort ?? 0;
  if (min === 0 && max === 0) {
    min = DEFAULT_MIN_PORT;
    max = DEFAULT_MAX_PORT;
  }
  put(o.handshake.magicCookieKey, o.handshake.magicCookieValue);
  put(ENV.MIN_PORT, String(min));
  put(ENV.MAX_PORT, String(max));
  put(ENV.PROTOCOL_VERSIONS, formatProtocolVersions(o.versions));
  if (o.multiplex) put(ENV.MULTIPLEX_GRPC, 'true');
  if (o.clientCertPem !== undefined) put(ENV.CLIENT_CERT, o.clientCertPem);
  if (o.unixSocketGroup !== undefined) put(ENV.UNIX_SOCKET_GROUP, o.unixSocketGroup);
  if (o.unixSocketDir !== undefined) put(ENV.UNIX_SOCKET_DIR, o.unixSocketDir);
  return env;
}

/** What a plugin learns from its environment. */
export interface PluginEnv {
  /** Versions the host offers; undefined for a legacy host that sent none. */
  hostVersions: number[] | undefined;
  /** Entries of PLUGIN_PROTOCOL_VERSIONS that were not numbers (Go reports and skips them). */
  invalidVersions: string[];
  /** Port range for a TCP listener; 0/0 means an ephemeral port. */
  minPort: number;
  maxPort: number;
  /** The host's certificate, when it wants AutoMTLS. */
  clientCertPem: string | undefined;
  /** PLUGIN_MULTIPLEX_GRPC was non-empty: field 7 must be printed. */
  muxAsked: boolean;
  /** PLUGIN_MULTIPLEX_GRPC parsed as true: the broker runs multiplexed. */
  muxEnabled: boolean;
  unixSocketDir: string | undefined;
  unixSocketGroup: string | undefined;
}

/** Checks the magic cookie; returns the text go-plugin prints (then exits 1) when it does not match. */
export function checkMagicCookie(handshake: HandshakeConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (handshake.magicCookieKey === '' || handshake.magicCookieValue === '') return COOKIE_MISCONFIGURED_TEXT;
  if ((env[handshake.magicCookieKey] ?? '') !== handshake.magicCookieValue) return NOT_A_PLUGIN_TEXT;
  return undefined;
}

function parsePort(name: string, value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const r = goParseInt(value, 32);
  if (!r.ok) {
    throw new ConfigError('ERR_LOOPP_ENV', `Couldn't get value from ${name}: ${r.error}`, {
      input: value,
      hint: `${name} must be a decimal port number.`,
    });
  }
  return r.value;
}

/** Reads the plugin side of the contract. Throws ConfigError (Go's texts) for a bad port range. */
export function readPluginEnv(env: NodeJS.ProcessEnv): PluginEnv {
  const invalidVersions: string[] = [];
  const hostVersions = parseProtocolVersions(env[ENV.PROTOCOL_VERSIONS], (e) => invalidVersions.push(e));
  const minPort = parsePort(ENV.MIN_PORT, env[ENV.MIN_PORT]);
  const maxPort = parsePort(ENV.MAX_PORT, env[ENV.MAX_PORT]);
  if (minPort > maxPort) {
    throw new ConfigError('ERR_LOOPP_ENV', `${ENV.MIN_PORT} value of ${minPort} is greater than ${ENV.MAX_PORT} value of ${maxPort}`, {
      input: { minPort, maxPort },
      hint: 'Swap the two values.',
    });
  }
  if (minPort < 0 || maxPort > 65535) {
    throw new ConfigError('ERR_LOOPP_ENV', `port range ${minPort}..${maxPort} is outside 0..65535`, {
      input: { minPort, maxPort },
      hint: `${ENV.MIN_PORT} and ${ENV.MAX_PORT} must be TCP ports.`,
    });
  }
  const mux = env[ENV.MULTIPLEX_GRPC] ?? '';
  const muxBool = goParseBool(mux);
  const cert = env[ENV.CLIENT_CERT];
  return {
    hostVersions,
    invalidVersions,
    minPort,
    maxPort,
    clientCertPem: cert === undefined || cert === '' ? undefined : cert,
    muxAsked: mux !== '',
    muxEnabled: muxBool.ok && muxBool.value,
    unixSocketDir: env[ENV.UNIX_SOCKET_DIR] || undefined,
    unixSocketGroup: env[ENV.UNIX_SOCKET_GROUP] || undefined,
  };
}
