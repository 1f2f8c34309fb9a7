/**
 * Host side of a plugin's stderr: lines are parsed like go-plugin's host (hclog JSON, `[LEVEL]`
 * prefixes, panic mode, over-long lines as debug fragments), re-logged through `debug` and the
 * optional logger, copied raw to an optional stream, and the last few kept for error messages.
 */
import type { Writable } from 'node:stream';
import { createLog } from '../core/debug';
import { createLineSplitter } from '../core/lines';
import { logAt, type Logger } from '../core/logger';
import { createStderrParser, type HclogLevel, type ParsedLogLine, type UnleveledEntry } from '../wire/hclog';

/** One line of a plugin's stderr, parsed once, as go-plugin's host would log it. */
export interface PluginLogEntry {
  level: HclogLevel;
  message: string;
  fields: Record<string, unknown>;
  /** The line as the plugin wrote it. */
  raw: string;
  /** An hclog JSON entry at one of hclog's levels. */
  json: boolean;
  /**
   * A JSON entry logged verbatim at debug because go-plugin does not know its level (zap's fatal,
   * dpanic, panic…), decoded: a host that knows those levels needs no second parse.
   */
  unleveled?: UnleveledEntry;
}

/** The entry a parsed line gives: text lines carry their raw line as the message. */
export function logEntryOf(p: ParsedLogLine): PluginLogEntry {
  if (p.kind === 'json') return { level: p.level, message: p.message, fields: p.fields, raw: p.raw, json: true };
  return { level: p.level, message: p.raw, fields: {}, raw: p.raw, json: false, ...(p.unleveled === undefined ? {} : { unleveled: p.unleveled }) };
}

export interface StderrPumpOptions {
  /** Basename of the plugin, as in go-plugin's `plugin.<name>` logger. */
  name: string;
  logger?: Logger;
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
    } catch {
      // a throwing user callback must not take the host down
    }
    if (o.logger !== undefined) logAt(o.logger, entry.level, entry.message, entry.fields);
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
      emit(logEntryOf(parser.parseLine(line, info)));
    },
  });
  return {
    push: (chunk) => splitter.push(chunk),
    end: () => splitter.end(),
    tail: () => tail.join('\n'),
  };
}
