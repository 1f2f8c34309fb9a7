/**
 * Host side: re-logging a LOOP's log lines into the node's logger the way chainlink's hclog sink
 * adapter does. Lines keep their level, except that panics and fatals (which a Go host would log at
 * debug, not knowing those levels) are raised to critical: a `panic:` text line (and, as go-plugin
 * ≥1.7 does, the untagged lines after it) becomes `[PANIC] …`, a JSON line at level fatal `[FATAL] …`,
 * and JSON levels critical/dpanic/panic stay critical with their message. The plugin line's `logger`
 * key names the sub-logger.
 */
import type { PluginLogEntry } from '../../host/stderr';

export type LoopLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical';

export interface LoopLogRecord {
  level: LoopLogLevel;
  message: string;
  /** The plugin's dotted logger name (its `logger` key), when it sent one. */
  logger: string | undefined;
  fields: Record<string, unknown>;
}

/** Receives re-logged LOOP lines; `critical` falls back to `error` when absent. */
export interface LoopLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  critical?(message: string, fields?: Record<string, unknown>): void;
}

const CRITICAL_JSON_LEVELS = new Set(['critical', 'dpanic', 'panic']);

function fromJson(raw: string): { level: string; message: string; fields: Record<string, unknown> } | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const obj = v as Record<string, unknown>;
    const level = typeof obj['@level'] === 'string' ? (obj['@level'] as string).trim().toLowerCase() : '';
    const message = typeof obj['@message'] === 'string' ? (obj['@message'] as string) : String(obj['@message'] ?? '');
    const fields: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(obj)) if (k !== '@level' && k !== '@message' && k !== '@timestamp') fields[k] = val;
    return { level, message, fields };
  } catch {
    return undefined;
  }
}

/** Classifies one parsed stderr entry (from startPlugin's onLog) as chainlink's host would log it. */
export function classifyLoopLog(entry: PluginLogEntry): LoopLogRecord {
  let fields = { ...entry.fields };
  let message = entry.message;
  let level: LoopLogLevel;
  if (entry.json) {
    level = entry.level === 'trace' ? 'debug' : entry.level;
  } else {
    // Levels go-plugin does not know arrive here as raw JSON text at debug.
    const j = fromJson(entry.raw);
    if (j !== undefined && j.level === 'fatal') {
      level = 'critical';
      message = `[FATAL] ${j.message}`;
      fields = j.fields;
    } else if (j !== undefined && CRITICAL_JSON_LEVELS.has(j.level)) {
      level = 'critical';
      message = j.message;
      fields = j.fields;
    } else if (entry.message.startsWith('panic:')) {
      level = 'critical';
      message = `[PANIC] ${entry.message}`;
    } else {
      // Text lines after a panic arrive at error (go-plugin ≥1.7's panic mode): the stack trace.
      level = entry.level === 'trace' ? 'debug' : entry.level;
    }
  }
  const logger = typeof fields.logger === 'string' ? fields.logger : undefined;
  if (logger !== undefined) delete fields.logger;
  return { level, message, logger, fields };
}

/** An onLog handler for startPlugin that re-logs into `logger`. */
export function createLoopRelogger(logger: LoopLogger, onRecord?: (r: LoopLogRecord) => void): (entry: PluginLogEntry) => void {
  return (entry) => {
    const r = classifyLoopLog(entry);
    onRecord?.(r);
    const fields = r.logger === undefined ? r.fields : { ...r.fields, logger: r.logger };
    if (r.level === 'critical') (logger.critical ?? logger.error).call(logger, r.message, fields);
    else logger[r.level](r.message, fields);
  };
}
