/**
 * Byte-stream line splitting with the exact semantics go-plugin's host applies to a plugin's pipes:
 *
 * - stderr: `bufio.Reader.ReadLine` over a reader of `PluginLogBufferSize` bytes (`createLineSplitter`);
 * - stdout: the first `bufio.Scanner` line, passed through `strings.TrimSpace` (`createFirstLineReader`).
 *
 * Both keep their memory bounded by the configured buffer size, whatever the input.
 */
import { StringDecoder } from 'node:string_decoder';

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/** bufio.NewReaderSize never uses a buffer smaller than this. */
export const MIN_LINE_BUFFER_BYTES = 16;

/** What `onLine` learns about the piece it receives. */
export interface LineInfo {
  /**
   * The piece belongs to a line that did not fit in the buffer (go-plugin's `isPrefix || continuation`):
   * go-plugin logs such pieces verbatim at Debug and never tries to parse them as JSON.
   */
  fragment: boolean;
  /**
   * The piece ends its line. go-plugin appends `\n` to the raw copy (`ClientConfig.Stderr`) only then.
   * False only for the leading pieces of an over-long line.
   */
  complete: boolean;
  /**
   * The exact bytes of the piece, terminator stripped. Writing `bytes` (plus `\n` when `complete`) for every
   * piece reproduces go-plugin's raw copy byte for byte. It may share memory with a pushed chunk: copy it to
   * keep it beyond the callback.
   */
  bytes: Buffer;
}

export interface LineSplitterOptions {
  /**
   * Size of the read buffer, like go-plugin's `PluginLogBufferSize` (default there 65536). A line fits when
   * it *and its `\n`* fit: lines of up to `maxLineBytes - 1` bytes come out whole, longer ones as fragments.
   * Values below 16 are raised to 16, as `bufio.NewReaderSize` does.
   */
  maxLineBytes: number;
  /** Receives every line or fragment in stream order. */
  onLine(line: string, info: LineInfo): void;
}

export interface LineSplitter {
  /** Feed the next chunk of the stream. Ignored after `end()`. */
  push(chunk: Uint8Array): void;
  /** The stream ended: flush a final unterminated line (as go-plugin does). Idempotent. */
  end(): void;
}

/**
 * Splits a byte stream into lines the way `bufio.Reader.ReadLine` does with a buffer of `maxLineBytes`:
 *
 * - `\n` ends a line and is stripped, together with one `\r` right before it;
 * - when `maxLineBytes` bytes arrive without a `\n`, they are emitted as a fragment (`fragment: true,
 *   complete: false`); if the fragment would end in `\r`, that `\r` is held back so a straddling `\r\n`
 *   is still recognised (ReadLine does the same). The rest of the line follows as further fragments, and the
 *   piece that reaches the `\n` is `fragment: true, complete: true` (it can be empty);
 * - `end()` emits buffered bytes without a `\n` as a final complete line, unchanged (a trailing `\r` is kept
 *   there, as ReadLine keeps it). If an over-long line ended exactly at a fragment boundary, nothing more
 *   is emitted and the raw copy gets no final `\n`, exactly as in go-plugin.
 *
 * Text: whole lines are decoded from their complete bytes, so multi-byte UTF-8 is never corrupted.
 * Fragments are cut at byte boundaries (Go's sizes, see `info.bytes`), but their *text* is decoded with a
 * streaming decoder: a character cut in two appears whole at the start of the next fragment's text, so the
 * texts of a line's fragments join to the text of the whole line.
 *
 * Memory: at most `maxLineBytes` bytes are buffered. If `onLine` throws, the chunk is still fully processed
 * and the first error is rethrown from `push`/`end` afterwards.
 */
export function createLineSplitter(options: LineSplitterOptions): LineSplitter {
  const size = bufferSize(options.maxLineBytes, 'maxLineBytes');
  const onLine = options.onLine;

  // Bytes received but not emitted yet: fewer than `size`, no LF among them. Kept as copies.
  let pending: Buffer[] = [];
  let pendingLen = 0;
  // The previous piece was a non-final fragment.
  let continuation = false;
  // Decodes the text of an over-long line across its fragments.
  let decoder: StringDecoder | undefined;
  let ended = false;
  let failure: { error: unknown } | undefined;

  function takePending(tail: Buffer): Buffer {
    let out: Buffer;
    if (pendingLen === 0) out = tail;
    else if (tail.length === 0 && pending.length === 1) out = pending[0] as Buffer;
    else out = Buffer.concat([...pending, tail], pendingLen + tail.length);
    pending = [];
    pendingLen = 0;
    return out;
  }

  function hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    pending.push(Buffer.from(bytes)); // copy: never pin a large chunk for a few bytes
    pendingLen += bytes.length;
  }

  function emit(bytes: Buffer, complete: boolean): void {
    const fragment = continuation || !complete;
    let text: string;
    if (!fragment) {
      text = bytes.toString('utf8');
    } else {
      decoder ??= new StringDecoder('utf8');
      text = complete ? decoder.end(bytes) : decoder.write(bytes);
      if (complete) decoder = undefined;
    }
    continuation = !complete;
    try {
      onLine(text, { fragment, complete, bytes });
    } catch (error) {
      failure ??= { error };
    }
  }

  function rethrow(): void {
    if (failure === undefined) return;
    const { error } = failure;
    failure = undefined;
    throw error;
  }

  return {
    push(chunk: Uint8Array): void {
      if (ended) return;
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let off = 0;
      while (off < buf.length) {
        // Go looks for '\n' only within the next `size` bytes of the stream (its buffer).
        const room = size - pendingLen;
        const limit = Math.min(buf.length, off + room);
        const idx = buf.subarray(off, limit).indexOf(LF);
        if (idx >= 0) {
          let line = takePending(buf.subarray(off, off + idx));
          if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
          off += idx + 1;
          emit(line, true);
        } else if (limit - off === room) {
          // The buffer is full and holds no '\n': ReadLine returns it with isPrefix = true.
          let piece = takePending(buf.subarray(off, limit));
          off = limit;
          if (piece[piece.length - 1] === CR) {
            // Put the '\r' back: it may be the first half of a "\r\n" straddling the buffer.
            piece = piece.subarray(0, piece.length - 1);
            hold(Buffer.from([CR]));
          }
          emit(piece, false);
        } else {
          hold(buf.subarray(off));
          off = buf.length;
        }
      }
      rethrow();
    },

    end(): void {
      if (ended) return;
      ended = true;
      if (pendingLen > 0) emit(takePending(EMPTY), true);
      decoder = undefined;
      rethrow();
    },
  };
}

/** What a `FirstLineReader` call found. All members absent: keep feeding. */
export interface FirstLineResult {
  /** The first line, `\n` and a trailing `\r` removed, then trimmed like Go's strings.TrimSpace. */
  line?: string;
  /** The first line before trimming (still without its `\n` / `\r\n`). */
  raw?: string;
  /** Bytes of the chunk that followed the first line's `\n` (present only when non-empty). */
  rest?: Buffer;
  /** `maxBytes` bytes arrived without a `\n` (Go's bufio.ErrTooLong: no line is ever produced). */
  overflow?: boolean;
}

export interface FirstLineReader {
  /** Feed the next stdout chunk. After a result with `line` or `overflow`, further chunks are ignored (`{}`). */
  push(chunk: Uint8Array): FirstLineResult;
  /**
   * The stream ended. Returns the unterminated final data as the line if there is any (bufio.Scanner does
   * this at EOF), `{}` when nothing at all was received (go-plugin: "Failed to read any lines").
   */
  end(): FirstLineResult;
  /** A line or an overflow has been reported, or the stream has ended. */
  readonly done: boolean;
}

/**
 * Reads the handshake line from a plugin's stdout the way go-plugin's host does: the first `bufio.Scanner`
 * token (split at `\n`, one trailing `\r` dropped), then `strings.TrimSpace`. The Scanner's token limit
 * applies: the line *and its `\n`* must fit in `maxBytes` (go-plugin: 65536), else `overflow`.
 * Buffers at most `maxBytes` bytes.
 */
export function createFirstLineReader(maxBytes: number): FirstLineReader {
  const limitBytes = bufferSize(maxBytes, 'maxBytes', 1);
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let done = false;

  function finish(bytes: Buffer): FirstLineResult {
    done = true;
    pending = [];
    pendingLen = 0;
    const body = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
    const raw = body.toString('utf8');
    return { line: goTrimSpace(raw), raw };
  }

  return {
    get done() {
      return done;
    },

    push(chunk: Uint8Array): FirstLineResult {
      if (done) return {};
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const room = limitBytes - pendingLen;
      const idx = buf.subarray(0, Math.min(buf.length, room)).indexOf(LF);
      if (idx >= 0) {
        const head = pendingLen === 0 ? buf.subarray(0, idx) : Buffer.concat([...pending, buf.subarray(0, idx)]);
        const result = finish(head);
        if (idx + 1 < buf.length) result.rest = buf.subarray(idx + 1);
        return result;
      }
      if (buf.length >= room) {
        done = true;
        pending = [];
        pendingLen = 0;
        return { overflow: true };
      }
      if (buf.length > 0) {
        pending.push(Buffer.from(buf));
        pendingLen += buf.length;
      }
      return {};
    },

    end(): FirstLineResult {
      if (done) return {};
      if (pendingLen === 0) {
        done = true;
        return {};
      }
      return finish(Buffer.concat(pending, pendingLen));
    },
  };
}

/**
 * Go's strings.TrimSpace: removes leading and trailing Unicode White_Space (`\t \n \v \f \r`, space, U+0085,
 * U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). Unlike `String.prototype.trim`
 * it keeps U+FEFF and removes U+0085.
 */
export function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Go's unicode.IsSpace (every White_Space code point is in the BMP, so UTF-16 units suffice). */
function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

function bufferSize(value: number, name: string, min = MIN_LINE_BUFFER_BYTES): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number, got ${String(value)}`);
  }
  return Math.max(min, Math.floor(value));
}
