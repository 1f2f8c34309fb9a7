/**
 * yamux (src/yamux): frame codec and parser, two TS sessions over a real unix socket pair, raw-frame
 * peers for protocol edge cases (keepalive timeout, GoAway, backlog, window violations), and HTTP/2
 * running on a yamux stream (what grpc-js needs).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  createYamuxSession,
  decodeHeader,
  encodeHeader,
  Flag,
  FrameParser,
  FrameType,
  INITIAL_STREAM_WINDOW,
  isYamuxError,
  type FrameHeader,
  type YamuxSession,
  type YamuxSessionOptions,
  type YamuxStream,
} from '../../src/net/yamux/index';
import { LooppError } from '../../src/core/errors';
import { readAll, rmDir, sleep, tmpDir } from '../helpers';

let dir: string;
let seq = 0;
before(() => {
  dir = tmpDir('loopp-yamux-');
});
after(() => rmDir(dir));

/** A connected pair of unix sockets; with `pauseOnConnect` the second one reads nothing until resumed. */
async function socketPair(pauseOnConnect = false): Promise<[net.Socket, net.Socket]> {
  const sockPath = path.join(dir, `p${seq++}.sock`);
  const server = net.createServer({ pauseOnConnect });
  await new Promise<void>((res) => server.listen(sockPath, res));
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(sockPath);
  await once(client, 'connect');
  const [srv] = await accepted;
  server.close();
  return [client, srv];
}

type Extra = Omit<YamuxSessionOptions, 'socket' | 'side'>;
async function sessionPair(clientOpts: Extra = {}, serverOpts: Extra = {}): Promise<{ client: YamuxSession; server: YamuxSession; sockets: [net.Socket, net.Socket] }> {
  const sockets = await socketPair();
  const client = createYamuxSession({ socket: sockets[0], side: 'client', instance: 'test client', ...clientOpts });
  const server = createYamuxSession({ socket: sockets[1], side: 'server', instance: 'test server', ...serverOpts });
  return { client, server, sockets };
}

function echo(s: YamuxStream): void {
  s.on('error', () => {});
  s.pipe(s);
}

/** Records every frame seen on a socket's inbound side (an independent parser on the same bytes). */
function tap(sock: net.Socket): { frames: FrameHeader[]; maxData: () => number } {
  const frames: FrameHeader[] = [];
  const parser = new FrameParser({ onFrame: (h) => frames.push(h), onData: () => {} });
  sock.on('data', (c: Buffer) => parser.push(c));
  return { frames, maxData: () => frames.filter((f) => f.type === FrameType.Data).reduce((m, f) => Math.max(m, f.length), 0) };
}

/** A peer speaking raw frames, for protocol edge cases. */
class RawPeer {
  readonly frames: FrameHeader[] = [];
  readonly payloads = new Map<FrameHeader, Buffer[]>();
  ended = false;
  private waiters: Array<() => void> = [];
  constructor(readonly sock: net.Socket) {
    const parser = new FrameParser({
      onFrame: (h) => {
        this.frames.push(h);
        this.wake();
      },
      onData: (h, c) => {
        const list = this.payloads.get(h) ?? [];
        list.push(Buffer.from(c));
        this.payloads.set(h, list);
        this.wake();
      },
    });
    sock.on('data', (c: Buffer) => parser.push(c));
    sock.on('end', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('close', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('error', () => {});
  }
  send(type: FrameType, flags: number, id: number, length: number, payload?: Buffer): void {
    this.sock.write(payload ? Buffer.concat([encodeHeader(type, flags, id, length), payload]) : encodeHeader(type, flags, id, length));
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async waitFor(pred: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!pred()) {
      const left = until - Date.now();
      if (left <= 0) assert.fail(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }
  find(pred: (h: FrameHeader) => boolean): FrameHeader | undefined {
    return this.frames.find(pred);
  }
}

async function rawPeerAndSession(opts: Partial<YamuxSessionOptions> & { side: 'client' | 'server' }): Promise<{ raw: RawPeer; session: YamuxSession }> {
  const [a, b] = await socketPair();
  const session = createYamuxSession({ socket: a, instance: `raw-test ${opts.side}`, ...opts });
  return { raw: new RawPeer(b), session };
}

/** Resolves with the session's 'close' reason (events.once would reject on 'error'). */
function closeEvent(session: YamuxSession): Promise<unknown> {
  return new Promise((resolve) => session.once('close', resolve));
}

function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

// ------------------------------------------------------------------------------------------------

describe('yamux frames', () => {
  it('encodes and decodes the 12-byte big-endian header', () => {
    const h = encodeHeader(FrameType.WindowUpdate, Flag.SYN | Flag.ACK, 0x01020304, 0xa0b0c0d0);
    assert.deepEqual([...h], [0, 1, 0, 3, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0]);
    assert.deepEqual(decodeHeader(h), { version: 0, type: 1, flags: 3, streamId: 0x01020304, length: 0xa0b0c0d0 });
    assert.deepEqual(decodeHeader(encodeHeader(FrameType.GoAway, 0, 0, 2)), { version: 0, type: 3, flags: 0, streamId: 0, length: 2 });
  });

  it('rejects bad versions and types with typed errors', () => {
    const bad = encodeHeader(FrameType.Data, 0, 1, 0);
    bad[0] = 1;
    assert.throws(() => decodeHeader(bad), (e: unknown) => isYamuxError(e, 'invalid-version') && e instanceof LooppError && e.code === 'ERR_LOOPP_YAMUX');
    const badType = encodeHeader(FrameType.Data, 0, 1, 0);
    badType[1] = 4;
    assert.throws(() => decodeHeader(badType), (e: unknown) => isYamuxError(e, 'invalid-type'));
    assert.throws(() => decodeHeader(Buffer.alloc(5)), (e: unknown) => isYamuxError(e, 'invalid-argument'));
    assert.throws(() => encodeHeader(FrameType.Data, 0, -1, 0), (e: unknown) => isYamuxError(e, 'invalid-argument'));
    assert.throws(() => encodeHeader(FrameType.Data, 0, 1, 2 ** 32), (e: unknown) => isYamuxError(e, 'invalid-argument'));
  });

  it('parses any chunking of a frame stream identically', () => {
    const frames: Array<{ h: [FrameType, number, number, number]; payload?: Buffer }> = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = i % 4;
      if (kind === 0) {
        const payload = randomBytes(Math.floor(Math.random() * 3000));
        frames.push({ h: [FrameType.Data, i % 16, i, payload.length], payload });
        parts.push(encodeHeader(FrameType.Data, i % 16, i, payload.length), payload);
      } else {
        const t = kind as FrameType;
        frames.push({ h: [t, i % 16, i, i * 7919] });
        parts.push(encodeHeader(t, i % 16, i, i * 7919));
      }
    }
    const wire = Buffer.concat(parts);
    for (let round = 0; round < 30; round++) {
      const got: Array<{ h: FrameHeader; payload: Buffer[] }> = [];
      const parser = new FrameParser({
        onFrame: (h) => got.push({ h, payload: [] }),
        onData: (h, c, last) => {
          const cur = got[got.length - 1]!;
          assert.equal(cur.h, h);
          cur.payload.push(Buffer.from(c));
          if (last) assert.equal(Buffer.concat(cur.payload).length, h.length);
        },
      });
      let pos = 0;
      while (pos < wire.length) {
        const n = round === 0 ? 1 : 1 + Math.floor(Math.random() * (round < 15 ? 20 : 5000));
        parser.push(wire.subarray(pos, pos + n));
        pos += n;
      }
      assert.ok(parser.idle);
      assert.equal(got.length, frames.length);
      got.forEach((g, i) => {
        const f = frames[i]!;
        assert.deepEqual([g.h.type, g.h.flags, g.h.streamId, g.h.length], f.h);
        if (f.payload) assert.ok(Buffer.concat(g.payload).equals(f.payload));
      });
    }
  });

  it('stops with a typed error on a bad header, whatever the chunking, and ignores later input', () => {
    for (const [offset, value, kind] of [
      [0, 7, 'invalid-version'],
      [1, 9, 'invalid-type'],
    ] as const) {
      const good = encodeHeader(FrameType.Ping, Flag.SYN, 0, 1);
      const bad = encodeHeader(FrameType.Ping, Flag.SYN, 0, 2);
      bad[offset] = value;
      const wire = Buffer.concat([good, bad, good]);
      for (let split = 1; split < wire.length; split++) {
        const seen: FrameHeader[] = [];
        const parser = new FrameParser({ onFrame: (h) => seen.push(h), onData: () => {} });
        let err: unknown;
        for (const piece of [wire.subarray(0, split), wire.subarray(split)]) {
          try {
            parser.push(piece);
          } catch (e) {
            err = e;
          }
        }
        assert.ok(isYamuxError(err, kind), `split ${split}: ${String(err)}`);
        assert.equal(seen.length, 1);
        assert.ok(isYamuxError(parser.error, kind));
      }
    }
  });
});

describe('yamux sessions (TS <-> TS over a unix socket)', () => {
  it('opens and accepts streams with odd client / even server IDs and echoes', async () => {
    const { client, server } = await sessionPair();
    server.on('stream', echo);
    client.on('stream', echo);
    const a = client.open();
    const b = client.open();
    const c = server.open();
    assert.deepEqual([a.id, b.id, c.id], [1, 3, 2]);
    for (const s of [a, b, c]) {
      const msg = randomBytes(1000);
      const got = readAll(s);
      s.end(msg);
      assert.ok((await got).equals(msg));
    }
    await sleep(20);
    assert.equal(client.numStreams, 0);
    assert.equal(server.numStreams, 0);
    await Promise.all([client.close(), server.closed]);
    assert.ok(client.isClosed && server.isClosed);
  });

  it('accept() hands out streams waiting in the backlog', async () => {
    const { client, server } = await sessionPair();
    const s1 = client.open();
    s1.write('one');
    const s2 = client.open();
    s2.end('two');
    await sleep(30);
    assert.equal(server.numStreams, 2);
    const in1 = await server.accept();
    const in2 = await server.accept();
    for (const x of [s1, s2, in1, in2]) x.on('error', () => {});
    assert.deepEqual([in1.id, in2.id], [1, 3]);
    assert.ok(s1.established || (await sleep(20), s1.established));
    assert.equal((await readAll(in2)).toString(), 'two');
    const pending = server.accept();
    const s3 = client.open();
    s3.on('error', () => {});
    void pending.then((x) => x.on('error', () => {}));
    assert.equal((await pending).id, s3.id);
    await client.close();
    const r = await settle(server.accept());
    assert.ok(!r.ok && isYamuxError(r.error, 'session-shutdown'));
  });

  it('runs 100 concurrent streams with interleaved data', async () => {
    const { client, server } = await sessionPair();
    server.on('stream', echo);
    const jobs = Array.from({ length: 100 }, async (_, i) => {
      const s = client.open();
      const payload = randomBytes(4096 + i * 97);
      const got = readAll(s);
      for (let off = 0; off < payload.length; off += 1000) {
        s.write(payload.subarray(off, off + 1000));
        await new Promise((r) => setImmediate(r));
      }
      s.end();
      assert.ok((await got).equals(payload), `stream ${s.id}`);
    });
    await Promise.all(jobs);
    assert.equal(client.stats.streamsOpened, 100);
    assert.equal(server.stats.streamsAccepted, 100);
    await client.close();
  });

  it('moves 5 MiB through one stream without any Data frame exceeding the 256 KiB window', async () => {
    const { client, server, sockets } = await sessionPair();
    const clientIn = tap(sockets[0]);
    const serverIn = tap(sockets[1]);
    server.on('stream', echo);
    const payload = randomBytes(5 * 1024 * 1024);
    const s = client.open();
    const t0 = performance.now();
    const got = readAll(s);
    s.end(payload);
    const back = await got;
    const ms = performance.now() - t0;
    assert.ok(back.equals(payload));
    assert.ok(serverIn.maxData() <= INITIAL_STREAM_WINDOW && clientIn.maxData() <= INITIAL_STREAM_WINDOW, `max frames ${serverIn.maxData()} ${clientIn.maxData()}`);
    assert.ok(client.stats.maxDataFrameSent <= INITIAL_STREAM_WINDOW && server.stats.maxDataFrameSent <= INITIAL_STREAM_WINDOW);
    const updates = serverIn.frames.filter((f) => f.type === FrameType.WindowUpdate && f.flags === 0);
    assert.ok(updates.length > 0 && updates.every((f) => f.length >= INITIAL_STREAM_WINDOW / 2), 'window updates are >= half the window');
    console.log(`# 5 MiB echo in ${ms.toFixed(0)} ms (${((2 * 5) / (ms / 1000)).toFixed(1)} MiB/s both ways), largest Data frame ${serverIn.maxData()} bytes`);
    await client.close();
  });

  it('stops the sender at exactly one window when the receiver does not read', async () => {
    const { client, server } = await sessionPair();
    const inbound = once(server, 'stream') as Promise<[YamuxStream]>;
    const s = client.open();
    let written = false;
    const big = randomBytes(INITIAL_STREAM_WINDOW * 3);
    s.write(big, () => (written = true));
    const [r] = await inbound;
    await sleep(100);
    assert.equal(written, false, 'write callback must wait for window updates');
    assert.equal(r.receiveWindowSize, 0);
    assert.equal(s.sendWindowSize, 0);
    assert.equal(server.stats.bytesReceived - server.stats.framesReceived * 12, INITIAL_STREAM_WINDOW);
    const got = readAll(r);
    s.end();
    assert.ok((await got).equals(big));
    assert.equal(written, true);
    await client.close();
  });

  it('half-close: the side that sent FIN keeps reading until the peer FINs', async () => {
    const { client, server } = await sessionPair();
    server.on('stream', (s) => {
      const parts: Buffer[] = [];
      s.on('data', (c: Buffer) => parts.push(c));
      s.on('end', async () => {
        // our read side ended (peer FIN) but we may still write
        await sleep(50);
        s.write('reply:');
        s.end(Buffer.concat(parts));
      });
    });
    const s = client.open();
    const got = readAll(s);
    const closed = once(s, 'close');
    s.end('hello');
    await once(s, 'finish');
    assert.equal((await got).toString(), 'reply:hello');
    await closed;
    await sleep(10);
    assert.equal(client.numStreams, 0);
    await client.close();
  });

  it('destroy() resets the stream; the peer sees a connection-reset error', async () => {
    const { client, server } = await sessionPair();
    const inbound = once(server, 'stream') as Promise<[YamuxStream]>;
    const s = client.open();
    s.write('x');
    const [r] = await inbound;
    const err = once(r, 'error') as Promise<[unknown]>;
    s.destroy();
    const [e] = await err;
    assert.ok(isYamuxError(e, 'connection-reset'), String(e));
    await sleep(20);
    assert.equal(client.numStreams, 0);
    assert.equal(server.numStreams, 0);
    await client.close();
  });

  it('writes held back by the window get their callbacks with an error when the stream ends without sending them', async () => {
    const results = async (end: (s: YamuxStream, r: YamuxStream, client: YamuxSession) => void): Promise<string[]> => {
      const { client, server } = await sessionPair();
      const inbound = once(server, 'stream') as Promise<[YamuxStream]>;
      const s = client.open();
      s.on('error', () => {});
      const got: string[] = [];
      const note = (name: string) => (e?: Error | null) => got.push(`${name}:${e ? ((e as { kind?: string }).kind ?? (e as NodeJS.ErrnoException).code) : 'ok'}`);
      s.write(randomBytes(INITIAL_STREAM_WINDOW + 1000), note('held')); // the peer does not read: waits for window
      s.write(Buffer.from('queued'), note('queued')); // buffered by Node behind it
      try {
        const [r] = await inbound;
        r.on('error', () => {});
        await sleep(30);
        assert.deepEqual(got, []);
        const closed = new Promise((resolve) => s.once('close', resolve));
        end(s, r, client);
        await closed;
        await sleep(10);
        return got;
      } finally {
        await client.close();
        await server.close();
      }
    };
    assert.deepEqual(await results((s) => s.destroy()), ['held:stream-closed', 'queued:stream-closed']);
    assert.deepEqual(await results((_s, r) => r.destroy()), ['held:connection-reset', 'queued:connection-reset']);
    assert.deepEqual(await results((_s, _r, client) => void client.close()), ['held:session-shutdown', 'queued:session-shutdown']);
  });

  it('ping() measures the round trip; keepalive pings are answered', async () => {
    const { client, server } = await sessionPair({ keepaliveIntervalMs: 20, connectionWriteTimeoutMs: 500 }, { keepaliveIntervalMs: 20 });
    const rtt = await client.ping();
    assert.ok(rtt >= 0 && rtt < 1000, String(rtt));
    await sleep(300);
    assert.ok(!client.isClosed && !server.isClosed);
    assert.ok(client.stats.pingsAcked >= 5, `client acks ${client.stats.pingsAcked}`);
    assert.ok(server.stats.pingsAcked >= 5 && server.stats.pingsReceived >= 5);
    await client.close();
    await server.closed;
    const r = await settle(client.ping());
    assert.ok(!r.ok && isYamuxError(r.error, 'session-shutdown'));
  });

  it('GoAway: the peer can open no new streams, existing ones keep working', async () => {
    const { client, server } = await sessionPair();
    server.on('stream', echo);
    const s = client.open();
    await once(server, 'stream'); // (a SYN that reaches the server after its GoAway is refused with RST)
    const goaway = once(client, 'goaway');
    server.goAway();
    await goaway;
    assert.ok(client.goAwayReceived);
    assert.throws(() => client.open(), (e: unknown) => isYamuxError(e, 'remote-goaway'));
    const got = readAll(s);
    s.end('still fine');
    assert.equal((await got).toString(), 'still fine');
    // the side that sent GoAway may still open streams itself
    client.on('stream', echo);
    const t = server.open();
    const got2 = readAll(t);
    t.end('back');
    assert.equal((await got2).toString(), 'back');
    await server.close();
  });

  it('close() ends streams, closes both sessions and sends no GoAway', async () => {
    const { client, server, sockets } = await sessionPair();
    const serverIn = tap(sockets[1]);
    const inbound = once(server, 'stream') as Promise<[YamuxStream]>;
    const s = client.open();
    s.write('x');
    const [r] = await inbound;
    const rErr = once(r, 'error') as Promise<[unknown]>;
    const sClosed = once(s, 'close');
    const events: string[] = [];
    server.on('close', (err) => events.push(`close:${err === undefined ? '-' : (err as { kind?: string }).kind}`));
    await client.close();
    await sClosed;
    const [e] = await rErr;
    assert.ok(isYamuxError(e, 'session-shutdown'), String(e));
    await server.closed;
    await sleep(10);
    assert.deepEqual(events, ['close:connection-lost']);
    assert.equal(serverIn.frames.filter((f) => f.type === FrameType.GoAway).length, 0);
    assert.ok(sockets[0].destroyed);
  });

  it('carries an HTTP/2 request/response over a yamux stream', async () => {
    const { client, server } = await sessionPair();
    const h2server = http2.createServer();
    const streamErrors: unknown[] = [];
    h2server.on('stream', (st, headers) => {
      st.respond({ ':status': 200, 'content-type': 'text/plain' });
      st.end(`hello ${String(headers[':path'])}`);
    });
    server.on('stream', (s) => {
      s.on('error', (e) => streamErrors.push(e));
      h2server.emit('connection', s);
    });
    const conn = http2.connect('http://localhost', {
      createConnection: () => {
        const s = client.open();
        s.on('error', (e) => streamErrors.push(e));
        return s;
      },
    });
    const connErrors: unknown[] = [];
    conn.on('error', (e) => connErrors.push(e));
    try {
      for (const p of ['/a', '/b']) {
        const req = conn.request({ ':path': p });
        const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
        assert.equal(headers[':status'], 200);
        // Read as grpc-js does ('data' and 'end'), not with for await: in Node 24 (24.22.3 here; the
        // report says since 24.20, nodejs/node#65677) finished(), behind the async iterator, decides at
        // once when it sees an Http2Stream's own `closed` (the HTTP/2 state, true once END_STREAM came)
        // and reports a premature close for a body that is complete but not read yet. Over plain TCP
        // too, whenever the END_STREAM is in before the loop starts: not a yamux matter.
        const body = await readAll(req);
        assert.equal(body.toString('utf8'), `hello ${p}`);
      }
      const closed = once(conn, 'close');
      conn.close();
      await closed;
      // Both yamux streams ended with FIN both ways (no RST, no error) and left their sessions.
      for (let i = 0; i < 50 && client.numStreams + server.numStreams > 0; i++) await sleep(10);
      assert.equal(client.numStreams, 0);
      assert.equal(server.numStreams, 0);
      assert.deepEqual(streamErrors, []);
      assert.deepEqual(connErrors, []);
    } finally {
      conn.destroy();
      h2server.close();
      await client.close();
      await server.close();
    }
  });
});

/** A socket whose writes complete only when the test says so (write() returns false past 1 KiB). */
class ManualSocket extends Duplex {
  readonly written: Buffer[] = [];
  private held: Array<() => void> = [];
  constructor() {
    super({ writableHighWaterMark: 1024 });
  }
  override _read(): void {}
  /** Everything the session handed to write(), whether or not the socket took it yet. */
  override write(chunk: any, ...rest: any[]): boolean {
    this.written.push(Buffer.from(chunk as Buffer));
    return super.write(chunk, ...rest);
  }
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.held.push(() => cb());
  }
  /** Completes every pending and buffered write (so 'drain' fires). */
  async release(): Promise<void> {
    while (this.held.length > 0) {
      const h = this.held;
      this.held = [];
      for (const f of h) f();
      await new Promise((r) => setImmediate(r));
    }
  }
  dataFrames(): FrameHeader[] {
    const frames: FrameHeader[] = [];
    new FrameParser({ onFrame: (h) => frames.push(h), onData: () => {} }).push(Buffer.concat(this.written));
    return frames.filter((f) => f.type === FrameType.Data);
  }
}

describe('yamux socket back-pressure', () => {
  it("holds Data while the socket's write() returns false and resumes on 'drain'", async () => {
    const sock = new ManualSocket();
    const session = createYamuxSession({ socket: sock, side: 'client', keepaliveIntervalMs: 0 });
    const a = session.open();
    const b = session.open();
    let aDone = false;
    let bDone = false;
    a.write(Buffer.alloc(5000, 1), () => (aDone = true));
    b.write(Buffer.alloc(3000, 2), () => (bDone = true));
    await sleep(20);
    assert.deepEqual(sock.dataFrames().map((f) => [f.streamId, f.length]), [[1, 5000]], 'only the first write reached the socket');
    assert.equal(bDone, false);
    // the first write's callback fired: its bytes were handed to the socket within the window
    assert.equal(aDone, true);
    await sock.release();
    await sleep(20);
    assert.deepEqual(sock.dataFrames().map((f) => [f.streamId, f.length]), [[1, 5000], [3, 3000]]);
    assert.equal(bDone, true);
    await sock.release();
    await session.close();
  });

  it('closes the session when the socket does not drain within connectionWriteTimeoutMs', async () => {
    const sock = new ManualSocket();
    const session = createYamuxSession({ socket: sock, side: 'client', keepaliveIntervalMs: 0, connectionWriteTimeoutMs: 100 });
    const s = session.open();
    s.on('error', () => {});
    s.write(Buffer.alloc(5000));
    const keepAlive = setTimeout(() => {}, 5000); // the session's timers are unref()ed and this socket has no handle
    const reason = await closeEvent(session);
    clearTimeout(keepAlive);
    assert.ok(isYamuxError(reason, 'write-timeout'), String(reason));
    assert.ok(sock.destroyed);
  });
});

describe('yamux protocol edge cases (raw peer)', () => {
  it('closes the session when keepalive pings go unanswered', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'client', keepaliveIntervalMs: 50, connectionWriteTimeoutMs: 100 });
    const errors: unknown[] = [];
    session.on('error', (e) => errors.push(e));
    const t0 = Date.now();
    const reason = await closeEvent(session);
    const elapsed = Date.now() - t0;
    assert.ok(isYamuxError(reason, 'keepalive-timeout'), String(reason));
    assert.ok(elapsed >= 140 && elapsed < 2000, `closed after ${elapsed} ms`);
    assert.equal(errors.length, 1);
    assert.ok(raw.find((h) => h.type === FrameType.Ping && h.flags === Flag.SYN));
    await raw.waitFor(() => raw.ended, 'socket closed');
  });

  it('answers Ping(SYN) with Ping(ACK) carrying the same opaque value', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'server' });
    raw.send(FrameType.Ping, Flag.SYN, 0, 0xdeadbeef);
    await raw.waitFor(() => raw.find((h) => h.type === FrameType.Ping && h.flags === Flag.ACK) !== undefined, 'ping ack');
    assert.equal(raw.find((h) => h.type === FrameType.Ping)!.length, 0xdeadbeef);
    assert.equal(session.stats.pingsReceived, 1);
    await session.close();
  });

  it('accepts with WindowUpdate+ACK, resets streams beyond the backlog, and SYNs after our GoAway', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'server', acceptBacklog: 2 });
    for (const id of [1, 3, 5]) raw.send(FrameType.WindowUpdate, Flag.SYN, id, 0);
    await raw.waitFor(() => raw.find((h) => h.streamId === 5 && h.flags === Flag.RST) !== undefined, 'RST for stream 5');
    assert.equal(session.numStreams, 2);
    const s1 = await session.accept();
    assert.equal(s1.id, 1);
    await raw.waitFor(() => raw.find((h) => h.streamId === 1 && h.flags === Flag.ACK) !== undefined, 'ACK for stream 1');
    assert.deepEqual(raw.find((h) => h.streamId === 1), { version: 0, type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 1, length: 0 });
    session.goAway();
    await raw.waitFor(() => raw.find((h) => h.type === FrameType.GoAway) !== undefined, 'GoAway');
    raw.send(FrameType.WindowUpdate, Flag.SYN, 7, 0);
    await raw.waitFor(() => raw.find((h) => h.streamId === 7 && h.flags === Flag.RST) !== undefined, 'RST for stream 7');
    assert.equal(session.stats.streamsRefused, 2);
    await session.close();
  });

  it('delivers data sent before the ACK, and FIN carried on a Data frame', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'server' });
    raw.send(FrameType.Data, Flag.SYN, 1, 5, Buffer.from('early'));
    raw.send(FrameType.Data, Flag.FIN, 1, 4, Buffer.from('+fin'));
    const s = await session.accept();
    assert.equal((await readAll(s)).toString(), 'early+fin');
    await session.close();
  });

  it('discards Data for unknown streams without buffering it', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'server' });
    raw.send(FrameType.Data, 0, 99, 1024 * 1024, Buffer.alloc(1024 * 1024));
    raw.send(FrameType.Ping, Flag.SYN, 0, 5);
    await raw.waitFor(() => raw.find((h) => h.type === FrameType.Ping) !== undefined, 'ping ack after discarded data');
    assert.ok(!session.isClosed);
    await session.close();
  });

  for (const [what, frames, kind] of [
    ['a bad version', [Buffer.from([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])], 'invalid-version'],
    ['a bad type', [Buffer.from([0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])], 'invalid-type'],
    [
      'more data than the window',
      [encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0), encodeHeader(FrameType.Data, 0, 1, INITIAL_STREAM_WINDOW + 1)],
      'recv-window-exceeded',
    ],
    ['a duplicate SYN', [encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0), encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0)], 'duplicate-stream'],
    [
      'a second FIN',
      [encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0), encodeHeader(FrameType.WindowUpdate, Flag.FIN, 1, 0), encodeHeader(FrameType.WindowUpdate, Flag.FIN, 1, 0)],
      'unexpected-flag',
    ],
  ] as const) {
    it(`answers ${what} with GoAway(protocol error) and closes with a typed error`, async () => {
      const { raw, session } = await rawPeerAndSession({ side: 'server' });
      const errors: unknown[] = [];
      session.on('error', (e) => errors.push(e));
      session.on('stream', () => {});
      const closed = closeEvent(session);
      raw.sock.write(Buffer.concat([...frames]));
      const reason = await closed;
      assert.ok(isYamuxError(reason, kind), String(reason));
      assert.ok(reason instanceof LooppError && reason.code === 'ERR_LOOPP_YAMUX');
      assert.equal(errors.length, 1);
      await raw.waitFor(() => raw.ended, 'socket end');
      assert.deepEqual(raw.find((h) => h.type === FrameType.GoAway), { version: 0, type: FrameType.GoAway, flags: 0, streamId: 0, length: 1 });
    });
  }

  it('closes with an error on GoAway(protocol error) from the peer; without an error listener nothing throws', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'client' });
    const s = session.open();
    const sErr = once(s, 'error') as Promise<[unknown]>;
    raw.send(FrameType.GoAway, 0, 0, 1);
    await session.closed;
    assert.ok(isYamuxError(session.closeReason, 'remote-protocol-error'));
    const [e] = await sErr;
    assert.ok(isYamuxError(e, 'session-shutdown'));
    assert.throws(() => session.open(), (x: unknown) => isYamuxError(x, 'session-shutdown'));
  });

  it('a peer closing the connection is a close, not an error, however the kernel reports it (EOF, ECONNRESET, EPIPE)', async () => {
    // ECONNRESET: our ping still sits unread in the peer's socket when it closes.
    {
      const [a, b] = await socketPair(true);
      const session = createYamuxSession({ socket: a, side: 'client', instance: 'raw-test reset' });
      const errors: unknown[] = [];
      session.on('error', (e) => errors.push(e));
      const closeReason = closeEvent(session);
      const ping = settle(session.ping());
      await sleep(20);
      b.destroy();
      const reason = await closeReason;
      assert.ok(isYamuxError(reason, 'connection-lost'), String(reason));
      assert.equal((reason as Error).message, 'yamux: connection closed by peer');
      assert.equal(((reason as Error).cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET');
      const p = await ping;
      assert.ok(!p.ok && isYamuxError(p.error, 'session-shutdown'), String(p));
      await sleep(10);
      assert.deepEqual(errors, []);
    }
    // EPIPE: the peer pings and closes at once; our ACK meets a closed socket.
    {
      const [a, b] = await socketPair();
      const session = createYamuxSession({ socket: a, side: 'server', instance: 'raw-test pipe' });
      const errors: unknown[] = [];
      session.on('error', (e) => errors.push(e));
      const closeReason = closeEvent(session);
      b.on('error', () => {});
      b.write(encodeHeader(FrameType.Ping, Flag.SYN, 0, 7));
      b.destroy();
      const reason = await closeReason;
      assert.ok(isYamuxError(reason, 'connection-lost'), String(reason));
      assert.equal((reason as Error).message, 'yamux: connection closed by peer');
      assert.ok(['EPIPE', undefined].includes(((reason as Error).cause as NodeJS.ErrnoException | undefined)?.code), String((reason as Error).cause));
      await sleep(10);
      assert.deepEqual(errors, []);
    }
  });

  it('closes the session when a stream we opened is never acknowledged', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'client', streamOpenTimeoutMs: 100 });
    const s = session.open();
    s.on('error', () => {});
    await raw.waitFor(() => raw.find((h) => h.flags === Flag.SYN) !== undefined, 'SYN');
    assert.deepEqual(raw.frames[0], { version: 0, type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 });
    await session.closed;
    assert.ok(isYamuxError(session.closeReason, 'open-timeout'));
  });

  it('resets a half-closed stream when the peer never sends FIN', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'client', streamCloseTimeoutMs: 100 });
    const s = session.open();
    raw.send(FrameType.WindowUpdate, Flag.ACK, 1, 0);
    s.end();
    await raw.waitFor(() => raw.find((h) => h.flags === Flag.FIN) !== undefined, 'FIN');
    await raw.waitFor(() => raw.find((h) => h.flags === Flag.RST) !== undefined, 'RST after close timeout');
    assert.equal(session.numStreams, 0);
    await session.close();
  });

  it('stops reading while a non-reading peer makes our output grow (ping flood)', async () => {
    const { raw, session } = await rawPeerAndSession({ side: 'server', connectionWriteTimeoutMs: 0 });
    raw.sock.pause(); // the peer does not read what we send
    const flood = Buffer.concat(Array.from({ length: 20000 }, (_, i) => encodeHeader(FrameType.Ping, Flag.SYN, 0, i)));
    for (let i = 0; i < 10; i++) raw.sock.write(flood);
    await sleep(500);
    assert.ok(session.stats.pingsReceived < 200_000, `pings read: ${session.stats.pingsReceived}`);
    assert.ok(session.socket.writableLength < 4 * 1024 * 1024, `output buffered: ${session.socket.writableLength}`);
    raw.sock.resume();
    await raw.waitFor(() => session.stats.pingsReceived === 200_000, 'all pings read once the peer reads again', 10_000);
    await session.close();
  });
});
