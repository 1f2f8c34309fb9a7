/**
 * The floor host of B3, B4 and B5: the same measurements as host-ts.ts (and the Go hosts), with every
 * call on bare `node:http2` (floor/wire.ts) instead of loopp and grpc-js, so the tables can show how
 * far loopp is from what Node itself allows. A fresh process per measurement, same flags, same JSON:
 *
 *   node dist/test/bench/floor-host.js rpc    [--seq N] [--inflight C] [--calls M] [--warmup W] PLUGIN [ARGS…]
 *   node dist/test/bench/floor-host.js stdio  [--n N] [--bytes B] PLUGIN [ARGS…]
 *   node dist/test/bench/floor-host.js broker [--n N] PLUGIN [ARGS…]      (classic broker, plain)
 *   node dist/test/bench/floor-host.js scale  [--n 100] [--workers 0|2] PLUGIN [ARGS…]
 */
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { floorAddress, launchFloor, spawnFloor } from './floor/launch';
import { connect, FloorStatusError, frame, onUnary, openCall, pb, replyOk, unary, unpb } from './floor/wire';
import { measureGets, runHostMode, stdioMeter } from './host-args';

async function rpc(flags: Map<string, number>, [command, ...args]: [string, ...string[]]): Promise<object> {
  const p = await launchFloor(command, args);
  try {
    await unary(p.session, '/proto.KV/Put', pb({ 1: 'bench', 2: Buffer.alloc(64, 'v') }));
    return await measureGets(async () => unpb(await unary(p.session, '/proto.KV/Get', pb({ 1: 'bench' }))).get(1), flags);
  } finally {
    await p.close();
  }
}

/** StdioData's data field (2), read off the message without copying. */
function stdioDataLength(msg: Buffer): number {
  const data = unpb(msg).get(2);
  return Buffer.isBuffer(data) ? data.length : 0;
}

async function stdio(flags: Map<string, number>, [command, ...args]: [string, ...string[]]): Promise<object> {
  const size = flags.get('bytes') ?? 8 << 20;
  const meter = stdioMeter(flags.get('n') ?? 5, size);
  const p = await launchFloor(command, args);
  const stream = openCall(p.session, '/plugin.GRPCStdio/StreamStdio', (m) => meter.add(stdioDataLength(m)), () => undefined, pb({}));
  try {
    return await meter.measure(() => unary(p.session, '/proto.KV/Get', pb({ 1: `stdout:${size}` })));
  } finally {
    stream.close();
    await p.close();
  }
}

/** The host end of the classic broker stream: ConnInfo from the plugin in, ours out. */
function brokerStream(session: http2.ClientHttp2Session) {
  const known = new Map<number, string>();
  const waiting = new Map<number, (address: string) => void>();
  const stream = openCall(
    session,
    '/plugin.GRPCBroker/StartStream',
    (m) => {
      const f = unpb(m);
      const id = Number(f.get(1) ?? 0);
      const address = String(f.get(3) ?? '');
      const w = waiting.get(id);
      if (w) (waiting.delete(id), w(address));
      else known.set(id, address);
    },
    () => undefined,
  );
  return {
    /** The unix address the plugin announced for `id` (go-plugin's classic broker, plain). */
    address(id: number): Promise<string> {
      const a = known.get(id);
      if (a !== undefined) return (known.delete(id), Promise.resolve(a));
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    announce(id: number, address: string): void {
      stream.write(frame(pb({ 1: id, 2: 'unix', 3: address })));
    },
    close: () => stream.close(),
  };
}

/** An Echo server on a new unix socket; close() also drops the plugin's connection to it. */
function echoServer(prefix: string, sock: string): Promise<{ close(): Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => (sessions.add(s), s.once('close', () => sessions.delete(s))));
  server.on('stream', (stream) => onUnary(stream, (msg) => replyOk(stream, pb({ 1: prefix + String(unpb(msg).get(1) ?? '') }))));
  const close = () => {
    for (const s of sessions) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return new Promise((resolve) => server.listen(sock, () => resolve({ close })));
}

async function broker(flags: Map<string, number>, [command, ...args]: [string, ...string[]]): Promise<object> {
  const n = flags.get('n') ?? 5;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-floor-'));
  const p = await launchFloor(command, args, { TMPDIR: tmp });
  const b = brokerStream(p.session);
  const pluginServesMs: number[] = [];
  const hostServesMs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      const id = Number(unpb(await unary(p.session, '/brokertest.BrokerTest/ServeEcho', pb({ 1: 'p' }))).get(1) ?? 0);
      const sub = connect('unix', await b.address(id));
      await unary(sub, '/brokertest.Echo/Echo', pb({ 1: 'x' }));
      pluginServesMs.push(performance.now() - t0);
      sub.close();
      await unary(p.session, '/brokertest.BrokerTest/StopEcho', pb({ 1: id }));
      t0 = performance.now();
      const hostId = 1000 + i;
      const sock = path.join(tmp, `host-${hostId}.sock`);
      const server = await echoServer('h', sock);
      b.announce(hostId, sock);
      await unary(p.session, '/brokertest.BrokerTest/CallHostEcho', pb({ 1: hostId, 2: 'y' }));
      hostServesMs.push(performance.now() - t0);
      await server.close();
    }
  } finally {
    b.close();
    await p.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { pluginServesMs, hostServesMs, errors: [] };
}

/** Spawns one plugin and reads its handshake line: here, or in worker thread `i % workers.length`. */
type Spawner = (i: number) => Promise<string>;

async function spawners(workers: Worker[], command: string, args: string[]): Promise<{ spawn: Spawner; stop(): Promise<void> }> {
  if (workers.length === 0) {
    const launched: Promise<unknown>[] = [];
    return {
      spawn: async () => {
        const { child, line } = await spawnFloor(command, args);
        launched.push(new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r))));
        return line;
      },
      stop: async () => void (await Promise.all(launched)),
    };
  }
  const waiting = new Map<number, { resolve: (line: string) => void; reject: (err: Error) => void }>();
  for (const w of workers) {
    w.on('message', (m: { id: number; line?: string; error?: string } | 'stopped') => {
      if (m === 'stopped') return;
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.line !== undefined) p?.resolve(m.line);
      else p?.reject(new Error(m.error));
    });
  }
  return {
    spawn: (id) => new Promise((resolve, reject) => (waiting.set(id, { resolve, reject }), (workers[id % workers.length] as Worker).postMessage({ id, command, args }))),
    stop: async () => {
      await Promise.all(workers.map((w) => new Promise((r) => (w.once('message', r), w.postMessage('stop')))));
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * B6's floor: N plugins at once, each spawned, its handshake line read, an HTTP/2 session opened and
 * one Get answered; the spawns on the main thread (--workers 0) or in worker threads (--workers 2,
 * booted before the clock starts), to measure what moving fork() off the event loop gains.
 */
async function scale(flags: Map<string, number>, [command, ...args]: [string, ...string[]]): Promise<object> {
  const n = flags.get('n') ?? 100;
  const workers = Array.from({ length: flags.get('workers') ?? 0 }, () => new Worker(path.join(__dirname, 'floor', 'spawn-worker.js')));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('online', r))));
  const s = await spawners(workers, command, args);
  const sessions: http2.ClientHttp2Session[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const { network, address } = floorAddress(await s.spawn(i));
      const session = connect(network, address);
      sessions.push(session);
      await unary(session, '/proto.KV/Get', pb({ 1: 'bench' })).catch((err: FloorStatusError) => {
        if (err.code !== 2 && err.code !== 5) throw err; // a missing key is still a round trip
      });
    }),
  );
  const wallMs = performance.now() - t0;
  await Promise.all(sessions.map((session) => unary(session, '/plugin.GRPCController/Shutdown', pb({})).catch(() => undefined).then(() => session.close())));
  await s.stop();
  return { wallMs, n, workers: workers.length };
}

runHostMode('floor-host.js', { rpc, stdio, broker, scale });
