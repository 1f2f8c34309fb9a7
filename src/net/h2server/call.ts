/**
 * One RPC on a node:http2 stream, as grpc-js's interceptors and handler drivers see a call: grpc-js's
 * `ServerInterceptingCallInterface`, written for the fewest allocations and event-loop turns per unary
 * call. What a client observes (headers, trailers, status texts, limits, deadline, cancellation) is
 * grpc-js's server's; the contract tests run both.
 */
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { TLSSocket } from 'node:tls';
import * as zlib from 'node:zlib';
import { frameMessage, isCompressed, MessageDecoder, MessageTooLarge } from '../grpc-framing';
import { parseTimeoutMs, requestMetadata } from './framing';

type CallInterface = grpc.ServerInterceptingCallInterface;
export type CallListener = Parameters<CallInterface['start']>[0];
export type CallStatus = Parameters<CallInterface['sendStatus']>[0];
type AuthContext = ReturnType<CallInterface['getAuthContext']>;
type ConnectionInfo = ReturnType<CallInterface['getConnectionInfo']>;
type MetricsRecorder = ReturnType<CallInterface['getMetricsRecorder']>;

export type HandlerType = 'unary' | 'clientStream' | 'serverStream' | 'bidi';

/** A registered method, as grpc-js's Server.register stores it. */
export interface MethodHandler {
  path: string;
  type: HandlerType;
  func: grpc.UntypedHandleCall;
  serialize: grpc.serialize<unknown>;
  deserialize: grpc.deserialize<unknown>;
}

export interface CallLimits {
  /** -1: unlimited. */
  maxReceiveBytes: number;
  maxSendBytes: number;
}

const CALL: unique symbol = Symbol('loopp.call');
type Tagged = http2.ServerHttp2Stream & { [CALL]: H2ServerCall };
const HALF_CLOSE: unique symbol = Symbol('half-close');
const Status = grpc.status;

export class H2ServerCall implements CallInterface {
  #listener: Omit<CallListener, 'onReceiveMetadata'> | undefined;
  #deadline: grpc.Deadline = Infinity;
  #timer: NodeJS.Timeout | undefined;
  #cancelled = false;
  #cancelNotified = false;
  #headersSent = false;
  #statusSent = false;
  #decoder: MessageDecoder | undefined;
  #queue: unknown[] = [];
  #readPending = false;
  #halfClosed = false;
  #metrics: MetricsRecorder | undefined;
  #trailers: http2.OutgoingHttpHeaders | undefined;

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly handler: MethodHandler,
    private readonly limits: CallLimits,
  ) {
    // Shared listeners that find the call on the stream: no closures per call.
    (stream as Tagged)[CALL] = this;
    stream.on('close', H2ServerCall.#streamClosed);
    // Flowing from the start: a unary request is read at once, and paused only while nobody reads.
    stream.on('data', H2ServerCall.#streamData);
    stream.on('end', H2ServerCall.#streamEnded);
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) this.#startDeadline(String(timeout));
  }

  static #streamClosed(this: http2.ServerHttp2Stream): void {
    (this as Tagged)[CALL].#notifyCancel();
  }

  static #streamData(this: http2.ServerHttp2Stream, chunk: Buffer): void {
    (this as Tagged)[CALL].#onData(chunk);
  }

  static #streamEnded(this: http2.ServerHttp2Stream): void {
    (this as Tagged)[CALL].#onEnd();
  }

  static #sendTrailers(this: http2.ServerHttp2Stream): void {
    const call = (this as Tagged)[CALL];
    this.sendTrailers(call.#trailers ?? {});
    call.#notifyCancel();
  }

  start(listener: CallListener): void {
    if (this.#checkCancelled()) return;
    this.#listener = listener;
    listener.onReceiveMetadata(requestMetadata(this.headers));
  }

  /** start() for loopp's own handler drivers: the metadata is built only if the handler reads it. */
  startLazy(listener: LazyCallListener): void {
    if (this.#checkCancelled()) return;
    this.#listener = listener;
    listener.onReceiveMetadata(() => requestMetadata(this.headers));
  }

  startRead(): void {
    if (this.#checkCancelled()) return;
    this.#readPending = true;
    if (this.#queue.length > 0) this.#deliver();
    else if (!this.#halfClosed && this.stream.isPaused()) this.stream.resume();
  }

  sendMetadata(metadata: grpc.Metadata | undefined): void {
    if (this.#checkCancelled() || this.#headersSent) return;
    this.#headersSent = true;
    this.stream.respond(responseHeaders(metadata), { waitForTrailers: true });
  }

  sendMessage(message: unknown, callback: () => void): void {
    if (this.#checkCancelled()) return;
    const frame = this.#serialize(message);
    if (frame === undefined) return;
    if (!this.#headersSent) this.sendMetadata(undefined);
    this.stream.write(frame, (err) => {
      if (err) this.sendStatus({ code: Status.INTERNAL, details: sendErrorDetails(err, 'Error writing message', 'Internal server error'), metadata: null });
      else callback();
    });
  }

  /** A unary call's answer: message and status in one go (no wait for the write, as no interceptor can reorder them). */
  sendUnaryResponse(message: unknown, trailer: grpc.Metadata | undefined): void {
    if (this.#checkCancelled()) return;
    const frame = this.#serialize(message);
    if (frame === undefined) return;
    if (!this.#headersSent) this.sendMetadata(undefined);
    this.#endWith({ code: Status.OK, details: 'OK', metadata: trailer ?? null }, frame);
  }

  sendStatus(status: CallStatus): void {
    this.#endWith(status, undefined);
  }

  /** Sends the status, after `last` if given (one end() for a unary answer). */
  #endWith(status: CallStatus, last: Buffer | undefined): void {
    if (this.#checkCancelled() || this.#statusSent) return;
    this.#statusSent = true;
    clearTimeout(this.#timer);
    const trailers: http2.OutgoingHttpHeaders = {
      'grpc-status': status.code,
      'grpc-message': encodeURI(status.details),
      ...status.metadata?.toHttp2Headers(),
    };
    if (this.#headersSent) {
      this.#trailers = trailers;
      this.stream.on('wantTrailers', H2ServerCall.#sendTrailers);
      if (last === undefined) this.stream.end();
      else this.stream.end(last);
      return;
    }
    // Trailers-only: the status rides on the one HEADERS frame.
    this.#headersSent = true;
    this.stream.respond({ ...trailers, ':status': 200, 'content-type': 'application/grpc+proto' }, { endStream: true });
    this.#notifyCancel();
  }

  getPeer(): string {
    const socket = this.stream.session?.socket;
    if (!socket?.remoteAddress) return 'unknown';
    return socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : socket.remoteAddress;
  }

  getDeadline(): grpc.Deadline {
    return this.#deadline;
  }

  getHost(): string {
    return (this.headers[':authority'] ?? this.headers.host) as string;
  }

  getAuthContext(): AuthContext {
    const socket = this.stream.session?.socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return {};
    const cert = socket.getPeerCertificate();
    return { transportSecurityType: 'ssl', sslPeerCertificate: cert.raw ? cert : undefined };
  }

  getConnectionInfo(): ConnectionInfo {
    const s = this.stream.session?.socket;
    return { localAddress: s?.localAddress, localPort: s?.localPort, remoteAddress: s?.remoteAddress, remotePort: s?.remotePort };
  }

  /** Values recorded here are not sent: the loopp server does not implement ORCA load reports. */
  getMetricsRecorder(): MetricsRecorder {
    return (this.#metrics ??= newMetricsRecorder());
  }

  #serialize(message: unknown): Buffer | undefined {
    let frame: Buffer;
    try {
      frame = frameMessage(this.handler.serialize(message));
    } catch (err) {
      this.sendStatus({ code: Status.INTERNAL, details: sendErrorDetails(err, 'Error serializing response'), metadata: null });
      return undefined;
    }
    const max = this.limits.maxSendBytes;
    if (max !== -1 && frame.length - 5 > max) {
      this.sendStatus({ code: Status.RESOURCE_EXHAUSTED, details: `Sent message larger than max (${frame.length} vs. ${max})`, metadata: null });
      return undefined;
    }
    return frame;
  }

  #startDeadline(value: string): void {
    const ms = parseTimeoutMs(value);
    if (ms === undefined) {
      process.nextTick(() => this.sendStatus({ code: Status.INTERNAL, details: `Invalid grpc-timeout value "${value}"`, metadata: null }));
      return;
    }
    this.#deadline = Date.now() + ms;
    this.#timer = setTimeout(() => this.sendStatus({ code: Status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: null }), ms);
  }

  #onData(chunk: Buffer): void {
    if (this.#checkCancelled()) return;
    let messages: Buffer[];
    try {
      messages = (this.#decoder ??= new MessageDecoder(this.limits.maxReceiveBytes)).push(chunk);
    } catch (err) {
      if (!(err instanceof MessageTooLarge)) throw err;
      this.sendStatus({ code: Status.RESOURCE_EXHAUSTED, details: err.message, metadata: null });
      return;
    }
    for (const raw of messages) {
      const message = this.#decode(raw);
      if (message === HALF_CLOSE) return;
      this.#queue.push(message);
    }
    this.#deliver();
    // Back-pressure: messages wait here until the handler reads them.
    if (this.#queue.length > 0) this.stream.pause();
  }

  /** The request message in `raw`, or HALF_CLOSE after sending the status that ends a bad request. */
  #decode(raw: Buffer): unknown {
    let body = raw.subarray(5);
    if (isCompressed(raw)) {
      const inflated = this.#inflate(body);
      if (inflated === undefined) return HALF_CLOSE;
      body = inflated;
    }
    try {
      return this.handler.deserialize(body);
    } catch (err) {
      this.sendStatus({ code: Status.INTERNAL, details: sendErrorDetails(err, 'Error deserializing request'), metadata: null });
      return HALF_CLOSE;
    }
  }

  #inflate(body: Buffer): Buffer | undefined {
    const encoding = (this.headers['grpc-encoding'] as string | undefined) ?? 'identity';
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      this.sendStatus({ code: Status.UNIMPLEMENTED, details: `Received message compressed with unsupported encoding "${encoding}"`, metadata: null });
      return undefined;
    }
    const max = this.limits.maxReceiveBytes;
    try {
      const options = max === -1 ? {} : { maxOutputLength: max + 1 };
      const out = encoding === 'gzip' ? zlib.gunzipSync(body, options) : zlib.inflateSync(body, options);
      if (max === -1 || out.length <= max) return out;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') {
        this.sendStatus({ code: Status.INTERNAL, details: 'Failed to decompress message', metadata: null });
        return undefined;
      }
    }
    this.sendStatus({ code: Status.RESOURCE_EXHAUSTED, details: `Received message that decompresses to a size larger than ${max}`, metadata: null });
    return undefined;
  }

  #onEnd(): void {
    this.#queue.push(HALF_CLOSE);
    this.#halfClosed = true;
    this.#deliver();
  }

  #deliver(): void {
    if (this.#listener === undefined || !this.#readPending || this.#queue.length === 0) return;
    this.#readPending = false;
    const next = this.#queue.shift();
    if (next === HALF_CLOSE) this.#listener.onReceiveHalfClose();
    else this.#listener.onReceiveMessage(next);
  }

  #checkCancelled(): boolean {
    // The stream can be destroyed before its 'close' event runs.
    if (!this.#cancelled && (this.stream.destroyed || this.stream.closed)) this.#notifyCancel();
    return this.#cancelled;
  }

  /** Ends the call for the handler: grpc-js tells the handler 'cancelled' after every call, finished or not. */
  #notifyCancel(): void {
    if (this.#cancelNotified) return;
    this.#cancelNotified = true;
    this.#cancelled = true;
    process.nextTick(() => this.#listener?.onCancel());
    clearTimeout(this.#timer);
    // Whatever the peer still sends is read and dropped.
    this.stream.resume();
  }
}

/** A listener whose onReceiveMetadata takes a function that builds the metadata. */
export interface LazyCallListener extends Omit<CallListener, 'onReceiveMetadata'> {
  onReceiveMetadata(metadata: () => grpc.Metadata): void;
}

/** Response headers as grpc-js's server sends them. */
function responseHeaders(metadata: grpc.Metadata | undefined): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = {
    ':status': 200,
    'content-type': 'application/grpc+proto',
    'grpc-accept-encoding': 'identity,deflate,gzip',
    'grpc-encoding': 'identity',
  };
  return metadata === undefined ? headers : Object.assign(headers, metadata.toHttp2Headers());
}

/** grpc-js hides error texts from clients unless GRPC_NODE_DEBUG_SEND_ERROR_DETAILS is set. */
export const SEND_ERROR_DETAILS = Boolean(process.env.GRPC_NODE_DEBUG_SEND_ERROR_DETAILS);

/** `what` and the error's text, or only `hidden` (default `what`) when details are not sent. */
export function sendErrorDetails(err: unknown, what: string, hidden = what): string {
  if (!SEND_ERROR_DETAILS) return hidden;
  return `${what}: ${err instanceof Error ? err.message : String(err)}`;
}

// grpc-js does not export its recorder class; it is reached where the pinned versions keep it.
function newMetricsRecorder(): MetricsRecorder {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const orca = require('@grpc/grpc-js/build/src/orca') as { PerRequestMetricRecorder: new () => MetricsRecorder };
  return new orca.PerRequestMetricRecorder();
}
