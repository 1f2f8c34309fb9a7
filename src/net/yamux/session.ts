/*
 * yamux session (hashicorp/yamux v0.1.x wire protocol, DefaultConfig behaviour), used for go-plugin's
 * multiplexed broker (PLUGIN_MULTIPLEX_GRPC): one raw connection carries many streams, and each stream
 * runs its own HTTP/2 (optionally TLS) connection for grpc-js.
 *
 * Why our own implementation and not an npm package (evaluated before writing this):
 * - @chainsafe/libp2p-yamux (= @libp2p/yamux) speaks the same frame format family, but it is ESM-only
 *   (its package.json exports only `import` conditions) while loopp is CommonJS; it depends on
 *   @libp2p/interface and @libp2p/utils, which pull in a large part of the libp2p stack (multiaddr,
 *   protons-runtime, cborg, it-* iterables, ...); and its streams are libp2p stream objects
 *   (async-iterable / message-stream API with libp2p abort/close semantics), not node:stream Duplexes,
 *   so HTTP/2 and TLS would need an adapter with its own back-pressure bridge in both directions. Its
 *   behaviour also follows libp2p's use rather than Go's DefaultConfig (e.g. libp2p-specific
 *   max-message-size splitting, GoAway on close, stream limits), and every such divergence would have to be
 *   checked against hashicorp/yamux anyway. Adopting it would cost more than the ~1,300 lines of src/yamux.
 * - yamux-js (a small TypeScript port of hashicorp/yamux with Duplex streams) looked like the right
 *   shape, but on reading its source it is not usable as is: flag handling compares `flags === SYN`
 *   where FIN is meant (a peer FIN is never seen), a full send window is retried by polling with
 *   setTimeout(100 ms), window updates are not tied to consumption, writes ignore socket back-pressure.
 * Conclusion: write our own, small and focused, checked byte-for-byte against hashicorp/yamux v0.1.2
 * (test/interop/yamux-go.test.ts runs it against Go).
 *
 * Behaviour mirrored from hashicorp/yamux v0.1.2 (session.go / stream.go):
 * - client stream IDs odd from 1, server IDs even from 2; open = WindowUpdate+SYN delta 0, data may flow
 *   before the ACK; accept = WindowUpdate+ACK; more than `acceptBacklog` un-accepted streams → RST;
 *   while we sent GoAway, inbound SYNs get RST; a duplicate SYN is a protocol error;
 * - frames for unknown streams are dropped (Data payload discarded), as Go does;
 * - Ping(SYN) is answered at once with Ping(ACK, same value); keepalive = a ping every interval, no ACK
 *   within connectionWriteTimeoutMs closes the session ('keepalive-timeout');
 * - GoAway(0) from the peer: no new streams (open() throws 'remote-goaway'); GoAway(1/2/other) closes the
 *   session with an error; protocol errors (bad header, window exceeded, bad flags) send GoAway(1) and
 *   close the session;
 * - close() closes every stream and the socket and sends no GoAway (Go's Session.Close does not);
 * - a stream we opened that is not ACKed within streamOpenTimeoutMs (75 s) closes the whole session;
 *   a stream half-closed by us and not by the peer within streamCloseTimeoutMs (5 min) is reset.
 * Node specifics: socket back-pressure (write() → false) holds Data until 'drain', and a socket that does
 * not drain within connectionWriteTimeoutMs ends the session ('write-timeout'); if our output buffer
 * grows past 1 MiB (a peer that floods pings but does not read) we stop reading until it drains; all
 * timers are unref()ed.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { createLog, type Log } from '../../core/debug';
import { YamuxError } from './errors';
import {
  describeHeader,
  encodeHeader,
  Flag,
  FrameParser,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  MAX_U32,
  type FrameHeader,
} from './frame';
import { YamuxStream, type StreamHost } from './stream';

export interface YamuxSessionOptions {
  /** The raw connection (net.Socket, TLS socket or any Duplex). The session owns it from now on. */
  socket: Duplex;
  /** 'client' opens odd stream IDs (go-plugin host side), 'server' even ones (plugin side). */
  side: 'client' | 'server';
  /** Ping interval; 0 disables keepalive. Default 30000 (Go's KeepAliveInterval). */
  keepaliveIntervalMs?: number;
  /** Ping ACK deadline and socket drain deadline. Default 10000 (Go's ConnectionWriteTimeout). 0 disables. */
  connectionWriteTimeoutMs?: number;
  /** Inbound streams waiting to be accepted before further SYNs are reset. Default 256. */
  acceptBacklog?: number;
  /** ACK deadline for streams we open; on expiry the session closes. Default 75000; 0 disables. */
  streamOpenTimeoutMs?: number;
  /** After our FIN, how long to wait for the peer's before resetting. Default 300000; 0 disables. */
  streamCloseTimeoutMs?: number;
  /** Log prefix (debug namespace loopp:yamux). */
  instance?: string;
}

export interface YamuxSessionStats {
  streamsOpened: number;
  streamsAccepted: number;
  streamsRefused: number;
  pingsSent: number;
  pingsAcked: number;
  pingsReceived: number;
  framesReceived: number;
  bytesReceived: number;
  bytesSent: number;
  /** Largest Data payload sent / received in one frame. */
  maxDataFrameSent: number;
  maxDataFrameReceived: number;
}

interface PendingPing {
  start: number;
  timer: NodeJS.Timeout | null;
  resolve: (rtt: number) => void;
  reject: (err: Error) => void;
}

interface AcceptWaiter {
  resolve: (s: YamuxStream) => void;
  reject: (err: Error) => void;
}

/** Bytes in the socket's write buffer above which we stop reading (reflected control frames). */
const OUTPUT_PAUSE_BYTES = 1024 * 1024;

export interface YamuxSession {
  on(event: 'stream', listener: (stream: YamuxStream) => void): this;
  on(event: 'goaway', listener: (code: number) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: (err: Error | undefined) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'stream', listener: (stream: YamuxStream) => void): this;
  once(event: 'goaway', listener: (code: number) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'close', listener: (err: Error | undefined) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * Events: 'stream' (inbound stream, already ACKed), 'goaway' (peer sent GoAway 0), 'error' (the session
 * failed; emitted only when someone listens, so an unhandled session failure never crashes the process;
 * the peer closing the connection, whether seen as EOF, ECONNRESET or EPIPE, is no failure),
 * 'close' (always, once, with the failure if any).
 */
export class YamuxSession extends EventEmitter {
  readonly side: 'client' | 'server';
  readonly socket: Duplex;
  /** Resolves (never rejects) once the session is closed, for whatever reason. */
  readonly closed: Promise<void>;
  readonly stats: YamuxSessionStats = {
    streamsOpened: 0,
    streamsAccepted: 0,
    streamsRefused: 0,
    pingsSent: 0,
    pingsAcked: 0,
    pingsReceived: 0,
    framesReceived: 0,
    bytesReceived: 0,
    bytesSent: 0,
    maxDataFrameSent: 0,
    maxDataFrameReceived: 0,
  };

  private readonly log: Log;
  private readonly keepaliveIntervalMs: number;
  private readonly writeTimeoutMs: number;
  private readonly acceptBacklog: number;
  private readonly host: StreamHost;
  private readonly parser: FrameParser;

  private readonly streams = new Map<number, YamuxStream>();
  private backlog: YamuxStream[] = [];
  private acceptWaiters: AcceptWaiter[] = [];
  private drainScheduled = false;
  private nextStreamId: number;
  private dataTarget: YamuxStream | null = null;

  private readonly pings = new Map<number, PendingPing>();
  private nextPingId = 0;
  private keepaliveTimer: NodeJS.Timeout | null = null;

  private writeBlocked = false;
  private writeWaiters: YamuxStream[] = [];
  private writeTimer: NodeJS.Timeout | null = null;
  private inputPaused = false;

  private localGoAway = false;
  private remoteGoAway = false;
  private shutdown = false;
  private reason: Error | undefined;
  private resolveClosed!: () => void;

  constructor(options: YamuxSessionOptions) {
    super();
    const { socket, side } = options;
    if (side !== 'client' && side !== 'server') {
      throw new YamuxError('invalid-argument', `side must be 'client' or 'server', got ${String(side)}`, { input: side });
    }
    this.side = side;
    this.socket = socket;
    this.keepaliveIntervalMs = nonNegative('keepaliveIntervalMs', options.keepaliveIntervalMs, 30_000);
    this.writeTimeoutMs = nonNegative('connectionWriteTimeoutMs', options.connectionWriteTimeoutMs, 10_000);
    this.acceptBacklog = nonNegative('acceptBacklog', options.acceptBacklog, 256);
    if (this.acceptBacklog < 1) throw new YamuxError('invalid-argument', 'acceptBacklog must be positive', { input: options.acceptBacklog });
    const streamOpenTimeoutMs = nonNegative('streamOpenTimeoutMs', options.streamOpenTimeoutMs, 75_000);
    const streamCloseTimeoutMs = nonNegative('streamCloseTimeoutMs', options.streamCloseTimeoutMs, 300_000);
    this.nextStreamId = side === 'client' ? 1 : 2;
    this.log = createLog('yamux', options.instance ?? `yamux ${side}`);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));

    this.host = {
      log: this.log,
      streamOpenTimeoutMs,
      streamCloseTimeoutMs,
      isShutdown: () => this.shutdown,
      sendControl: (type, flags, id, length) => this.sendControl(type, flags, id, length),
      sendData: (id, payload) => this.sendData(id, payload),
      canSendData: (stream) => this.canSendData(stream),
      forget: (stream) => this.forget(stream),
      openTimedOut: (stream) => {
        this.log('stream %d: no ACK within %d ms, closing the session', stream.id, streamOpenTimeoutMs);
        this.terminate(
          new YamuxError('open-timeout', `aborted stream open (stream ${stream.id}): i/o deadline reached`, {
            input: stream.id,
            hint: 'the peer never accepted the stream',
          }),
          true,
        );
      },
    };

    this.parser = new FrameParser({
      onFrame: (h) => this.onFrame(h),
      onData: (h, chunk, last) => this.onData(h, chunk, last),
    });

    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    this.on('newListener', (event) => {
      if (event === 'stream') this.scheduleDrainBacklog();
    });
    this.log('session started (%s, keepalive %d ms)', side, this.keepaliveIntervalMs);
    this.scheduleKeepalive();
  }

  /** Streams currently known to the session (including inbound ones not yet accepted), like Go's NumStreams. */
  get numStreams(): number {
    return this.streams.size;
  }

  /** Whether the session has closed. */
  get isClosed(): boolean {
    return this.shutdown;
  }

  /** Why the session closed (undefined while open and after a plain close()). */
  get closeReason(): Error | undefined {
    return this.reason;
  }

  /** Whether the peer sent GoAway (no new streams may be opened). */
  get goAwayReceived(): boolean {
    return this.remoteGoAway;
  }

  /**
   * Opens a stream: sends WindowUpdate+SYN now; data may be written at once (before the peer's ACK).
   * Throws YamuxError 'session-shutdown', 'remote-goaway' or 'streams-exhausted'.
   */
  open(): YamuxStream {
    if (this.shutdown) {
      throw new YamuxError('session-shutdown', 'session shutdown', { cause: this.reason, hint: 'open streams on a live session' });
    }
    if (this.remoteGoAway) {
      throw new YamuxError('remote-goaway', 'remote end is not accepting connections', { hint: 'the peer sent GoAway' });
    }
    let id = this.nextStreamId;
    while (this.streams.has(id)) id += 2;
    if (id >= MAX_U32 - 1) {
      throw new YamuxError('streams-exhausted', 'streams exhausted', { input: id, hint: 'open a new session' });
    }
    this.nextStreamId = id + 2;
    const stream = new YamuxStream(this.host, id, 'outbound');
    this.streams.set(id, stream);
    this.stats.streamsOpened++;
    stream._open();
    return stream;
  }

  /**
   * Resolves with the next inbound stream (already ACKed). Alternative to the 'stream' event: waiting
   * accept() calls are served first, then 'stream' listeners, else the stream waits in the backlog.
   */
  accept(): Promise<YamuxStream> {
    if (this.shutdown) {
      return Promise.reject(new YamuxError('session-shutdown', 'session shutdown', { cause: this.reason }));
    }
    const ready = this.backlog.shift();
    if (ready !== undefined) {
      this.handOut(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => this.acceptWaiters.push({ resolve, reject }));
  }

  /** Sends a ping and resolves with the round-trip time in ms; rejects ('timeout') after connectionWriteTimeoutMs. */
  ping(): Promise<number> {
    if (this.shutdown) {
      return Promise.reject(new YamuxError('session-shutdown', 'session shutdown', { cause: this.reason }));
    }
    const id = this.nextPingId;
    this.nextPingId = (id + 1) % (MAX_U32 + 1);
    return new Promise<number>((resolve, reject) => {
      const entry: PendingPing = { start: performance.now(), timer: null, resolve, reject };
      if (this.writeTimeoutMs > 0) {
        entry.timer = setTimeout(() => {
          if (this.pings.get(id) !== entry) return;
          this.pings.delete(id);
          this.log('ping %d timed out after %d ms', id, this.writeTimeoutMs);
          reject(new YamuxError('timeout', 'i/o deadline reached', { input: id, hint: 'the peer did not answer the ping' }));
        }, this.writeTimeoutMs);
        entry.timer.unref();
      }
      this.pings.set(id, entry);
      this.stats.pingsSent++;
      this.sendControl(FrameType.Ping, Flag.SYN, 0, id);
      this.log('ping %d sent', id);
    });
  }

  /**
   * Sends GoAway with `code` (0 normal, 1 protocol error, 2 internal error): the peer may open no more
   * streams, and inbound SYNs are answered with RST from now on. Existing streams carry on.
   */
  goAway(code: number = GoAwayCode.Normal): void {
    if (!Number.isInteger(code) || code < 0 || code > MAX_U32) {
      throw new YamuxError('invalid-argument', `invalid go away code: ${code}`, { input: code });
    }
    if (this.shutdown) return;
    this.localGoAway = true;
    this.sendControl(FrameType.GoAway, 0, 0, code);
    this.log('go away sent (code %d)', code);
  }

  /** Closes every stream and the socket; sends no GoAway (as Go). Resolves when closed. */
  close(): Promise<void> {
    this.terminate(undefined, false);
    return this.closed;
  }

  /** Like close(), but streams fail with a 'session-shutdown' error caused by `err`, and 'error' is emitted. */
  destroy(err?: Error): void {
    this.terminate(err, err !== undefined);
  }

  // ---- inbound -------------------------------------------------------------------------------------

  private readonly onSocketData = (chunk: Buffer | string): void => {
    if (this.shutdown) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.stats.bytesReceived += buf.length;
    try {
      this.parser.push(buf);
    } catch (err) {
      if (err instanceof YamuxError) {
        this.log('protocol error: %s', err.message);
        this.terminate(err, true, GoAwayCode.ProtocolError);
        return;
      }
      // An exception from application code run synchronously (a 'data' handler): the session state is
      // unknown now; close it and let the exception surface as Node would for a socket.
      this.terminate(new YamuxError('connection-lost', 'session aborted by an exception in a handler', { cause: err }), true, GoAwayCode.InternalError);
      throw err;
    }
  };

  private readonly onSocketEnd = (): void => {
    this.terminate(new YamuxError('connection-lost', 'connection closed by peer', { hint: 'the peer closed the yamux session' }), false);
  };

  private readonly onSocketError = (err: Error): void => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE' || code === 'ECONNRESET') {
      // The peer closed the connection, and only timing decides how the kernel tells us: if frames of
      // ours cross its close (the ACK of its last keepalive ping, a window update) that write fails with
      // EPIPE, and if they still sat unread in its buffer when it closed, our read gets ECONNRESET
      // instead of EOF. Either is the same close as 'end'; as an 'error' it turned a peer's orderly
      // Close() into a session failure now and then, under load. Go's receive loop, too, takes
      // "reset by peer" for a plain end of the session. The socket's error stays the reason's cause.
      this.terminate(new YamuxError('connection-lost', 'connection closed by peer', { cause: err, hint: 'the peer closed the yamux session' }), false);
      return;
    }
    this.terminate(new YamuxError('connection-lost', `connection error: ${err.message}`, { cause: err }), true);
  };

  private readonly onSocketClose = (): void => {
    this.terminate(new YamuxError('connection-lost', 'connection closed', { hint: 'the underlying connection closed' }), false);
  };

  private onFrame(h: FrameHeader): void {
    this.stats.framesReceived++;
    this.dataTarget = null;
    switch (h.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        this.onStreamFrame(h);
        return;
      case FrameType.Ping:
        this.onPing(h);
        return;
      case FrameType.GoAway:
        this.onGoAway(h);
        return;
    }
  }

  private onStreamFrame(h: FrameHeader): void {
    if (h.type === FrameType.Data && h.length > this.stats.maxDataFrameReceived) this.stats.maxDataFrameReceived = h.length;
    if (h.flags & Flag.SYN) this.incomingStream(h);
    if (this.shutdown) return;
    const stream = this.streams.get(h.streamId);
    if (stream === undefined) {
      if (h.type === FrameType.Data && h.length > 0) this.log('discarding data for stream %d (%d bytes)', h.streamId, h.length);
      else this.log('frame for missing stream: %s', describeHeader(h));
      return;
    }
    stream._onHeader(h);
    if (h.type === FrameType.Data && h.length > 0 && !this.shutdown) this.dataTarget = stream;
  }

  private onData(_h: FrameHeader, chunk: Buffer, last: boolean): void {
    const target = this.dataTarget;
    if (last) this.dataTarget = null;
    if (target !== null) target._onData(chunk, last);
  }

  private incomingStream(h: FrameHeader): void {
    const id = h.streamId;
    if (id === 0) {
      throw new YamuxError('unexpected-flag', 'unexpected flag: SYN on stream 0', { input: h });
    }
    if (this.localGoAway) {
      this.log('refusing stream %d: go away sent (RST)', id);
      this.stats.streamsRefused++;
      this.sendControl(FrameType.WindowUpdate, Flag.RST, id, 0);
      return;
    }
    if (this.streams.has(id)) {
      this.log('duplicate stream declared: %d', id);
      throw new YamuxError('duplicate-stream', `duplicate stream initiated (stream ${id})`, { input: h });
    }
    if (this.backlog.length >= this.acceptBacklog) {
      this.log('backlog exceeded, refusing stream %d (RST)', id);
      this.stats.streamsRefused++;
      this.sendControl(FrameType.WindowUpdate, Flag.RST, id, 0);
      return;
    }
    const stream = new YamuxStream(this.host, id, 'inbound');
    this.streams.set(id, stream);
    this.backlog.push(stream);
    this.log('stream %d incoming (SYN received)', id);
    this.scheduleDrainBacklog();
  }

  /** Hands backlog streams to accept() waiters and 'stream' listeners, outside the parser's call stack. */
  private scheduleDrainBacklog(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    process.nextTick(() => {
      this.drainScheduled = false;
      while (!this.shutdown && this.backlog.length > 0) {
        const waiter = this.acceptWaiters.shift();
        if (waiter !== undefined) {
          const s = this.backlog.shift() as YamuxStream;
          this.handOut(s);
          waiter.resolve(s);
          continue;
        }
        if (this.listenerCount('stream') === 0) return;
        const s = this.backlog.shift() as YamuxStream;
        this.handOut(s);
        this.emit('stream', s);
      }
    });
  }

  private handOut(stream: YamuxStream): void {
    this.stats.streamsAccepted++;
    stream._accept();
  }

  private onPing(h: FrameHeader): void {
    if (h.flags & Flag.SYN) {
      this.stats.pingsReceived++;
      this.sendControl(FrameType.Ping, Flag.ACK, 0, h.length);
      this.log('ping %d received, ACK sent', h.length);
      return;
    }
    const entry = this.pings.get(h.length);
    if (entry === undefined) {
      this.log('ping ACK %d for no pending ping, ignored', h.length);
      return;
    }
    this.pings.delete(h.length);
    if (entry.timer !== null) clearTimeout(entry.timer);
    const rtt = performance.now() - entry.start;
    this.stats.pingsAcked++;
    this.log('ping %d acked (rtt %s ms)', h.length, rtt.toFixed(3));
    entry.resolve(rtt);
  }

  private onGoAway(h: FrameHeader): void {
    const code = h.length;
    switch (code) {
      case GoAwayCode.Normal:
        this.remoteGoAway = true;
        this.log('go away received (normal): no new streams');
        this.emit('goaway', code);
        return;
      case GoAwayCode.ProtocolError:
        this.log('go away received (protocol error)');
        this.terminate(new YamuxError('remote-protocol-error', 'yamux protocol error', { input: code, hint: 'the peer saw a protocol error from us' }), true);
        return;
      case GoAwayCode.InternalError:
        this.log('go away received (internal error)');
        this.terminate(new YamuxError('remote-internal-error', 'remote yamux internal error', { input: code }), true);
        return;
      default:
        this.log('go away received (unexpected code %d)', code);
        this.terminate(new YamuxError('remote-unexpected-goaway', `unexpected go away received (code ${code})`, { input: code }), true);
    }
  }

  // ---- outbound ------------------------------------------------------------------------------------

  private sendControl(type: FrameType, flags: number, streamId: number, length: number): void {
    if (this.shutdown) return;
    this.stats.bytesSent += HEADER_SIZE;
    this.afterWrite(this.socket.write(encodeHeader(type, flags, streamId, length)));
  }

  private sendData(streamId: number, payload: Buffer): void {
    if (this.shutdown) return;
    const header = encodeHeader(FrameType.Data, 0, streamId, payload.length);
    this.stats.bytesSent += HEADER_SIZE + payload.length;
    if (payload.length > this.stats.maxDataFrameSent) this.stats.maxDataFrameSent = payload.length;
    const sock = this.socket;
    sock.cork();
    sock.write(header);
    const ok = sock.write(payload);
    sock.uncork();
    this.afterWrite(ok);
  }

  private afterWrite(ok: boolean): void {
    if (this.shutdown) return;
    if (!ok && !this.writeBlocked) {
      this.writeBlocked = true;
      this.socket.once('drain', this.onDrain);
      if (this.writeTimeoutMs > 0) {
        this.writeTimer = setTimeout(() => {
          this.writeTimer = null;
          this.log('socket did not drain within %d ms', this.writeTimeoutMs);
          this.terminate(new YamuxError('write-timeout', 'connection write timeout', { hint: 'the peer stopped reading' }), true);
        }, this.writeTimeoutMs);
        this.writeTimer.unref();
      }
    }
    if (!this.inputPaused && this.socket.writableLength > OUTPUT_PAUSE_BYTES) {
      this.inputPaused = true;
      this.socket.pause();
      this.log('output buffer above %d bytes: reading paused', OUTPUT_PAUSE_BYTES);
    }
  }

  private readonly onDrain = (): void => {
    this.writeBlocked = false;
    if (this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
    }
    if (this.shutdown) return;
    if (this.inputPaused) {
      this.inputPaused = false;
      this.socket.resume();
      this.log('reading resumed');
    }
    while (!this.writeBlocked && !this.shutdown && this.writeWaiters.length > 0) {
      const s = this.writeWaiters.shift() as YamuxStream;
      s.waitingForDrain = false;
      s._pump();
    }
  };

  private canSendData(stream: YamuxStream): boolean {
    if (this.shutdown) return false;
    if (!this.writeBlocked) return true;
    if (!stream.waitingForDrain) {
      stream.waitingForDrain = true;
      this.writeWaiters.push(stream);
    }
    return false;
  }

  private forget(stream: YamuxStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    const i = this.backlog.indexOf(stream);
    if (i >= 0) this.backlog.splice(i, 1);
    if (stream.waitingForDrain) {
      stream.waitingForDrain = false;
      const j = this.writeWaiters.indexOf(stream);
      if (j >= 0) this.writeWaiters.splice(j, 1);
    }
    if (this.dataTarget === stream) this.dataTarget = null;
  }

  // ---- keepalive and shutdown -------------------------------------------------------------------------

  private scheduleKeepalive(): void {
    if (this.keepaliveIntervalMs <= 0 || this.shutdown) return;
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = null;
      this.ping().then(
        () => this.scheduleKeepalive(),
        (err: unknown) => {
          if (this.shutdown) return;
          this.log('keepalive failed: %s', err instanceof Error ? err.message : String(err));
          this.terminate(new YamuxError('keepalive-timeout', 'keepalive timeout', { cause: err, hint: 'the peer did not answer a keepalive ping' }), true);
        },
      );
    }, this.keepaliveIntervalMs);
    this.keepaliveTimer.unref();
  }

  /**
   * Ends the session once. `reason` undefined = orderly local close. `emitError` = emit 'error' (if
   * anyone listens). `goAway` = send that GoAway code and flush it before closing the socket.
   */
  private terminate(reason: Error | undefined, emitError: boolean, goAway?: number): void {
    if (this.shutdown) return;
    this.shutdown = true;
    this.reason = reason;
    this.parser.stop();
    this.dataTarget = null;
    if (this.keepaliveTimer !== null) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = null;
    if (this.writeTimer !== null) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    this.log('session closing%s', reason ? `: ${reason.message}` : '');

    const shutdownError = () => new YamuxError('session-shutdown', 'session shutdown', { cause: reason });
    for (const [, p] of this.pings) {
      if (p.timer !== null) clearTimeout(p.timer);
      p.reject(shutdownError());
    }
    this.pings.clear();
    for (const w of this.acceptWaiters) w.reject(shutdownError());
    this.acceptWaiters = [];
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.backlog = [];
    this.writeWaiters = [];
    for (const s of streams) s._terminate(reason === undefined ? undefined : shutdownError());

    const sock = this.socket;
    sock.off('data', this.onSocketData);
    sock.off('end', this.onSocketEnd);
    sock.off('close', this.onSocketClose);
    sock.off('drain', this.onDrain);
    sock.off('error', this.onSocketError);
    sock.on('error', noop); // late socket errors are expected now; never let them crash the process
    if (goAway !== undefined && !sock.destroyed && sock.writable) {
      const frame = encodeHeader(FrameType.GoAway, 0, 0, goAway);
      this.log('go away sent (code %d)', goAway);
      const fallback = setTimeout(() => sock.destroy(), this.writeTimeoutMs > 0 ? this.writeTimeoutMs : 1000);
      fallback.unref();
      sock.end(frame, () => {
        clearTimeout(fallback);
        sock.destroy();
      });
    } else {
      sock.destroy();
    }
    this.log('session closed');
    this.resolveClosed();
    process.nextTick(() => {
      if (emitError && reason !== undefined && this.listenerCount('error') > 0) this.emit('error', reason);
      this.emit('close', reason);
    });
  }
}

function noop(): void {}

function nonNegative(name: string, value: number | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new YamuxError('invalid-argument', `${name} must be a non-negative number, got ${String(value)}`, { input: value });
  }
  return value;
}

/** Starts a yamux session on `socket`; see YamuxSessionOptions. */
export function createYamuxSession(options: YamuxSessionOptions): YamuxSession {
  return new YamuxSession(options);
}
