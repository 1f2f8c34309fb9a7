/**
 * Plugin-side GRPCStdio. After the handshake, writes to process.stdout / process.stderr (and so
 * console.*) are captured and sent on the StreamStdio server stream. Consecutive writes to the same
 * channel coalesce into messages of up to 64 KiB: the open message at the queue's tail takes them
 * until it is full, the other channel is written, or the queue is handed to gRPC (a microtask after
 * the first write, so a synchronous burst of console.log lines leaves as one message). Messages keep
 * the order of the writes across stdout and stderr, as one queue holds both. Until the host opens the
 * stream the messages are queued (bounded: beyond `maxQueuedBytes` the oldest are dropped and
 * counted, where Go would block). Writes report back-pressure as a Node stream does: write() returns
 * false once `highWaterMark` bytes wait in the queue, and the stream emits 'drain' when the queue has
 * been handed to gRPC, so a writer that honours it is held at the host's pace (HTTP/2 flow control)
 * and loses nothing.
 */
import type * as grpc from '@grpc/grpc-js';
import { STDIO_MESSAGE_MAX_BYTES } from '../core/constants';
import type { Log } from '../core/debug';
import { type Empty, GRPCStdioService, StdioData, StdioData_Channel } from '../gen';
import { encodeStdioData, encodeStdioParts } from '../shared/stdio-codec';
import type { GrpcServer } from '../net/h2server/server';

type WriteFn = typeof process.stdout.write;

/** A queued message, already encoded: the stream's serializer passes it through. */
interface Encoded {
  wire: Buffer;
  /** Payload bytes (for the queue bound and the dropped count). */
  n: number;
}

/** The message at the queue's tail that still takes writes to its channel; encoded when sealed. */
interface Open {
  channel: StdioData_Channel;
  /** Private copies of the written bytes, in order. */
  parts: Uint8Array[];
  n: number;
}

const MAX = STDIO_MESSAGE_MAX_BYTES;

/** GRPCStdio with a serializer that passes pre-encoded chunks through (same bytes on the wire). */
const FAST_STDIO_SERVICE = {
  ...GRPCStdioService,
  streamStdio: {
    ...GRPCStdioService.streamStdio,
    responseSerialize: (value: StdioData | Encoded): Buffer =>
      'wire' in value ? value.wire : Buffer.from(StdioData.encode(value).finish()),
  },
} as typeof GRPCStdioService;

export interface StdioForwarderOptions {
  maxQueuedBytes?: number;
  /** Queued bytes from which write() returns false (default 1 MiB). */
  highWaterMark?: number;
  log: Log;
}

export class StdioForwarder {
  // A FIFO as an array plus a head index (Array#shift is O(n) on large queues).
  #queue: Encoded[] = [];
  #head = 0;
  #open: Open | undefined;
  /** Payload bytes in the queue, the open message included. */
  #queuedBytes = 0;
  #dropped = 0;
  #flushScheduled = false;
  #maxQueuedBytes: number;
  #highWaterMark: number;
  /** Captured streams whose write() returned false and that are owed a 'drain'. */
  #owedDrain = new Set<NodeJS.WriteStream>();
  #call: grpc.ServerWritableStream<Empty, StdioData> | undefined;
  #waitingDrain = false;
  #restore: (() => void) | undefined;
  #log: Log;

  constructor(options: StdioForwarderOptions) {
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.#log = options.log;
  }

  /** Bytes dropped because nobody streamed them and the queue was full. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** Starts capturing process.stdout and process.stderr. Call only after the handshake is written. */
  capture(): void {
    if (this.#restore !== undefined) return;
    const out = process.stdout;
    const err = process.stderr;
    const origOut = out.write;
    const origErr = err.write;
    out.write = this.#writer(StdioData_Channel.STDOUT, out);
    err.write = this.#writer(StdioData_Channel.STDERR, err);
    this.#restore = () => {
      out.write = origOut;
      err.write = origErr;
    };
  }

  /** Stops capturing. */
  release(): void {
    this.#restore?.();
    this.#restore = undefined;
    this.#owedDrain.clear();
  }

  #writer(channel: StdioData_Channel, stream: NodeJS.WriteStream): WriteFn {
    return ((chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean => {
      const callback = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      const encoding = typeof encodingOrCb === 'string' ? (encodingOrCb as BufferEncoding) : 'utf8';
      // A caller's buffer is copied at once (a string's encoding is a fresh one), so the caller may
      // reuse it, as with a real stream.
      if (typeof chunk === 'string') this.#enqueue(channel, Buffer.from(chunk, encoding), true);
      else this.#enqueue(channel, chunk as Uint8Array, false);
      if (typeof callback === 'function') queueMicrotask(() => (callback as (e?: Error | null) => void)(null));
      // Always true before, so a plugin writing faster than the host reads (a 100 MB stdout flood)
      // had no way to wait and lost everything beyond the 8 MiB queue.
      if (this.#queuedBytes < this.#highWaterMark) return true;
      this.#owedDrain.add(stream);
      return false;
    }) as WriteFn;
  }

  /** Queues `data` for the host (also usable directly by plugins that want explicit stdio). */
  push(channel: StdioData_Channel, data: Buffer): void {
    this.#enqueue(channel, data, false);
  }

  /** Appends `data` to the queue; `owned` data is the forwarder's already (no copy needed). */
  #enqueue(channel: StdioData_Channel, data: Uint8Array, owned: boolean): void {
    if (data.length === 0) return;
    let off = 0;
    const open = this.#open;
    if (open !== undefined && open.channel !== channel) this.#seal();
    else if (open !== undefined) {
      off = Math.min(MAX - open.n, data.length);
      open.parts.push(owned ? data.subarray(0, off) : Buffer.from(data.subarray(0, off)));
      open.n += off;
      if (open.n === MAX) this.#seal();
    }
    // Whole messages straight from the caller's bytes: one copy, into the encoded message.
    for (; data.length - off >= MAX; off += MAX) this.#queue.push({ wire: encodeStdioData(channel, data, off, off + MAX), n: MAX });
    if (off < data.length) {
      const rest = owned ? data.subarray(off) : Buffer.from(data.subarray(off));
      this.#open = { channel, parts: [rest], n: rest.length };
    }
    this.#queuedBytes += data.length;
    this.#dropOverflow();
    this.#scheduleFlush();
  }

  /** Encodes the open message and appends it to the sealed queue. */
  #seal(): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    this.#queue.push({ wire: encodeStdioParts(open.channel, open.parts, open.n), n: open.n });
  }

  #dropOverflow(): void {
    const q = this.#queue;
    while (this.#queuedBytes > this.#maxQueuedBytes) {
      if (this.#head === q.length) this.#seal();
      if (this.#head === q.length) break;
      const dropped = q[this.#head++] as Encoded;
      this.#queuedBytes -= dropped.n;
      this.#dropped += dropped.n;
    }
    this.#compact();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#call === undefined || this.#waitingDrain) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #flush(): void {
    const call = this.#call;
    if (call === undefined || this.#waitingDrain) return;
    this.#seal();
    const q = this.#queue;
    while (this.#head < q.length) {
      const item = q[this.#head++] as Encoded;
      this.#queuedBytes -= item.n;
      if (!call.write(item as unknown as StdioData)) {
        this.#compact();
        this.#waitingDrain = true;
        call.once('drain', () => {
          this.#waitingDrain = false;
          this.#flush();
        });
        return;
      }
    }
    this.#compact();
    if (this.#owedDrain.size > 0) {
      const owed = [...this.#owedDrain];
      this.#owedDrain.clear();
      // Asynchronously, as a Node stream emits it (the writer's loop may still be on the stack).
      process.nextTick(() => {
        for (const stream of owed) stream.emit('drain');
      });
    }
  }

  addTo(server: GrpcServer): void {
    server.addService(FAST_STDIO_SERVICE, {
      streamStdio: (call: grpc.ServerWritableStream<Empty, StdioData>) => {
        if (this.#call !== undefined) {
          // go-plugin's stream is meant to be opened once; a second caller gets nothing replayed.
          this.#log('second StreamStdio call; the newest caller receives further output');
        }
        this.#call = call;
        this.#waitingDrain = false;
        this.#log('stdio stream opened (%d bytes queued)', this.#queuedBytes);
        const detach = () => {
          if (this.#call === call) this.#call = undefined;
        };
        call.on('cancelled', detach);
        call.on('close', detach);
        call.on('error', detach);
        this.#flush();
      },
    });
  }

  /** Ends the stream (on shutdown). */
  end(): void {
    // What the writes just before shutdown left for the microtask goes now, as far as gRPC takes it.
    this.#flush();
    const call = this.#call;
    this.#call = undefined;
    try {
      call?.end();
    } catch {
      // the connection may already be gone
    }
  }
}
