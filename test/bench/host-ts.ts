/**
 * The TS host side of B3, B5 and B6, run as a fresh Node process per measurement (as the Go
 * commands are), so each variant starts from the same clean heap. Mirrors go-interop's
 * rpc-bench-go, stdio-bench-go and scale-bench-go, with the same flags and the same JSON output:
 *
 *   node dist/test/bench/host-ts.js rpc   [--seq N] [--inflight C] [--calls M] [--warmup W] PLUGIN [ARGS…]
 *   node dist/test/bench/host-ts.js stdio [--n N] [--bytes B] PLUGIN [ARGS…]
 *   node dist/test/bench/host-ts.js scale [--n 100] PLUGIN [ARGS…]
 */
import { Writable } from 'node:stream';
import { grpcPlugin, startPlugin } from '../../src/index';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { measureGets, runHostMode, stdioMeter } from './host-args';

const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
const plugins = { kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };

function call<T>(fn: (cb: (err: Error | null, res: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

/** A missing key is an error reply from the KV plugins: still a completed round trip. */
function tolerated(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === 2 || code === 5;
}

async function rpc(flags: Map<string, number>, cmd: string[]): Promise<object> {
  const [command, ...args] = cmd as [string, ...string[]];
  const p = await startPlugin({ command, args, handshake, plugins, autoMTLS: false });
  try {
    const kv = p.dispense('kv');
    await call((cb) => kv.put({ key: 'bench', value: Buffer.alloc(64, 'v') }, cb));
    return await measureGets(() => call((cb) => kv.get({ key: 'bench' }, cb)), flags);
  } finally {
    await p.close();
  }
}

async function stdio(flags: Map<string, number>, cmd: string[]): Promise<object> {
  const size = flags.get('bytes') ?? 8 << 20;
  const meter = stdioMeter(flags.get('n') ?? 5, size);
  const syncStdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      meter.add(chunk.length);
      done();
    },
  });
  const [command, ...args] = cmd as [string, ...string[]];
  const p = await startPlugin({ command, args, handshake, plugins, autoMTLS: false, syncStdout });
  try {
    const kv = p.dispense('kv');
    return await meter.measure(() => call((cb) => kv.get({ key: `stdout:${size}` }, cb)));
  } finally {
    await p.close();
  }
}

async function scale(flags: Map<string, number>, cmd: string[]): Promise<object> {
  const n = flags.get('n') ?? 100;
  const [command, ...args] = cmd as [string, ...string[]];
  const rssBeforeKB = Math.round(process.memoryUsage().rss / 1024);
  const t0 = performance.now();
  const started = await Promise.allSettled(
    Array.from({ length: n }, async () => {
      const p = await startPlugin({ command, args, handshake, plugins, autoMTLS: false });
      try {
        await call((cb) => p.dispense('kv').get({ key: 'bench' }, cb));
      } catch (err) {
        if (!tolerated(err)) throw err;
      }
      return p;
    }),
  );
  const wallMs = performance.now() - t0;
  const rssAfterKB = Math.round(process.memoryUsage().rss / 1024);
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
  const failed = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length > 0) throw new Error(`${failed.length} of ${n} failed: ${String(failed[0]?.reason)}`);
  return { wallMs, rssBeforeKB, rssAfterKB, n };
}

runHostMode('host-ts.js', { rpc, stdio, scale });
