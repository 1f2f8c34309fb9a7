/**
 * The floor plugin of B3 and B5: a go-plugin KV plugin served by a bare `node:http2` server with
 * hand-framed gRPC (floor/wire.ts), no grpc-js, no loopp. It prints the go-plugin handshake line
 * `1|1|unix|<socket>|grpc|` (KV example handshake: BASIC_PLUGIN=hello, app protocol 1) and serves:
 *   /proto.KV/Get, /proto.KV/Put   as the Go and TS KV plugins: each key is the file kv_<key> of the
 *                                  working directory, read synchronously per Get (Go's os.ReadFile).
 *                                  Get("stdout:N") instead sends N bytes to the host's GRPCStdio
 *                                  stream as StdioData messages of --stdio-chunk bytes (default 1024,
 *                                  go-plugin's size), straight from memory (no stdout pipe), then
 *                                  answers an empty value (B5).
 *   /plugin.GRPCStdio/StreamStdio  held open (the stdout:N data goes there)
 *   /plugin.GRPCBroker/StartStream held open, nothing sent
 *   /grpc.health.v1.Health/Check   SERVING
 *   /plugin.GRPCController/Shutdown  answers, then exits (go-plugin's Kill waits for that)
 *
 *   node dist/test/bench/floor-plugin.js [--stdio-chunk 1024]
 */
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as os from 'node:os';
import * as path from 'node:path';
import { COOKIE } from './floor/launch';
import { frame, onUnary, pb, replyError, replyOk, unpb } from './floor/wire';

const chunkArg = process.argv.indexOf('--stdio-chunk');
const STDIO_CHUNK = chunkArg >= 0 ? Number(process.argv[chunkArg + 1]) : 1024;
const STDOUT = 1; // StdioData.Channel

if (process.env[COOKIE.key] !== COOKIE.value) {
  console.error('This binary is a plugin. These are not meant to be executed directly.');
  process.exit(1);
}

const dir = fs.mkdtempSync(path.join(process.env['PLUGIN_UNIX_SOCKET_DIR'] ?? os.tmpdir(), 'floor-plugin-'));
const sock = path.join(dir, 'plugin.sock');
const stdioStreams = new Set<http2.ServerHttp2Stream>();
const server = http2.createServer();

function exit(): void {
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

/** Sends `n` bytes as StdioData messages, waiting for 'drain' when HTTP/2 pushes back. */
async function sendStdout(n: number): Promise<void> {
  const [stream] = stdioStreams;
  if (!stream) throw new Error('no GRPCStdio stream open');
  const data = Buffer.alloc(STDIO_CHUNK, 'o');
  for (let sent = 0; sent < n; sent += STDIO_CHUNK) {
    const msg = frame(pb({ 1: STDOUT, 2: data.subarray(0, Math.min(STDIO_CHUNK, n - sent)) }));
    if (!stream.write(msg)) await new Promise((resolve) => stream.once('drain', resolve));
  }
}

function get(stream: http2.ServerHttp2Stream, key: string): void {
  if (key.startsWith('stdout:')) {
    sendStdout(Number(key.slice(7))).then(
      () => replyOk(stream, pb({})),
      (err: Error) => replyError(stream, 2, err.message),
    );
    return;
  }
  let value: Buffer;
  try {
    value = fs.readFileSync(`kv_${key}`);
  } catch (err) {
    replyError(stream, 2, (err as Error).message);
    return;
  }
  replyOk(stream, pb({ 1: value }));
}

function held(stream: http2.ServerHttp2Stream, set?: Set<http2.ServerHttp2Stream>): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  stream.on('data', () => undefined);
  stream.on('error', () => undefined);
  if (set) (set.add(stream), stream.once('close', () => set.delete(stream)));
}

const unaryRoutes: Record<string, (stream: http2.ServerHttp2Stream, msg: Buffer) => void> = {
  '/proto.KV/Get': (s, m) => get(s, String(unpb(m).get(1) ?? '')),
  '/proto.KV/Put': (s, m) => {
    const f = unpb(m);
    fs.promises.writeFile(`kv_${String(f.get(1) ?? '')}`, (f.get(2) as Buffer | undefined) ?? Buffer.alloc(0), { mode: 0o644 }).then(
      () => replyOk(s, pb({})),
      (err: Error) => replyError(s, 2, err.message),
    );
  },
  '/grpc.health.v1.Health/Check': (s) => replyOk(s, pb({ 1: 1 })),
  '/plugin.GRPCController/Shutdown': (s) => {
    replyOk(s, pb({}));
    s.once('close', exit);
  },
};

server.on('stream', (stream, headers) => {
  const p = String(headers[':path']);
  if (p === '/plugin.GRPCStdio/StreamStdio') return held(stream, stdioStreams);
  if (p === '/plugin.GRPCBroker/StartStream') return held(stream);
  const route = unaryRoutes[p];
  if (!route) return replyError(stream, 12, `unknown method ${p}`);
  onUnary(stream, (msg) => route(stream, msg));
});
server.on('sessionError', () => undefined);
process.on('SIGTERM', exit);
server.listen(sock, () => process.stdout.write(`1|1|unix|${sock}|grpc|\n`));
