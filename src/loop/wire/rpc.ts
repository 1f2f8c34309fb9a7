/**
 * The gRPC plumbing every LOOP host side shares: promise-based unary calls on generated clients,
 * async server handlers, the loop.Service client (with the Close method codegen leaves out), health
 * reports in their wire form, and the set of host dependencies served on broker ids for one call.
 */
import * as grpc from '@grpc/grpc-js';
import type { BrokerServer, GrpcBroker } from '../../index';
import { Empty, loopProtos } from '../../gen';
import { LoopError, messageOf } from '../../core/errors';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ServiceService } = loopProtos.relayer();

export type MaybePromise<T> = T | Promise<T>;

type Unary<Res> = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => grpc.ClientUnaryCall;

/** Calls the unary method `key` of a grpc-js client; aborting `signal` cancels the call; `options` may set a deadline. */
export function callUnary<Res>(client: grpc.Client, key: string, req: unknown, signal?: AbortSignal, options: grpc.CallOptions = {}): Promise<Res> {
  const fn = (client as unknown as Record<string, Unary<Res>>)[key] as Unary<Res>;
  return new Promise((resolve, reject) => {
    const c = fn.call(client, req, new grpc.Metadata(), options, (e, r) => {
      signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(r);
    });
    const onAbort = () => c.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Client keys that are not the lower-camel method name (methods codegen leaves out, added by hand). */
const CLIENT_KEYS: Record<string, string> = { 'Service.Close': 'closeService', 'ReportingPlugin.Close': 'closePlugin' };

/**
 * Calls `method` ("Service.Method", e.g. `Relayer.GetChainInfo`) on a LOOP object's client. Every
 * failure becomes a LoopError naming the method in `input` (see loopCallError).
 */
export async function loopCall<Res>(client: grpc.Client, method: string, req: unknown, signal?: AbortSignal, options?: grpc.CallOptions): Promise<Res> {
  const name = method.slice(method.indexOf('.') + 1);
  const key = CLIENT_KEYS[method] ?? name.charAt(0).toLowerCase() + name.slice(1);
  try {
    return await callUnary<Res>(client, key, req, signal, options);
  } catch (err) {
    throw loopCallError(method, err);
  }
}

/**
 * The one mapping of a failed LOOP call: gRPC Unimplemented (an older plugin, or one that leaves the
 * method out) is ERR_LOOPP_LOOP_UNIMPLEMENTED; anything else is ERR_LOOPP_LOOP_CALL with the plugin's text.
 */
export function loopCallError(method: string, err: unknown): LoopError {
  if (err instanceof LoopError) return err;
  const e = err as Partial<grpc.ServiceError>;
  const text = typeof e.details === 'string' && e.details !== '' ? e.details : messageOf(err);
  if (e.code === grpc.status.UNIMPLEMENTED) {
    return new LoopError('ERR_LOOPP_LOOP_UNIMPLEMENTED', `${method} is not implemented by the LOOP: ${text}`, {
      input: method,
      cause: err,
      hint: 'The plugin does not serve this method (built against an older chainlink-common, or it leaves the method out): treat the feature as absent, or upgrade the plugin.',
    });
  }
  const hint =
    e.code === grpc.status.UNAVAILABLE
      ? 'The LOOP process exited or its connection closed during the call; a LoopService relaunches it, retry once it is ready again.'
      : e.code === grpc.status.CANCELLED
        ? 'The call was cancelled (its signal was aborted, or the connection was closed).'
        : undefined;
  return new LoopError('ERR_LOOPP_LOOP_CALL', `${method}: ${text}`, { input: method, cause: err, ...(hint === undefined ? {} : { hint }) });
}

/**
 * A server handler from an async function; a thrown error becomes status UNKNOWN with its message.
 * `signal` aborts when the caller cancels the call (or its connection goes away).
 */
export function handleUnary<Req, Res>(fn: (req: Req, signal: AbortSignal) => MaybePromise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (c, cb) => {
    const ac = new AbortController();
    c.once('cancelled', () => ac.abort(new Error('call cancelled by the host')));
    Promise.resolve()
      .then(() => fn(c.request, ac.signal))
      .then(
        (r) => cb(null, r),
        (e: unknown) => cb({ code: grpcCodeOf(e), details: e instanceof Error ? e.message : String(e) }),
      );
  };
}

/** gRPC status codes by Go's codes.Code String() names (how chainlink-common and reference.json spell them). */
const GRPC_CODES = {
  Canceled: 1, Unknown: 2, InvalidArgument: 3, DeadlineExceeded: 4, NotFound: 5, AlreadyExists: 6, PermissionDenied: 7, ResourceExhausted: 8,
  FailedPrecondition: 9, Aborted: 10, OutOfRange: 11, Unimplemented: 12, Internal: 13, Unavailable: 14, DataLoss: 15, Unauthenticated: 16,
} as const;
export type GrpcCodeName = keyof typeof GRPC_CODES;

/** Go's name of a gRPC status code (e.g. 9 -> "FailedPrecondition"); "OK" for 0. */
export function grpcCodeName(code: number): string {
  return (Object.entries(GRPC_CODES).find(([, n]) => n === code)?.[0]) ?? (code === 0 ? 'OK' : String(code));
}

/** An error a LOOP server handler throws to answer with gRPC status `code` (default: Unknown). */
export function statusError(code: GrpcCodeName, message: string): Error & { grpcCode: number } {
  return Object.assign(new Error(message), { grpcCode: GRPC_CODES[code] });
}

function grpcCodeOf(e: unknown): number {
  const c = (e as { grpcCode?: unknown } | null)?.grpcCode;
  return typeof c === 'number' ? c : grpc.status.UNKNOWN;
}

/**
 * `handlers` completed for every method of `definition`: a method left out answers gRPC
 * Unimplemented with "not implemented" (the text chainlink-common's types.UnimplementedError gives),
 * so a host sees the same answer from a TypeScript LOOP as from a Go one that leaves it out.
 */
export function withUnimplemented(definition: object, handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const missing: grpc.handleUnaryCall<unknown, unknown> = (_c, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'not implemented' });
  return Object.fromEntries(Object.keys(definition).map((k) => [k, handlers[k] ?? missing]));
}

const emptyCodec = {
  requestSerialize: (value: Empty): Buffer => Buffer.from(Empty.encode(value).finish()),
  requestDeserialize: (value: Buffer): Empty => Empty.decode(value),
  responseSerialize: (value: Empty): Buffer => Buffer.from(Empty.encode(value).finish()),
  responseDeserialize: (value: Buffer): Empty => Empty.decode(value),
};

/** An `Empty -> Empty` method that codegen leaves out (ts-proto would name it `close`, clashing with Client.close). */
export function emptyMethod(path: string) {
  return { path, requestStream: false, responseStream: false, ...emptyCodec } as const;
}

/** loop.Service with its Close method, under the key `closeService` and the real path. */
export const LoopServiceDefinition = { ...ServiceService, closeService: emptyMethod('/loop.Service/Close') } as const;

const LoopServiceClient = grpc.makeGenericClientConstructor(LoopServiceDefinition as unknown as grpc.ServiceDefinition, 'loop.Service');

/** A loop.Service client on `channel`. */
export function loopServiceClient(channel: grpc.ChannelInterface): grpc.Client {
  return new LoopServiceClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
}

/** loop.Service's wire health report (name -> error text, "" = healthy) as errors. */
export function healthFromWire(report: Record<string, string>): Record<string, Error | null> {
  return Object.fromEntries(Object.entries(report).map(([k, v]) => [k, v === '' ? null : new Error(v)]));
}

/** What loop.Service serves: a LOOP object's name, readiness, health and close. */
export interface LoopServiceObject {
  name(): string;
  ready(): Promise<void> | void;
  healthReport(): Record<string, Error | null> | Promise<Record<string, Error | null>>;
  close(): Promise<void> | void;
}

/** The loop.Service handlers (Name, Ready, HealthReport, Close) of `service`; errors answer UNKNOWN with their text. */
export function loopServiceImplementation(service: LoopServiceObject): grpc.UntypedServiceImplementation {
  return {
    name: handleUnary(() => ({ name: service.name() })),
    ready: handleUnary(async () => {
      await service.ready();
      return {};
    }),
    healthReport: handleUnary(async () => ({ healthReport: healthToWire(await service.healthReport()) })),
    closeService: handleUnary(async () => {
      await service.close();
      return {};
    }),
  };
}

/** Serves loop.Service for `service` on `server`. */
export function addLoopService(server: GrpcServer, service: LoopServiceObject): void {
  server.addService(LoopServiceDefinition as unknown as grpc.ServiceDefinition, loopServiceImplementation(service));
}

/** A health report in loop.Service's wire form. */
export function healthToWire(report: Record<string, Error | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(report).map(([k, v]) => [k, v === null ? '' : v.message]));
}

/** Calls loop.Service HealthReport on `service`. */
export async function remoteHealthReport(service: grpc.Client): Promise<Record<string, Error | null>> {
  return healthFromWire((await loopCall<{ healthReport: Record<string, string> }>(service, 'Service.HealthReport', {})).healthReport);
}

/** Host dependencies served on fresh broker ids for one call (NewRelayer, NewMedianFactory), closed together. */
export interface ServedDependencies {
  serve(register: (s: GrpcServer) => void): Promise<number>;
  /** The broker ids still served (empty once released): lets a caller check that nothing is left. */
  ids(): number[];
  release(): Promise<void>;
}

export function servedDependencies(broker: GrpcBroker): ServedDependencies {
  const served = new Map<number, BrokerServer>();
  return {
    async serve(register) {
      const id = broker.nextId();
      served.set(id, await broker.acceptAndServe(id, register));
      return id;
    },
    ids: () => [...served.keys()],
    async release() {
      await Promise.all(
        [...served].map(async ([id, server]) => {
          await server.close();
          served.delete(id);
        }),
      );
    },
  };
}
