/**
 * yamux frames (hashicorp/yamux v0.1.x, spec §6.5): a 12-byte big-endian header
 *   version u8 (always 0) | type u8 | flags u16 | streamID u32 | length u32
 * followed, for Data frames only, by `length` bytes of payload.
 *
 * FrameParser is incremental: feed it any chunking of the byte stream. It never buffers more than one
 * header (12 bytes); Data payloads are handed on piece by piece as they arrive, so memory does not depend
 * on the length a peer claims. Bad input raises a YamuxError (never an untyped error) and stops the parser.
 */
import { YamuxError } from './errors';

export const YAMUX_VERSION = 0;
export const HEADER_SIZE = 12;
/** Initial (and, with DefaultConfig, maximum) receive window of every stream, both directions. */
export const INITIAL_STREAM_WINDOW = 256 * 1024;
export const MAX_U32 = 0xffff_ffff;

export const FrameType = { Data: 0, WindowUpdate: 1, Ping: 2, GoAway: 3 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const Flag = { SYN: 1, ACK: 2, FIN: 4, RST: 8 } as const;

export const GoAwayCode = { Normal: 0, ProtocolError: 1, InternalError: 2 } as const;

export interface FrameHeader {
  version: number;
  type: FrameType;
  flags: number;
  streamId: number;
  /** Payload length (Data), window delta (WindowUpdate), opaque value (Ping), code (GoAway). */
  length: number;
}

const TYPE_NAMES = ['Data', 'WindowUpdate', 'Ping', 'GoAway'];

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type(${type})`;
}

export function flagNames(flags: number): string {
  const out: string[] = [];
  if (flags & Flag.SYN) out.push('SYN');
  if (flags & Flag.ACK) out.push('ACK');
  if (flags & Flag.FIN) out.push('FIN');
  if (flags & Flag.RST) out.push('RST');
  const rest = flags & ~0xf;
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out.length === 0 ? '-' : out.join('|');
}

/** One-line description for logs, e.g. `Data[SYN] stream=3 len=100`. */
export function describeHeader(h: FrameHeader): string {
  return `${typeName(h.type)}[${flagNames(h.flags)}] stream=${h.streamId} len=${h.length}`;
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new YamuxError('invalid-argument', `frame ${name} out of range: ${value}`, { input: value });
  }
}

/** Encodes a header into a new 12-byte buffer (or into `target` at `offset`). */
export function encodeHeader(type: FrameType, flags: number, streamId: number, length: number, target?: Buffer, offset = 0): Buffer {
  checkUint('type', type, 3);
  checkUint('flags', flags, 0xffff);
  checkUint('stream id', streamId, MAX_U32);
  checkUint('length', length, MAX_U32);
  const buf = target ?? Buffer.allocUnsafe(HEADER_SIZE);
  buf[offset] = YAMUX_VERSION;
  buf[offset + 1] = type;
  buf.writeUInt16BE(flags, offset + 2);
  buf.writeUInt32BE(streamId, offset + 4);
  buf.writeUInt32BE(length, offset + 8);
  return buf;
}

/**
 * Decodes and validates a header. Throws YamuxError 'invalid-version' / 'invalid-type' (Go's
 * ErrInvalidVersion / ErrInvalidMsgType); a short buffer is an 'invalid-argument'.
 */
export function decodeHeader(buf: Uint8Array, offset = 0): FrameHeader {
  if (buf.length - offset < HEADER_SIZE) {
    throw new YamuxError('invalid-argument', `short frame header: ${buf.length - offset} bytes`, { input: buf.length - offset });
  }
  const version = buf[offset] as number;
  const type = buf[offset + 1] as number;
  if (version !== YAMUX_VERSION) {
    throw new YamuxError('invalid-version', `invalid protocol version: ${version}`, {
      input: version,
      hint: 'the peer does not speak yamux (or the byte stream is out of sync)',
    });
  }
  if (type > FrameType.GoAway) {
    throw new YamuxError('invalid-type', `invalid msg type: ${type}`, {
      input: type,
      hint: 'the peer does not speak yamux v0 (or the byte stream is out of sync)',
    });
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_SIZE);
  return {
    version,
    type: type as FrameType,
    flags: view.getUint16(2),
    streamId: view.getUint32(4),
    length: view.getUint32(8),
  };
}

export interface FrameHandler {
  /**
   * Called once per frame, right after its header. For a Data frame with length > 0 the payload follows
   * through `onData`. May throw (a YamuxError) to stop parsing.
   */
  onFrame(header: FrameHeader): void;
  /** A piece of the current Data frame's payload; `last` is true for its final piece. */
  onData(header: FrameHeader, chunk: Buffer, last: boolean): void;
}

/** Incremental parser; see the file comment. */
export class FrameParser {
  private readonly head = Buffer.alloc(HEADER_SIZE);
  private headFill = 0;
  private current: FrameHeader | null = null;
  private remaining = 0;
  private stopped = false;
  private failure: YamuxError | null = null;

  constructor(private readonly handler: FrameHandler) {}

  /** The error that stopped the parser, if any. */
  get error(): YamuxError | null {
    return this.failure;
  }

  /** Whether the parser sits exactly between two frames (no partial header or payload). */
  get idle(): boolean {
    return this.headFill === 0 && this.current === null;
  }

  /** Stops the parser: later input is ignored (used when the session closes mid-chunk). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Feeds bytes. Bad input throws a YamuxError ('invalid-version' / 'invalid-type'); whatever the handler
   * throws is passed through unchanged. After a throw, and after stop(), further input is ignored.
   */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    try {
      this.consume(chunk);
    } catch (err) {
      this.stopped = true;
      if (err instanceof YamuxError) this.failure = err;
      throw err;
    }
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len && !this.stopped) {
      const cur = this.current;
      if (cur !== null) {
        const n = Math.min(this.remaining, len - pos);
        const piece = pos === 0 && n === len ? chunk : chunk.subarray(pos, pos + n);
        pos += n;
        this.remaining -= n;
        const last = this.remaining === 0;
        if (last) this.current = null;
        this.handler.onData(cur, piece, last);
        continue;
      }
      const need = HEADER_SIZE - this.headFill;
      let header: FrameHeader;
      if (this.headFill === 0 && len - pos >= HEADER_SIZE) {
        header = decodeHeader(chunk, pos);
        pos += HEADER_SIZE;
      } else {
        const n = Math.min(need, len - pos);
        chunk.copy(this.head, this.headFill, pos, pos + n);
        this.headFill += n;
        pos += n;
        if (this.headFill < HEADER_SIZE) break;
        this.headFill = 0;
        header = decodeHeader(this.head, 0);
      }
      if (header.type === FrameType.Data && header.length > 0) {
        this.current = header;
        this.remaining = header.length;
      }
      this.handler.onFrame(header);
    }
  }
}
