/**
 * A fast path for plugin.StdioData (field 1 `channel` int32, field 2 `data` bytes), the message the
 * stdio stream carries (up to 64 KiB from a TS plugin, 1 KiB from a Go one). The generated codec
 * goes through a growable BinaryWriter and copies the payload two or three times; these produce the
 * same bytes (fields in order, zero values omitted, as the generated encoder does) with one
 * allocation and one copy, and decode without copying the data out of the received frame. Anything
 * unusual falls back to the generated codec.
 */
import { StdioData } from '../gen';

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

function putVarint(out: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** Encodes StdioData{channel, data: src[start, end)} exactly as StdioData.encode would. */
export function encodeStdioData(channel: number, src: Uint8Array, start = 0, end = src.length): Buffer {
  if (!fastChannel(channel)) {
    return Buffer.from(StdioData.encode({ channel, data: Buffer.from(src.subarray(start, end)) }).finish());
  }
  const { out, pos } = header(channel, end - start);
  out.set(src.subarray(start, end), pos);
  return out;
}

/** Encodes StdioData{channel, data: concatenation of `parts`} (`n` bytes in all) with one copy of each part. */
export function encodeStdioParts(channel: number, parts: readonly Uint8Array[], n: number): Buffer {
  if (parts.length === 1) return encodeStdioData(channel, parts[0] as Uint8Array);
  if (!fastChannel(channel)) return encodeStdioData(channel, Buffer.concat(parts, n));
  const { out } = header(channel, n);
  let pos = out.length - n;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

function fastChannel(channel: number): boolean {
  return Number.isInteger(channel) && channel >= 0 && channel <= 0x7fffffff;
}

/** A buffer for the whole message with its fields' keys and lengths written; the data goes at `pos`. */
function header(channel: number, len: number): { out: Buffer; pos: number } {
  const size = (channel !== 0 ? 1 + varintSize(channel) : 0) + (len !== 0 ? 1 + varintSize(len) + len : 0);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (channel !== 0) {
    out[pos++] = 8;
    pos = putVarint(out, pos, channel);
  }
  if (len !== 0) {
    out[pos++] = 18;
    pos = putVarint(out, pos, len);
  }
  return { out, pos };
}

/**
 * Decodes a StdioData message. `data` may share memory with `buf` (grpc-js hands each message over
 * in a buffer of its own).
 */
export function decodeStdioData(buf: Buffer): StdioData {
  // Common shape: [08 channel] [12 len data], single-byte channel and varint length.
  let pos = 0;
  let channel = 0;
  if (buf.length >= 2 && buf[0] === 8 && (buf[1] as number) < 0x80) {
    channel = buf[1] as number;
    pos = 2;
  }
  if (pos === buf.length) {
    if (pos === 0 || pos === 2) return { channel, data: Buffer.alloc(0) };
  } else if (buf[pos] === 18) {
    let len = 0;
    let shift = 0;
    let p = pos + 1;
    for (; p < buf.length && shift < 28; shift += 7) {
      const b = buf[p++] as number;
      len |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (p + len === buf.length) return { channel, data: buf.subarray(p, p + len) };
        break;
      }
    }
  }
  return StdioData.decode(buf);
}
