/**
 * One gRPC call on an HTTP/2 stream, behind grpc-js's internal Call interface (what a grpc-js Client
 * drives through its interceptors): the listener gets metadata, one message per startRead(), then one
 * status, after every message when the status is OK and at once otherwise, as grpc-js delivers them.
 * A call waits in its channel until a connection is up; its deadline runs from createCall.
 */
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { messageOf } from '../../core/errors';
import { frameMessage, isCompressed, MessageDecoder, MessageTooLarge } from '../grpc-framing';
import { resetStatus, statusOf, trailerStatus, type StatusObject } from './status';

type CallInterface = ReturnType<grpc.ChannelInterface['createCall']>;
type Listener = Parameters<CallInterface['start']>[1];
type MessageContext = Parameters<CallInterface['sendMessageWithContext']>[0];
type AuthContext = { transportSecurityType?: string; sslPeerCertificate?: import('node:tls').PeerCertificate };

/** A live HTTP/2 session as calls see it. */
export interface CallConnection {
  readonly session: http2.ClientHttp2Session;
  readonly peer: string;
  readonly authContext: AuthContext;
  /** The calls with a stream on this session (told when the session drops). */
  readonly calls: Set<H2Call>;
}

/** What a call needs from its channel. */
export interface CallHost {
  readonly target: string;
  readonly authority: string;
  readonly userAgent: string;
  readonly maxSendBytes: number;
  readonly maxReceiveBytes: number;
  /** Starts the call on a connection now or once there is one (or fails it). */
  attach(call: H2Call): void;
  /** The call ended before it got a connection, or its stream is done. */
  detach(call: H2Call): void;
}

/** Bits of grpc.propagate. */
const PROPAGATE_DEADLINE = 1;
const PROPAGATE_CANCELLATION = 8;
const PROPAGATE_DEFAULTS = 0xffff;

/** grpc-timeout: the remaining time in the coarsest unit that keeps 8 digits (gRPC's limit). */
const TIMEOUT_UNITS = [['m', 1], ['S', 1000], ['M', 60_000], ['H', 3_600_000]] as const;
function timeoutHeader(deadlineMs: number): string {
  const ms = Math.max(deadlineMs - Date.now(), 0);
  for (const [unit, factor] of TIMEOUT_UNITS) {
    const amount = Math.ceil(ms / factor);
    if (amount < 1e8) return `${amount}${unit}`;
  }
  return '99999999H';
}

function deadlineMs(deadline: grpc.Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

type Parent = { getDeadline(): grpc.Deadline; on(event: 'cancelled', fn: () => void): unknown } | null;

export class H2Call implements CallInterface {
  readonly #host: CallHost;
  readonly #method: string;
  readonly #number: number;
  #deadlineMs: number;
  #timer: NodeJS.Timeout | undefined;
  #credentials: grpc.CallCredentials | undefined;
  #listener: Listener | undefined;
  #metadata: grpc.Metadata | undefined;
  #conn: CallConnection | undefined;
  #stream: http2.ClientHttp2Stream | undefined;
  #outbox: { frame: Buffer; callback: MessageContext['callback'] }[] = [];
  #halfClosed = false;
  #inbox: Buffer[] = [];
  #canRead = false;
  #delivering = false;
  #readsClosed = false;
  #final: StatusObject | undefined;
  #statusOut = false;
  #httpCode: number | undefined;
  #serverEnded = false;
  #dropped = false;
  #error: Error | undefined;
  #decoder: MessageDecoder;

  constructor(host: CallHost, method: string, deadline: grpc.Deadline, parent: Parent, flags: number | null | undefined, callNumber: number) {
    this.#host = host;
    this.#method = method;
    this.#number = callNumber;
    this.#decoder = new MessageDecoder(host.maxReceiveBytes);
    this.#deadlineMs = deadlineMs(deadline);
    const propagate = flags ?? PROPAGATE_DEFAULTS;
    if (parent !== null) {
      if (propagate & PROPAGATE_DEADLINE) this.#deadlineMs = Math.min(this.#deadlineMs, deadlineMs(parent.getDeadline()));
      if (propagate & PROPAGATE_CANCELLATION) parent.on('cancelled', () => this.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled by parent call'));
    }
    this.#armDeadline();
  }

  #armDeadline(): void {
    if (!Number.isFinite(this.#deadlineMs)) return;
    const started = Date.now();
    const fire = () => {
      this.#timer = undefined;
      this.cancelWithStatus(grpc.status.DEADLINE_EXCEEDED, `Deadline exceeded after ${((Date.now() - started) / 1000).toFixed(3)}s`);
    };
    const delay = this.#deadlineMs - started;
    if (delay <= 0) {
      process.nextTick(fire);
      return;
    }
    // setTimeout's limit is 2^31-1 ms; a deadline further out is as good as none.
    if (delay > 2 ** 31 - 1) return;
    this.#timer = setTimeout(fire, delay);
    this.#timer.unref();
  }

  get waitForReady(): boolean {
    return this.#metadata?.getOptions().waitForReady === true;
  }

  start(metadata: grpc.Metadata, listener: Listener): void {
    this.#metadata = metadata;
    this.#listener = listener;
    // A microtask later, a unary call's message and half-close are already queued: they go out with
    // the HEADERS in one write.
    queueMicrotask(() => {
      if (this.#final !== undefined) return;
      if (this.#credentials === undefined) return this.#host.attach(this);
      this.#credentials.generateMetadata({ service_url: `https://${this.#host.authority}${this.#method.replace(/\/[^/]*$/, '')}`, method_name: this.#method.replace(/^.*\//, '') }).then(
        (extra) => {
          this.#metadata!.merge(extra);
          if (this.#final === undefined) this.#host.attach(this);
        },
        (err: unknown) => this.#end(statusOf(grpc.status.UNAVAILABLE, `Getting metadata from plugin failed with error: ${messageOf(err)}`)),
      );
    });
  }

  /** Fails a call that cannot get a connection (called by the channel). */
  fail(status: StatusObject): void {
    this.#end(status);
  }

  /** Opens the stream on `conn` and sends what was queued (called by the channel). */
  begin(conn: CallConnection): void {
    if (this.#final !== undefined) return;
    const headers: http2.OutgoingHttpHeaders = this.#metadata!.toHttp2Headers();
    headers[':authority'] = this.#host.authority;
    headers[':method'] = 'POST';
    headers[':path'] = this.#method;
    headers['content-type'] = 'application/grpc';
    headers.te = 'trailers';
    headers['user-agent'] = this.#host.userAgent;
    if (Number.isFinite(this.#deadlineMs)) headers['grpc-timeout'] = timeoutHeader(this.#deadlineMs);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = conn.session.request(headers);
    } catch (err) {
      this.#end(statusOf(grpc.status.UNAVAILABLE, `Failed to start HTTP/2 stream with error ${messageOf(err)}`));
      return;
    }
    this.#conn = conn;
    this.#stream = stream;
    conn.calls.add(this);
    this.#wire(stream);
    for (const { frame, callback } of this.#outbox) this.#write(frame, callback);
    this.#outbox = [];
    if (this.#halfClosed) stream.end();
  }

  #wire(stream: http2.ClientHttp2Stream): void {
    stream.on('response', (headers, flags) => {
      this.#httpCode = headers[':status'];
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) return this.#trailers(headers);
      let metadata: grpc.Metadata;
      try {
        metadata = grpc.Metadata.fromHttp2Headers(headers);
      } catch (err) {
        return this.#end(statusOf(grpc.status.UNKNOWN, messageOf(err)));
      }
      this.#listener!.onReceiveMetadata?.(metadata);
    });
    stream.on('trailers', (headers) => this.#trailers(headers));
    stream.on('data', (chunk: Buffer) => this.#data(chunk));
    stream.on('end', () => {
      this.#readsClosed = true;
      this.#maybeOutput();
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // Stream errors made from an RST_STREAM are read from its code on 'close'.
      if (err.code !== 'ERR_HTTP2_STREAM_ERROR') this.#error = err;
    });
    stream.on('close', () => {
      this.#serverEnded = true;
      if (this.#final?.code === grpc.status.OK) return;
      // After any 'error' emitted at the same time, whose message is the better detail.
      process.nextTick(() => {
        if (this.#final?.code === grpc.status.OK) return;
        if (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR && this.#final !== undefined) return;
        this.#end(resetStatus(stream.rstCode ?? http2.constants.NGHTTP2_INTERNAL_ERROR, this.#httpCode, this.#dropped, this.#error));
      });
    });
  }

  #trailers(headers: http2.IncomingHttpHeaders): void {
    this.#serverEnded = true;
    this.#end(trailerStatus(headers, this.#httpCode));
  }

  #data(chunk: Buffer): void {
    if (this.#statusOut) return;
    let messages: Buffer[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      if (this.#httpCode !== undefined && this.#httpCode !== 200) return this.#end(resetStatus(0, this.#httpCode, false, undefined));
      if (err instanceof MessageTooLarge) return this.cancelWithStatus(grpc.status.RESOURCE_EXHAUSTED, err.message);
      throw err;
    }
    for (const m of messages) {
      // This channel never asks for compression, so a peer that sends it is broken.
      if (isCompressed(m)) return this.cancelWithStatus(grpc.status.INTERNAL, 'Received a compressed message, but no message encoding was negotiated');
      this.#inbox.push(m.subarray(5));
    }
    this.#deliver();
    // Back-pressure: nobody reads, so the stream stops taking DATA (and stops granting window).
    if (this.#inbox.length > 0) this.#stream?.pause();
  }

  /** Hands out queued messages while the reader asks for them; reentrant startRead() calls loop here. */
  #deliver(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      while (this.#canRead && this.#inbox.length > 0 && !this.#statusOut) {
        this.#canRead = false;
        this.#listener!.onReceiveMessage?.(this.#inbox.shift());
      }
    } finally {
      this.#delivering = false;
    }
    this.#maybeOutput();
  }

  #end(status: StatusObject): void {
    if (this.#final === undefined || (this.#final.code === grpc.status.OK && !this.#statusOut)) {
      this.#final = status;
      this.#maybeOutput();
    }
    this.#closeStream();
  }

  #maybeOutput(): void {
    const final = this.#final;
    if (final === undefined || this.#statusOut) return;
    if (final.code === grpc.status.OK && !(this.#readsClosed && this.#inbox.length === 0)) return;
    this.#statusOut = true;
    clearTimeout(this.#timer);
    this.#conn?.calls.delete(this);
    this.#host.detach(this);
    this.#inbox = [];
    // Listeners run outside this call's own event handlers, as grpc-js runs them.
    process.nextTick(() => this.#listener?.onReceiveStatus?.(final));
    // Drain what is left so the stream can close.
    this.#stream?.resume();
  }

  #closeStream(): void {
    const stream = this.#stream;
    if (stream === undefined || stream.destroyed) return;
    if (this.#serverEnded) {
      if (!stream.writableEnded) stream.end();
    } else {
      stream.close(this.#final?.code === grpc.status.OK ? http2.constants.NGHTTP2_NO_ERROR : http2.constants.NGHTTP2_CANCEL);
    }
  }

  /** The session under this call dropped: the call ends UNAVAILABLE unless it finishes in this turn. */
  onDisconnect(): void {
    this.#dropped = true;
    setImmediate(() => this.#end(statusOf(grpc.status.UNAVAILABLE, 'Connection dropped')));
  }

  cancelWithStatus(status: grpc.status, details: string): void {
    this.#end(statusOf(status, details));
  }

  getPeer(): string {
    return this.#conn?.peer ?? this.#host.target;
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    const max = this.#host.maxSendBytes;
    if (max >= 0 && message.length > max) {
      // grpc-js's text for the same limit.
      this.cancelWithStatus(grpc.status.RESOURCE_EXHAUSTED, `Attempted to send message with a size larger than ${max}`);
      return;
    }
    const frame = frameMessage(message);
    if (this.#stream === undefined) {
      if (this.#final !== undefined) {
        if (context.callback !== undefined) process.nextTick(context.callback);
        return;
      }
      this.#outbox.push({ frame, callback: context.callback });
      return;
    }
    this.#write(frame, context.callback);
  }

  #write(frame: Buffer, callback: MessageContext['callback']): void {
    try {
      this.#stream!.write(frame, (err?: Error | null) => {
        if (err == null && callback === undefined) return;
        process.nextTick(() => {
          if (err != null) {
            const code = (err as NodeJS.ErrnoException).code === 'ERR_STREAM_WRITE_AFTER_END' ? grpc.status.INTERNAL : grpc.status.UNAVAILABLE;
            this.#end(statusOf(code, `Write error: ${err.message}`));
          }
          callback?.();
        });
      });
    } catch (err) {
      this.#end(statusOf(grpc.status.UNAVAILABLE, `Write failed with error ${messageOf(err)}`));
    }
  }

  startRead(): void {
    if (this.#final !== undefined && this.#final.code !== grpc.status.OK) {
      this.#readsClosed = true;
      this.#maybeOutput();
      return;
    }
    this.#canRead = true;
    this.#deliver();
    if (this.#inbox.length === 0) this.#stream?.resume();
  }

  halfClose(): void {
    this.#halfClosed = true;
    const stream = this.#stream;
    if (stream !== undefined && !stream.destroyed && !stream.writableEnded) stream.end();
  }

  getCallNumber(): number {
    return this.#number;
  }

  setCredentials(credentials: grpc.CallCredentials): void {
    this.#credentials = credentials;
  }

  getAuthContext(): AuthContext | null {
    return this.#conn?.authContext ?? null;
  }
}
