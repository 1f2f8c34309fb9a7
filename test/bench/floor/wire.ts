/**
 * The floor's gRPC on bare `node:http2`: what any gRPC implementation on Node must do at the least, so
 * the benchmarks can show how far loopp is from Node's own limit. Hand-framed: a 5-byte prefix per
 * message (flag 0, big-endian length), `content-type: application/grpc`, `te: trailers`, the status
 * from the trailers (or from the headers of a trailers-only reply). The few protobuf messages the
 * benchmarks exchange are encoded and decoded by hand too (string/bytes and varint fields only).
 * No grpc-js, no loopp: nothing here imports src/.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';

/** The receive window loopp's host channels use (src/host/connection.ts); the floor gets the same. */
export const WINDOW_BYTES = 16 * 1024 * 1024;

// ---- protobuf, the wire types the benchmark messages use ----

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** One message of the given fields: numbers as varints, strings and Buffers length-delimited. */
export function pb(fields: Record<number, number | string | Buffer | undefined>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === 0 || v === '') continue;
    if (typeof v === 'number') parts.push(varint(Number(k) << 3), varint(v));
    else {
      const b = typeof v === 'string' ? Buffer.from(v) : v;
      parts.push(varint((Number(k) << 3) | 2), varint(b.length), b);
    }
  }
  return Buffer.concat(parts);
}

/** The fields of a message, last occurrence wins: varints as numbers, length-delimited as Buffers. */
export function unpb(buf: Buffer): Map<number, number | Buffer> {
  const out = new Map<number, number | Buffer>();
  let i = 0;
  const read = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated protobuf varint');
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const key = read();
    if ((key & 7) === 0) out.set(key >>> 3, read());
    else if ((key & 7) === 2) {
      const len = read();
      out.set(key >>> 3, buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`protobuf wire type ${key & 7} not handled by the floor`);
  }
  return out;
}

// ---- gRPC message framing ----

export function frame(msg: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = 0;
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** Splits a stream's DATA into gRPC messages, however the chunks fall. */
export class Deframer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onMessage: (msg: Buffer) => void): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      onMessage(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    this.pending = buf;
  }
}

export class FloorStatusError extends Error {
  constructor(
    readonly code: number,
    readonly path: string,
    details: string,
  ) {
    super(`${path}: grpc-status ${code} ${details}`);
  }
}

// ---- client ----

/** An HTTP/2 session (prior knowledge, no TLS) to a plugin's announced address, window as loopp's host. */
export function connect(network: string, address: string): http2.ClientHttp2Session {
  const session = http2.connect(network === 'unix' ? 'http://localhost' : `http://${address}`, {
    settings: { initialWindowSize: WINDOW_BYTES },
    ...(network === 'unix' ? { createConnection: () => net.connect(address) } : {}),
  });
  session.once('connect', () => session.setLocalWindowSize(WINDOW_BYTES));
  session.on('error', () => undefined); // surfaces on the calls
  return session;
}

function statusOf(h: http2.IncomingHttpHeaders): { code: number; details: string } | undefined {
  const s = h['grpc-status'];
  return s === undefined ? undefined : { code: Number(s), details: decodeURIComponent(String(h['grpc-message'] ?? '')) };
}

/** Opens a call: request headers, the message (if given, then half-close), messages and status out. */
export function openCall(
  session: http2.ClientHttp2Session,
  path: string,
  onMessage: (msg: Buffer) => void,
  onDone: (err: Error | undefined) => void,
  body?: Buffer,
): http2.ClientHttp2Stream {
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  const deframer = new Deframer();
  let status: { code: number; details: string } | undefined;
  let done = false;
  const finish = (err: Error | undefined) => {
    if (!done) (done = true), onDone(err);
  };
  req.on('response', (h) => (status = statusOf(h)));
  req.on('trailers', (h) => (status = statusOf(h)));
  req.on('data', (chunk: Buffer) => deframer.push(chunk, onMessage));
  req.on('end', () => {
    if (!status) finish(new FloorStatusError(13, path, 'stream ended without grpc-status'));
    else finish(status.code === 0 ? undefined : new FloorStatusError(status.code, path, status.details));
  });
  req.on('error', finish);
  req.on('close', () => finish(new FloorStatusError(1, path, `stream closed (rst ${req.rstCode})`)));
  if (body) req.end(frame(body));
  return req;
}

/** A unary call: one message out, the one message in. */
export function unary(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let reply: Buffer | undefined;
    openCall(
      session,
      path,
      (m) => (reply = m),
      (err) => (err ? reject(err) : reply ? resolve(reply) : reject(new FloorStatusError(13, path, 'no reply message'))),
      body,
    );
  });
}

// ---- server ----

/** Replies to a call with one message and status OK in the trailers. */
export function replyOk(stream: http2.ServerHttp2Stream, msg: Buffer): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame(msg));
}

/** A trailers-only reply with an error status. */
export function replyError(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) }, { endStream: true });
}

/** Collects a unary request's message, then calls `handle` with it. */
export function onUnary(stream: http2.ServerHttp2Stream, handle: (msg: Buffer) => void): void {
  const deframer = new Deframer();
  let msg: Buffer | undefined;
  stream.on('data', (chunk: Buffer) => deframer.push(chunk, (m) => (msg = m)));
  stream.on('end', () => handle(msg ?? Buffer.alloc(0)));
  stream.on('error', () => undefined);
}
