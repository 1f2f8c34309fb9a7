/**
 * chainlink-common's codec.VersionedBytes payloads (the ContractReader's params and return values):
 * version 0 = JSON (encoding/json), 2 = CBOR (the Go client's default, core deterministic encoding).
 * Versions 1 (json v2) and 3 (values.pb.Value) are not supported here.
 *
 * The CBOR codec is a small subset (RFC 8949): unsigned/negative integers (as number when safe,
 * else bigint), byte strings (Buffer), text strings, arrays, maps, false/true/null/undefined and
 * float64. Encoding is deterministic in the RFC 8949 §4.2.1 core sense (shortest heads, map keys
 * sorted by their encoded bytes), as fxamacker/cbor's CoreDetEncOptions produces.
 */
import { LoopError } from '../../core/errors';

/** A payload that cannot be encoded or decoded; the message keeps the Go codec's wording. */
function codecError(message: string): LoopError {
  return new LoopError('ERR_LOOPP_LOOP_CODEC', message, { hint: 'The peer sent a payload in an encoding or shape this codec does not handle.' });
}

export const JSON_ENCODING_V1 = 0;
export const CBOR_ENCODING = 2;

export interface VersionedPayload {
  version: number;
  data: Buffer;
}

export type CborValue = null | undefined | boolean | number | bigint | string | Buffer | CborValue[] | { [k: string]: CborValue };

function head(major: number, n: number | bigint): Buffer {
  const v = BigInt(n);
  const m = major << 5;
  if (v < 24n) return Buffer.from([m | Number(v)]);
  if (v < 0x100n) return Buffer.from([m | 24, Number(v)]);
  if (v < 0x10000n) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(Number(v), 1);
    return b;
  }
  if (v < 0x100000000n) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(Number(v), 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(v, 1);
  return b;
}

export function cborEncode(value: CborValue): Buffer {
  if (value === null) return Buffer.from([0xf6]);
  if (value === undefined) return Buffer.from([0xf7]);
  if (value === false) return Buffer.from([0xf4]);
  if (value === true) return Buffer.from([0xf5]);
  if (typeof value === 'bigint') return value >= 0n ? head(0, value) : head(1, -1n - value);
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value >= 0 ? head(0, value) : head(1, -1 - value);
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(value, 1);
    return b;
  }
  if (typeof value === 'string') {
    const s = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, s.length), s]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cborEncode)]);
  const entries = Object.entries(value).map(([k, v]) => [cborEncode(k), cborEncode(v)] as const);
  entries.sort(([a], [b]) => Buffer.compare(a, b));
  return Buffer.concat([head(5, entries.length), ...entries.flat()]);
}

export function cborDecode(data: Buffer): CborValue {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > data.length) throw codecError('cbor: unexpected end of data');
  };
  const arg = (info: number): bigint => {
    if (info < 24) return BigInt(info);
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : -1;
    if (size < 0) throw codecError(`cbor: unsupported additional info ${info}`);
    need(size);
    const v = size === 8 ? data.readBigUInt64BE(pos) : BigInt(data.readUIntBE(pos, size));
    pos += size;
    return v;
  };
  const int = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v);
  const item = (): CborValue => {
    need(1);
    const ib = data[pos++] as number;
    const major = ib >> 5;
    const info = ib & 31;
    switch (major) {
      case 0:
        return int(arg(info));
      case 1:
        return int(-1n - arg(info));
      case 2:
      case 3: {
        const len = Number(arg(info));
        need(len);
        const b = data.subarray(pos, pos + len);
        pos += len;
        return major === 2 ? Buffer.from(b) : b.toString('utf8');
      }
      case 4: {
        const len = Number(arg(info));
        const out: CborValue[] = [];
        for (let i = 0; i < len; i++) out.push(item());
        return out;
      }
      case 5: {
        const len = Number(arg(info));
        const out: { [k: string]: CborValue } = {};
        for (let i = 0; i < len; i++) {
          const k = item();
          out[typeof k === 'string' ? k : String(k)] = item();
        }
        return out;
      }
      case 6:
        arg(info); // tag number: ignored, the tagged item is returned as is
        return item();
      default: {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 23) return undefined;
        if (info === 25) {
          need(2);
          const h = data.readUInt16BE(pos);
          pos += 2;
          const e = (h >> 10) & 0x1f;
          const f = h & 0x3ff;
          const mag = e === 0 ? f * 2 ** -24 : e === 31 ? (f ? NaN : Infinity) : (1 + f / 1024) * 2 ** (e - 15);
          return h & 0x8000 ? -mag : mag;
        }
        if (info === 26) {
          need(4);
          const v = data.readFloatBE(pos);
          pos += 4;
          return v;
        }
        if (info === 27) {
          need(8);
          const v = data.readDoubleBE(pos);
          pos += 8;
          return v;
        }
        throw codecError(`cbor: unsupported simple value ${info}`);
      }
    }
  };
  const v = item();
  if (pos !== data.length) throw codecError(`cbor: ${data.length - pos} trailing bytes`);
  return v;
}

/** Decodes a VersionedBytes payload (versions 0 and 2). */
export function decodeVersioned(p: VersionedPayload | undefined): CborValue {
  if (p === undefined) throw codecError('cannot decode nil versioned bytes');
  if (p.version === JSON_ENCODING_V1) return JSON.parse(Buffer.from(p.data).toString('utf8')) as CborValue;
  if (p.version === CBOR_ENCODING) return cborDecode(Buffer.from(p.data));
  throw codecError(`unsupported encoding version ${p.version}`);
}

/** Encodes a value as a VersionedBytes payload (versions 0 and 2). */
export function encodeVersioned(value: CborValue, version: number): VersionedPayload {
  if (version === JSON_ENCODING_V1) {
    return { version, data: Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), 'utf8') };
  }
  if (version === CBOR_ENCODING) return { version, data: cborEncode(value) };
  throw codecError(`unsupported encoding version ${version}`);
}
