/**
 * gRPC's wire pieces a server needs, as grpc-js's server writes and reads them: the 5-byte message
 * prefix, grpc-timeout, grpc-message encoding and the request metadata.
 */
import * as grpc from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http2';

/** Thrown by {@link MessageDecoder.push} for a message over the receive limit (grpc-js's text). */
export class MessageTooLarge extends Error {}

/**
 * Splits a request body into length-prefixed messages, whatever the DATA frame boundaries. A message in
 * one chunk is returned without a copy; a message spread over chunks is joined once, when complete.
 */
export class MessageDecoder {
  #parts: Buffer[] = [];
  #size = 0;
  /** Prefix + body length of the message being read; -1 until its prefix is in. */
  #want = -1;

  constructor(private readonly maxBytes: number) {}

  /** Complete messages (with their prefix) in arrival order; throws MessageTooLarge. */
  push(chunk: Buffer): Buffer[] {
    this.#parts.push(chunk);
    this.#size += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.#want < 0) {
        if (this.#size < 5) break;
        const length = this.#prefix().readUInt32BE(1);
        if (this.maxBytes !== -1 && length > this.maxBytes) {
          throw new MessageTooLarge(`Received message larger than max (${length} vs ${this.maxBytes})`);
        }
        this.#want = 5 + length;
      }
      if (this.#size < this.#want) break;
      out.push(this.#take(this.#want));
      this.#want = -1;
    }
    return out;
  }

  #prefix(): Buffer {
    const first = this.#parts[0] as Buffer;
    return first.length >= 5 ? first : Buffer.concat(this.#parts, 5);
  }

  #take(n: number): Buffer {
    const first = this.#parts[0] as Buffer;
    let taken: Buffer;
    if (first.length >= n) {
      taken = first.subarray(0, n);
      if (first.length === n) this.#parts.shift();
      else this.#parts[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.#parts, this.#size);
      taken = all.subarray(0, n);
      this.#parts = all.length === n ? [] : [all.subarray(n)];
    }
    this.#size -= n;
    return taken;
  }
}

/** A serialized message with its prefix (never compressed: grpc-js's server does not compress either). */
export function frameMessage(body: Buffer | Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.byteLength + 5);
  out[0] = 0;
  out.writeUInt32BE(body.byteLength, 1);
  out.set(body, 5);
  return out;
}

const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** grpc-timeout as a number of ms (grpc-js's parse: truncated to an integer), or undefined if malformed. */
export function parseTimeoutMs(value: string): number | undefined {
  const m = TIMEOUT.exec(value);
  if (m === null) return undefined;
  return (Number(m[1]) * (UNIT_MS[m[2] as string] as number)) | 0;
}

/** Headers grpc-js's server keeps out of the metadata a handler sees. */
const TRANSPORT_HEADERS = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];

/** The request metadata as grpc-js's server hands it to handlers (pseudo and transport headers removed). */
export function requestMetadata(headers: IncomingHttpHeaders): grpc.Metadata {
  const md = grpc.Metadata.fromHttp2Headers(headers);
  for (const h of TRANSPORT_HEADERS) md.remove(h);
  return md;
}
