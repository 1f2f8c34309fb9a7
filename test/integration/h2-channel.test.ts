/**
 * The contract of loopp's HTTP/2 channel: every scenario runs against grpc-js's own Channel and against
 * H2Channel, on the same grpc-js server (unix socket), through the same grpc-js Client, and both must
 * give exactly the expected result: unary, the three streaming kinds, metadata in and out (binary
 * included), status details and trailers (trailers-only too), deadlines (and the server seeing
 * them), cancellation (and the server seeing it), message size limits, interceptors, call
 * credentials, connectivity states, waitForReady, UNAVAILABLE when the server is gone or drops the
 * connection mid-call, large messages and many calls at once.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { channelCredentials, serverCredentials } from '../../src/net/grpc/credentials';
import { openAddressChannel } from '../../src/net/grpc/open-channel';
import { H2Channel } from '../../src/net/h2/channel';
import { createClient } from '../../src/index';
import { generateCertificate } from '../../src/net/mtls/cert';
import { createLog } from '../../src/core/debug';
import { rmDir, sleep, tmpDir } from '../helpers';

type Msg = { n?: number; text?: string; size?: number; sleepMs?: number; count?: number; fail?: boolean };
const ser = (m: Msg) => Buffer.from(JSON.stringify(m));
const des = (b: Buffer): Msg => JSON.parse(b.toString()) as Msg;
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/contract.Test/${name}`,
  requestStream,
  responseStream,
  requestSerialize: ser,
  requestDeserialize: des,
  responseSerialize: ser,
  responseDeserialize: des,
});
const service = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
} as const;
const Client = grpc.makeGenericClientConstructor(service, 'contract.Test');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = any;

/** What the server saw, per call tag. */
const seen = new Map<string, { timeoutMs?: number; cancelled?: boolean; md?: Record<string, unknown> }>();

function mdObject(md: grpc.Metadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md.getMap())) if (k.startsWith('x-')) out[k] = Buffer.isBuffer(v) ? `bin:${v.toString('hex')}` : v;
  return out;
}

function echoHeaders(call: { metadata: grpc.Metadata; sendMetadata(md: grpc.Metadata): void }): void {
  const md = new grpc.Metadata();
  md.set('x-echo', String(call.metadata.get('x-in')[0] ?? ''));
  md.set('x-echo-bin', Buffer.from([0, 1, 2, 255]));
  call.sendMetadata(md);
}

function trailers(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-trailer', 'done');
  md.set('x-trailer-bin', Buffer.from([9, 8, 7]));
  return md;
}

const handlers = {
  unary: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
    const tag = String(call.metadata.get('x-tag')[0] ?? '');
    const deadline = call.getDeadline();
    seen.set(tag, { timeoutMs: deadline === Infinity ? undefined : new Date(deadline).getTime() - Date.now(), md: mdObject(call.metadata) });
    call.on('cancelled', () => (seen.get(tag)!.cancelled = true));
    const r = call.request;
    if (r.fail) return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'bad 100% ünïcode\nline', metadata: trailers() });
    if (r.text === 'trailers-only') return cb({ code: grpc.status.NOT_FOUND, details: 'nothing here' });
    echoHeaders(call);
    const reply = () => cb(null, { n: (r.n ?? 0) + 1, text: r.size !== undefined ? 'x'.repeat(r.size) : r.text }, trailers());
    if (r.sleepMs !== undefined) setTimeout(reply, r.sleepMs);
    else reply();
  },
  serverStream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
    const tag = String(call.metadata.get('x-tag')[0] ?? '');
    seen.set(tag, {});
    call.on('cancelled', () => (seen.get(tag)!.cancelled = true));
    const count = call.request.count ?? 0;
    if (count < 0) return; // hold open until cancelled
    for (let i = 0; i < count; i++) call.write({ n: i, text: call.request.size ? 'y'.repeat(call.request.size) : undefined });
    call.end(trailers());
  },
  clientStream: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
    let sum = 0;
    let bytes = 0;
    call.on('data', (m: Msg) => {
      sum += m.n ?? 0;
      bytes += m.text?.length ?? 0;
    });
    call.on('end', () => cb(null, { n: sum, size: bytes }));
  },
  bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
    call.on('data', (m: Msg) => call.write({ n: (m.n ?? 0) * 2 }));
    call.on('end', () => call.end());
  },
};

interface Server {
  server: grpc.Server;
  socket: string;
}

async function startServer(socket: string, options: grpc.ServerOptions = {}): Promise<Server> {
  const server = new grpc.Server(options);
  server.addService(service, handlers);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return { server, socket };
}

/** loopp-lean: H2Channel under createClient(), whose unary calls without interceptors skip grpc-js's stack. */
type Kind = 'grpc-js' | 'loopp' | 'loopp-lean';

function makeChannel(kind: Kind, socket: string, options: grpc.ChannelOptions = {}): grpc.ChannelInterface {
  if (kind === 'grpc-js') return new grpc.Channel(`unix://${socket}`, grpc.credentials.createInsecure(), options);
  return new H2Channel({
    target: `unix://${socket}`,
    options,
    dial: (signal) =>
      new Promise((resolve, reject) => {
        const s = net.connect({ path: socket, signal });
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      }),
  });
}

function client(channel: grpc.ChannelInterface, options: grpc.ClientOptions = {}, kind?: Kind): AnyClient {
  if (kind === 'loopp-lean') return createClient(service, channel);
  return new Client('unused', grpc.credentials.createInsecure(), { ...options, channelOverride: channel });
}

interface Outcome {
  code: number;
  details?: string;
  reply?: Msg | null;
  headers?: Record<string, unknown>;
  trailers?: Record<string, unknown>;
}

function unary(c: AnyClient, req: Msg, md = new grpc.Metadata(), options: grpc.CallOptions = {}, keepDetails = true): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { code: -1 };
    const call = c.unary(req, md, options, (err: grpc.ServiceError | null, reply: Msg) => {
      out.reply = err ? null : reply;
      if (err) {
        out.code = err.code;
        if (keepDetails) out.details = err.details;
      }
    });
    call.on('metadata', (m: grpc.Metadata) => (out.headers = mdObject(m)));
    call.on('status', (s: grpc.StatusObject) => {
      if (out.code === -1) out.code = s.code;
      out.trailers = mdObject(s.metadata);
      // 'status' comes after the callback in grpc-js's Client.
      setImmediate(() => resolve(out));
    });
  });
}

function collect(stream: NodeJS.EventEmitter): Promise<{ messages: Msg[]; code: number; details: string; trailers: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const messages: Msg[] = [];
    let error: grpc.ServiceError | undefined;
    stream.on('data', (m: Msg) => messages.push(m));
    stream.on('error', (e: grpc.ServiceError) => (error = e));
    stream.on('status', (s: grpc.StatusObject) =>
      setImmediate(() => resolve({ messages, code: error?.code ?? s.code, details: error?.details ?? s.details, trailers: mdObject(s.metadata) })),
    );
  });
}

const KINDS: Kind[] = ['grpc-js', 'loopp', 'loopp-lean'];

describe('HTTP/2 channel contract (grpc-js Channel vs H2Channel)', () => {
  let dir: string;
  let srv: Server;
  before(async () => {
    dir = tmpDir('loopp-h2-');
    srv = await startServer(path.join(dir, 's'));
  });
  after(async () => {
    srv.server.forceShutdown();
    rmDir(dir);
  });

  for (const kind of KINDS) {
    describe(kind, () => {
      let channel: grpc.ChannelInterface;
      let c: AnyClient;
      before(() => {
        channel = makeChannel(kind, srv.socket);
        c = client(channel, {}, kind);
      });
      after(() => channel.close());

      it('unary: reply, metadata in (binary too) and out, trailers', async () => {
        const md = new grpc.Metadata();
        md.set('x-tag', `${kind}-unary`);
        md.set('x-in', 'hello');
        md.set('x-in-bin', Buffer.from([0xde, 0xad]));
        const out = await unary(c, { n: 41, text: 'hi' }, md);
        assert.deepEqual(out, {
          code: 0,
          reply: { n: 42, text: 'hi' },
          headers: { 'x-echo': 'hello', 'x-echo-bin': 'bin:000102ff' },
          trailers: { 'x-trailer': 'done', 'x-trailer-bin': 'bin:090807' },
        });
        assert.deepEqual(seen.get(`${kind}-unary`)?.md, { 'x-tag': `${kind}-unary`, 'x-in': 'hello', 'x-in-bin': 'bin:dead' });
        assert.equal(seen.get(`${kind}-unary`)?.timeoutMs, undefined);
      });

      it('error status: code, percent-encoded details, trailers; trailers-only response', async () => {
        assert.deepEqual(await unary(c, { fail: true }), {
          code: grpc.status.FAILED_PRECONDITION,
          details: 'bad 100% ünïcode\nline',
          reply: null,
          trailers: { 'x-trailer': 'done', 'x-trailer-bin': 'bin:090807' },
        });
        assert.deepEqual(await unary(c, { text: 'trailers-only' }), { code: grpc.status.NOT_FOUND, details: 'nothing here', reply: null, trailers: {} });
      });

      it("a failed call's error is grpc-js's: message, fields, the caller's stack; which path the client took", async () => {
        const err = await new Promise<grpc.ServiceError>((resolve) => c.unary({ text: 'trailers-only' }, (e: grpc.ServiceError) => resolve(e)));
        assert.equal(err.message, '5 NOT_FOUND: nothing here');
        assert.deepEqual([err.code, err.details, err.metadata instanceof grpc.Metadata], [5, 'nothing here', true]);
        assert.match(err.stack ?? '', /\nfor call at\n[^]*h2-channel\.test\.js/);
        // Own (lean) unary methods only on the lean kind; streaming methods stay grpc-js's everywhere.
        assert.equal(Object.hasOwn(c, 'unary'), kind === 'loopp-lean');
        assert.equal(Object.hasOwn(c, 'serverStream'), false);
      });

      it('server streaming: 500 messages in order, then OK with trailers', async () => {
        const r = await collect(c.serverStream({ count: 500 }));
        assert.equal(r.code, 0);
        assert.deepEqual(r.messages.map((m) => m.n), [...Array(500).keys()]);
        assert.deepEqual(r.trailers, { 'x-trailer': 'done', 'x-trailer-bin': 'bin:090807' });
      });

      it('server streaming with a slow reader: 200 messages of 64 KiB (flow control)', async () => {
        const stream = c.serverStream({ count: 200, size: 65536 });
        stream.pause();
        await sleep(100);
        stream.resume();
        const r = await collect(stream);
        assert.equal(r.code, 0);
        assert.equal(r.messages.length, 200);
        assert.ok(r.messages.every((m, i) => m.n === i && m.text?.length === 65536));
      });

      it('client streaming: 300 writes with back-pressure, 19 MiB in all', async () => {
        const out = await new Promise<{ err: grpc.ServiceError | null; reply: Msg }>((resolve) => {
          const call = c.clientStream((err: grpc.ServiceError | null, reply: Msg) => resolve({ err, reply }));
          let i = 0;
          const pump = () => {
            while (i < 300) {
              const ok = call.write({ n: i, text: 'z'.repeat(65536) });
              i++;
              if (!ok) return void call.once('drain', pump);
            }
            call.end();
          };
          pump();
        });
        assert.equal(out.err, null);
        assert.deepEqual(out.reply, { n: (299 * 300) / 2, size: 300 * 65536 });
      });

      it('bidi streaming: 50 ping-pongs', async () => {
        const call = c.bidi();
        const got: number[] = [];
        for (let i = 0; i < 50; i++) {
          call.write({ n: i });
          got.push(await new Promise<number>((resolve) => call.once('data', (m: Msg) => resolve(m.n!))));
        }
        call.end();
        const r = await collect(call);
        assert.equal(r.code, 0);
        assert.deepEqual(got, [...Array(50).keys()].map((i) => i * 2));
      });

      it('deadline: DEADLINE_EXCEEDED, the server got grpc-timeout and saw the call cancelled', async () => {
        const md = new grpc.Metadata();
        md.set('x-tag', `${kind}-deadline`);
        const started = Date.now();
        const out = await unary(c, { sleepMs: 2000 }, md, { deadline: Date.now() + 150 }, false);
        const took = Date.now() - started;
        assert.equal(out.code, grpc.status.DEADLINE_EXCEEDED);
        assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
        const s = seen.get(`${kind}-deadline`)!;
        assert.ok(s.timeoutMs !== undefined && s.timeoutMs > 100 && s.timeoutMs <= 150, `server saw ${s.timeoutMs} ms left`);
        await sleep(100);
        assert.equal(s.cancelled, true);
      });

      it('an already expired deadline fails without a reply', async () => {
        const out = await unary(c, { n: 1 }, new grpc.Metadata(), { deadline: Date.now() - 10 }, false);
        assert.equal(out.code, grpc.status.DEADLINE_EXCEEDED);
      });

      it('cancellation: CANCELLED at the client, the server sees it', async () => {
        const md = new grpc.Metadata();
        md.set('x-tag', `${kind}-cancel`);
        const stream = c.serverStream({ count: -1 }, md);
        const done = collect(stream);
        await sleep(100);
        stream.cancel();
        const r = await done;
        assert.deepEqual([r.code, r.details], [grpc.status.CANCELLED, 'Cancelled on client']);
        await sleep(100);
        assert.equal(seen.get(`${kind}-cancel`)?.cancelled, true);
      });

      it('interceptors: one adds metadata, one sees the status', async () => {
        const statuses: number[] = [];
        const addTag: grpc.Interceptor = (options, next) =>
          new grpc.InterceptingCall(next(options), {
            start: (metadata, listener, nxt) => {
              metadata.set('x-tag', `${kind}-icpt`);
              nxt(metadata, { onReceiveStatus: (s, n) => (statuses.push(s.code), n(s)) });
            },
          });
        const ic = client(channel, { interceptors: [addTag] });
        const out = await unary(ic, { n: 1 });
        assert.equal(out.code, 0);
        assert.deepEqual(statuses, [0]);
        assert.equal(seen.get(`${kind}-icpt`)?.md?.['x-tag'], `${kind}-icpt`);
        // Call-level interceptors on the same client kind as the other tests (the lean one falls back).
        const before = statuses.length;
        const viaCall = await unary(c, { n: 2 }, new grpc.Metadata(), { interceptors: [addTag] });
        assert.equal(viaCall.code, 0);
        assert.deepEqual(statuses.slice(before), [0]);
      });

      it('call credentials add metadata', async () => {
        const creds = grpc.credentials.createFromMetadataGenerator((_o, cb) => {
          const md = new grpc.Metadata();
          md.set('x-tag', `${kind}-creds`);
          md.set('x-auth', 'token');
          cb(null, md);
        });
        const out = await unary(c, { n: 1 }, new grpc.Metadata(), { credentials: creds });
        assert.equal(out.code, 0);
        assert.equal(seen.get(`${kind}-creds`)?.md?.['x-auth'], 'token');
      });

      it('a large unary reply (3 MiB) and many calls at once (300)', async () => {
        const big = await unary(c, { size: 3 * 1024 * 1024 });
        assert.equal(big.code, 0);
        assert.equal(big.reply?.text?.length, 3 * 1024 * 1024);
        const outs = await Promise.all([...Array(300).keys()].map((n) => unary(c, { n })));
        assert.deepEqual(outs.map((o) => [o.code, o.reply?.n]), [...Array(300).keys()].map((n) => [0, n + 1]));
      });

      it('getTarget and getPeer name the socket; getCallNumber counts', () => {
        assert.equal(channel.getTarget().replace(/^unix:(\/\/)?/, ''), srv.socket);
        const call = channel.createCall('/contract.Test/Unary', Infinity, undefined, null, undefined);
        assert.equal(typeof call.getCallNumber(), 'number');
        assert.ok(call.getPeer().includes(path.basename(srv.socket)) || call.getPeer() === 'localhost', call.getPeer());
        call.cancelWithStatus(grpc.status.CANCELLED, 'not used');
      });
    });
  }

  for (const kind of KINDS) {
    describe(`${kind}: limits, states, failures`, () => {
      it('message size limits: RESOURCE_EXHAUSTED both ways', async () => {
        const channel = makeChannel(kind, srv.socket, { 'grpc.max_receive_message_length': 1000, 'grpc.max_send_message_length': 1000 });
        const c = client(channel, {}, kind);
        const received = await unary(c, { size: 2000 });
        assert.equal(received.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(received.details!, /^Received message larger than max \(20\d\d vs\.? 1000\)$/);
        const sent = await unary(c, { text: 'q'.repeat(2000) });
        assert.deepEqual([sent.code, sent.details], [grpc.status.RESOURCE_EXHAUSTED, 'Attempted to send message with a size larger than 1000']);
        assert.equal((await unary(c, { n: 1 })).code, 0);
        channel.close();
      });

      it('connectivity: IDLE, CONNECTING, READY, then SHUTDOWN; watch deadline; calls after close throw', async () => {
        const channel = makeChannel(kind, srv.socket);
        const S = grpc.connectivityState;
        assert.equal(channel.getConnectivityState(false), S.IDLE);
        const states: grpc.connectivityState[] = [];
        const ready = new Promise<void>((resolve) => {
          const step = () => {
            const s = channel.getConnectivityState(true);
            states.push(s);
            if (s === S.READY) return resolve();
            channel.watchConnectivityState(s, Date.now() + 5000, step);
          };
          step();
        });
        await ready;
        assert.deepEqual(states, [S.IDLE, S.CONNECTING, S.READY]);
        const timedOut = await new Promise<Error | undefined>((resolve) => channel.watchConnectivityState(S.READY, Date.now() + 50, resolve));
        assert.equal(timedOut?.message, 'Deadline passed without connectivity state change');
        channel.close();
        assert.equal(channel.getConnectivityState(false), S.SHUTDOWN);
        assert.throws(() => channel.createCall('/contract.Test/Unary', Infinity, undefined, null, undefined), /Channel has been shut down/);
      });

      it('nothing listening: UNAVAILABLE at once, TRANSIENT_FAILURE; waitForReady waits for the server', async () => {
        const socket = path.join(dir, `late-${kind}`);
        const channel = makeChannel(kind, socket, { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 200 });
        const c = client(channel, {}, kind);
        const out = await unary(c, { n: 1 }, new grpc.Metadata(), {}, false);
        assert.equal(out.code, grpc.status.UNAVAILABLE);
        assert.equal(channel.getConnectivityState(false), grpc.connectivityState.TRANSIENT_FAILURE);
        const waiting = unary(c, { n: 5 }, new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + 5000 });
        await sleep(150);
        const late = await startServer(socket);
        const r = await waiting;
        assert.deepEqual([r.code, r.reply?.n], [0, 6]);
        channel.close();
        late.server.forceShutdown();
      });

      it('server shut down mid-call: CANCELLED (its RST_STREAM); the next call reconnects to a new server', async () => {
        const socket = path.join(dir, `down-${kind}`);
        let s = await startServer(socket);
        const channel = makeChannel(kind, socket);
        const c = client(channel, {}, kind);
        assert.equal((await unary(c, { n: 1 })).code, 0);
        const inflight = unary(c, { sleepMs: 5000 }, new grpc.Metadata(), {}, false);
        await sleep(100);
        s.server.forceShutdown();
        assert.equal((await inflight).code, grpc.status.CANCELLED);
        await sleep(50);
        assert.notEqual(channel.getConnectivityState(false), grpc.connectivityState.READY);
        s = await startServer(socket);
        const again = await unary(c, { n: 7 });
        assert.deepEqual([again.code, again.reply?.n], [0, 8]);
        channel.close();
        s.server.forceShutdown();
      });

      it('connection dropped mid-call (no RST_STREAM): UNAVAILABLE; the next call connects again', async () => {
        const front = path.join(dir, `front-${kind}`);
        const conns = new Set<net.Socket>();
        const proxy = net.createServer((down) => {
          const up = net.connect(srv.socket);
          conns.add(down);
          down.on('error', () => {});
          up.on('error', () => {});
          down.pipe(up).pipe(down);
          down.on('close', () => up.destroy());
          up.on('close', () => down.destroy());
        });
        await new Promise<void>((r) => proxy.listen(front, r));
        const channel = makeChannel(kind, front);
        const c = client(channel, {}, kind);
        assert.equal((await unary(c, { n: 1 })).code, 0);
        const inflight = unary(c, { sleepMs: 5000 }, new grpc.Metadata(), {}, false);
        await sleep(100);
        for (const d of conns) d.destroy();
        assert.equal((await inflight).code, grpc.status.UNAVAILABLE);
        const again = await unary(c, { n: 7 });
        assert.deepEqual([again.code, again.reply?.n], [0, 8]);
        channel.close();
        proxy.close();
      });

      it('AutoMTLS: the peer is served and sees the certificate; a client without a certificate or with a stranger\'s gets UNAVAILABLE at once', async () => {
        const serverId = generateCertificate();
        const clientId = generateCertificate();
        const socket = path.join(dir, `tls-${kind}`);
        const server = new grpc.Server();
        server.addService(service, handlers);
        await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, serverCredentials(serverId, clientId.certPem), (e) => (e ? reject(e) : resolve())));
        const open = (who: 'peer' | 'stranger' | 'no certificate') => {
          const creds = channelCredentials(who === 'stranger' ? generateCertificate() : clientId, serverId.certPem);
          if (who === 'no certificate') {
            creds.credentials = grpc.credentials.createSsl(Buffer.from(serverId.certPem));
            creds.tls = { ca: [serverId.certPem], servername: 'localhost' };
          }
          return openAddressChannel({ kind: kind === 'grpc-js' ? 'grpc-js' : 'loopp', credentials: creds, options: {}, log: createLog('test') }, 'unix', socket);
        };
        const peer = open('peer');
        const ok = await unary(client(peer, {}, kind), { n: 1 });
        assert.deepEqual([ok.code, ok.reply?.n], [0, 2]);
        if (kind !== 'grpc-js') {
          const call = peer.createCall('/contract.Test/Unary', Infinity, undefined, null, undefined);
          await new Promise<void>((resolve) => {
            call.start(new grpc.Metadata(), { onReceiveMetadata: () => {}, onReceiveMessage: () => {}, onReceiveStatus: () => resolve() });
            call.sendMessageWithContext({}, ser({ n: 1 }));
            call.halfClose();
            call.startRead();
          });
          assert.equal(call.getAuthContext()?.transportSecurityType, 'ssl');
          assert.equal(call.getAuthContext()?.sslPeerCertificate?.subject?.CN, 'localhost');
        }
        peer.close();
        for (const who of ['stranger', 'no certificate'] as const) {
          const ch = open(who);
          const t0 = Date.now();
          const out = await unary(client(ch), { n: 1 }, new grpc.Metadata(), { deadline: Date.now() + 3000 }, false);
          assert.equal(out.code, grpc.status.UNAVAILABLE, who);
          assert.ok(Date.now() - t0 < 2000, `${who}: took ${Date.now() - t0} ms`);
          ch.close();
        }
        server.forceShutdown();
      });

      it('close() lets a call in flight finish', async () => {
        const channel = makeChannel(kind, srv.socket);
        const c = client(channel, {}, kind);
        assert.equal((await unary(c, { n: 1 })).code, 0);
        const inflight = unary(c, { n: 2, sleepMs: 200 });
        await sleep(50);
        channel.close();
        const out = await inflight;
        assert.deepEqual([out.code, out.reply?.n], [0, 3]);
      });
    });
  }
});
