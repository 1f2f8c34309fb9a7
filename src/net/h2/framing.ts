/**
 * gRPC's length-prefixed messages on an HTTP/2 stream: one flag byte (compressed or not), a 4-byte
 * big-endian length, the message. DATA frames cut messages anywhere, so the decoder reassembles them,
 * copying only a message that spans chunks.
 */

/** Frames one uncompressed message. */
export function frameMessage(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

/** A message longer than the receive limit: its announced length and the limit. */
export class MessageTooLarge extends Error {
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    // grpc-js's text, so callers matching on details see the same string from either channel.
    super(`Received message larger than max (${size} vs ${max})`);
  }
}

/** A compressed message: this channel never asks for compression, so a peer that sends one is broken. */
export class CompressedMessage extends Error {
  constructor() {
    super('Received a compressed message, but no message encoding was negotiated');
  }
}

export class MessageDecoder {
  readonly #max: number;
  readonly #header = Buffer.alloc(5);
  #headerBytes = 0;
  #body: Buffer | undefined;
  #bodyBytes = 0;

  /** `maxLength` < 0: no limit. */
  constructor(maxLength: number) {
    this.#max = maxLength < 0 ? Infinity : maxLength;
  }

  /** The messages `chunk` completes, in order. Throws MessageTooLarge or CompressedMessage. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#body !== undefined) {
        at = this.#fillBody(chunk, at, out);
        continue;
      }
      const take = Math.min(5 - this.#headerBytes, chunk.length - at);
      chunk.copy(this.#header, this.#headerBytes, at, at + take);
      this.#headerBytes += take;
      at += take;
      if (this.#headerBytes < 5) break;
      this.#headerBytes = 0;
      const length = this.#header.readUInt32BE(1);
      if (length > this.#max) throw new MessageTooLarge(length, this.#max);
      if ((this.#header[0]! & 1) !== 0) throw new CompressedMessage();
      if (chunk.length - at >= length) {
        // The common case: the whole message is in this chunk; no copy.
        out.push(chunk.subarray(at, at + length));
        at += length;
      } else {
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyBytes = 0;
      }
    }
    return out;
  }

  #fillBody(chunk: Buffer, at: number, out: Buffer[]): number {
    const body = this.#body!;
    const take = Math.min(body.length - this.#bodyBytes, chunk.length - at);
    chunk.copy(body, this.#bodyBytes, at, at + take);
    this.#bodyBytes += take;
    if (this.#bodyBytes === body.length) {
      out.push(body);
      this.#body = undefined;
    }
    return at + take;
  }
}
