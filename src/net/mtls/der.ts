/**
 * A minimal DER (X.690 Distinguished Encoding Rules) writer, plus a tiny reader for tests and sanity checks.
 *
 * It knows only the types that go-plugin's AutoMTLS certificate needs: SEQUENCE, SET, OBJECT IDENTIFIER,
 * INTEGER (non-negative), BOOLEAN, BIT STRING, OCTET STRING, PrintableString, UTCTime, GeneralizedTime and
 * context-specific tags. Every function returns a complete TLV (tag, length, value) as a Buffer.
 */

/** Universal tag numbers used here. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** DER length octets: short form below 128, otherwise the minimal long form. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with a single-byte tag (all tags used here are below 31). */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...items: Buffer[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/**
 * SET OF with a single element. DER sorts SET OF elements by encoding; with one element there is nothing
 * to sort, and that is the only case the certificate needs (one attribute per RDN, as Go emits).
 */
export function setOfOne(item: Buffer): Buffer {
  return tlv(TAG.SET, item);
}

/** OBJECT IDENTIFIER from dotted text, e.g. '2.5.4.3'. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((part) => {
    if (!/^\d+$/.test(part)) throw new RangeError(`bad OID arc in ${dotted}`);
    return Number(part);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2 || (first < 2 && second > 39)) {
    throw new RangeError(`bad OID ${dotted}`);
  }
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    if (!Number.isSafeInteger(arc)) throw new RangeError(`OID arc too large in ${dotted}`);
    // base-128, most significant group first, continuation bit on all but the last
    const groups: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/**
 * INTEGER from an unsigned big-endian magnitude. The encoding is minimal: leading zero bytes are dropped,
 * and one 0x00 is prepended when the top bit of the first byte is set, so the value reads as positive.
 */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let body = magnitude.subarray(start);
  if (body.length === 0) body = Buffer.from([0]);
  if ((body[0] as number) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(TAG.INTEGER, body);
}

/** INTEGER from a small non-negative number. */
export function smallInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`smallInteger: ${value}`);
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return unsignedInteger(Buffer.from(bytes));
}

/** BOOLEAN; DER encodes TRUE as 0xff. */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

/** BIT STRING: the unused-bits count (0..7, bits at the end of the last byte) followed by the bytes. */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`bitString: bad unused-bits count ${unusedBits}`);
  }
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * BIT STRING for a named-bit list whose bit 0 is the first (most significant) bit, encoded the way DER
 * requires for named bits and the way Go's x509 does: trailing zero bits are dropped, so the string is as
 * short as possible and the unused-bits count says how many bits of the last byte are padding.
 */
export function namedBitString(flags: number): Buffer {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) throw new RangeError(`namedBitString: ${flags}`);
  // bit i of `flags` goes to bit (7 - i % 8) of byte floor(i / 8)
  const bytes: number[] = [];
  let bitLength = 0;
  for (let i = 0; i < 16; i++) {
    if (((flags >> i) & 1) === 0) continue;
    const index = i >> 3;
    while (bytes.length <= index) bytes.push(0);
    bytes[index] = (bytes[index] as number) | (0x80 >> (i & 7));
    bitLength = i + 1;
  }
  const unused = bytes.length * 8 - bitLength;
  return bitString(Buffer.from(bytes), unused);
}

export function octetString(bytes: Buffer): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

/** PrintableString; throws on characters outside its set (Go would switch to UTF8String there). */
export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError(`not a PrintableString: ${JSON.stringify(text)}`);
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

/** `[n] IMPLICIT` primitive context-specific value, e.g. a GeneralName dNSName is `[2]` over IA5String bytes. */
export function contextPrimitive(tagNumber: number, bytes: Buffer): Buffer {
  if (tagNumber < 0 || tagNumber > 30) throw new RangeError(`contextPrimitive: ${tagNumber}`);
  return tlv(0x80 | tagNumber, bytes);
}

/** `[n] EXPLICIT` wrapper (constructed context-specific tag around a complete TLV). */
export function contextExplicit(tagNumber: number, inner: Buffer): Buffer {
  if (tagNumber < 0 || tagNumber > 30) throw new RangeError(`contextExplicit: ${tagNumber}`);
  return tlv(0xa0 | tagNumber, inner);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * An X.509 Time (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` for years 1950 through 2049, GeneralizedTime
 * `YYYYMMDDHHMMSSZ` otherwise. Always UTC, whole seconds (milliseconds are truncated, as Go truncates
 * nanoseconds).
 */
export function x509Time(date: Date): Buffer {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('x509Time: invalid date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`x509Time: year ${year} cannot be encoded`);
  const rest =
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2) +
    'Z';
  if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(pad(year % 100, 2) + rest, 'latin1'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(pad(year, 4) + rest, 'latin1'));
}

/** A parsed TLV: `tag` is the identifier octet, `value` the content bytes, `raw` the whole TLV. */
export interface DerNode {
  tag: number;
  value: Buffer;
  raw: Buffer;
}

/**
 * Reads one TLV at `offset` (single-byte tags, definite lengths only, which is all DER allows here).
 * Returns the node and the offset just past it. Throws RangeError on truncated or non-minimal input.
 */
export function readTlv(input: Buffer, offset = 0): { node: DerNode; next: number } {
  if (offset + 2 > input.length) throw new RangeError('DER: truncated header');
  const tag = input[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('DER: multi-byte tags are not supported');
  let lengthByte = input[offset + 1] as number;
  let pos = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('DER: unsupported length form');
    if (pos + count > input.length) throw new RangeError('DER: truncated length');
    length = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = input[pos + i] as number;
      if (i === 0 && lengthByte === 0) throw new RangeError('DER: non-minimal length');
      length = length * 256 + lengthByte;
    }
    if (length < 0x80) throw new RangeError('DER: non-minimal length');
    pos += count;
  }
  const end = pos + length;
  if (end > input.length) throw new RangeError('DER: content runs past the end');
  return { node: { tag, value: input.subarray(pos, end), raw: input.subarray(offset, end) }, next: end };
}

/** The children of a constructed node (SEQUENCE, SET, explicit tag). */
export function readChildren(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let pos = 0; pos < node.value.length; ) {
    const { node: child, next } = readTlv(node.value, pos);
    out.push(child);
    pos = next;
  }
  return out;
}

/** Dotted text of an OBJECT IDENTIFIER node's content. */
export function decodeOid(value: Buffer): string {
  const arcs: number[] = [];
  let n = 0;
  for (const byte of value) {
    n = n * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(n);
      n = 0;
    }
  }
  const [head, ...rest] = arcs;
  if (head === undefined) return '';
  const first = head < 80 ? Math.floor(head / 40) : 2;
  return [first, head - first * 40, ...rest].join('.');
}
