/**
 * A 100 MB stdout flood from a plugin (TS fixture stdio-bench and Go stdio-plugin-go, Get("flood:N"))
 * reaches the host's syncStdout complete and in order, and host memory stays bounded: with a fast
 * sink, and with a slow sink whose back-pressure must hold the plugin (GRPCStdio -> HTTP/2 flow
 * control -> the plugin's writes) rather than pile the flood up in the host.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { startPlugin } from '../../src/index';
import { FIXTURE_HANDSHAKE, floodByte } from '../../fixtures/plugins/_common';
import { childPids, fixture, goBinary, kvGet, rmDir, tmpDir } from '../helpers';
import { fullGc, kvPlugins } from './common';

const FLOOD_BYTES = 100 * 1000 * 1000;
/**
 * Growth of process.memoryUsage().arrayBuffers at the peak: every chunk in transit is a Buffer, so
 * this is what the host holds of the flood, plus spent chunks the GC has not collected yet. Measured:
 * Go plugin (1 KiB messages) 2-9 MB fast sink, 26-29 MB slow; TS plugin (64 KiB messages, each its
 * own allocation rather than a slice of an 8 KiB pool slab, so more spent ones wait for the GC)
 * 26-32 MB fast, 38-40 MB slow on Node 20, 49 MB once on Node 24 (in flight at most one 16 MiB HTTP/2
 * window, the host channel's setting, plus the sink's 64 KiB, plus spent messages the young-generation
 * GC has not reached). Without back-pressure the 100 MB (95 MiB) flood would pile up here, so a bound
 * well below that still tells bounded from unbounded.
 */
const BUFFERED_BOUND_MB = 64;
/**
 * Host RSS above its pre-flood value, at the peak. Measured (2 cores, Node 20): Go plugin 2-13 MB,
 * TS plugin fast sink 10 MB, slow sink 48-65 MB. The slow-sink figure is mostly V8's young
 * generation growing to its maximum (3 x 16 MiB semi-spaces) under the allocation rate of ~100 000
 * 1 KiB messages, plus the buffered bytes above: bounded, and independent of the flood's size.
 */
const RSS_BOUND_MB = 96;
/**
 * Bytes still on their way to a slow sink when the plugin has finished writing. Everything in
 * flight fits in: the plugin's queue (1 MiB high-water mark) or Go's pipe, the plugin's HTTP/2 send
 * buffers, the host's 16 MiB stream window, grpc-js's and the sink's buffers. Measured below 24 MB.
 */
const IN_FLIGHT_BOUND = 40 * 1000 * 1000;
/** The slow sink's pace: 256 KiB every 10 ms, at most ~25 MB/s, slower than GRPCStdio here. */
const SLOW_BATCH = 256 * 1024;
const SLOW_PAUSE_MS = 10;

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

  /** Resolves when `n` bytes have arrived; rejects, with what did, once nothing arrives for `stallMs`. */
  waitFor(n: number, stallMs: number): Promise<void> {
    if (this.received >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let last = this.received;
      const timer = setInterval(() => {
        if (this.received === last) {
          clearInterval(timer);
          reject(new Error(`only ${this.received} of ${n} bytes arrived (nothing more for ${stallMs} ms)`));
        }
        last = this.received;
      }, stallMs);
      this.#want = n;
      this.#onByteCount = () => {
        clearInterval(timer);
        resolve();
      };
    });
  }
}

describe('100 MB stdout flood through GRPCStdio', () => {
  const gc = fullGc();
  const both = [false, true];
  const cases = [
    { name: 'TS plugin', command: process.execPath, args: () => [fixture('stdio-bench')], autoMTLS: false, sinks: both },
    { name: 'Go plugin', command: '', args: () => [] as string[], autoMTLS: false, sinks: both },
    // TLS adds its own record buffers on both sides; the fast sink is enough to show they stay bounded.
    { name: 'TS plugin over AutoMTLS', command: process.execPath, args: () => [fixture('stdio-bench')], autoMTLS: true, sinks: [false] },
    { name: 'Go plugin over AutoMTLS', command: '', args: () => [] as string[], autoMTLS: true, sinks: [false] },
  ];
  for (const c of cases) {
    for (const slow of c.sinks) {
      it(`${c.name}, ${slow ? 'slow' : 'fast'} sink: every byte in order, host RSS bounded`, async () => {
        const work = tmpDir('loopp-flood-');
        const sink = new FloodSink(slow);
        const p = await startPlugin({
          command: c.command || goBinary('stdio-plugin-go'),
          args: c.args(),
          cwd: work,
          handshake: FIXTURE_HANDSHAKE,
          plugins: kvPlugins,
          autoMTLS: c.autoMTLS,
          syncStdout: sink,
        });
        try {
          gc();
          const rss0 = process.memoryUsage.rss();
          let peak = rss0;
          const buffers0 = process.memoryUsage().arrayBuffers;
          let peakBuffers = buffers0;
          const sampler = setInterval(() => {
            const m = process.memoryUsage();
            peak = Math.max(peak, m.rss);
            peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
          }, 20);
          const t0 = performance.now();
          let inFlight = -1;
          try {
            await kvGet(p.dispense('kv'), `flood:${FLOOD_BYTES}`);
            // The plugin has written its last byte: what the host has not delivered yet is in flight.
            inFlight = FLOOD_BYTES - sink.received;
            await sink.waitFor(FLOOD_BYTES, 15_000);
          } finally {
            clearInterval(sampler);
          }
          const ms = performance.now() - t0;
          peak = Math.max(peak, process.memoryUsage.rss());
          const growthMB = (peak - rss0) / 2 ** 20;
          const bufferedMB = (peakBuffers - buffers0) / 2 ** 20;
          console.log(
            `# flood ${c.name} ${slow ? 'slow' : 'fast'} sink: ${sink.received} bytes in ${ms.toFixed(0)} ms ` +
              `(${(FLOOD_BYTES / 1e6 / (ms / 1000)).toFixed(1)} MB/s), host RSS peak +${growthMB.toFixed(1)} MB (Buffers peak +${bufferedMB.toFixed(1)} MB), in flight at last write ${(inFlight / 1e6).toFixed(1)} MB`,
          );
          assert.equal(sink.mismatch, undefined);
          // Nothing beyond the flood (no trailing or duplicated chunk) after a moment more.
          await p.ping();
          assert.equal(sink.received, FLOOD_BYTES);
          assert.ok(bufferedMB < BUFFERED_BOUND_MB, `the host held ${bufferedMB.toFixed(1)} MB of Buffers during the flood (bound ${BUFFERED_BOUND_MB} MB)`);
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
