/**
 * The hot path of a grpc-js client on loopp's channel. A unary call made through grpc-js's Client
 * passes through its interceptor stack (an InterceptingCall, a BaseUnaryInterceptingCall, two listener
 * wrappers, the argument checks), which a profile of B3 shows costing more than loopp's own call on
 * node:http2 (docs/performance.md, "Issue 12"). A client built here is the same grpc-js client
 * (same class, same methods, streaming untouched), whose unary methods skip that stack when the call
 * has no interceptor: they drive the channel's call as grpc-js's bottom layer does, and hand back
 * grpc-js's own ClientUnaryCall and ServiceError objects, so callers see no difference. A call with
 * interceptors, or a client given interceptors at construction, takes grpc-js's path unchanged.
 */
import * as grpc from '@grpc/grpc-js';
import { messageOf } from '../../core/errors';
import { H2Channel } from './channel';

// grpc-js's own call object and error builder (internal modules, present in every 1.x the package
// supports: peerDependencies pins the range the tests run against).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const grpcCall = require('@grpc/grpc-js/build/src/call') as {
  ClientUnaryCallImpl: new () => grpc.ClientUnaryCall;
  callErrorFromStatus(status: grpc.StatusObject, callerStack: string): grpc.ServiceError;
};

type UnaryCallback = (err: grpc.ServiceError | null, value?: unknown) => void;
type Method = grpc.MethodDefinition<unknown, unknown>;

/** grpc-js's accepted shapes: (arg, cb), (arg, md, cb), (arg, options, cb), (arg, md, options, cb). */
function unaryArguments(a1: unknown, a2: unknown, a3: unknown): { metadata: grpc.Metadata; options: grpc.CallOptions; callback: UnaryCallback } | undefined {
  if (typeof a1 === 'function') return { metadata: new grpc.Metadata(), options: {}, callback: a1 as UnaryCallback };
  if (typeof a2 === 'function') {
    return a1 instanceof grpc.Metadata
      ? { metadata: a1, options: {}, callback: a2 as UnaryCallback }
      : { metadata: new grpc.Metadata(), options: (a1 ?? {}) as grpc.CallOptions, callback: a2 as UnaryCallback };
  }
  if (a1 instanceof grpc.Metadata && a2 instanceof Object && typeof a3 === 'function') return { metadata: a1, options: a2 as grpc.CallOptions, callback: a3 as UnaryCallback };
  return undefined;
}

function intercepted(options: grpc.CallOptions): boolean {
  return (options.interceptors?.length ?? 0) > 0 || (options.interceptor_providers?.length ?? 0) > 0;
}

/**
 * Where the call was made, for a failed call's error ("for call at", as grpc-js appends it): the
 * first CALLER_FRAMES frames above the client method. grpc-js takes a whole `new Error()` per call;
 * with the rest of the lean path that capture was the largest cost left (B3, 64 in flight: about
 * 19 000 calls/s with it, 21 500 without, on this machine), and the call site is in the first frames.
 */
const CALLER_FRAMES = 4;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function captureCaller(below: Function): { stack?: string } {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.min(limit, CALLER_FRAMES);
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, below);
  Error.stackTraceLimit = limit;
  return holder;
}

function callerStack(holder: { stack?: string }): string {
  return (holder.stack ?? '').split('\n').slice(1).join('\n');
}

/** One unary call straight on the channel: what grpc-js's bottom intercepting call does, minus the layers. */
function leanUnary(
  channel: grpc.ChannelInterface,
  method: Method,
  argument: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: UnaryCallback,
  caller: { stack?: string },
): grpc.ClientUnaryCall {
  const emitter = new grpcCall.ClientUnaryCallImpl();
  const call = channel.createCall(method.path, options.deadline ?? Infinity, options.host, options.parent ?? null, options.propagate_flags);
  if (options.credentials) call.setCredentials(options.credentials);
  (emitter as { call?: unknown }).call = call; // what cancel(), getPeer() and getAuthContext() use
  let response: unknown = null;
  let received = false;
  let readError: grpc.StatusObject | undefined;
  // The stack text is formatted only for an error: reading `stack` is what costs.
  const fail = (status: grpc.StatusObject): void => callback(grpcCall.callErrorFromStatus(status, callerStack(caller)));
  const finish = (status: grpc.StatusObject): void => {
    if (status.code !== grpc.status.OK) fail(status);
    else if (!received) fail({ code: grpc.status.UNIMPLEMENTED, details: 'No message received', metadata: status.metadata });
    else callback(null, response);
    emitter.emit('status', status);
  };
  call.start(metadata, {
    onReceiveMetadata: (md) => emitter.emit('metadata', md),
    onReceiveMessage: (message: Buffer) => {
      try {
        response = method.responseDeserialize(message);
        received = true;
      } catch (e) {
        readError = { code: grpc.status.INTERNAL, details: `Response message parsing error: ${messageOf(e)}`, metadata: new grpc.Metadata() };
        call.cancelWithStatus(readError.code, readError.details);
      }
    },
    onReceiveStatus: (status: grpc.StatusObject) => finish(readError ?? status),
  });
  call.startRead();
  let serialized: Buffer;
  try {
    serialized = method.requestSerialize(argument);
  } catch (e) {
    call.cancelWithStatus(grpc.status.INTERNAL, `Request message serialization failure: ${messageOf(e)}`);
    return emitter;
  }
  call.sendMessageWithContext({}, serialized);
  call.halfClose();
  return emitter;
}

/**
 * A grpc-js client from `Ctor` (made for `definition`) on `channel`, through `channelOverride`; on
 * loopp's own channel its unary methods take the lean path (grpc-js's channel keeps grpc-js's client
 * as it is, the reference the lean path is compared with).
 */
export function clientOnChannel<T extends grpc.Client>(Ctor: grpc.ServiceClientConstructor, definition: grpc.ServiceDefinition, channel: grpc.ChannelInterface): T {
  const client = new Ctor('unused', grpc.credentials.createInsecure(), { channelOverride: channel }) as unknown as T;
  if (!(channel instanceof H2Channel)) return client;
  const proto = Object.getPrototypeOf(client) as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, def] of Object.entries(definition) as [string, Method & { originalName?: string }][]) {
    if (def.requestStream || def.responseStream) continue;
    const viaGrpcJs = proto[name];
    if (viaGrpcJs === undefined) continue;
    const lean = function (this: grpc.Client, argument: unknown, a1?: unknown, a2?: unknown, a3?: unknown): unknown {
      const args = unaryArguments(a1, a2, a3);
      if (args === undefined || intercepted(args.options)) return viaGrpcJs.call(this, argument, a1, a2, a3);
      return leanUnary(channel, def, argument, args.metadata, args.options, args.callback, captureCaller(lean));
    };
    Object.defineProperty(client, name, { value: lean, writable: true, configurable: true });
    if (def.originalName !== undefined && def.originalName !== name) Object.defineProperty(client, def.originalName, { value: lean, writable: true, configurable: true });
  }
  return client;
}
