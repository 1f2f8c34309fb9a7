/**
 * gRPC's length-prefixed messages on an HTTP/2 stream, for both of loopp's ends (the channel in h2/,
 * the server in h2server/): one flag byte (compressed or not), a 4-byte big-endian length, the
 * message. DATA frames cut messages anywhere, so the decoder reassembles them, copying only a message
 * that spans chunks. Messages come out with their prefix: each end decides what a compressed one means.
 */

/** Frames one uncompressed message. */
export function frameMessage(message: Buffer | Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.byteLength);
  framed[0] = 0;
  framed.writeUInt32BE(message.byteLength, 1);
  framed.set(message, 5);
  return framed;
}

/** True when the message's flag byte says it is compressed. */
export function isCompressed(prefixed: Buffer): boolean {
  return ((prefixed[0] as number) & 1) !== 0;
}

/** A message longer than the receive limit: its announced length and the limit. */
export class MessageTooLarge extends Error {
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    // grpc-js's text, so callers matching on details see the same string from either implementation.
    super(`Received message larger than max (${size} vs ${max})`);
  }
}

export class MessageDecoder {
  readonly #max: number;
  /** A prefix split across chunks, while it is incomplete (most prefixes never need it). */
  #header: Buffer | undefined;
  #headerBytes = 0;
  #message: Buffer | undefined;
  #messageBytes = 0;

  /** `maxLength` < 0: no limit. */
  constructor(maxLength: number) {
    this.#max = maxLength < 0 ? Infinity : maxLength;
  }

  /** The messages (prefix included) `chunk` completes, in order. Throws MessageTooLarge. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#message !== undefined) {
        at = this.#fill(chunk, at, out);
        continue;
      }
      const start = at;
      let prefix: Buffer;
      if (this.#headerBytes === 0 && chunk.length - at >= 5) {
        prefix = chunk.subarray(at, at + 5);
        at += 5;
      } else {
        const header = (this.#header ??= Buffer.alloc(5));
        const take = Math.min(5 - this.#headerBytes, chunk.length - at);
        chunk.copy(header, this.#headerBytes, at, at + take);
        this.#headerBytes += take;
        at += take;
        if (this.#headerBytes < 5) break;
        this.#headerBytes = 0;
        prefix = header;
      }
      const length = prefix.readUInt32BE(1);
      if (length > this.#max) throw new MessageTooLarge(length, this.#max);
      if (prefix !== this.#header && chunk.length - at >= length) {
        // The common case: prefix and message in this chunk; no copy.
        out.push(chunk.subarray(start, at + length));
        at += length;
      } else {
        this.#message = Buffer.allocUnsafe(5 + length);
        prefix.copy(this.#message, 0);
        this.#messageBytes = 5;
        if (length === 0) at = this.#fill(chunk, at, out);
      }
    }
    return out;
  }

  #fill(chunk: Buffer, at: number, out: Buffer[]): number {
    const message = this.#message as Buffer;
    const take = Math.min(message.length - this.#messageBytes, chunk.length - at);
    chunk.copy(message, this.#messageBytes, at, at + take);
    this.#messageBytes += take;
    if (this.#messageBytes === message.length) {
      out.push(message);
      this.#message = undefined;
    }
    return at + take;
  }
}
