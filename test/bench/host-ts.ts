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
import { measureGets, parseHostArgs } from './host-args';

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
  const n = flags.get('n') ?? 5;
  const size = flags.get('bytes') ?? 8 << 20;
  let received = 0;
  let waiter: { target: number; resolve: () => void } | undefined;
  const syncStdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (waiter && received >= waiter.target) waiter.resolve();
      done();
    },
  });
  const [command, ...args] = cmd as [string, ...string[]];
  const p = await startPlugin({ command, args, handshake, plugins, autoMTLS: false, syncStdout });
  try {
    const kv = p.dispense('kv');
    const ms: number[] = [];
    let target = 0;
    for (let i = 0; i <= n; i++) {
      target += size;
      const t0 = performance.now();
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out with ${received} of ${target} bytes`)), 30_000);
        waiter = { target, resolve: () => (clearTimeout(timer), resolve()) };
        if (received >= target) waiter.resolve();
      });
      await call((cb) => kv.get({ key: `stdout:${size}` }, cb));
      await arrived;
      if (i > 0) ms.push(performance.now() - t0);
    }
    return { ms, bytes: size };
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

const modes: Record<string, (f: Map<string, number>, c: string[]) => Promise<object>> = { rpc, stdio, scale };
const [mode = '', ...rest] = process.argv.slice(2);
const { flags, cmd } = parseHostArgs(rest);
const fn = modes[mode];
if (!fn || cmd.length === 0) {
  console.error('usage: host-ts.js rpc|stdio|scale [--flag N …] PLUGIN [ARGS…]');
  process.exit(1);
}
fn(flags, cmd).then(
  (out) => console.log(JSON.stringify(out)),
  (err: Error) => {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  },
);
