/**
 * The one logger shape loopp speaks: a message and optional structured fields per level. `console`,
 * pino, winston-style loggers and loopp's own hclog and LOOP loggers all fit it. Plugins' log lines
 * reach a host through it (`startPlugin({ logger })`), and a LOOP host re-logs through it with
 * `critical` for panics (falling back to `error` when a logger has no `critical`).
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  trace?(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  critical?(message: string, fields?: LogFields): void;
}

/** The levels of Logger, least severe first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';

/**
 * Logs at `level` through `logger`, falling back to the nearest level it has (trace → debug,
 * critical → error). A logger that throws never takes the caller down.
 */
export function logAt(logger: Logger, level: LogLevel, message: string, fields?: LogFields): void {
  const fn = level === 'trace' ? (logger.trace ?? logger.debug) : level === 'critical' ? (logger.critical ?? logger.error) : logger[level];
  try {
    fn.call(logger, message, fields);
  } catch {
    // a broken user logger must not break the host or the plugin
  }
}
