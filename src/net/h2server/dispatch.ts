/**
 * Runs a registered handler on a call, as grpc-js's server does for the four method types: when the
 * request is complete (unary, server streaming) or at once (client streaming, bidi), with grpc-js's
 * status for a missing or second request message and for a handler that throws. The listeners are
 * objects with prototype methods: one allocation per call, not one closure per event.
 */
import type * as grpc from '@grpc/grpc-js';
import { H2ServerCall, SEND_ERROR_DETAILS, type CallListener, type CallStatus, type MethodHandler } from './call';
import { DuplexCall, errorToStatus, ReadableCall, UnaryCall, WritableCall, type MetadataSource } from './surface';

type CallInterface = grpc.ServerInterceptingCallInterface;
type AnyHandler = (...args: unknown[]) => void;
const UNKNOWN = 2;
const UNIMPLEMENTED = 12;

type Cancellable = { cancelled: boolean; emit(event: 'cancelled', why: 'cancelled'): boolean; destroy?(): void };
type Pushable = Cancellable & { push(chunk: unknown): boolean };

export function dispatch(call: CallInterface, handler: MethodHandler): void {
  const listener = handler.type === 'unary' || handler.type === 'serverStream' ? new OneRequest(call, handler) : new Streamed(call, handler);
  if (call instanceof H2ServerCall) call.startLazy(listener);
  else call.start(listener as CallListener);
}

/** Unary and server streaming: the handler runs once the one request message and the half-close are in. */
class OneRequest {
  #metadata: MetadataSource | undefined;
  #request: unknown = null;
  #surface: Cancellable | undefined;

  constructor(
    private readonly call: CallInterface,
    private readonly handler: MethodHandler,
  ) {}

  onReceiveMetadata(md: MetadataSource): void {
    this.#metadata = md;
    this.call.startRead();
  }

  onReceiveMessage(message: unknown): void {
    if (this.#request) {
      this.call.sendStatus(status(UNIMPLEMENTED, `Received a second request message for server streaming method ${this.handler.path}`));
      return;
    }
    this.#request = message;
    this.call.startRead();
  }

  onReceiveHalfClose(): void {
    const { call, handler } = this;
    if (!this.#request) {
      call.sendStatus(status(UNIMPLEMENTED, `Received no request message for server streaming method ${handler.path}`));
      return;
    }
    const md = this.#metadata as MetadataSource;
    if (handler.type === 'unary') {
      const surface = new UnaryCall(handler.path, call, md, this.#request);
      this.#surface = surface;
      run(call, handler, surface, respond(call));
    } else {
      const surface = new WritableCall(handler.path, call, md, this.#request);
      this.#surface = surface;
      run(call, handler, surface);
    }
  }

  onCancel(): void {
    if (this.#surface !== undefined) cancel(this.#surface);
  }
}

/** Client streaming and bidi: the handler runs on the request metadata; messages are pushed as read. */
class Streamed {
  #surface: Pushable | undefined;

  constructor(
    private readonly call: CallInterface,
    private readonly handler: MethodHandler,
  ) {}

  onReceiveMetadata(md: MetadataSource): void {
    const { call, handler } = this;
    if (handler.type === 'clientStream') {
      const surface = new ReadableCall(handler.path, call, md);
      this.#surface = surface;
      run(call, handler, surface, respond(call));
    } else {
      const surface = new DuplexCall(handler.path, call, md);
      this.#surface = surface;
      run(call, handler, surface);
    }
  }

  onReceiveMessage(message: unknown): void {
    this.#surface?.push(message);
  }

  onReceiveHalfClose(): void {
    this.#surface?.push(null);
  }

  onCancel(): void {
    if (this.#surface !== undefined) cancel(this.#surface);
  }
}

function cancel(surface: Cancellable): void {
  surface.cancelled = true;
  surface.emit('cancelled', 'cancelled');
  surface.destroy?.();
}

function run(call: CallInterface, handler: MethodHandler, surface: unknown, callback?: grpc.sendUnaryData<unknown>): void {
  try {
    (handler.func as AnyHandler)(surface, callback);
  } catch (err) {
    call.sendStatus(status(UNKNOWN, SEND_ERROR_DETAILS ? `Server method handler threw error ${(err as Error).message}` : 'Unknown error'));
  }
}

/** The callback of unary and client-streaming handlers. */
function respond(call: CallInterface): grpc.sendUnaryData<unknown> {
  return (err, value, trailer) => {
    if (err) {
      call.sendStatus(errorToStatus(err, trailer));
    } else if (call instanceof H2ServerCall) {
      call.sendUnaryResponse(value, trailer);
    } else {
      call.sendMessage(value, () => call.sendStatus({ code: 0, details: 'OK', metadata: trailer ?? null }));
    }
  };
}

function status(code: number, details: string): CallStatus {
  return { code, details, metadata: null };
}
