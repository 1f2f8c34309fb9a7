/**
 * loopp's error hierarchy. Every error has a stable `code` (match on it, not on the message), the
 * offending input where there is one, and a `hint` saying what to do. Messages keep go-plugin's own
 * wording wherever go-plugin has one, so logs and searches line up with the Go ecosystem.
 *
 * Each code belongs to exactly one class and means one thing: the constructors only accept their own
 * codes, and ERROR_CODES (from which docs/errors.md is checked) says which class and what it means.
 * Errors are immutable once built; `withStderrTail` returns a new, complete error.
 */

/** Every code, the class that owns it and what it means. */
export const ERROR_CODES = {
  ERR_LOOPP_CONFIG: { class: 'ConfigError', meaning: 'An option or argument is invalid (misuse of the API).' },
  ERR_LOOPP_ENV: { class: 'ConfigError', meaning: 'An environment variable (or env file) is missing or invalid.' },
  ERR_LOOPP_DESCRIPTORS: { class: 'ConfigError', meaning: 'servePlugin `reflection.descriptors`: not a FileDescriptorSet or a list of FileDescriptorProtos.' },

  ERR_LOOPP_HANDSHAKE_MALFORMED: { class: 'HandshakeError', meaning: "The plugin's first stdout line is not a handshake line." },
  ERR_LOOPP_CORE_VERSION: { class: 'HandshakeError', meaning: 'Handshake field 1 (core protocol version) is not 1.' },
  ERR_LOOPP_APP_VERSION: { class: 'HandshakeError', meaning: 'Handshake field 2 names an app protocol version the host does not offer.' },
  ERR_LOOPP_PROTOCOL: { class: 'HandshakeError', meaning: 'Handshake field 5 is not grpc (netrpc plugins only work with Go).' },
  ERR_LOOPP_ADDRESS: { class: 'HandshakeError', meaning: 'Handshake fields 3-4 are not a unix socket path or a tcp host:port.' },
  ERR_LOOPP_SERVER_CERT: { class: 'HandshakeError', meaning: 'Handshake field 6 is not a usable AutoMTLS certificate, or is missing under AutoMTLS.' },
  ERR_LOOPP_MUX_UNSUPPORTED: { class: 'HandshakeError', meaning: 'Multiplexing was requested and handshake field 7 does not say true.' },

  ERR_LOOPP_SPAWN: { class: 'StartError', meaning: 'The executable could not be started.' },
  ERR_LOOPP_CHECKSUM: { class: 'StartError', meaning: 'secureConfig: the executable could not be checked, or its digest differs.' },
  ERR_LOOPP_START_TIMEOUT: { class: 'StartError', meaning: 'The start (handshake line, connection, first TLS handshake) took longer than startTimeoutMs.' },
  ERR_LOOPP_EXITED_BEFORE_HANDSHAKE: { class: 'StartError', meaning: 'The plugin exited before printing its handshake line.' },
  ERR_LOOPP_ABORTED: { class: 'StartError', meaning: "The start's signal was aborted; the child is gone." },
  ERR_LOOPP_CONNECT: { class: 'StartError', meaning: 'The handshake was fine but its address could not be connected to.' },
  ERR_LOOPP_TLS: { class: 'StartError', meaning: 'AutoMTLS: the process at the address is not the one that printed the handshake (certificate refused).' },
  ERR_LOOPP_PROCESS_NOT_FOUND: { class: 'StartError', meaning: 'reattachPlugin: nothing accepts connections at the reattach address.' },

  ERR_LOOPP_UNKNOWN_PLUGIN: { class: 'PluginError', meaning: 'dispense(name): no plugin of that name (or without a client factory) in the negotiated set.' },
  ERR_LOOPP_CLOSED: { class: 'PluginError', meaning: 'The plugin client or server is closed, or its process exited.' },
  ERR_LOOPP_LISTEN: { class: 'PluginError', meaning: 'A listener (plugin socket, broker socket) could not be created.' },

  ERR_LOOPP_BROKER: { class: 'BrokerError', meaning: 'A broker message or multiplexed knock was refused or malformed.' },
  ERR_LOOPP_BROKER_TIMEOUT: { class: 'BrokerError', meaning: 'dial(id): no connection info (or knock ack) for the id within 5 s.' },
  ERR_LOOPP_BROKER_CLOSED: { class: 'BrokerError', meaning: 'The broker or its stream is closed.' },

  ERR_LOOPP_YAMUX: { class: 'YamuxError', meaning: 'The multiplexed (yamux) connection failed; `kind` says how.' },

  ERR_LOOPP_LOOP_EXISTS: { class: 'LoopError', meaning: 'LoopRegistry.register: the id is already registered.' },
  ERR_LOOPP_FREE_PORT: { class: 'LoopError', meaning: 'LoopRegistry: no free Prometheus port could be had.' },
  ERR_LOOPP_LOOP_UNAVAILABLE: { class: 'LoopError', meaning: "LoopService: the LOOP's service does not exist right now (plugin unavailable)." },
  ERR_LOOPP_LOOP_CLOSED: { class: 'LoopError', meaning: 'A LOOP object (service, Prometheus server) is closed.' },
  ERR_LOOPP_LOOP_LISTEN: { class: 'LoopError', meaning: "The LOOP's Prometheus server could not listen on its port." },
  ERR_LOOPP_LOOP_CALL: { class: 'LoopError', meaning: "A call into a LOOP failed; the message names the method and carries the plugin's text." },
  ERR_LOOPP_LOOP_UNIMPLEMENTED: { class: 'LoopError', meaning: "The LOOP answered gRPC Unimplemented: it does not serve this method (`input` names it, e.g. `Relayer.GetChainInfo`)." },
  ERR_LOOPP_LOOP_CODEC: { class: 'LoopError', meaning: 'A LOOP payload (versioned bytes, JSON, CBOR) could not be encoded or decoded.' },
  ERR_LOOPP_STATE: { class: 'LoopError', meaning: 'A LOOP object was used out of its lifecycle (started twice, used before start).' },
  ERR_LOOPP_PANIC: { class: 'LoopError', meaning: "The LOOP plugin logger's panic(): logged, then thrown." },
  ERR_LOOPP_SERVICE: { class: 'ServiceError', meaning: 'Several LOOP sub-services failed at once; `errors` lists them.' },
} as const satisfies Record<string, { class: string; meaning: string }>;

export type LooppErrorCode = keyof typeof ERROR_CODES;
type CodeOf<C extends string> = { [K in LooppErrorCode]: (typeof ERROR_CODES)[K]['class'] extends C ? K : never }[LooppErrorCode];
export type ConfigErrorCode = CodeOf<'ConfigError'>;
export type HandshakeErrorCode = CodeOf<'HandshakeError'>;
export type StartErrorCode = CodeOf<'StartError'>;
export type PluginErrorCode = CodeOf<'PluginError'>;
export type BrokerErrorCode = CodeOf<'BrokerError'>;
export type YamuxErrorCode = CodeOf<'YamuxError'>;
export type LoopErrorCode = CodeOf<'LoopError'>;
export type ServiceErrorCode = CodeOf<'ServiceError'>;

export interface LooppErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** The offending input (a line, a variable value, an option). Never secrets. */
  input?: unknown;
  cause?: unknown;
}

export abstract class LooppError extends Error {
  readonly code: LooppErrorCode;
  readonly hint: string | undefined;
  readonly input: unknown;

  protected constructor(code: LooppErrorCode, message: string, options: LooppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.input = options.input;
  }

  /** Brand check that survives duplicated copies of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== LooppError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: boolean })[BRAND] === true;
  }
}
const BRAND = Symbol.for('loopp.error');
Object.defineProperty(LooppError.prototype, BRAND, { value: true });
LooppError.prototype.name = 'LooppError';

/** A LooppError whose constructor takes exactly the codes `C` (the ones its class owns). */
export abstract class LooppErrorBase<C extends LooppErrorCode> extends LooppError {
  declare readonly code: C;
  constructor(code: C, message: string, options: LooppErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Bad options, bad environment variables, misuse of the API. */
export class ConfigError extends LooppErrorBase<ConfigErrorCode> {}
ConfigError.prototype.name = 'ConfigError';

/** The tail of the plugin's stderr a start failure carries (the last lines it wrote). */
interface StderrTailOptions {
  stderrTail?: string;
}

/**
 * The plugin's handshake line was unusable, or its versions do not match ours.
 * Carries the raw `line` and, from startPlugin, the last lines the plugin wrote to stderr.
 */
export class HandshakeError extends LooppErrorBase<HandshakeErrorCode> {
  readonly line: string | undefined;
  readonly stderrTail: string;
  constructor(code: HandshakeErrorCode, message: string, options: LooppErrorOptions & StderrTailOptions & { line?: string } = {}) {
    super(code, message, { ...options, input: options.input ?? options.line });
    this.line = options.line;
    this.stderrTail = options.stderrTail ?? '';
  }

  /** The same error, complete with the plugin's stderr tail. */
  withStderrTail(stderrTail: string): HandshakeError {
    return new HandshakeError(this.code, this.message, { line: this.line, input: this.input, hint: this.hint, cause: this.cause, stderrTail });
  }
}
HandshakeError.prototype.name = 'HandshakeError';

/** The plugin could not be started or connected to: spawn, checksum, timeout, early exit, abort, connect, TLS. */
export class StartError extends LooppErrorBase<StartErrorCode> {
  readonly stderrTail: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  constructor(
    code: StartErrorCode,
    message: string,
    options: LooppErrorOptions & StderrTailOptions & { exitCode?: number | null; signal?: NodeJS.Signals | null } = {},
  ) {
    super(code, message, options);
    this.stderrTail = options.stderrTail ?? '';
    this.exitCode = options.exitCode ?? null;
    this.signal = options.signal ?? null;
  }

  /** The same error, complete with the plugin's stderr tail. */
  withStderrTail(stderrTail: string): StartError {
    const { code, message, input, hint, cause, exitCode, signal } = this;
    return new StartError(code, message, { input, hint, cause, exitCode, signal, stderrTail });
  }
}
StartError.prototype.name = 'StartError';

/** A running plugin connection or server: closed, unknown plugin name, listener failure. */
export class PluginError extends LooppErrorBase<PluginErrorCode> {}
PluginError.prototype.name = 'PluginError';

/** GRPCBroker failures; `id` is the broker service id involved. */
export class BrokerError extends LooppErrorBase<BrokerErrorCode> {
  readonly id: number | undefined;
  constructor(code: BrokerErrorCode, message: string, options: LooppErrorOptions & { id?: number } = {}) {
    super(code, message, { ...options, input: options.input ?? options.id });
    this.id = options.id;
  }
}
BrokerError.prototype.name = 'BrokerError';

/** The LOOP layer (loopp/loop): registry, supervision, LOOP calls and payloads, the plugin server base. */
export class LoopError extends LooppErrorBase<LoopErrorCode> {}
LoopError.prototype.name = 'LoopError';

export function isLooppError(value: unknown): value is LooppError {
  return value instanceof LooppError;
}

/** Message of an unknown thrown value, for wrapping. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
