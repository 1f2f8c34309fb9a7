/**
 * loopp's yamux against hashicorp/yamux v0.1.2 (DefaultConfig, go-interop/bin/yamux-peer): both yamux
 * roles on both ends, 50 concurrent 1 MiB streams byte-exact in both directions of opening, half-close,
 * Go's keepalive (200 ms) answered for 2 s, pings both ways, GoAway both ways, 16 MiB throughput.
 * Fails (never skips) when the Go binary is missing: run `make interop-bin`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createYamuxSession, isYamuxError, type YamuxSession, type YamuxStream } from '../../src/net/yamux/index';
import { goBinary, readAll, rmDir, sleep, tmpDir } from '../helpers';

type GoEvent = { event: string; ok?: boolean; [k: string]: unknown };

/** The Go peer process: JSON events on stdout, commands on stdin. */
class GoPeer {
  private readonly events: GoEvent[] = [];
  private waiters: Array<() => void> = [];
  stderr = '';
  exited = false;
  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as GoEvent);
      } catch {
        this.events.push({ event: 'garbage', line });
      }
      this.wake();
    });
    proc.stderr.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-8000)));
    proc.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Takes the first not yet taken event named `name`. */
  async next(name: string, timeoutMs = 60_000): Promise<GoEvent> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e) => e.event === name);
      if (i >= 0) return this.events.splice(i, 1)[0] as GoEvent;
      if (this.exited) assert.fail(`yamux-peer exited before "${name}"; stderr:\n${this.stderr}`);
      const left = until - Date.now();
      if (left <= 0) assert.fail(`no "${name}" from yamux-peer within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }
  has(name: string): boolean {
    return this.events.some((e) => e.event === name);
  }
  async command(line: string, reply: string, timeoutMs?: number): Promise<GoEvent> {
    this.proc.stdin.write(`${line}\n`);
    return this.next(reply, timeoutMs);
  }
  /** EOF on stdin: the peer closes its session and exits; SIGKILL if it does not within 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exit = once(this.proc, 'exit');
    this.proc.stdin.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(t);
  }
}

function startGo(args: string[]): GoPeer {
  const proc = spawn(goBinary('yamux-peer'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new GoPeer(proc);
}

function serveStreams(session: YamuxSession, service: 'echo' | 'sink'): void {
  session.on('stream', (s: YamuxStream) => {
    s.on('error', () => {});
    if (service === 'echo') {
      s.pipe(s);
      return;
    }
    const h = createHash('sha256');
    s.on('data', (c: Buffer) => h.update(c));
    s.on('end', () => s.end(h.digest('hex')));
  });
}

/** Writes `payload` in pieces (honouring back-pressure), then half-closes. */
async function writeAndEnd(s: YamuxStream, payload: Buffer, piece = 64 * 1024): Promise<void> {
  for (let off = 0; off < payload.length; off += piece) {
    if (!s.write(payload.subarray(off, off + piece))) await once(s, 'drain');
  }
  s.end();
}

async function echoStreams(session: YamuxSession, n: number, size: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async () => {
      const s = session.open();
      const payload = randomBytes(size);
      const got = readAll(s);
      await writeAndEnd(s, payload, 48 * 1024 + 7);
      const back = await got;
      assert.equal(back.length, payload.length, `stream ${s.id} length`);
      assert.ok(back.equals(payload), `stream ${s.id} bytes differ`);
    }),
  );
}

let dir: string;
before(() => {
  dir = tmpDir('loopp-yamux-go-');
});
after(() => rmDir(dir));

const MiB = 1024 * 1024;

/** Connects the TS session and the Go peer in the given arrangement. */
async function setup(opts: { tsSide: 'client' | 'server'; service: 'echo' | 'sink'; name: string }): Promise<{ go: GoPeer; ts: YamuxSession }> {
  goBinary('yamux-peer'); // fail (never skip) before opening anything when the binary is missing
  const sock = path.join(dir, `${opts.name}.sock`);
  const goRole = opts.tsSide === 'client' ? 'server' : 'client';
  const common = ['-role', goRole, '-service', opts.service, '-keepalive', '200ms', '-write-timeout', '1s'];
  let go: GoPeer;
  let raw: net.Socket;
  if (opts.tsSide === 'client') {
    // Go listens (like a go-plugin plugin), TS dials (like the host).
    go = startGo([...common, '-listen', sock]);
    await go.next('listening', 10_000);
    raw = net.connect(sock);
    await once(raw, 'connect');
  } else {
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(sock, res));
    try {
      const accepted = once(server, 'connection') as Promise<[net.Socket]>;
      go = startGo([...common, '-connect', sock]);
      [raw] = await accepted;
    } finally {
      server.close();
    }
  }
  await go.next('ready', 10_000);
  const ts = createYamuxSession({ socket: raw, side: opts.tsSide, instance: `ts ${opts.tsSide} vs go` });
  ts.on('error', () => {});
  serveStreams(ts, opts.service);
  return { go, ts };
}

for (const tsSide of ['client', 'server'] as const) {
  const goSide = tsSide === 'client' ? 'server' : 'client';
  describe(`TS yamux ${tsSide} <-> Go yamux ${goSide} (hashicorp/yamux v0.1.2)`, () => {
    let go: GoPeer | undefined;
    let ts: YamuxSession | undefined;
    before(async () => {
      ({ go, ts } = await setup({ tsSide, service: 'echo', name: `echo-${tsSide}` }));
    });
    after(async () => {
      await go?.stop();
      await ts?.close();
    });

    const peers = (): { go: GoPeer; ts: YamuxSession } => {
      assert.ok(go !== undefined && ts !== undefined, 'set-up failed');
      return { go, ts };
    };

    it('TS opens 50 concurrent streams, each echoing 1 MiB byte-exact through Go (half-close)', async () => {
      const { go, ts } = peers();
      const t0 = performance.now();
      await echoStreams(ts, 50, MiB);
      console.log(`# TS ${tsSide} -> Go echo: 50 x 1 MiB in ${(performance.now() - t0).toFixed(0)} ms`);
      const stats = await go.command('stats', 'stats');
      assert.equal(stats.closed, false);
    });

    it('Go opens 50 concurrent streams, each echoing 1 MiB byte-exact through TS (half-close)', async () => {
      const { go, ts } = peers();
      const r = await go.command(`open 50 ${MiB} echo`, 'open');
      assert.equal(r.ok, true, JSON.stringify(r.errors));
      console.log(`# Go ${goSide} -> TS echo: 50 x 1 MiB in ${Number(r.ms).toFixed(0)} ms`);
      assert.equal(ts.numStreams, 0);
    });

    it("answers Go's 200 ms keepalive pings and keeps the session alive for 2 s", async () => {
      const { go, ts } = peers();
      const before = ts.stats.pingsReceived;
      await sleep(2000);
      assert.ok(!ts.isClosed, 'TS session closed');
      assert.ok(!go.has('session-closed'), `Go closed the session; stderr:\n${go.stderr}`);
      const stats = await go.command('stats', 'stats');
      assert.equal(stats.closed, false);
      const answered = ts.stats.pingsReceived - before;
      assert.ok(answered >= 6, `only ${answered} keepalive pings from Go in 2 s`);
    });

    it('pings both ways', async () => {
      const { go, ts } = peers();
      const rtts = [await ts.ping(), await ts.ping(), await ts.ping()];
      assert.ok(rtts.every((r) => r >= 0 && r < 1000), String(rtts));
      const r = await go.command('ping 5', 'ping');
      assert.equal(r.ok, true, String(r.error));
      assert.equal((r.rtts_ms as number[]).length, 5);
      console.log(`# ping rtt TS->Go ${rtts.map((x) => x.toFixed(3)).join('/')} ms, Go->TS ${(r.rtts_ms as number[]).join('/')} ms`);
    });

    it('a stream reset by TS fails on the Go side, and the session carries on', async () => {
      const { go, ts } = peers();
      const s = ts.open();
      s.on('error', () => {});
      s.write(randomBytes(1000));
      await sleep(50);
      s.destroy();
      await sleep(100);
      const stats = await go.command('stats', 'stats');
      assert.equal(stats.numStreams, 0);
      assert.equal(stats.closed, false);
      await echoStreams(ts, 1, 10_000);
    });

    it('GoAway from TS makes Go refuse to open streams; existing streams unaffected', async () => {
      const { go, ts } = peers();
      ts.goAway();
      await sleep(100);
      const r = await go.command('open 1 10 echo', 'open');
      assert.equal(r.ok, false);
      assert.match(String((r.errors as string[])[0]), /remote end is not accepting connections/);
      await echoStreams(ts, 2, 100_000); // Go still accepts our streams
    });

    it('GoAway from Go makes TS refuse to open streams', async () => {
      const { go, ts } = peers();
      const goaway = once(ts, 'goaway');
      const r = await go.command('goaway', 'goaway');
      assert.equal(r.ok, true);
      await goaway;
      assert.throws(() => ts.open(), (e: unknown) => isYamuxError(e, 'remote-goaway'));
    });

    it('Go closing the session closes the TS session (no GoAway, no error)', async () => {
      const { go, ts } = peers();
      const errors: unknown[] = [];
      ts.on('error', (e) => errors.push(e));
      await go.command('close', 'close');
      await ts.closed;
      assert.ok(isYamuxError(ts.closeReason, 'connection-lost'), String(ts.closeReason));
      await sleep(20);
      assert.equal(errors.length, 0);
    });

    it('Go logged no yamux warnings or errors (window violations, bad frames, ...)', async () => {
      const { go, ts } = peers();
      await go.stop();
      // One warning is inherent to yamux and Go's own peers produce it too: a window update (type 1,
      // no flags) that crossed the peer's FIN reaches a stream the peer already removed. Any other
      // warning or error fails the test.
      const benign = /\[WARN\] yamux: frame for missing stream: Vsn:0 Type:1 Flags:0 StreamID:\d+ Length:\d+/;
      const lines = go.stderr.split('\n').filter((l) => /\[(WARN|ERR)\] yamux/.test(l) && !benign.test(l));
      assert.deepEqual(lines, [], go.stderr);
    });
  });
}

describe('throughput TS <-> Go, one 16 MiB stream', () => {
  for (const tsSide of ['client', 'server'] as const) {
    it(`TS ${tsSide} -> Go sink and Go -> TS sink`, async () => {
      const { go, ts } = await setup({ tsSide, service: 'sink', name: `sink-${tsSide}` });
      try {
        const payload = randomBytes(16 * MiB);
        const want = createHash('sha256').update(payload).digest('hex');
        const s = ts.open();
        const t0 = performance.now();
        const got = readAll(s);
        await writeAndEnd(s, payload, 256 * 1024);
        assert.equal((await got).toString(), want);
        const ms = performance.now() - t0;
        const r = await go.command(`open 1 ${16 * MiB} sha`, 'open');
        assert.equal(r.ok, true, JSON.stringify(r.errors));
        console.log(
          `# 16 MiB single stream: TS ${tsSide} -> Go ${(16 / (ms / 1000)).toFixed(1)} MiB/s (${ms.toFixed(0)} ms); ` +
            `Go -> TS ${tsSide} ${Number(r.mibps).toFixed(1)} MiB/s (${Number(r.ms).toFixed(0)} ms)`,
        );
      } finally {
        await go.stop();
        await ts.close();
      }
    });
  }
});
