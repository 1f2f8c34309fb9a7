/**
 * One yamux stream as a node:stream Duplex (so HTTP/2, TLS and grpc-js can run on it).
 *
 * Flow control follows hashicorp/yamux v0.1.x exactly:
 * - both directions start with a 256 KiB window; only Data payload counts against it;
 * - we never send more Data than the peer's window (send window), splitting writes as needed; a write's
 *   callback runs once all its bytes went to the socket, so back-pressure reaches the writer;
 * - receive: the peer may not exceed our window (protocol error, the session ends with GoAway 1);
 *   bytes count as consumed once they leave our queue for the Readable side, and we send a WindowUpdate
 *   when `delta = max - buffered - recvWindow >= max/2` (Go's rule in Stream.sendWindowUpdate).
 * - end() sends FIN (half-close, reading goes on until the peer's FIN); peer FIN ends the readable side;
 *   destroy() sends RST unless both sides already sent FIN; peer RST destroys the stream with a
 *   YamuxError of kind 'connection-reset'.
 */
import { Duplex } from 'node:stream';
import type { Log } from '../../core/debug';
import { YamuxError } from './errors';
import { Flag, FrameType, INITIAL_STREAM_WINDOW, MAX_U32, type FrameHeader } from './frame';

/** What a stream needs from its session (kept off the public session API). */
export interface StreamHost {
  readonly log: Log;
  readonly streamOpenTimeoutMs: number;
  readonly streamCloseTimeoutMs: number;
  isShutdown(): boolean;
  /** Writes a header-only frame (control frames are never held back). */
  sendControl(type: FrameType, flags: number, streamId: number, length: number): void;
  /** Writes a Data frame; call only after `canSendData` returned true. */
  sendData(streamId: number, payload: Buffer): void;
  /** True when the socket takes data now; otherwise queues `stream` to be pumped on 'drain'. */
  canSendData(stream: YamuxStream): boolean;
  /** The stream is gone from the session (both FINs, RST, destroy). */
  forget(stream: YamuxStream): void;
  /** A stream we opened got no ACK in time: Go closes the whole session. */
  openTimedOut(stream: YamuxStream): void;
}

interface PendingWrite {
  chunks: Buffer[];
  index: number;
  offset: number;
  cb: (err?: Error | null) => void;
}

/** Receive-queue length above which the queue is compacted into one buffer (bounds per-chunk overhead). */
const MAX_QUEUE_ENTRIES = 32;
/** Payload pieces up to this size are copied so they do not pin the socket's (larger) read buffer. */
const COPY_BELOW = 1024;
/** `_writev` batches up to this many bytes are joined into one frame. */
const COALESCE_WRITEV = 64 * 1024;

export class YamuxStream extends Duplex {
  /** yamux stream ID: odd when the client side opened it, even for the server side. */
  readonly id: number;
  /** 'outbound' when we opened it, 'inbound' when the peer did. */
  readonly direction: 'outbound' | 'inbound';

  private readonly host: StreamHost;
  private readonly maxWindow = INITIAL_STREAM_WINDOW;

  // receive side
  private recvWindow = INITIAL_STREAM_WINDOW;
  private recvQueue: Buffer[] = [];
  private recvHead = 0;
  private recvQueued = 0;
  /** Payload bytes of the Data frame in progress that have not arrived yet (already charged to recvWindow). */
  private incoming = 0;
  private readWanted = false;
  private remoteFin = false;
  private eofPushed = false;

  // send side
  private sendWindow = INITIAL_STREAM_WINDOW;
  private pending: PendingWrite | null = null;
  private localFin = false;

  // lifecycle
  private awaitingAck: boolean;
  private handedOut: boolean;
  private reset = false;
  private removed = false;
  /** Set while queued on the session for a socket 'drain'. */
  waitingForDrain = false;
  private openTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;

  /** @internal Streams are created by YamuxSession (open() / 'stream'), not directly. */
  constructor(host: StreamHost, id: number, direction: 'outbound' | 'inbound') {
    super({ allowHalfOpen: true, emitClose: true, autoDestroy: true });
    this.host = host;
    this.id = id;
    this.direction = direction;
    this.awaitingAck = direction === 'outbound';
    this.handedOut = direction === 'outbound';
  }

  /** Bytes we may still send before the peer's next WindowUpdate. */
  get sendWindowSize(): number {
    return this.sendWindow;
  }

  /** Bytes the peer may still send before our next WindowUpdate. */
  get receiveWindowSize(): number {
    return this.recvWindow;
  }

  /** Whether the peer acknowledged the stream (always true for inbound streams). */
  get established(): boolean {
    return !this.awaitingAck;
  }

  // Socket-like no-ops, for code that expects a net.Socket (HTTP/2, gRPC).
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }
  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }

  // ---- session-side entry points ---------------------------------------------------------------

  /** @internal Outbound: sends WindowUpdate+SYN with delta 0 (as Go's OpenStream does). */
  _open(): void {
    this.host.sendControl(FrameType.WindowUpdate, Flag.SYN, this.id, 0);
    this.host.log('stream %d opened (SYN sent)', this.id);
    if (this.host.streamOpenTimeoutMs > 0) {
      this.openTimer = setTimeout(() => {
        this.openTimer = null;
        if (this.awaitingAck && !this.removed) this.host.openTimedOut(this);
      }, this.host.streamOpenTimeoutMs);
      this.openTimer.unref();
    }
  }

  /** @internal Inbound: sends WindowUpdate+ACK (Go's sendWindowUpdate in SYNReceived state). */
  _accept(): void {
    this.handedOut = true;
    const delta = this.maxWindow - this.recvQueued - this.incoming - this.recvWindow;
    this.recvWindow += delta;
    this.host.sendControl(FrameType.WindowUpdate, Flag.ACK, this.id, delta);
    this.host.log('stream %d accepted (ACK sent, delta %d)', this.id, delta);
  }

  /**
   * @internal A Data or WindowUpdate header for this stream (after the session handled SYN). Flags are
   * processed first, as Go does. Throws a YamuxError on protocol errors.
   */
  _onHeader(h: FrameHeader): void {
    const flags = h.flags;
    if (flags & Flag.ACK && this.awaitingAck) {
      this.awaitingAck = false;
      this.clearOpenTimer();
      this.host.log('stream %d established (ACK received)', this.id);
    }
    if (flags & Flag.FIN) {
      if (this.remoteFin) {
        throw new YamuxError('unexpected-flag', `unexpected flag: FIN on stream ${this.id} after FIN`, {
          input: h,
          hint: 'the peer sent FIN twice on one stream',
        });
      }
      this.remoteFin = true;
      this.clearOpenTimer();
      this.host.log('stream %d remote half-close (FIN received)', this.id);
      if (this.localFin) this.bothClosed();
    }
    if (flags & Flag.RST) {
      this.peerReset();
      return;
    }
    if (h.type === FrameType.WindowUpdate) {
      if (h.length > 0) {
        const next = this.sendWindow + h.length;
        if (next > MAX_U32) {
          throw new YamuxError('window-overflow', `send window overflow on stream ${this.id}`, { input: h });
        }
        this.sendWindow = next;
        this.pump();
      }
    } else if (h.length > 0) {
      if (h.length > this.recvWindow) {
        this.host.log('stream %d receive window exceeded (remain %d, recv %d)', this.id, this.recvWindow, h.length);
        throw new YamuxError('recv-window-exceeded', `recv window exceeded (stream ${this.id}: remain ${this.recvWindow}, recv ${h.length})`, {
          input: h,
          hint: 'the peer ignored yamux flow control',
        });
      }
      this.recvWindow -= h.length;
      this.incoming = h.length;
    }
    if (flags & Flag.FIN && this.incoming === 0) this.flushRecv();
  }

  /** @internal A piece of the current Data frame's payload. */
  _onData(chunk: Buffer, last: boolean): void {
    this.incoming -= chunk.length;
    if (last) this.incoming = 0;
    if (this.destroyed || this.eofPushed || this.reset) return;
    const piece = chunk.length <= COPY_BELOW ? Buffer.from(chunk) : chunk;
    this.recvQueue.push(piece);
    this.recvQueued += piece.length;
    if (this.recvQueue.length - this.recvHead > MAX_QUEUE_ENTRIES) this.compactQueue();
    this.flushRecv();
  }

  /** @internal The socket can take data again. */
  _pump(): void {
    this.pump();
  }

  /** @internal The session ended: no frames may be sent any more. */
  _terminate(err: Error | undefined): void {
    this.reset = true;
    this.removed = true;
    this.clearOpenTimer();
    this.clearCloseTimer();
    if (this.destroyed) return;
    this.host.log('stream %d closed by session shutdown', this.id);
    // A stream nobody has seen yet has no error listener: never emit on it.
    this.destroy(this.handedOut ? err : undefined);
  }

  // ---- Duplex implementation ---------------------------------------------------------------------

  override _read(): void {
    this.readWanted = true;
    this.flushRecv();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending = { chunks: [chunk], index: 0, offset: 0, cb };
    this.pump();
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    let total = 0;
    for (const c of chunks) total += c.chunk.length;
    const bufs = chunks.map((c) => c.chunk);
    this.pending = { chunks: total <= COALESCE_WRITEV && bufs.length > 1 ? [Buffer.concat(bufs, total)] : bufs, index: 0, offset: 0, cb };
    this.pump();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.reset || this.host.isShutdown()) {
      cb(this.closedError());
      return;
    }
    this.localFin = true;
    this.clearOpenTimer();
    this.host.sendControl(FrameType.WindowUpdate, Flag.FIN, this.id, 0);
    this.host.log('stream %d local half-close (FIN sent)', this.id);
    if (this.remoteFin) {
      this.bothClosed();
    } else if (this.host.streamCloseTimeoutMs > 0) {
      this.closeTimer = setTimeout(() => {
        this.closeTimer = null;
        if (this.removed || this.destroyed) return;
        this.host.log('stream %d: no FIN from the peer within %d ms of ours, resetting', this.id, this.host.streamCloseTimeoutMs);
        this.destroy();
      }, this.host.streamCloseTimeoutMs);
      this.closeTimer.unref();
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.clearOpenTimer();
    this.clearCloseTimer();
    if (!this.removed) {
      if (!this.reset && !(this.localFin && this.remoteFin) && !this.host.isShutdown()) {
        this.host.sendControl(FrameType.WindowUpdate, Flag.RST, this.id, 0);
        this.host.log('stream %d reset (RST sent)%s', this.id, err ? `: ${err.message}` : '');
      }
      this.removed = true;
      this.host.forget(this);
    }
    this.reset = true;
    const unsent = this.pending;
    this.pending = null;
    this.recvQueue = [];
    this.recvHead = 0;
    this.recvQueued = 0;
    // A write still waiting for window or socket space will never go out now, but its callback must
    // run all the same: until it does, Node's Writable counts that write as in flight, so the callbacks
    // of the writes queued behind it never run either (errorBuffer waits for the write in flight), and
    // whoever awaits one of them (a promisified write, a pipe's producer) hangs for good.
    if (unsent !== null) unsent.cb(err ?? this.closedError());
    cb(err);
  }

  // ---- internals ----------------------------------------------------------------------------------

  private pump(): void {
    const p = this.pending;
    if (p === null) return;
    while (p.index < p.chunks.length) {
      const buf = p.chunks[p.index] as Buffer;
      if (p.offset >= buf.length) {
        p.index++;
        p.offset = 0;
        continue;
      }
      if (this.reset || this.destroyed) return;
      if (this.host.isShutdown()) {
        this.pending = null;
        p.cb(this.closedError());
        return;
      }
      if (this.sendWindow === 0) return; // resumed by the peer's WindowUpdate
      if (!this.host.canSendData(this)) return; // resumed by the socket's 'drain'
      const n = Math.min(this.sendWindow, buf.length - p.offset);
      const piece = p.offset === 0 && n === buf.length ? buf : buf.subarray(p.offset, p.offset + n);
      this.sendWindow -= n;
      p.offset += n;
      this.host.sendData(this.id, piece);
    }
    this.pending = null;
    p.cb();
  }

  private flushRecv(): void {
    if (this.destroyed) return;
    while (this.readWanted && this.recvHead < this.recvQueue.length) {
      const c = this.recvQueue[this.recvHead] as Buffer;
      this.recvQueue[this.recvHead] = EMPTY;
      this.recvHead++;
      this.recvQueued -= c.length;
      this.readWanted = this.push(c);
    }
    if (this.recvHead === this.recvQueue.length && this.recvHead > 0) {
      this.recvQueue = [];
      this.recvHead = 0;
    }
    if (this.recvQueued === 0 && this.remoteFin && this.incoming === 0 && !this.eofPushed) {
      this.eofPushed = true;
      this.host.log('stream %d end of data', this.id);
      this.push(null);
    }
    this.maybeSendWindowUpdate();
  }

  private windowUpdateQueued = false;

  /**
   * Window updates are decided after the current socket chunk has been parsed: a FIN later in the same
   * chunk means the peer sends nothing more, and an update then would only reach a stream the peer has
   * already forgotten (Go logs "frame for missing stream").
   */
  private maybeSendWindowUpdate(): void {
    if (this.windowUpdateQueued) return;
    this.windowUpdateQueued = true;
    queueMicrotask(() => {
      this.windowUpdateQueued = false;
      this.sendWindowUpdateNow();
    });
  }

  private sendWindowUpdateNow(): void {
    if (!this.handedOut || this.remoteFin || this.reset || this.removed || this.host.isShutdown()) return;
    const delta = this.maxWindow - this.recvQueued - this.incoming - this.recvWindow;
    if (delta < this.maxWindow / 2) return;
    this.recvWindow += delta;
    this.host.sendControl(FrameType.WindowUpdate, 0, this.id, delta);
  }

  private compactQueue(): void {
    const live = this.recvQueue.slice(this.recvHead);
    this.recvQueue = [Buffer.concat(live, this.recvQueued)];
    this.recvHead = 0;
  }

  private bothClosed(): void {
    this.clearCloseTimer();
    if (this.removed) return;
    this.removed = true;
    this.host.log('stream %d closed (FIN both ways)', this.id);
    this.host.forget(this);
  }

  private peerReset(): void {
    this.clearOpenTimer();
    this.clearCloseTimer();
    if (this.reset) return;
    this.reset = true;
    if (!this.removed) {
      this.removed = true;
      this.host.forget(this);
    }
    this.host.log('stream %d reset by peer (RST received)', this.id);
    if (this.destroyed) return;
    this.destroy(
      this.handedOut
        ? new YamuxError('connection-reset', `connection reset (stream ${this.id})`, {
            input: this.id,
            hint: 'the peer reset the stream (RST): it refused it (backlog full, going away) or aborted it',
          })
        : undefined,
    );
  }

  private closedError(): YamuxError {
    return this.host.isShutdown()
      ? new YamuxError('session-shutdown', 'session shutdown', { input: this.id })
      : new YamuxError('stream-closed', `stream closed (stream ${this.id})`, { input: this.id });
  }

  private clearOpenTimer(): void {
    if (this.openTimer !== null) {
      clearTimeout(this.openTimer);
      this.openTimer = null;
    }
  }

  private clearCloseTimer(): void {
    if (this.closeTimer !== null) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
  }
}

const EMPTY = Buffer.alloc(0);
