/**
 * The call objects handlers receive, with grpc-js's shapes: ServerUnaryCall (an EventEmitter),
 * ServerReadableStream, ServerWritableStream and ServerDuplexStream (object-mode Node streams), each
 * with metadata, cancelled + 'cancelled', getPeer, getDeadline, sendMetadata and the rest of
 * grpc-js's ServerSurfaceCall, over any grpc-js ServerInterceptingCallInterface.
 */
import type * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { Duplex, Readable, Writable } from 'node:stream';
import type { CallStatus } from './call';

type CallInterface = grpc.ServerInterceptingCallInterface;
/** The request metadata, or what builds it on first read. */
export type MetadataSource = grpc.Metadata | (() => grpc.Metadata);
const MD = Symbol('metadata');
const OK_STATUS: CallStatus = { code: 0, details: 'OK' };

/** grpc-js's mapping of what a handler passes as an error to the status a client receives. */
export function errorToStatus(error: Partial<grpc.StatusObject> & { message?: string }, trailer?: grpc.Metadata): CallStatus {
  const status: CallStatus = {
    code: 2,
    details: 'message' in error ? (error.message as string) : 'Unknown Error',
    metadata: trailer ?? error.metadata ?? null,
  };
  if ('code' in error && typeof error.code === 'number' && Number.isInteger(error.code)) {
    status.code = error.code;
    if ('details' in error && typeof error.details === 'string') status.details = error.details;
  }
  return status;
}

/** What every call object has besides its stream side (grpc-js's ServerSurfaceCall minus EventEmitter). */
interface Surface {
  readonly path: string;
  readonly call: CallInterface;
  [MD]: MetadataSource;
  metadata: grpc.Metadata;
  getPeer(): string;
  sendMetadata(metadata: grpc.Metadata): void;
  getDeadline(): grpc.Deadline;
  getPath(): string;
  getHost(): string;
  getAuthContext(): ReturnType<CallInterface['getAuthContext']>;
  getMetricsRecorder(): ReturnType<CallInterface['getMetricsRecorder']>;
}

const surface: Omit<Surface, 'path' | 'call' | 'metadata' | typeof MD> & ThisType<Surface> = {
  getPeer() {
    return this.call.getPeer();
  },
  sendMetadata(metadata) {
    this.call.sendMetadata(metadata);
  },
  getDeadline() {
    return this.call.getDeadline();
  },
  getPath() {
    return this.path;
  },
  getHost() {
    return this.call.getHost();
  },
  getAuthContext() {
    return this.call.getAuthContext();
  },
  getMetricsRecorder() {
    return this.call.getMetricsRecorder();
  },
};

export interface UnaryCall extends Surface {}
export class UnaryCall extends EventEmitter {
  cancelled = false;
  constructor(
    readonly path: string,
    readonly call: CallInterface,
    metadata: MetadataSource,
    public request: unknown,
  ) {
    super();
    this[MD] = metadata;
  }
}

export interface ReadableCall extends Surface {}
export class ReadableCall extends Readable {
  cancelled = false;
  constructor(
    readonly path: string,
    readonly call: CallInterface,
    metadata: MetadataSource,
  ) {
    super({ objectMode: true });
    this[MD] = metadata;
  }
  override _read(): void {
    this.call.startRead();
  }
}

/** The writing side of server-streaming and bidi calls: errors and end() become the call's status. */
interface Ending {
  trailer: grpc.Metadata | undefined;
  pending: CallStatus;
}
const ENDING = Symbol('ending');
type Writing = (Writable | Duplex) & { readonly call: CallInterface; [ENDING]: Ending };

function startEnding(stream: Writing): void {
  stream[ENDING] = { trailer: undefined, pending: OK_STATUS };
  stream.on('error', (err) => {
    stream[ENDING].pending = errorToStatus(err);
    stream.end();
  });
}

/** WritableCall's and DuplexCall's shared methods: writes are messages, the end is the status. */
const writingSide: Pick<Writable, '_write' | '_final' | 'end'> & ThisType<Writing> = {
  _write(chunk: unknown, _encoding: string, done: () => void): void {
    this.call.sendMessage(chunk, done);
  },
  _final(done: (err?: Error | null) => void): void {
    done(null);
    const e = this[ENDING];
    this.call.sendStatus({ ...e.pending, metadata: e.pending.metadata ?? e.trailer ?? null });
  },
  end(metadata?: unknown): Writing {
    if (metadata) this[ENDING].trailer = metadata as grpc.Metadata;
    return (Writable.prototype.end as (this: Writing) => Writing).call(this);
  },
};

export interface WritableCall extends Surface {}
export class WritableCall extends Writable {
  cancelled = false;
  declare [ENDING]: Ending;
  constructor(
    readonly path: string,
    readonly call: CallInterface,
    metadata: MetadataSource,
    public request: unknown,
  ) {
    super({ objectMode: true });
    this[MD] = metadata;
    startEnding(this);
  }
}

export interface DuplexCall extends Surface {}
export class DuplexCall extends Duplex {
  cancelled = false;
  declare [ENDING]: Ending;
  constructor(
    readonly path: string,
    readonly call: CallInterface,
    metadata: MetadataSource,
  ) {
    super({ objectMode: true });
    this[MD] = metadata;
    startEnding(this);
  }
  override _read(): void {
    this.call.startRead();
  }
}
Object.assign(WritableCall.prototype, writingSide);
Object.assign(DuplexCall.prototype, writingSide);

const metadataAccessor: PropertyDescriptor & ThisType<Surface> = {
  get(): grpc.Metadata {
    const md = this[MD];
    return typeof md === 'function' ? (this[MD] = md()) : md;
  },
  set(value: grpc.Metadata) {
    this[MD] = value;
  },
};
for (const C of [UnaryCall, ReadableCall, WritableCall, DuplexCall]) {
  Object.assign(C.prototype, surface);
  Object.defineProperty(C.prototype, 'metadata', metadataAccessor);
}
