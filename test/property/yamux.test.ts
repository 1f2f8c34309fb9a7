/**
 * Property tests: yamux. The FrameParser on random bytes and on valid frame sequences under any chunking,
 * and a YamuxSession over an in-memory socket fed random and mutated frame sequences by a fake peer: it
 * keeps working or ends with a YamuxError (GoAway(1) sent for protocol errors), never throws untyped,
 * never buffers beyond the stream windows, and releases streams and timers on close.
 * Seed / runs / replay: see fc-config.ts.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Flag,
  FrameParser,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  INITIAL_STREAM_WINDOW,
  YamuxError,
  createYamuxSession,
  encodeHeader,
  type FrameHeader,
  type YamuxSession,
  type YamuxStream,
} from '../../src/net/yamux/index';
import { MAX_U32 } from '../../src/net/yamux/frame';
import { CHECK_COVERAGE, RUNS, assertNoGrowth, assertTypedError, check, checkAsync, chunked, cutsArb, within } from './fc-config';

// yamux errors carry a hint only where there is advice to give (Go's errors have none).
const YAMUX = { codes: ['ERR_LOOPP_YAMUX'] as const, hint: false, error: (e: unknown) => assert.ok(e instanceof YamuxError) };

interface Frame {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  length: number;
  payload: Buffer;
}

/** Raw encoding without encodeHeader's checks, so bad versions and types can be sent too. */
function encodeRaw(f: Frame): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b[0] = f.version;
  b[1] = f.type;
  b.writeUInt16BE(f.flags, 2);
  b.writeUInt32BE(f.streamId, 4);
  b.writeUInt32BE(f.length, 8);
  return Buffer.concat([b, f.payload]);
}

const flags = fc.oneof(fc.constantFrom(0, Flag.SYN, Flag.ACK, Flag.FIN, Flag.RST, Flag.SYN | Flag.FIN, Flag.ACK | Flag.FIN, Flag.SYN | Flag.ACK), fc.integer({ min: 0, max: 0xffff }));
const streamId = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: fc.constantFrom(MAX_U32, MAX_U32 - 1, 0x8000_0000) });

/** Well-formed frames: Data carries exactly `length` bytes. */
const validFrame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ flags, streamId, payload: fc.uint8Array({ maxLength: 300 }) }).map((r) => ({ version: 0, type: FrameType.Data, flags: r.flags, streamId: r.streamId, length: r.payload.length, payload: Buffer.from(r.payload) })) },
  { weight: 3, arbitrary: fc.record({ flags, streamId, length: fc.oneof(fc.nat({ max: 1 << 20 }), fc.constantFrom(0, MAX_U32, MAX_U32 - INITIAL_STREAM_WINDOW)) }).map((r) => ({ version: 0, type: FrameType.WindowUpdate, ...r, payload: Buffer.alloc(0) })) },
  { weight: 1, arbitrary: fc.record({ flags: fc.constantFrom(Flag.SYN, Flag.ACK, 0), length: fc.nat({ max: MAX_U32 }) }).map((r) => ({ version: 0, type: FrameType.Ping, streamId: 0, ...r, payload: Buffer.alloc(0) })) },
  { weight: 1, arbitrary: fc.constantFrom(GoAwayCode.Normal, GoAwayCode.Normal, GoAwayCode.ProtocolError, GoAwayCode.InternalError, 7).map((code) => ({ version: 0, type: FrameType.GoAway, flags: 0, streamId: 0, length: code, payload: Buffer.alloc(0) })) },
);

/** Frames a hostile peer sends: bad versions/types, Data that claims more than it carries (up to 4 GiB) or exceeds the window. */
const hostileFrame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 6, arbitrary: validFrame },
  fc.record({ version: fc.integer({ min: 1, max: 255 }), type: fc.integer({ min: 0, max: 3 }) }).map((r) => ({ ...r, flags: 0, streamId: 1, length: 0, payload: Buffer.alloc(0) })),
  fc.integer({ min: 4, max: 255 }).map((type) => ({ version: 0, type, flags: 0, streamId: 1, length: 0, payload: Buffer.alloc(0) })),
  fc.record({ flags, streamId, length: fc.constantFrom(MAX_U32, INITIAL_STREAM_WINDOW + 1, INITIAL_STREAM_WINDOW, 1 << 30), carried: fc.nat({ max: 64 }) }).map((r) => ({
    version: 0,
    type: FrameType.Data,
    flags: r.flags,
    streamId: r.streamId,
    length: r.length,
    payload: Buffer.alloc(r.carried, 0x5a),
  })),
);

// ---- FrameParser ------------------------------------------------------------------------------------------

interface Seen {
  headers: FrameHeader[];
  payloads: Buffer[];
  error: string | undefined;
}

function parseAll(chunks: readonly Buffer[]): Seen {
  const seen: Seen = { headers: [], payloads: [], error: undefined };
  let parts: Buffer[] = [];
  const parser = new FrameParser({
    onFrame: (h) => {
      seen.headers.push(h);
      parts = [];
      if (h.type === FrameType.Data && h.length === 0) seen.payloads.push(Buffer.alloc(0));
    },
    onData: (h, chunk, last) => {
      assert.ok(chunk.length > 0 && chunk.length <= h.length);
      parts.push(Buffer.from(chunk));
      if (last) seen.payloads.push(Buffer.concat(parts));
    },
  });
  for (const c of chunks) {
    try {
      parser.push(c);
    } catch (err) {
      const e = assertTypedError(err, YAMUX) as YamuxError;
      assert.ok(e.kind === 'invalid-version' || e.kind === 'invalid-type', e.kind);
      assert.equal(parser.error, e);
      seen.error = e.kind;
    }
  }
  return seen;
}

describe('property: yamux FrameParser', () => {
  it(`random bytes: frames or an invalid-version / invalid-type YamuxError, the same under any chunking (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.array(hostileFrame, { maxLength: 6 }).map((fs) => Buffer.concat(fs.map(encodeRaw)))), cutsArb, (bytes, cuts) => {
        const whole = parseAll([Buffer.from(bytes)]);
        assert.deepEqual(parseAll(chunked(bytes, cuts)), whole);
      }),
    );
  });

  it(`valid frame sequences: the same frames and payloads for any chunking (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.array(validFrame, { maxLength: 10 }), cutsArb, (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => Buffer.concat([encodeHeader(f.type as FrameType, f.flags, f.streamId, f.length), f.payload])));
        const seen = parseAll(chunked(bytes, cuts));
        assert.equal(seen.error, undefined);
        assert.deepEqual(seen.headers, frames.map((f) => ({ version: 0, type: f.type, flags: f.flags, streamId: f.streamId, length: f.length })));
        assert.deepEqual(seen.payloads, frames.filter((f) => f.type === FrameType.Data).map((f) => f.payload));
      }),
    );
  });
});

// ---- session against a fake peer -------------------------------------------------------------------

/** The session's socket: what the peer sends is pushed into it; what the session writes is parsed as frames. */
class PeerSocket extends Duplex {
  readonly written: FrameHeader[] = [];
  private readonly parser = new FrameParser({ onFrame: (h) => this.written.push(h), onData: () => {} });
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.parser.push(chunk);
    cb();
  }
  send(bytes: Buffer): void {
    if (!this.destroyed) this.push(bytes);
  }
}

/** Session internals the leak checks read (TypeScript-private fields, present at run time). */
interface SessionInternals {
  keepaliveTimer: NodeJS.Timeout | null;
  writeTimer: NodeJS.Timeout | null;
  pings: Map<number, unknown>;
  streams: Map<number, YamuxStream>;
  backlog: YamuxStream[];
  acceptWaiters: unknown[];
  writeWaiters: unknown[];
}
interface StreamInternals {
  recvQueued: number;
  openTimer: NodeJS.Timeout | null;
  closeTimer: NodeJS.Timeout | null;
}
const internals = (s: YamuxSession) => s as unknown as SessionInternals;
const streamInternals = (s: YamuxStream) => s as unknown as StreamInternals;

const PROTOCOL_KINDS = new Set(['invalid-version', 'invalid-type', 'recv-window-exceeded', 'duplicate-stream', 'unexpected-flag', 'window-overflow']);

type Op = { op: 'send'; frames: Frame[]; cuts: number[] } | { op: 'open'; write: number } | { op: 'ping' } | { op: 'goAway' } | { op: 'read' } | { op: 'tick' };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('send' as const), frames: fc.array(hostileFrame, { minLength: 1, maxLength: 4 }), cuts: fc.array(fc.nat(), { maxLength: 3 }) }) },
  fc.record({ op: fc.constant('open' as const), write: fc.constantFrom(0, 10, 70_000, INITIAL_STREAM_WINDOW + 5) }),
  fc.constant({ op: 'ping' as const }),
  fc.constant({ op: 'goAway' as const }),
  fc.constant({ op: 'read' as const }),
  fc.constant({ op: 'tick' as const }),
);

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One fake-peer scenario; returns the outcome kind for the tally. */
async function runSession(side: 'client' | 'server', ops: readonly Op[]): Promise<string> {
  const sock = new PeerSocket();
  const session = createYamuxSession({ socket: sock, side, keepaliveIntervalMs: 60_000, connectionWriteTimeoutMs: 60_000 });
  const errors: unknown[] = [];
  const streams: YamuxStream[] = [];
  const pending: Array<Promise<unknown>> = [];
  const track = (s: YamuxStream) => {
    streams.push(s);
    s.on('error', (e) => errors.push(e));
  };
  session.on('error', (e) => errors.push(e));
  session.on('stream', track);
  for (const o of ops) {
    switch (o.op) {
      case 'send':
        for (const c of chunked(Buffer.concat(o.frames.map(encodeRaw)), o.cuts)) sock.send(c);
        break;
      case 'open':
        try {
          const s = session.open();
          track(s);
          if (o.write > 0) s.write(Buffer.alloc(o.write, 1));
        } catch (err) {
          const e = assertTypedError(err, YAMUX) as YamuxError;
          assert.ok(['session-shutdown', 'remote-goaway', 'streams-exhausted'].includes(e.kind), e.kind);
        }
        break;
      case 'ping':
        // settles when the peer answers, on close, or never before close; awaited after close below
        pending.push(session.ping().catch((e: unknown) => errors.push(e)));
        break;
      case 'goAway':
        session.goAway(GoAwayCode.Normal);
        break;
      case 'read':
        for (const s of streams) s.resume();
        break;
      case 'tick':
        await tick();
        break;
    }
    // Whatever the peer sent, nothing is buffered past a stream's receive window.
    for (const s of streams) {
      const held = s.readableLength + streamInternals(s).recvQueued;
      assert.ok(held <= INITIAL_STREAM_WINDOW, `stream ${s.id} holds ${held} bytes`);
    }
  }
  await tick();
  const reason = session.closeReason;
  let outcome = session.isClosed ? 'closed' : 'open';
  if (reason !== undefined) {
    const e = assertTypedError(reason, YAMUX) as YamuxError;
    outcome = e.kind;
    if (PROTOCOL_KINDS.has(e.kind)) {
      const last = sock.written[sock.written.length - 1];
      assert.deepEqual(last && [last.type, last.length], [FrameType.GoAway, GoAwayCode.ProtocolError], `a ${e.kind} sends GoAway(protocol error)`);
    }
  }
  await within(5000, 'session.close()', session.close());
  await within(5000, 'pings after close', Promise.all(pending));
  await tick();
  for (const e of errors) assertTypedError(e, YAMUX);
  const inside = internals(session);
  assert.equal(session.numStreams, 0);
  assert.equal(inside.keepaliveTimer, null);
  assert.equal(inside.writeTimer, null);
  assert.equal(inside.pings.size, 0);
  assert.equal(inside.backlog.length + inside.acceptWaiters.length + inside.writeWaiters.length, 0);
  for (const s of streams) {
    assert.ok(s.destroyed, `stream ${s.id} not destroyed after close`);
    assert.equal(streamInternals(s).openTimer, null);
    assert.equal(streamInternals(s).closeTimer, null);
  }
  assert.ok(sock.destroyed);
  return outcome;
}

describe('property: yamux session against a hostile peer', () => {
  it(`random and mutated frame sequences: the session keeps working or ends with a YamuxError; no over-buffering; everything released on close (${RUNS} cases)`, async (t) => {
    const outcomes = new Map<string, number>();
    await checkAsync(
      t,
      fc.asyncProperty(fc.constantFrom('client' as const, 'server' as const), fc.array(op, { minLength: 1, maxLength: 8 }), async (side, ops) => {
        const k = await runSession(side, ops);
        outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      }),
    );
    t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    if (CHECK_COVERAGE) for (const k of ['open', 'invalid-version', 'invalid-type', 'recv-window-exceeded', 'duplicate-stream', 'remote-protocol-error']) assert.ok((outcomes.get(k) ?? 0) > 0, `no case ended ${k}`);
  });

  it('a Data frame claiming 4 GiB on an open stream is refused at its header, nothing buffered', async () => {
    const sock = new PeerSocket();
    const session = createYamuxSession({ socket: sock, side: 'server', keepaliveIntervalMs: 0 });
    sock.send(encodeHeader(FrameType.WindowUpdate, Flag.SYN, 1, 0));
    sock.send(Buffer.concat([encodeHeader(FrameType.Data, 0, 1, MAX_U32), Buffer.alloc(1000)]));
    await within(5000, 'close', new Promise((resolve) => session.once('close', resolve)));
    assert.ok(session.closeReason instanceof YamuxError && session.closeReason.kind === 'recv-window-exceeded');
    assert.equal(session.stats.bytesReceived, 2 * HEADER_SIZE + 1000);
  });

  it('grows no memory over repeated session batches', async (t) => {
    const scenarios = fc.sample(fc.tuple(fc.constantFrom('client' as const, 'server' as const), fc.array(op, { minLength: 1, maxLength: 8 })), { numRuns: 300, seed: 13 });
    await assertNoGrowth(t, 'yamux session', scenarios.length, async () => {
      for (const [side, ops] of scenarios) await runSession(side, ops);
    });
  });
});
