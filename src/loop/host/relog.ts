/**
 * Host side: re-logging a LOOP's log lines into the node's logger the way chainlink's hclog sink
 * adapter does. Lines keep their level, except that panics and fatals (which a Go host would log at
 * debug, not knowing those levels) are raised to critical: a `panic:` text line (and, as go-plugin
 * ≥1.7 does, the untagged lines after it) becomes `[PANIC] …`, a JSON line at level fatal `[FATAL] …`,
 * and JSON levels critical/dpanic/panic stay critical with their message. The plugin line's `logger`
 * key names the sub-logger.
 */
import { logAt } from '../../core/logger';
import type { Logger, PluginLogEntry } from '../../index';

export type LoopLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical';

export interface LoopLogRecord {
  level: LoopLogLevel;
  message: string;
  /** The plugin's dotted logger name (its `logger` key), when it sent one. */
  logger: string | undefined;
  fields: Record<string, unknown>;
}

/** zap levels go-plugin does not know, which chainlink's host logs at critical. */
const CRITICAL_LEVELS = new Set(['critical', 'dpanic', 'panic']);

/** Classifies one parsed stderr entry (from startPlugin's onLog) as chainlink's host would log it. */
export function classifyLoopLog(entry: PluginLogEntry): LoopLogRecord {
  let fields = { ...entry.fields };
  let message = entry.message;
  let level: LoopLogLevel = entry.level === 'trace' ? 'debug' : entry.level;
  const unleveled = entry.unleveled;
  const zapLevel = unleveled?.rawLevel.trim().toLowerCase();
  if (unleveled !== undefined && zapLevel === 'fatal') {
    level = 'critical';
    message = `[FATAL] ${unleveled.message}`;
    fields = { ...unleveled.fields };
  } else if (unleveled !== undefined && zapLevel !== undefined && CRITICAL_LEVELS.has(zapLevel)) {
    level = 'critical';
    message = unleveled.message;
    fields = { ...unleveled.fields };
  } else if (!entry.json && entry.message.startsWith('panic:')) {
    level = 'critical';
    message = `[PANIC] ${entry.message}`;
  }
  // Text lines after a panic already arrive at error (go-plugin ≥1.7's panic mode): the stack trace.
  const logger = typeof fields.logger === 'string' ? fields.logger : undefined;
  if (logger !== undefined) delete fields.logger;
  return { level, message, logger, fields };
}

/** An onLog handler for startPlugin that re-logs into `logger`. */
export function createLoopRelogger(logger: Logger, onRecord?: (r: LoopLogRecord) => void): (entry: PluginLogEntry) => void {
  return (entry) => {
    const r = classifyLoopLog(entry);
    onRecord?.(r);
    logAt(logger, r.level, r.message, r.logger === undefined ? r.fields : { ...r.fields, logger: r.logger });
  };
}
