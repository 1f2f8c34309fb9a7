/**
 * Plugin-side GRPCStdio. After the handshake, writes to process.stdout / process.stderr (and so
 * console.*) are captured, cut into chunks of at most 1024 bytes as a Go plugin's pipe readers do,
 * and sent on the StreamStdio server stream. Until the host opens the stream the chunks are queued
 * (bounded: beyond `maxQueuedBytes` the oldest are dropped and counted, where Go would block).
 */
import type * as grpc from '@grpc/grpc-js';
import { STDIO_CHUNK_BYTES } from '../constants';
import type { Log } from '../debug';
import type { Empty } from '../gen/google/protobuf/empty';
import { GRPCStdioService, type StdioData, StdioData_Channel } from '../gen/plugin/grpc_stdio';

type WriteFn = typeof process.stdout.write;

export interface StdioForwarderOptions {
  maxQueuedBytes?: number;
  log: Log;
}

export class StdioForwarder {
  #queue: StdioData[] = [];
  #queuedBytes = 0;
  #dropped = 0;
  #maxQueuedBytes: number;
  #call: grpc.ServerWritableStream<Empty, StdioData> | undefined;
  #waitingDrain = false;
  #restore: (() => void) | undefined;
  #log: Log;

  constructor(options: StdioForwarderOptions) {
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
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
    out.write = this.#writer(StdioData_Channel.STDOUT);
    err.write = this.#writer(StdioData_Channel.STDERR);
    this.#restore = () => {
      out.write = origOut;
      err.write = origErr;
    };
  }

  /** Stops capturing. */
  release(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  #writer(channel: StdioData_Channel): WriteFn {
    return ((chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean => {
      const callback = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
      const encoding = typeof encodingOrCb === 'string' ? (encodingOrCb as BufferEncoding) : 'utf8';
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk as Uint8Array);
      this.push(channel, buf);
      if (typeof callback === 'function') queueMicrotask(() => (callback as (e?: Error | null) => void)(null));
      return true;
    }) as WriteFn;
  }

  /** Queues `data` for the host (also usable directly by plugins that want explicit stdio). */
  push(channel: StdioData_Channel, data: Buffer): void {
    for (let off = 0; off < data.length; off += STDIO_CHUNK_BYTES) {
      const piece = data.subarray(off, Math.min(off + STDIO_CHUNK_BYTES, data.length));
      this.#queue.push({ channel, data: Buffer.from(piece) });
      this.#queuedBytes += piece.length;
    }
    while (this.#queuedBytes > this.#maxQueuedBytes && this.#queue.length > 0) {
      const dropped = this.#queue.shift() as StdioData;
      this.#queuedBytes -= dropped.data.length;
      this.#dropped += dropped.data.length;
    }
    this.#flush();
  }

  #flush(): void {
    const call = this.#call;
    if (call === undefined || this.#waitingDrain) return;
    while (this.#queue.length > 0) {
      const item = this.#queue.shift() as StdioData;
      this.#queuedBytes -= item.data.length;
      if (!call.write(item)) {
        this.#waitingDrain = true;
        call.once('drain', () => {
          this.#waitingDrain = false;
          this.#flush();
        });
        return;
      }
    }
  }

  addTo(server: grpc.Server): void {
    server.addService(GRPCStdioService, {
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
    const call = this.#call;
    this.#call = undefined;
    try {
      call?.end();
    } catch {
      // the connection may already be gone
    }
  }
}
