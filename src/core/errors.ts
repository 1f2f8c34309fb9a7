/**
 * loopp's error hierarchy. Every error has a stable `code` (match on it, not on the message), the
 * offending input where there is one, and a `hint` saying what to do. Messages keep go-plugin's own
 * wording wherever go-plugin has one, so logs and searches line up with the Go ecosystem.
 */

export type LooppErrorCode =
  // configuration / options / environment
  | 'ERR_LOOPP_CONFIG'
  | 'ERR_LOOPP_ENV'
  // handshake line
  | 'ERR_LOOPP_HANDSHAKE_MALFORMED'
  | 'ERR_LOOPP_CORE_VERSION'
  | 'ERR_LOOPP_APP_VERSION'
  | 'ERR_LOOPP_PROTOCOL'
  | 'ERR_LOOPP_ADDRESS'
  | 'ERR_LOOPP_SERVER_CERT'
  | 'ERR_LOOPP_MUX_UNSUPPORTED'
  // start-up
  | 'ERR_LOOPP_START_TIMEOUT'
  | 'ERR_LOOPP_EXITED_BEFORE_HANDSHAKE'
  | 'ERR_LOOPP_SPAWN'
  | 'ERR_LOOPP_ABORTED'
  | 'ERR_LOOPP_CHECKSUM'
  | 'ERR_LOOPP_PROCESS_NOT_FOUND'
  // runtime
  | 'ERR_LOOPP_UNKNOWN_PLUGIN'
  | 'ERR_LOOPP_CLOSED'
  | 'ERR_LOOPP_LISTEN'
  | 'ERR_LOOPP_TLS'
  | 'ERR_LOOPP_BROKER_TIMEOUT'
  | 'ERR_LOOPP_BROKER_CLOSED'
  | 'ERR_LOOPP_BROKER'
  // multiplexed transport
  | 'ERR_LOOPP_YAMUX'
  // LOOP plugin server (src/loop): wrong lifecycle call, aggregated service errors, logger panic
  | 'ERR_LOOPP_STATE'
  | 'ERR_LOOPP_SERVICE'
  | 'ERR_LOOPP_PANIC'
  // LOOP registry (src/loop): duplicate registration, no free Prometheus port
  | 'ERR_LOOPP_LOOP_EXISTS'
  | 'ERR_LOOPP_FREE_PORT';

export interface LooppErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** The offending input (a line, a variable value, an option). Never secrets. */
  input?: unknown;
  cause?: unknown;
}

export class LooppError extends Error {
  readonly code: LooppErrorCode;
  readonly hint: string | undefined;
  readonly input: unknown;

  constructor(code: LooppErrorCode, message: string, options: LooppErrorOptions = {}) {
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

/** Bad options, bad environment variables, misuse of the API. */
export class ConfigError extends LooppError {}
ConfigError.prototype.name = 'ConfigError';

/**
 * The plugin's handshake line was unusable, or its versions do not match ours.
 * Carries the raw `line` and the last lines the plugin wrote to stderr.
 */
export class HandshakeError extends LooppError {
  readonly line: string | undefined;
  stderrTail: string;
  constructor(code: LooppErrorCode, message: string, options: LooppErrorOptions & { line?: string; stderrTail?: string } = {}) {
    super(code, message, { ...options, input: options.input ?? options.line });
    this.line = options.line;
    this.stderrTail = options.stderrTail ?? '';
  }
}
HandshakeError.prototype.name = 'HandshakeError';

/** The plugin could not be started: timeout, early exit, spawn failure, abort, checksum. */
export class StartError extends LooppError {
  stderrTail: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  constructor(
    code: LooppErrorCode,
    message: string,
    options: LooppErrorOptions & { stderrTail?: string; exitCode?: number | null; signal?: NodeJS.Signals | null } = {},
  ) {
    super(code, message, options);
    this.stderrTail = options.stderrTail ?? '';
    this.exitCode = options.exitCode ?? null;
    this.signal = options.signal ?? null;
  }
}
StartError.prototype.name = 'StartError';

/** Something went wrong on a running plugin connection (closed client, unknown plugin name, TLS, listen). */
export class PluginError extends LooppError {}
PluginError.prototype.name = 'PluginError';

/** GRPCBroker failures; `id` is the broker service id involved. */
export class BrokerError extends LooppError {
  readonly id: number | undefined;
  constructor(code: LooppErrorCode, message: string, options: LooppErrorOptions & { id?: number } = {}) {
    super(code, message, { ...options, input: options.input ?? options.id });
    this.id = options.id;
  }
}
BrokerError.prototype.name = 'BrokerError';

export function isLooppError(value: unknown): value is LooppError {
  return value instanceof LooppError;
}

/** Message of an unknown thrown value, for wrapping. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
