/**
 * Per-plugin environment files and variable names (chainlink `env.NewPlugin(kind)` /
 * `ParseEnvFile`).
 *
 * `CL_<KIND>_ENV` names a file in hashicorp/go-envparse syntax (v0.1.0, the version chainlink pins):
 * - one `KEY=VALUE` per line; blank lines and lines starting with `#` (after trimming) are skipped;
 *   a trailing `\r` is dropped like bufio.Scanner does;
 * - the key is trimmed, an `export ` prefix is removed (only when a name follows it), and it must
 *   match `[A-Za-z_][A-Za-z0-9_./]*`;
 * - the value is trimmed; unquoted text ends at `#` (a comment; whitespace before it is dropped);
 *   `'single'` quotes keep everything literally; `"double"` quotes understand the JSON escapes
 *   `\" \\ \/ \b \f \r \n \t \uXXXX` (with surrogate pairs); quoting styles can be mixed in one value;
 * - control characters (including a raw tab) in a value are errors;
 * - a key given twice keeps its last value (at its last position);
 * - errors read like Go's: `error on line 3: unmatched "`, `error on line 1: missing =`, ...
 *
 * One go-envparse quirk is kept: when a comment follows an unquoted value that ends in a multibyte
 * UTF-8 character, go-envparse drops that character's last byte; the damaged bytes decode to U+FFFD.
 */
import * as fs from 'node:fs';

import { ConfigError } from '../../core/errors';

/** Plugin kinds the chainlink node knows (`env.NewPlugin(kind)`). */
export const PLUGIN_KINDS = ['median', 'mercury', 'aptos', 'evm', 'cosmos', 'solana', 'starknet', 'tron', 'ton', 'sui'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

export interface PluginEnvVars {
  /** `CL_<KIND>_CMD`: the plugin executable (empty: in-process, or `cmdDefault` for relayer-only kinds). */
  cmd: string;
  /** `CL_<KIND>_ENV`: path of the plugin's env file. */
  env: string;
  /** `chainlink-<kind>`. */
  cmdDefault: string;
}

/** Variable names for a plugin kind: `pluginEnvVars('evm')` → CL_EVM_CMD, CL_EVM_ENV, chainlink-evm. */
export function pluginEnvVars(kind: PluginKind | (string & {})): PluginEnvVars {
  if (kind === '') throw new ConfigError('ERR_LOOPP_CONFIG', 'plugin kind must not be empty', { input: kind, hint: `one of ${PLUGIN_KINDS.join(', ')}` });
  const upper = kind.toUpperCase();
  return { cmd: `CL_${upper}_CMD`, env: `CL_${upper}_ENV`, cmdDefault: `chainlink-${kind}` };
}

const SYSCALL_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** Go's *PathError text (`open <path>: no such file or directory`) for a Node fs error. */
function goPathError(op: string, path: string, err: NodeJS.ErrnoException): string {
  const text = (err.code !== undefined ? SYSCALL_TEXT[err.code] : undefined) ?? err.message;
  return `${op} ${path}: ${text}`;
}

/**
 * chainlink's `ParseEnvFile(path)`: the file's `[KEY, VALUE]` pairs, `[]` for an empty path.
 * A missing or unreadable file, or a syntax error, throws a ConfigError (code ERR_LOOPP_ENV) whose
 * message is Go's text (`open /x.env: no such file or directory`, `error on line 2: missing =`).
 */
export function parseEnvFile(path: string): Array<[string, string]> {
  if (path === '') return [];
  let data: Buffer;
  try {
    data = fs.readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Go opens directories fine and fails on the first read, before any line: "error reading: ...".
    const message = e.code === 'EISDIR' ? `error reading: ${goPathError('read', path, e)}` : goPathError('open', path, e);
    throw new ConfigError('ERR_LOOPP_ENV', message, {
      input: path,
      cause: err,
      hint: 'CL_<KIND>_ENV must name a readable env file (KEY=VALUE lines), or be empty',
    });
  }
  return parseEnvText(data, path);
}

/** go-envparse over in-memory text (`source` only labels errors). */
export function parseEnvText(text: string | Buffer, source = '<env>'): Array<[string, string]> {
  const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const out = new Map<string, string>();
  let lineNo = 0;
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    const last = end < 0;
    if (last) end = data.length;
    let line = data.subarray(start, end);
    // bufio.Scanner's default 64 KiB token limit
    if (line.length >= 64 * 1024) {
      const where = lineNo > 0 ? `error on line ${lineNo}` : 'error reading';
      throw fileError(source, `${where}: bufio.Scanner: token too long`, lineNo);
    }
    lineNo++;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    const kv = parseLine(line);
    if (typeof kv === 'string') throw fileError(source, `error on line ${lineNo}: ${kv}`, lineNo);
    if (kv !== undefined) {
      out.delete(kv[0]);
      out.set(kv[0], kv[1]);
    }
    start = end + 1;
  }
  return [...out.entries()];
}

function fileError(source: string, message: string, line: number): ConfigError {
  return new ConfigError('ERR_LOOPP_ENV', message, {
    input: { file: source, line },
    hint: `fix ${source}: go-envparse syntax is KEY=VALUE per line, # comments, 'single' or "double" (JSON-escaped) quotes`,
  });
}

// Go's bytes.TrimSpace: ASCII white space plus the Unicode White_Space code points (UTF-8 encoded).
const ASCII_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);
const UNICODE_SPACE = new Set([0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);

function trimSpace(b: Buffer): Buffer {
  // Decode only at the edges; interior bytes are untouched.
  let s = 0;
  let e = b.length;
  while (s < e) {
    const n = spaceLenAt(b, s);
    if (n === 0) break;
    s += n;
  }
  while (e > s) {
    const n = spaceLenBefore(b, e, s);
    if (n === 0) break;
    e -= n;
  }
  return b.subarray(s, e);
}

function spaceLenAt(b: Buffer, i: number): number {
  const c = b[i] ?? 0;
  if (c < 0x80) return ASCII_SPACE.has(c) ? 1 : 0;
  for (const n of [2, 3]) {
    if (i + n > b.length) continue;
    const cp = decodeOne(b.subarray(i, i + n));
    if (cp !== undefined && UNICODE_SPACE.has(cp)) return n;
  }
  return 0;
}

function spaceLenBefore(b: Buffer, end: number, floor: number): number {
  const c = b[end - 1] ?? 0;
  if (c < 0x80) return ASCII_SPACE.has(c) ? 1 : 0;
  for (const n of [2, 3]) {
    if (end - n < floor) continue;
    const cp = decodeOne(b.subarray(end - n, end));
    if (cp !== undefined && UNICODE_SPACE.has(cp)) return n;
  }
  return 0;
}

/** The code point of a complete, valid UTF-8 sequence, else undefined. */
function decodeOne(seq: Buffer): number | undefined {
  const s = seq.toString('utf8');
  const cp = s.codePointAt(0);
  if (cp === undefined || cp === 0xfffd || String.fromCodePoint(cp).length !== s.length) return undefined;
  return Buffer.byteLength(s) === seq.length ? cp : undefined;
}

/** Go's %q of a single byte (a rune literal): 'a', '\t', '\x00', '\u0080', '\''. */
function quoteByte(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x5c) return "'\\\\'";
  const esc: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
  if (esc[c] !== undefined) return `'${esc[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if (c < 0x7f) return `'${String.fromCharCode(c)}'`;
  // U+0080..U+00FF: C1 controls, NBSP and soft hyphen are not printable for Go
  if (c < 0xa0 || c === 0xa0 || c === 0xad) return `'\\u${c.toString(16).padStart(4, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

/** Go's %q of a one-character string (strconv.Quote). */
function quoteChar(c: number): string {
  if (c === 0x22) return '"\\""';
  if (c === 0x5c) return '"\\\\"';
  if (c < 0x20 || c === 0x7f) return `"\\x${c.toString(16).padStart(2, '0')}"`;
  return `"${String.fromCharCode(c)}"`;
}

const EXPORT = Buffer.from('export ');
const NORMAL = 0;
const DOUBLE = 1;
const SINGLE = 2;
const ESCAPE = 3;

function hexRune(b: Buffer, at: number): number | string {
  if (b.length - at < 4) return 'incomplete hex sequence';
  let r = 0;
  for (let i = 0; i < 4; i++) {
    const d = b[at + i] ?? 0;
    let v: number;
    if (d >= 0x30 && d <= 0x39) v = d - 0x30;
    else if (d >= 0x61 && d <= 0x66) v = d - 0x61 + 10;
    else if (d >= 0x41 && d <= 0x46) v = d - 0x41 + 10;
    else return `invalid hex character: ${quoteChar(d)}`;
    r = r * 16 + v;
  }
  return r;
}

/** One go-envparse line: [key, value], undefined for blank/comment lines, or an error text. */
function parseLine(raw: Buffer): [string, string] | undefined | string {
  const ln = trimSpace(raw);
  if (ln.length === 0 || ln[0] === 0x23) return undefined;
  const eq = ln.indexOf(0x3d);
  if (eq < 0) return 'missing =';
  let key = trimSpace(ln.subarray(0, eq));
  const value = trimSpace(ln.subarray(eq + 1));
  if (key.length > EXPORT.length && key.subarray(0, EXPORT.length).equals(EXPORT)) key = key.subarray(EXPORT.length);
  if (key.length === 0) return 'empty key';
  const k0 = key[0] ?? 0;
  if (k0 < 0x41 || (k0 > 0x5a && k0 < 0x61 && k0 !== 0x5f) || k0 > 0x7a) {
    return `key must start with [A-Za-z_] but found ${quoteByte(k0)}`;
  }
  for (const v of key.subarray(1)) {
    const ok = v === 0x5f || v === 0x2e || v === 0x2f || (v >= 0x41 && v <= 0x5a) || (v >= 0x61 && v <= 0x7a) || (v >= 0x30 && v <= 0x39);
    if (!ok) return `key characters must be [A-Za-z0-9/_.] but found ${quoteByte(v)}`;
  }
  const keyText = key.toString('utf8');
  if (value.length === 0) return [keyText, ''];

  const out = Buffer.alloc(value.length);
  let n = 0;
  let lastSig = 0;
  let mode = NORMAL;
  for (let i = 0; i < value.length; i++) {
    const v = value[i] ?? 0;
    if (v < 32) return `0x${v.toString(16).padStart(2, '0')} is an invalid value character`;
    if (v > 127) {
      if (mode === ESCAPE) return 'multibyte characters disallowed in escape sequences';
      lastSig = n; // go-envparse's own off-by-one: the byte itself is not counted as significant
      out[n++] = v;
      continue;
    }
    switch (mode) {
      case NORMAL:
        if (v === 0x22) mode = DOUBLE;
        else if (v === 0x27) mode = SINGLE;
        else if (v === 0x23) return [keyText, out.subarray(0, lastSig).toString('utf8')];
        else if (v === 0x20 || v === 0x09) out[n++] = v;
        else {
          out[n++] = v;
          lastSig = n;
        }
        break;
      case DOUBLE:
        if (v === 0x22) mode = NORMAL;
        else if (v === 0x5c) mode = ESCAPE;
        else {
          out[n++] = v;
          lastSig = n;
        }
        break;
      case ESCAPE: {
        switch (v) {
          case 0x22: case 0x5c: case 0x2f: out[n++] = v; break;
          case 0x62: out[n++] = 0x08; break;
          case 0x66: out[n++] = 0x0c; break;
          case 0x72: out[n++] = 0x0d; break;
          case 0x6e: out[n++] = 0x0a; break;
          case 0x74: out[n++] = 0x09; break;
          case 0x75: {
            let r = hexRune(value, i + 1);
            if (typeof r === 'string') return r;
            i += 4;
            if (r >= 0xd800 && r <= 0xdfff) {
              if (value.length < i + 6) return 'incomplete Unicode surrogate pair';
              if (value[i + 1] !== 0x5c || value[i + 2] !== 0x75) return 'incomplete Unicode surrogate pair';
              const r2 = hexRune(value, i + 3);
              if (typeof r2 === 'string') return r2;
              i += 6;
              // utf16.DecodeRune: a valid high+low pair combines, anything else is U+FFFD
              r = r >= 0xd800 && r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000 ? (r - 0xd800) * 0x400 + (r2 - 0xdc00) + 0x10000 : 0xfffd;
            }
            const enc = Buffer.from(String.fromCodePoint(r), 'utf8');
            // The scratch buffer is as long as the raw value, which always has room for the encoding.
            enc.copy(out, n);
            n += enc.length;
            break;
          }
          default:
            return `invalid escape sequence: ${quoteChar(v)}`;
        }
        lastSig = n;
        mode = DOUBLE;
        break;
      }
      case SINGLE:
        if (v === 0x27) mode = NORMAL;
        else {
          out[n++] = v;
          lastSig = n;
        }
        break;
    }
  }
  switch (mode) {
    case NORMAL: return [keyText, out.subarray(0, n).toString('utf8')];
    case DOUBLE: return 'unmatched "';
    case SINGLE: return "unmatched '";
    default: return 'incomplete escape sequence';
  }
}
