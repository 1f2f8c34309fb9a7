/**
 * Runs a registered handler on a call, as grpc-js's server does for the four method types: when the
 * request is complete (unary, server streaming) or at once (client streaming, bidi), with grpc-js's
 * status for a missing or second request message and for a handler that throws.
 */
import type * as grpc from '@grpc/grpc-js';
import { H2ServerCall, type CallListener, type CallStatus, type MethodHandler } from './call';
import { DuplexCall, errorToStatus, ReadableCall, UnaryCall, WritableCall, type MetadataSource } from './surface';

type CallInterface = grpc.ServerInterceptingCallInterface;
type AnyHandler = (...args: unknown[]) => void;
const UNKNOWN = 2;
const UNIMPLEMENTED = 12;
const SHOW_THROWN = Boolean(process.env.GRPC_NODE_DEBUG_SEND_ERROR_DETAILS);

export function dispatch(call: CallInterface, handler: MethodHandler): void {
  switch (handler.type) {
    case 'unary':
      return oneRequest(call, handler, (md, request) => {
        const surface = new UnaryCall(handler.path, call, md, request);
        run(call, handler, surface, respond(call));
        return surface;
      });
    case 'serverStream':
      return oneRequest(call, handler, (md, request) => {
        const surface = new WritableCall(handler.path, call, md, request);
        run(call, handler, surface);
        return surface;
      });
    case 'clientStream':
      return streamed(call, (md) => {
        const surface = new ReadableCall(handler.path, call, md);
        run(call, handler, surface, respond(call));
        return surface;
      });
    case 'bidi':
      return streamed(call, (md) => {
        const surface = new DuplexCall(handler.path, call, md);
        run(call, handler, surface);
        return surface;
      });
  }
}

type Cancellable = { cancelled: boolean; emit(event: 'cancelled', why: 'cancelled'): boolean; destroy?(): void };

/** Unary and server streaming: the handler runs once the one request message and the half-close are in. */
function oneRequest(call: CallInterface, handler: MethodHandler, start: (md: MetadataSource, request: unknown) => Cancellable): void {
  let metadata: MetadataSource;
  let request: unknown = null;
  let surface: Cancellable | undefined;
  begin(call, {
    onReceiveMetadata(md: MetadataSource) {
      metadata = md;
      call.startRead();
    },
    onReceiveMessage(message) {
      if (request) {
        call.sendStatus(status(UNIMPLEMENTED, `Received a second request message for server streaming method ${handler.path}`));
        return;
      }
      request = message;
      call.startRead();
    },
    onReceiveHalfClose() {
      if (!request) {
        call.sendStatus(status(UNIMPLEMENTED, `Received no request message for server streaming method ${handler.path}`));
        return;
      }
      surface = start(metadata, request);
    },
    onCancel() {
      if (surface !== undefined) cancel(surface);
    },
  });
}

/** Client streaming and bidi: the handler runs on the request metadata; messages are pushed as read. */
function streamed(call: CallInterface, start: (md: MetadataSource) => Cancellable & Readable): void {
  let surface: (Cancellable & Readable) | undefined;
  begin(call, {
    onReceiveMetadata(md: MetadataSource) {
      surface = start(md);
    },
    onReceiveMessage(message) {
      surface?.push(message);
    },
    onReceiveHalfClose() {
      surface?.push(null);
    },
    onCancel() {
      if (surface !== undefined) cancel(surface);
    },
  });
}

/** Starts the call: loopp's own call hands over the metadata unbuilt; an interceptor's, built. */
function begin(call: CallInterface, listener: Omit<CallListener, 'onReceiveMetadata'> & { onReceiveMetadata(md: MetadataSource): void }): void {
  if (call instanceof H2ServerCall) call.startLazy(listener);
  else call.start(listener);
}

interface Readable {
  push(chunk: unknown): boolean;
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
    call.sendStatus(status(UNKNOWN, SHOW_THROWN ? `Server method handler threw error ${(err as Error).message}` : 'Unknown error'));
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
