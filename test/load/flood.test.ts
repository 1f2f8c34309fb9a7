/**
 * A 100 MB stdout flood from a plugin (TS fixture stdio-bench and Go stdio-plugin-go, Get("flood:N"))
 * reaches the host's syncStdout complete and in order, and host memory stays bounded: with a fast
 * sink, and with a slow sink whose back-pressure must hold the plugin (GRPCStdio -> HTTP/2 flow
 * control -> the plugin's writes) rather than pile the flood up in the host.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { describe, it } from 'node:test';
import { grpcPlugin, startPlugin } from '../../src/index';
import { KVClient } from '../../src/gen/examples/kv/kv';
import { FIXTURE_HANDSHAKE, floodByte } from '../../fixtures/plugins/_common';
import { childPids, fixture, goBinary, kvGet, rmDir, tmpDir } from '../helpers';

const FLOOD_BYTES = 100 * 1000 * 1000;
/**
 * Host RSS above its pre-flood value, at the peak. Measured (2 cores, Node 20): fast sink 10-25 MB,
 * slow sink 25-45 MB — the host holds at most about one 16 MiB HTTP/2 window of the flood plus grpc-js
 * and V8 working memory. Without back-pressure the 100 MB would sit in the host.
 */
const RSS_BOUND_MB = 64;
/**
 * Bytes still on their way to a slow sink when the plugin has finished writing. Everything in
 * flight fits in: the plugin's queue (1 MiB high-water mark) or Go's pipe, the plugin's HTTP/2 send
 * buffers, the host's 16 MiB stream window, grpc-js's and the sink's buffers. Measured below 24 MB.
 */
const IN_FLIGHT_BOUND = 40 * 1000 * 1000;
/** The slow sink's pace: 256 KiB every 10 ms, at most ~25 MB/s, slower than GRPCStdio here. */
const SLOW_BATCH = 256 * 1024;
const SLOW_PAUSE_MS = 10;

const plugins = { kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };

/** Checks every byte against the flood pattern as it arrives; optionally paces itself. */
class FloodSink extends Writable {
  received = 0;
  mismatch: string | undefined;
  #sinceYield = 0;
  readonly #slow: boolean;
  #onByteCount: (() => void) | undefined;
  #want = 0;

  constructor(slow: boolean) {
    super({ highWaterMark: 64 * 1024 });
    this.#slow = slow;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.mismatch === undefined) {
      const base = this.received;
      for (let j = 0; j < chunk.length; j++) {
        if (chunk[j] !== floodByte(base + j)) {
          this.mismatch = `byte ${base + j}: got ${chunk[j]}, want ${floodByte(base + j)}`;
          break;
        }
      }
    }
    this.received += chunk.length;
    if (this.received >= this.#want) this.#onByteCount?.();
    this.#sinceYield += chunk.length;
    if (this.#slow && this.#sinceYield >= SLOW_BATCH) {
      this.#sinceYield = 0;
      setTimeout(cb, SLOW_PAUSE_MS);
    } else cb();
  }

  /** Resolves when `n` bytes have arrived; rejects after `ms` with what did. */
  waitFor(n: number, ms: number): Promise<void> {
    if (this.received >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.received} of ${n} bytes after ${ms} ms`)), ms);
      this.#want = n;
      this.#onByteCount = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('100 MB stdout flood through GRPCStdio', () => {
  const gc = collector();
  const cases = [
    { name: 'TS plugin', command: process.execPath, args: () => [fixture('stdio-bench')] },
    { name: 'Go plugin', command: '', args: () => [] as string[] },
  ];
  for (const c of cases) {
    for (const slow of [false, true]) {
      it(`${c.name}, ${slow ? 'slow' : 'fast'} sink: every byte in order, host RSS bounded`, async () => {
        const work = tmpDir('loopp-flood-');
        const sink = new FloodSink(slow);
        const p = await startPlugin({
          command: c.command || goBinary('stdio-plugin-go'),
          args: c.args(),
          cwd: work,
          handshake: FIXTURE_HANDSHAKE,
          plugins,
          autoMTLS: false,
          syncStdout: sink,
        });
        try {
          gc();
          const rss0 = process.memoryUsage.rss();
          let peak = rss0;
          let peakHeapExt = 0;
          const sampler = setInterval(() => {
            const m = process.memoryUsage();
            peak = Math.max(peak, m.rss);
            peakHeapExt = Math.max(peakHeapExt, m.heapUsed + m.external);
          }, 20);
          const t0 = performance.now();
          let inFlight = -1;
          try {
            await kvGet(p.dispense('kv'), `flood:${FLOOD_BYTES}`);
            // The plugin has written its last byte: what the host has not delivered yet is in flight.
            inFlight = FLOOD_BYTES - sink.received;
            await sink.waitFor(FLOOD_BYTES, 90_000);
          } finally {
            clearInterval(sampler);
          }
          const ms = performance.now() - t0;
          peak = Math.max(peak, process.memoryUsage.rss());
          const growthMB = (peak - rss0) / 2 ** 20;
          console.log(
            `# flood ${c.name} ${slow ? 'slow' : 'fast'} sink: ${sink.received} bytes in ${ms.toFixed(0)} ms ` +
              `(${(FLOOD_BYTES / 1e6 / (ms / 1000)).toFixed(1)} MB/s), host RSS peak +${growthMB.toFixed(1)} MB (heapUsed+external peak ${(peakHeapExt / 2 ** 20).toFixed(1)} MB), in flight at last write ${(inFlight / 1e6).toFixed(1)} MB`,
          );
          assert.equal(sink.mismatch, undefined);
          // Nothing beyond the flood (no trailing or duplicated chunk) after a moment more.
          await p.ping();
          assert.equal(sink.received, FLOOD_BYTES);
          assert.ok(growthMB < RSS_BOUND_MB, `host RSS grew ${growthMB.toFixed(1)} MB during the flood (bound ${RSS_BOUND_MB} MB)`);
          if (slow) assert.ok(inFlight <= IN_FLIGHT_BOUND, `${inFlight} bytes were buffered past the plugin when it finished writing (bound ${IN_FLIGHT_BOUND})`);
        } finally {
          assert.deepEqual(await p.close(), { code: 0, signal: null, reason: 'closed' });
          rmDir(work);
        }
        assert.deepEqual(childPids(), []);
      });
    }
  }
});
