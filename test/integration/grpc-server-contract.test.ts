/**
 * The loopp gRPC server against grpc-js's Server: every scenario runs on both, served through a
 * connection injector on a unix socket and called by a grpc-js client, and what the client and the
 * handler observe must be the same (and what is written here).
 */
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { newGrpcServer, type GrpcServer, type GrpcServerKind } from '../../src/net/h2server/server';
import { rmDir, sleep, tmpDir } from '../helpers';

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString()),
};
function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/test.T/${name}`,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}
const T = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
  missing: method('Missing', false, false),
} satisfies grpc.ServiceDefinition;
const Client = grpc.makeGenericClientConstructor(T, 'T');
type Invoke = (...a: unknown[]) => grpc.Call;
type TClient = InstanceType<typeof Client> & { unary: Invoke; serverStream: Invoke; clientStream: Invoke; bidi: Invoke; missing: Invoke } & Record<string, Invoke>;

/** What a client sees as the metadata of a trailers-only error (the status rides on the headers). */
const TRAILERS_ONLY = { 'content-type': 'application/grpc+proto' };
const KINDS: GrpcServerKind[] = ['grpc-js', 'loopp'];
const dir = tmpDir('loopp-h2server-');
after(() => rmDir(dir));

interface Served {
  server: GrpcServer;
  client: TClient;
  close(): Promise<void>;
}

let seq = 0;
async function serve(kind: GrpcServerKind, impl: grpc.UntypedServiceImplementation, options: grpc.ServerOptions = {}, clientOptions: grpc.ClientOptions = {}): Promise<Served> {
  const server = newGrpcServer(kind, options);
  server.addService(T, impl);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sock = path.join(dir, `s${++seq}.sock`);
  const listener = net.createServer((c) => injector.injectConnection(c));
  await new Promise<void>((resolve) => listener.listen(sock, resolve));
  const client = new Client(`unix:${sock}`, grpc.credentials.createInsecure(), clientOptions) as TClient;
  return {
    server,
    client,
    async close() {
      client.close();
      server.forceShutdown();
      injector.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

interface Outcome {
  err?: { code: number; details: string; metadata: Record<string, unknown> };
  value?: unknown;
  headers?: Record<string, unknown>;
  trailers?: Record<string, unknown>;
}

function unary(client: TClient, name: string, request: unknown, md = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = {};
    const call = (client[name] as Invoke)(request, md, options, (err: grpc.ServiceError | null, value: unknown) => {
      if (err) out.err = { code: err.code, details: err.details, metadata: withoutVolatile(err.metadata.getMap()) as Record<string, unknown> };
      else out.value = value;
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (m: grpc.Metadata) => (out.headers = m.getMap()));
    call.on('status', (s: grpc.StatusObject) => {
      out.trailers = s.metadata.getMap();
      // The callback runs before 'status'.
      setImmediate(() => resolve(out));
    });
  });
}

/** Runs `scenario` on both servers and checks both saw the same, returning it. */
async function both<R>(scenario: (kind: GrpcServerKind) => Promise<R>): Promise<R> {
  const [a, b] = [await scenario('grpc-js'), await scenario('loopp')];
  assert.deepEqual(b, a, 'the loopp server differs from grpc-js');
  return b;
}

/** Metadata without Node's `date` header (a trailers-only response carries it, and it ticks). */
function withoutVolatile(m: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (m === undefined) return undefined;
  const { date: _date, ...rest } = m;
  return rest;
}

describe('loopp gRPC server, same as grpc-js Server', () => {
  test('unary: request metadata, response headers, message and trailers', async () => {
    const seen = await both(async (kind) => {
      let handlerSaw: unknown;
      const s = await serve(kind, {
        unary(call: grpc.ServerUnaryCall<{ n: number }, unknown>, cb: grpc.sendUnaryData<unknown>) {
          handlerSaw = {
            request: call.request,
            md: call.metadata.getMap(),
            bin: (call.metadata.get('x-bin')[0] as Buffer).toString('hex'),
            path: call.getPath(),
            deadline: call.getDeadline(),
            peerIsString: typeof call.getPeer() === 'string',
            host: call.getHost(),
            cancelled: call.cancelled,
          };
          const head = new grpc.Metadata();
          head.set('x-head', 'h');
          call.sendMetadata(head);
          const trailer = new grpc.Metadata();
          trailer.set('x-trail', 't');
          trailer.set('x-trail-bin', Buffer.from([1, 2, 3]));
          cb(null, { doubled: call.request.n * 2 }, trailer);
        },
      });
      const md = new grpc.Metadata();
      md.set('x-a', 'b');
      md.set('x-bin', Buffer.from([0, 255]));
      const out = await unary(s.client, 'unary', { n: 21 }, md);
      await s.close();
      return { handlerSaw, out: { ...out, headers: withoutVolatile(out.headers) } };
    });
    assert.deepEqual(seen.out.value, { doubled: 42 });
    assert.equal(seen.out.headers?.['x-head'], 'h');
    assert.equal(seen.out.trailers?.['x-trail'], 't');
    assert.deepEqual(seen.out.trailers?.['x-trail-bin'], Buffer.from([1, 2, 3]));
    assert.deepEqual((seen.handlerSaw as { request: unknown }).request, { n: 21 });
    assert.equal((seen.handlerSaw as { md: Record<string, unknown> }).md['x-a'], 'b');
    assert.equal((seen.handlerSaw as { bin: string }).bin, '00ff');
    assert.equal((seen.handlerSaw as { deadline: number }).deadline, Infinity);
  });

  test('unary errors: code, details (non-ASCII and %), trailer metadata; a throwing handler is UNKNOWN', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, {
        unary(call: grpc.ServerUnaryCall<{ how: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
          if (call.request.how === 'throw') throw new Error('boom');
          const md = new grpc.Metadata();
          md.set('x-why', 'because');
          if (call.request.how === 'plain-error') cb(new Error('plain'), null);
          else cb({ code: grpc.status.NOT_FOUND, details: 'nö 100% gone\tthere', metadata: md }, null);
        },
      });
      const out = [await unary(s.client, 'unary', { how: 'status' }), await unary(s.client, 'unary', { how: 'throw' }), await unary(s.client, 'unary', { how: 'plain-error' })];
      await s.close();
      return out.map((o) => o.err);
    });
    assert.deepEqual(seen, [
      { code: grpc.status.NOT_FOUND, details: 'nö 100% gone\tthere', metadata: { 'content-type': 'application/grpc+proto', 'x-why': 'because' } },
      { code: grpc.status.UNKNOWN, details: 'Unknown error', metadata: TRAILERS_ONLY },
      { code: grpc.status.UNKNOWN, details: 'plain', metadata: TRAILERS_ONLY },
    ]);
  });

  test('unimplemented: an unknown path and a method the implementation leaves out', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, {});
      const out = [await unary(s.client, 'missing', {}), await unary(s.client, 'unary', {})];
      s.server.removeService(T);
      const removed = await unary(s.client, 'unary', {});
      await s.close();
      return [...out, removed].map((o) => o.err);
    });
    assert.deepEqual(seen, [
      { code: grpc.status.UNIMPLEMENTED, details: 'The server does not implement the method missing', metadata: TRAILERS_ONLY },
      { code: grpc.status.UNIMPLEMENTED, details: 'The server does not implement the method unary', metadata: TRAILERS_ONLY },
      { code: grpc.status.UNIMPLEMENTED, details: 'The server does not implement the method /test.T/Unary', metadata: TRAILERS_ONLY },
    ]);
  });

  test('addService and register refuse what grpc-js refuses', () => {
    for (const kind of KINDS) {
      const server = newGrpcServer(kind);
      assert.throws(() => server.addService({}, {}), { message: 'Cannot add an empty service to a server' });
      server.addService(T, {});
      assert.throws(() => server.addService(T, {}), { message: 'Method handler for /test.T/Unary already provided.' });
      assert.equal(server.register('/x/Y', () => {}, json.serialize, json.deserialize, 'unary'), true);
      assert.equal(server.register('/x/Y', () => {}, json.serialize, json.deserialize, 'unary'), false);
      assert.equal(server.unregister('/x/Y'), true);
      assert.equal(server.unregister('/x/Y'), false);
      server.forceShutdown();
    }
  });

  test('server streaming: messages in order, trailer metadata on end(), an error mid-stream', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, {
        serverStream(call: grpc.ServerWritableStream<{ n: number; fail?: boolean }, unknown>) {
          for (let i = 0; i < call.request.n; i++) call.write({ i });
          if (call.request.fail) {
            call.emit('error', { code: grpc.status.ABORTED, details: 'half way' });
            return;
          }
          const md = new grpc.Metadata();
          md.set('x-end', 'e');
          call.end(md);
        },
      });
      const read = (req: unknown) =>
        new Promise<unknown>((resolve) => {
          const got: unknown[] = [];
          const call = s.client.serverStream(req) as grpc.ClientReadableStream<unknown>;
          call.on('data', (m) => got.push(m));
          call.on('error', () => {});
          call.on('status', (st: grpc.StatusObject) => resolve({ got: got.length, last: got.at(-1), code: st.code, details: st.details, md: st.metadata.getMap() }));
        });
      const out = [await read({ n: 100 }), await read({ n: 3, fail: true })];
      await s.close();
      return out;
    });
    assert.deepEqual(seen, [
      { got: 100, last: { i: 99 }, code: 0, details: 'OK', md: { 'x-end': 'e' } },
      { got: 3, last: { i: 2 }, code: grpc.status.ABORTED, details: 'half way', md: {} },
    ]);
  });

  test('client streaming and bidi: every message read, answers in order', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, {
        clientStream(call: grpc.ServerReadableStream<{ n: number }, unknown>, cb: grpc.sendUnaryData<unknown>) {
          let sum = 0;
          call.on('data', (m: { n: number }) => (sum += m.n));
          call.on('end', () => cb(null, { sum }));
        },
        bidi(call: grpc.ServerDuplexStream<{ n: number }, unknown>) {
          call.on('data', (m: { n: number }) => call.write({ sq: m.n * m.n }));
          call.on('end', () => call.end());
        },
      });
      const sum = await new Promise<unknown>((resolve, reject) => {
        const call = s.client.clientStream((err: Error | null, v: unknown) => (err ? reject(err) : resolve(v))) as grpc.ClientWritableStream<unknown>;
        for (let n = 1; n <= 1000; n++) call.write({ n });
        call.end();
      });
      const squares = await new Promise<unknown[]>((resolve, reject) => {
        const got: unknown[] = [];
        const call = s.client.bidi() as grpc.ClientDuplexStream<unknown, unknown>;
        call.on('data', (m) => got.push(m));
        call.on('error', reject);
        call.on('end', () => resolve(got));
        for (let n = 1; n <= 50; n++) call.write({ n });
        call.end();
      });
      await s.close();
      return { sum, squares: squares.length, last: squares.at(-1) };
    });
    assert.deepEqual(seen, { sum: { sum: 500500 }, squares: 50, last: { sq: 2500 } });
  });

  test('bidi back-pressure: write() returns false and drains; 64 MiB reach a slow reader whole', async () => {
    const seen = await both(async (kind) => {
      let sawFalse = false;
      const s = await serve(kind, {
        bidi(call: grpc.ServerDuplexStream<unknown, unknown>) {
          const chunk = 'x'.repeat(1024 * 1024);
          let i = 0;
          const pump = (): void => {
            while (i < 64) {
              i++;
              if (!call.write({ i, chunk })) {
                sawFalse = true;
                call.once('drain', pump);
                return;
              }
            }
            call.end();
          };
          call.on('data', () => {});
          pump();
        },
      }, { 'grpc.max_send_message_length': -1 }, { 'grpc.max_receive_message_length': -1 });
      const got = await new Promise<number>((resolve, reject) => {
        let n = 0;
        const call = s.client.bidi() as grpc.ClientDuplexStream<unknown, unknown>;
        call.on('data', () => {
          n++;
          call.pause();
          setTimeout(() => call.resume(), 5);
        });
        call.on('error', reject);
        call.on('end', () => resolve(n));
      });
      await s.close();
      return { got, sawFalse };
    });
    assert.deepEqual(seen, { got: 64, sawFalse: true });
  });

  test('deadline: the client gets DEADLINE_EXCEEDED, the handler a finite deadline and cancelled', async () => {
    const seen = await both(async (kind) => {
      let handler: Record<string, unknown> = {};
      let cancelledEvent!: Promise<void>;
      const s = await serve(kind, {
        unary(call: grpc.ServerUnaryCall<unknown, unknown>) {
          const deadline = call.getDeadline() as number;
          handler = { finite: Number.isFinite(deadline), within: deadline - Date.now() <= 300 && deadline - Date.now() > 0 };
          cancelledEvent = new Promise((resolve) => call.on('cancelled', () => resolve()));
        },
      });
      const out = await unary(s.client, 'unary', {}, new grpc.Metadata(), { deadline: Date.now() + 300 });
      await cancelledEvent;
      await s.close();
      return { code: out.err?.code, handler };
    });
    assert.deepEqual(seen, { code: grpc.status.DEADLINE_EXCEEDED, handler: { finite: true, within: true } });
  });

  test('cancellation by the client reaches the handler as cancelled + "cancelled"', async () => {
    const seen = await both(async (kind) => {
      let resolveSeen!: (v: unknown) => void;
      const handlerSaw = new Promise((r) => (resolveSeen = r));
      const s = await serve(kind, {
        serverStream(call: grpc.ServerWritableStream<unknown, unknown>) {
          call.write({ first: true });
          call.on('cancelled', (why: unknown) => resolveSeen({ why, cancelled: call.cancelled }));
        },
      });
      const code = await new Promise<number>((resolve) => {
        const call = s.client.serverStream({}) as grpc.ClientReadableStream<unknown>;
        call.on('data', () => call.cancel());
        call.on('error', (e: grpc.ServiceError) => resolve(e.code));
      });
      const saw = await handlerSaw;
      await s.close();
      return { code, saw };
    });
    assert.deepEqual(seen, { code: grpc.status.CANCELLED, saw: { why: 'cancelled', cancelled: true } });
  });

  test('a finished unary call reports cancelled afterwards, as grpc-js does', async () => {
    const seen = await both(async (kind) => {
      let call!: grpc.ServerUnaryCall<unknown, unknown>;
      let events = 0;
      const s = await serve(kind, {
        unary(c: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) {
          call = c;
          c.on('cancelled', () => events++);
          cb(null, {});
        },
      });
      await unary(s.client, 'unary', {});
      await sleep(50);
      await s.close();
      return { cancelled: call.cancelled, events };
    });
    assert.deepEqual(seen, { cancelled: true, events: 1 });
  });

  test('message size limits: receive and send, exact texts', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, { unary: (call: grpc.ServerUnaryCall<{ big?: boolean }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { pad: call.request.big ? 'y'.repeat(200) : '' }) }, {
        'grpc.max_receive_message_length': 50,
        'grpc.max_send_message_length': 100,
      });
      const out = [await unary(s.client, 'unary', { pad: 'x'.repeat(100) }), await unary(s.client, 'unary', { big: true }), await unary(s.client, 'unary', {})];
      await s.close();
      return out.map((o) => o.err ?? o.value);
    });
    assert.deepEqual(seen, [
      { code: grpc.status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (110 vs 50)', metadata: TRAILERS_ONLY },
      { code: grpc.status.RESOURCE_EXHAUSTED, details: 'Sent message larger than max (215 vs. 100)', metadata: TRAILERS_ONLY },
      { pad: '' },
    ]);
  });

  test('a gzip-compressed request is decompressed', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, { unary: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, call.request) }, {}, {
        'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
      });
      const out = await unary(s.client, 'unary', { text: 'z'.repeat(5000) });
      await s.close();
      return out.value;
    });
    assert.deepEqual(seen, { text: 'z'.repeat(5000) });
  });

  test('server interceptors see and change the call', async () => {
    const seen = await both(async (kind) => {
      const log: string[] = [];
      const interceptor: grpc.ServerInterceptor = (methodDescriptor, call) =>
        new grpc.ServerInterceptingCall(call, {
          start(next) {
            next({
              onReceiveMetadata(md, nextMd) {
                log.push(`md ${methodDescriptor.path} ${String(md.get('x-a')[0])}`);
                if (md.get('x-deny').length > 0) {
                  call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: 'denied' });
                  return;
                }
                nextMd(md);
              },
              onReceiveMessage(m, nextM) {
                log.push(`in ${JSON.stringify(m)}`);
                nextM(m);
              },
            });
          },
          sendMessage(m, next) {
            log.push(`out ${JSON.stringify(m)}`);
            next(m);
          },
          sendStatus(st, next) {
            const md = st.metadata ?? new grpc.Metadata();
            md.set('x-intercepted', 'yes');
            next({ ...st, metadata: md });
          },
        });
      const s = await serve(kind, { unary: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { echo: call.request }) }, { interceptors: [interceptor] });
      const md = new grpc.Metadata();
      md.set('x-a', '1');
      const ok = await unary(s.client, 'unary', { q: 1 }, md);
      const deny = new grpc.Metadata();
      deny.set('x-deny', '1');
      const denied = await unary(s.client, 'unary', { q: 2 }, deny);
      await s.close();
      return { ok: ok.value, okTrailers: ok.trailers?.['x-intercepted'], denied: denied.err, log };
    });
    assert.deepEqual(seen, {
      ok: { echo: { q: 1 } },
      okTrailers: 'yes',
      denied: { code: grpc.status.PERMISSION_DENIED, details: 'denied', metadata: TRAILERS_ONLY },
      log: ['md /test.T/Unary 1', 'in {"q":1}', 'out {"echo":{"q":1}}', 'md /test.T/Unary undefined'],
    });
  });

  test('1000 concurrent unary calls on one connection all answer', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, { unary: (call: grpc.ServerUnaryCall<{ i: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => setImmediate(() => cb(null, { i: call.request.i })) });
      const out = await Promise.all(Array.from({ length: 1000 }, (_, i) => unary(s.client, 'unary', { i })));
      await s.close();
      return out.filter((o, i) => (o.value as { i: number } | undefined)?.i === i).length;
    });
    assert.equal(seen, 1000);
  });

  test('tryShutdown lets an in-flight call finish; forceShutdown ends it', async () => {
    const seen = await both(async (kind) => {
      const s = await serve(kind, { unary: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => setTimeout(() => cb(null, { late: true }), 200) });
      const pending = unary(s.client, 'unary', {});
      await sleep(50);
      let shutDown = false;
      const closed = new Promise<void>((resolve) => s.server.tryShutdown(() => ((shutDown = true), resolve())));
      const graceful = await pending;
      await closed;
      await s.close();
      const f = await serve(kind, { unary: () => {} });
      const cut = unary(f.client, 'unary', {});
      await sleep(50);
      f.server.forceShutdown();
      const forced = await cut;
      await f.close();
      return { graceful: graceful.value, shutDown, forced: forced.err?.code };
    });
    assert.deepEqual(seen, { graceful: { late: true }, shutDown: true, forced: grpc.status.CANCELLED });
  });
});

/** One request written by hand (what a grpc-js client would never send), answered headers and trailers. */
async function rawCall(kind: GrpcServerKind, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<Record<string, unknown>> {
  const s = await serve(kind, { unary: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, call.request) });
  const sock = path.join(dir, `s${seq}.sock`);
  const session = http2.connect('http://localhost', { createConnection: () => net.connect(sock) });
  const out = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/test.T/Unary', te: 'trailers', ...headers });
    const got: Record<string, unknown> = {};
    req.on('response', (h) => Object.assign(got, { status: h[':status'], grpcStatus: h['grpc-status'], grpcMessage: h['grpc-message'] }));
    req.on('trailers', (t) => Object.assign(got, { grpcStatus: t['grpc-status'], grpcMessage: t['grpc-message'] }));
    req.on('error', reject);
    req.on('close', () => resolve(got));
    req.resume();
    req.end(body);
  });
  session.close();
  await s.close();
  return out;
}

describe('requests no grpc-js client sends', () => {
  const msg = Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('{}')]);
  const gzipFlagged = Buffer.concat([Buffer.from([1, 0, 0, 0, 2]), Buffer.from('{}')]);
  test('not application/grpc: HTTP 415', async () => {
    assert.deepEqual(await both((k) => rawCall(k, { 'content-type': 'text/plain' }, msg)), { status: 415, grpcStatus: undefined, grpcMessage: undefined });
  });
  test('a malformed grpc-timeout: INTERNAL', async () => {
    assert.deepEqual(await both((k) => rawCall(k, { 'content-type': 'application/grpc', 'grpc-timeout': 'soon' }, msg)), {
      status: 200,
      grpcStatus: '13',
      grpcMessage: 'Invalid%20grpc-timeout%20value%20%22soon%22',
    });
  });
  test('a message compressed with an unknown encoding: UNIMPLEMENTED', async () => {
    assert.deepEqual(await both((k) => rawCall(k, { 'content-type': 'application/grpc', 'grpc-encoding': 'snappy' }, gzipFlagged)), {
      status: 200,
      grpcStatus: '12',
      grpcMessage: 'Received%20message%20compressed%20with%20unsupported%20encoding%20%22snappy%22',
    });
  });
  test('two messages to a unary method: UNIMPLEMENTED', async () => {
    assert.deepEqual(await both((k) => rawCall(k, { 'content-type': 'application/grpc' }, Buffer.concat([msg, msg]))), {
      status: 200,
      grpcStatus: '12',
      grpcMessage: 'Received%20a%20second%20request%20message%20for%20server%20streaming%20method%20/test.T/Unary',
    });
  });
});

describe('loopp gRPC server options', () => {
  test('options only grpc-js implements select grpc-js by default and are refused when loopp is asked for', () => {
    const keepalive = { 'grpc.keepalive_time_ms': 1000 };
    assert.ok(newGrpcServer(undefined, keepalive) instanceof grpc.Server);
    assert.ok(!(newGrpcServer(undefined, {}) instanceof grpc.Server));
    assert.throws(() => newGrpcServer('loopp', keepalive), {
      code: 'ERR_LOOPP_CONFIG',
      message: 'the loopp gRPC server does not implement server options grpc.keepalive_time_ms',
    });
  });
});
