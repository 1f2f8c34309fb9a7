/**
 * loopp's gRPC server: grpc-js's Server surface (addService, register, server interceptors, message
 * size limits, max concurrent streams, connection injectors, tryShutdown/forceShutdown) on node:http2
 * directly, without grpc-js's per-call layers (channelz, call trackers, per-stream timers). It serves
 * injected connections only: loopp feeds it unix/TCP sockets, TLS (AutoMTLS) and yamux streams.
 */
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { ConfigError } from '../../core/errors';
import { H2ServerCall, type CallLimits, type HandlerType, type MethodHandler } from './call';
import { dispatch } from './dispatch';

/** What loopp and plugins use of a gRPC server; grpc-js's Server and loopp's both have it. */
export type GrpcServer = Pick<grpc.Server, 'addService' | 'removeService' | 'register' | 'unregister' | 'tryShutdown' | 'forceShutdown' | 'createConnectionInjector'>;

/** grpc-js ServerOptions the loopp server implements; any other key is refused (see {@link unsupportedServerOptions}). */
const SUPPORTED_OPTIONS = new Set([
  'grpc.max_receive_message_length',
  'grpc.max_send_message_length',
  'grpc.max_concurrent_streams',
  'grpc-node.max_session_memory',
  'grpc.enable_channelz',
  'interceptors',
]);
const DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;
const noop = (): void => {};

/** The keys of `options` the loopp server does not implement (keepalive, connection age/idle, ...). */
export function unsupportedServerOptions(options: grpc.ServerOptions | undefined): string[] {
  return Object.keys(options ?? {}).filter((k) => !SUPPORTED_OPTIONS.has(k) && (options as Record<string, unknown>)[k] !== undefined);
}

/** A grpc-js-compatible server; throws ConfigError `ERR_LOOPP_CONFIG` for options it does not implement. */
export function createGrpcServer(options: grpc.ServerOptions = {}): GrpcServer {
  const unsupported = unsupportedServerOptions(options);
  if (unsupported.length > 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `the loopp gRPC server does not implement server options ${unsupported.join(', ')}`, {
      input: unsupported,
      hint: "Select grpc-js's server (grpcServer: 'grpc-js') for these options.",
    });
  }
  return new H2Server(options);
}

/** grpc-js's HandleCall (not exported under that name). */
type RegisteredCall<Req, Res> =
  | grpc.handleUnaryCall<Req, Res>
  | grpc.handleClientStreamingCall<Req, Res>
  | grpc.handleServerStreamingCall<Req, Res>
  | grpc.handleBidiStreamingCall<Req, Res>;

type AnyHttp2Server = http2.Http2Server | http2.Http2SecureServer;

class H2Server implements GrpcServer {
  readonly #handlers = new Map<string, MethodHandler>();
  readonly #interceptors: grpc.ServerInterceptor[];
  readonly #limits: CallLimits;
  readonly #http2Options: http2.ServerOptions;
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #servers = new Set<AnyHttp2Server>();
  #shutdown = false;

  constructor(options: grpc.ServerOptions) {
    this.#interceptors = options.interceptors ?? [];
    this.#limits = {
      maxReceiveBytes: options['grpc.max_receive_message_length'] ?? DEFAULT_MAX_RECEIVE_BYTES,
      maxSendBytes: options['grpc.max_send_message_length'] ?? -1,
    };
    this.#http2Options = {
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
      // grpc-js's default: Node degrades badly at its session memory limit, so it is set out of reach.
      maxSessionMemory: options['grpc-node.max_session_memory'] ?? Number.MAX_SAFE_INTEGER,
    };
    const streams = options['grpc.max_concurrent_streams'];
    if (streams !== undefined) this.#http2Options.settings = { maxConcurrentStreams: streams };
  }

  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    if (service === null || typeof service !== 'object' || implementation === null || typeof implementation !== 'object') {
      throw new Error('addService() requires two objects as arguments');
    }
    const methods = Object.entries(service);
    if (methods.length === 0) throw new Error('Cannot add an empty service to a server');
    for (const [name, m] of methods) {
      const type: HandlerType = m.requestStream ? (m.responseStream ? 'bidi' : 'clientStream') : m.responseStream ? 'serverStream' : 'unary';
      let fn = implementation[name];
      if (fn === undefined && typeof m.originalName === 'string') fn = implementation[m.originalName];
      const impl = fn !== undefined ? fn.bind(implementation) : unimplementedHandler(type, name);
      if (!this.register(m.path, impl, m.responseSerialize, m.requestDeserialize, type)) {
        throw new Error(`Method handler for ${m.path} already provided.`);
      }
    }
  }

  removeService(service: grpc.ServiceDefinition): void {
    if (service === null || typeof service !== 'object') throw new Error('removeService() requires object as argument');
    for (const m of Object.values(service)) this.unregister(m.path);
  }

  register<Req, Res>(name: string, handler: RegisteredCall<Req, Res>, serialize: grpc.serialize<Res>, deserialize: grpc.deserialize<Req>, type: string): boolean {
    if (this.#handlers.has(name)) return false;
    this.#handlers.set(name, {
      path: name,
      type: type as HandlerType,
      func: handler as grpc.UntypedHandleCall,
      serialize: serialize as grpc.serialize<unknown>,
      deserialize: deserialize as grpc.deserialize<unknown>,
    });
    return true;
  }

  unregister(name: string): boolean {
    return this.#handlers.delete(name);
  }

  createConnectionInjector(credentials: grpc.ServerCredentials): grpc.ConnectionInjector {
    if (credentials === null || !(credentials instanceof grpc.ServerCredentials)) throw new TypeError('creds must be a ServerCredentials object');
    const server = this.#http2Server(credentials);
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
    this.#servers.add(server);
    return {
      injectConnection: (connection: Duplex) => {
        if (this.#shutdown || !this.#servers.has(server)) connection.destroy();
        else server.emit('connection', connection);
      },
      drain: (graceMs: number) => {
        for (const s of sessions) s.close();
        setTimeout(() => {
          for (const s of sessions) cancelSession(s);
        }, graceMs).unref();
      },
      destroy: () => {
        this.#servers.delete(server);
        for (const s of sessions) s.close();
      },
    };
  }

  tryShutdown(callback: (error?: Error) => void): void {
    this.#shutdown = true;
    this.#servers.clear();
    let pending = this.#sessions.size;
    if (pending === 0) {
      process.nextTick(callback);
      return;
    }
    for (const s of this.#sessions) {
      closeSession(s, () => {
        if (--pending === 0) callback();
      });
    }
  }

  forceShutdown(): void {
    this.#shutdown = true;
    this.#servers.clear();
    for (const s of this.#sessions) cancelSession(s);
    this.#sessions.clear();
  }

  #http2Server(credentials: grpc.ServerCredentials): AnyHttp2Server {
    let server: AnyHttp2Server;
    if (credentials._isSecure()) {
      const tls = tlsOptions(credentials);
      server = http2.createSecureServer({ ...this.#http2Options, ...tls });
      // Credentials whose certificates are not loaded (a certificate provider's) refuse connections, as in grpc-js.
      if (tls === null) server.prependListener('connection', (socket: Duplex) => socket.destroy());
      // Node leaves TLS errors on these sockets to the user (nodejs/node#35824); the session's close ends the calls.
      server.on('secureConnection', (socket: Duplex) => socket.on('error', () => {}));
    } else {
      server = http2.createServer(this.#http2Options);
    }
    server.setTimeout(0);
    const interceptors = [...(credentials._getInterceptors?.() ?? []), ...this.#interceptors];
    server.on('session', (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on('error', () => {});
      session.once('close', () => this.#sessions.delete(session));
    });
    server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => this.#onStream(stream, headers, interceptors));
    return server;
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, interceptors: grpc.ServerInterceptor[]): void {
    // Every error also closes the stream, which ends the call; nothing can be sent on it any more.
    stream.on('error', noop);
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': http2.constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE }, { endStream: true });
      return;
    }
    const path = headers[':path'] as string;
    const handler = this.#handlers.get(path);
    if (handler === undefined) {
      stream.respond(
        { 'grpc-status': grpc.status.UNIMPLEMENTED, 'grpc-message': `The server does not implement the method ${path}`, ':status': 200, 'content-type': 'application/grpc+proto' },
        { endStream: true },
      );
      return;
    }
    const base = new H2ServerCall(stream, headers, handler, this.#limits);
    if (interceptors.length === 0) {
      dispatch(base, handler);
      return;
    }
    const method: grpc.ServerMethodDefinition<unknown, unknown> = {
      path: handler.path,
      requestStream: handler.type === 'clientStream' || handler.type === 'bidi',
      responseStream: handler.type === 'serverStream' || handler.type === 'bidi',
      requestDeserialize: handler.deserialize,
      responseSerialize: handler.serialize,
    };
    dispatch(
      interceptors.reduce<grpc.ServerInterceptingCallInterface>((call, interceptor) => interceptor(method, call), base),
      handler,
    );
  }
}

/** grpc-js's internal view of server credentials: 1.13+ split it in two, 1.12 has one call. */
interface CredentialsInternals {
  _getConstructorOptions?(): http2.SecureServerOptions | null;
  _getSecureContextOptions?(): http2.SecureServerOptions | null;
  _getSettings?(): http2.SecureServerOptions | null;
}

/** The TLS options of secure credentials across the pinned grpc-js range, null when not loaded. */
function tlsOptions(credentials: grpc.ServerCredentials): http2.SecureServerOptions | null {
  const c = credentials as unknown as CredentialsInternals;
  if (c._getSecureContextOptions === undefined) return c._getSettings?.() ?? null;
  const context = c._getSecureContextOptions();
  return context === null ? null : { ...c._getConstructorOptions?.(), ...context };
}

/**
 * Destroys a session as grpc-js does: Node takes a numeric first argument as the code for every stream
 * (untyped), so clients see CANCELLED; destroy(undefined, code) would reset the streams as INTERNAL.
 */
function cancelSession(session: http2.ServerHttp2Session): void {
  session.destroy(http2.constants.NGHTTP2_CANCEL as unknown as Error);
}

function closeSession(session: http2.ServerHttp2Session, done: () => void): void {
  if (session.closed || session.destroyed) queueMicrotask(done);
  else session.close(done);
}

/** grpc-js's handler for a method the implementation leaves out: UNIMPLEMENTED with its text. */
function unimplementedHandler(type: HandlerType, name: string): grpc.UntypedHandleCall {
  const status = { code: grpc.status.UNIMPLEMENTED, details: `The server does not implement the method ${name}` };
  if (type === 'unary' || type === 'clientStream') {
    return (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(status as grpc.ServiceError, null);
  }
  return (call: grpc.ServerWritableStream<unknown, unknown>) => void call.emit('error', status);
}

/** Which server serves a plugin's connections: loopp's own (default) or grpc-js's Server. */
export type GrpcServerKind = 'loopp' | 'grpc-js';

/**
 * A server of `kind`; without a kind, loopp's unless `options` has keys only grpc-js implements
 * (keepalive, connection age or idle limits, ...), which then select grpc-js's.
 */
/** The kind asked for, else grpc-js's when `options` hold one loopp's server does not read. */
export function serverKindFor(kind: GrpcServerKind | undefined, options: grpc.ServerOptions): GrpcServerKind {
  return kind ?? (unsupportedServerOptions(options).length > 0 ? 'grpc-js' : 'loopp');
}

export function newGrpcServer(kind: GrpcServerKind | undefined, options: grpc.ServerOptions = {}): GrpcServer {
  return serverKindFor(kind, options) === 'grpc-js' ? new grpc.Server(options) : createGrpcServer(options);
}
