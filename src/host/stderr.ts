/**
 * Host side of a plugin's stderr: lines are parsed like go-plugin's host (hclog JSON, `[LEVEL]`
 * prefixes, panic mode, over-long lines as debug fragments), re-logged through `debug` and the
 * optional logger, copied raw to an optional stream, and the last few kept for error messages.
 */
import type { Writable } from 'node:stream';
import { createLog } from '../core/debug';
import { createStderrParser, type HclogLevel } from '../wire/hclog';
import { createLineSplitter } from '../core/lines';

/** Receives plugin log lines at their level (console, pino and most loggers fit). */
export interface PluginLogger {
  trace?(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface PluginLogEntry {
  level: HclogLevel;
  message: string;
  fields: Record<string, unknown>;
  /** The line as the plugin wrote it. */
  raw: string;
  json: boolean;
}

export interface StderrPumpOptions {
  /** Basename of the plugin, as in go-plugin's `plugin.<name>` logger. */
  name: string;
  logger?: PluginLogger;
  onLog?: (entry: PluginLogEntry) => void;
  /** Raw copy of every line (go-plugin's ClientConfig.Stderr). */
  rawStderr?: Writable;
  maxLineBytes: number;
  tailLines?: number;
}

export interface StderrPump {
  push(chunk: Buffer): void;
  end(): void;
  /** The last lines, for error messages. */
  tail(): string;
}

const NEWLINE = Buffer.from('\n');

export function createStderrPump(o: StderrPumpOptions): StderrPump {
  const debug = createLog(`plugin:${o.name}`);
  const parser = createStderrParser();
  const tail: string[] = [];
  const tailMax = o.tailLines ?? 20;
  const emit = (entry: PluginLogEntry) => {
    if (debug.enabled) debug('%s %s%s', entry.level.toUpperCase(), entry.message, Object.keys(entry.fields).length ? ` ${JSON.stringify(entry.fields)}` : '');
    try {
      o.onLog?.(entry);
      const l = o.logger;
      if (l !== undefined) {
        const fn = entry.level === 'trace' ? (l.trace ?? l.debug) : l[entry.level as Exclude<HclogLevel, 'trace'>];
        fn.call(l, entry.message, entry.fields);
      }
    } catch {
      // a throwing user logger must not take the host down
    }
  };
  const splitter = createLineSplitter({
    maxLineBytes: o.maxLineBytes,
    onLine(line, info) {
      if (o.rawStderr !== undefined) {
        try {
          o.rawStderr.write(info.complete ? Buffer.concat([info.bytes, NEWLINE]) : Buffer.from(info.bytes));
        } catch {
          // ignore a broken sink
        }
      }
      tail.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
      if (tail.length > tailMax) tail.shift();
      // Pieces of an over-long line (its last piece included) come back verbatim at debug, unparsed.
      const p = parser.parseLine(line, info);
      if (p.kind === 'json') emit({ level: p.level, message: p.message, fields: p.fields, raw: p.raw, json: true });
      else emit({ level: p.level, message: p.raw, fields: {}, raw: p.raw, json: false });
    },
  });
  return {
    push: (chunk) => splitter.push(chunk),
    end: () => splitter.end(),
    tail: () => tail.join('\n'),
  };
}
