/**
 * Faults on the plugin's side, seen from a loopp host: the plugin SIGKILLed during a unary call,
 * during a server stream and during a broker dial; a stalled socket (SIGSTOP); a plugin that
 * ignores Shutdown; a plugin that closes its stdout right after the handshake. Each test asserts the
 * documented error, the settled `exited`, and that nothing is left: no process in the plugin's group,
 * no zombie child, no socket file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { BrokerError, grpcPlugin, startPlugin, type PluginClient, type PluginClientContext, type PluginLogEntry, type StartPluginOptions } from '../../src/index';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { FaultsClient, type Tick } from '../../fixtures/gen/fixtures/faults';
import { assertGroupGone, childPids, fixture, fixtureAt, goBinary, kvGet, kvPut, listDir, rmDir, sleep, tmpDir, zombieChildPids } from '../helpers';

const plugins = {
  kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }),
  faults: grpcPlugin({ client: ({ createClient }) => createClient<FaultsClient>(FaultsClient.service) }),
  brokertest: grpcPlugin({ client: (ctx: PluginClientContext) => ctx }),
};
type P = typeof plugins;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
// The Go KV plugin registers its KV under this name.
const goPlugins = { kv_grpc: plugins.kv, brokertest: plugins.brokertest };

// One temp root: `sock` must end empty after every fault; `work` takes the Go KV plugin's files.
let root: string;
let sockDir: string;
let work: string;
before(() => {
  root = tmpDir('loopp-faults-');
  [sockDir, work] = ['sock', 'work'].map((d) => fs.mkdirSync(path.join(root, d), { recursive: true }) ?? path.join(root, d)) as [string, string];
});
after(() => rmDir(root));

type Launch = Pick<StartPluginOptions<P>, 'command' | 'args'>;
const ts = (name: string): Launch => ({ command: process.execPath, args: [fixture(name)] });
const go = (name: string): Launch => ({ command: goBinary(name), args: [] });

function start<S extends P | typeof goPlugins = P>(launch: Launch, extra: Partial<StartPluginOptions<S>> = {}): Promise<PluginClient<S>> {
  return startPlugin<S>({
    ...launch,
    cwd: work,
    handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
    plugins: plugins as unknown as S,
    unixSocketDir: sockDir,
    ...extra,
  });
}

/** Timings for the README's fault table (diagnostics, not pass/fail criteria). */
function figure(label: string, ms: number): void {
  process.stderr.write(`# ${label}: ${ms} ms\n`);
}

/** Resolves once the plugin has logged `message` (a call reached its handler). */
function logged(entries: PluginLogEntry[], message: string): Promise<void> {
  return (async () => {
    while (!entries.some((e) => e.message === message)) await sleep(10);
  })();
}

function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: grpc.ServiceError }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: grpc.ServiceError) => ({ ok: false as const, error }),
  );
}

/** What every fault must leave behind: nothing. */
async function assertNothingLeft(p: PluginClient<never> | PluginClient<P> | PluginClient<typeof goPlugins>): Promise<void> {
  await assertGroupGone(p.pid);
  assert.deepEqual(zombieChildPids(), [], 'a zombie child is left');
  assert.deepEqual(childPids(), [], 'a child process is left');
  assert.deepEqual(listDir(sockDir), [], 'a socket file is left');
}

/** A plugin that died of SIGKILL from outside: crashed, signal aborted, close() a resolving no-op. */
async function assertCrashedByKill(p: PluginClient<P> | PluginClient<typeof goPlugins>): Promise<void> {
  const exit = await p.exited;
  assert.deepEqual(exit, { code: null, signal: 'SIGKILL', reason: 'crashed' });
  assert.ok(p.signal.aborted, 'the client signal aborts');
  assert.equal((p.signal.reason as { code?: string }).code, 'ERR_LOOPP_CLOSED');
  assert.deepEqual(await p.close(), exit, 'close() after the crash resolves with the same exit');
  await assertNothingLeft(p);
}

/** kv.put with an optional deadline, as a settled result. */
function put(kv: KVClient, key: string, value: Buffer, deadlineMs?: number) {
  const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  return settle(new Promise<void>((res, rej) => kv.put({ key, value }, new grpc.Metadata(), options, (e) => (e ? rej(e) : res()))));
}

/** Resolves once /proc says every thread of `pid` is stopped (state T), within 2 s. */
async function stoppedState(pid: number): Promise<void> {
  const until = Date.now() + 2000;
  const states = () => fs.readdirSync(`/proc/${pid}/task`).map((t) => fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').replace(/^.*\) /s, '')[0]);
  while (!states().every((st) => st === 'T')) {
    assert.ok(Date.now() < until, `process ${pid} not stopped after SIGSTOP: thread states ${states().join('')}`);
    await sleep(5);
  }
}

describe('plugin SIGKILLed during a unary call', () => {
  it('TS plugin: the in-flight call fails UNAVAILABLE, exited = crashed/SIGKILL, nothing left', async () => {
    const entries: PluginLogEntry[] = [];
    const p = await start(ts('holds-calls'), { onLog: (e) => entries.push(e) });
    const faults = p.dispense('faults');
    const inFlight = settle(new Promise((res, rej) => faults.hold({}, (e, r) => (e ? rej(e) : res(r)))));
    await logged(entries, 'hold received');
    const t0 = Date.now();
    process.kill(p.pid, 'SIGKILL');
    const r = await inFlight;
    figure('unary, TS: kill -> call failed', Date.now() - t0);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, grpc.status.UNAVAILABLE, r.error.message);
    await p.exited;
    figure('unary, TS: kill -> exited', Date.now() - t0);
    await assertCrashedByKill(p);
  });

  it('Go plugin: 32 callers flooding 64 KiB Puts, killed after 100 replies: each caller\'s in-flight Put fails UNAVAILABLE', async () => {
    const p = await start<typeof goPlugins>(go('kv-plugin-go'), { plugins: goPlugins });
    const kv = p.dispense('kv_grpc');
    const value = Buffer.alloc(64 * 1024, 7);
    const CALLERS = 32;
    let done = 0;
    let t0 = 0;
    // Every caller always has one Put in flight, so the kill lands on exactly CALLERS calls.
    const callers = Array.from({ length: CALLERS }, async (_, c) => {
      for (let i = 0; ; i++) {
        const r = await put(kv, `flood${c}-${i}`, value);
        if (!r.ok) return r.error;
        if (++done === 100) {
          t0 = Date.now();
          process.kill(p.pid, 'SIGKILL');
        }
      }
    });
    const errors = await Promise.all(callers);
    figure('unary, Go flood: kill -> every caller failed', Date.now() - t0);
    process.stderr.write(`# unary, Go flood: ${done} Puts done, ${errors.length} failed\n`);
    assert.ok(done >= 100);
    assert.equal(errors.length, CALLERS);
    for (const e of errors) assert.equal(e.code, grpc.status.UNAVAILABLE, e.message);
    await assertCrashedByKill(p);
  });
});

describe('plugin SIGKILLed during a server stream', () => {
  it('the consumer gets k > 0 messages, then the stream errors UNAVAILABLE', async () => {
    const p = await start(ts('holds-calls'));
    const stream = p.dispense('faults').ticks({ intervalMs: 5 });
    const seqs: number[] = [];
    let t0 = 0;
    const ended = new Promise<grpc.ServiceError>((resolve, reject) => {
      stream.on('data', (t: Tick) => {
        seqs.push(t.seq);
        if (seqs.length === 5) {
          t0 = Date.now();
          process.kill(p.pid, 'SIGKILL');
        }
      });
      stream.once('error', resolve);
      stream.once('end', () => reject(new Error('the stream ended cleanly')));
    });
    const err = await ended;
    figure('server stream: kill -> stream error', Date.now() - t0);
    assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
    assert.ok(seqs.length >= 5);
    assert.deepEqual(seqs, seqs.map((_, i) => i), 'ticks arrive in order, none lost before the fault');
    await assertCrashedByKill(p);
  });
});

describe('plugin SIGKILLed during a broker dial', () => {
  for (const kind of ['ts', 'go'] as const) {
    for (const mux of [false, true]) {
      it(`${kind} plugin, ${mux ? 'multiplexed' : 'classic'}: the pending dial fails ERR_LOOPP_BROKER_CLOSED within 1.5 s, no broker socket left`, async () => {
        const launch = kind === 'ts' ? { command: process.execPath, args: [fixtureAt('brokertest/brokertest-plugin')] } : go('brokertest-plugin-go');
        const p = await start(launch, { grpcBrokerMultiplex: mux });
        const { broker } = p.dispense('brokertest');
        // Classic: the dial waits for a ConnInfo. Multiplexed: a knock whose ack never comes (stopped).
        if (mux) {
          process.kill(p.pid, 'SIGSTOP');
          await stoppedState(p.pid);
        }
        const pending = broker.dial(77);
        setTimeout(() => process.kill(p.pid, 'SIGKILL'), 100);
        const t0 = Date.now();
        const err = await pending.then(() => assert.fail('dial should fail'), (e: Error) => e);
        const ms = Date.now() - t0;
        assert.ok(err instanceof BrokerError, String(err));
        assert.equal(err.code, 'ERR_LOOPP_BROKER_CLOSED');
        assert.ok(ms < 1500, `took ${ms} ms`);
        figure(`broker dial, ${kind} ${mux ? 'mux' : 'classic'}: dial -> rejected (kill at +100 ms)`, ms);
        await assertCrashedByKill(p);
      });
    }
  }
});

const GRACE_MS = 1500;

describe('stalled socket: the plugin stops reading (SIGSTOP)', () => {
  for (const kind of ['ts', 'go'] as const) {
    it(`${kind} plugin: a call with a deadline fails DEADLINE_EXCEEDED; close() fails the others and SIGKILLs ${GRACE_MS} ms after it began`, async () => {
      const p =
        kind === 'ts'
          ? await start(ts('holds-calls'), { gracefulShutdownMs: GRACE_MS })
          : ((await start<typeof goPlugins>(go('kv-plugin-go'), { plugins: goPlugins, gracefulShutdownMs: GRACE_MS })) as unknown as PluginClient<P>);
      // A failed assertion must not leave a stopped plugin behind: it would keep this file's runner alive.
      await using _ = { [Symbol.asyncDispose]: () => p.kill().then(() => undefined) };
      const kv = kind === 'ts' ? p.dispense('kv') : (p as unknown as PluginClient<typeof goPlugins>).dispense('kv_grpc');
      assert.equal((await put(kv, 'before', Buffer.from('x'))).ok, true);
      process.kill(p.pid, 'SIGSTOP');
      // kill() only queues the signal: a Go plugin's threads on the other core can still answer a call
      // sent at once (seen with loopp's channel, which sends within the same tick). Wait until stopped.
      await stoppedState(p.pid);
      const withDeadline = await put(kv, 'deadline', Buffer.from('x'), 300);
      assert.equal(withDeadline.ok, false);
      if (!withDeadline.ok) assert.equal(withDeadline.error.code, grpc.status.DEADLINE_EXCEEDED);
      const noDeadline = put(kv, 'forever', Buffer.from('x'));
      const t0 = Date.now();
      const exit = await p.close();
      const ms = Date.now() - t0;
      assert.deepEqual(exit, { code: null, signal: 'SIGKILL', reason: 'killed' });
      // Lower bound: the graceful budget is honoured; upper: one budget, not Shutdown deadline + wait.
      assert.ok(ms >= GRACE_MS - 20 && ms < 2 * GRACE_MS - 200, `close took ${ms} ms`);
      figure(`stalled, ${kind}: close() -> exited (gracefulShutdownMs ${GRACE_MS})`, ms);
      const r = await noDeadline;
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.code, grpc.status.UNAVAILABLE, r.error.message);
      assert.ok(p.signal.aborted);
      await assertNothingLeft(p);
    });
  }

  it('200 x 1 MiB Puts in flight to a stopped plugin: close() fails every one UNAVAILABLE; host memory reported', async () => {
    const p = await start(ts('holds-calls'), { gracefulShutdownMs: 200 });
    await using _ = { [Symbol.asyncDispose]: () => p.kill().then(() => undefined) };
    const kv = p.dispense('kv');
    const MiB = 2 ** 20;
    const value = Buffer.alloc(MiB, 1);
    assert.equal((await put(kv, 'warm', value)).ok, true);
    process.kill(p.pid, 'SIGSTOP');
    await stoppedState(p.pid);
    gc();
    const before = process.memoryUsage();
    const puts = Array.from({ length: 200 }, (_, i) => put(kv, `big${i}`, value));
    await sleep(500);
    const during = process.memoryUsage();
    const exit = await p.close();
    const results = await Promise.all(puts);
    await sleep(1000);
    gc();
    const afterClose = process.memoryUsage();
    // Figures for the README, not a pass/fail criterion: grpc-js serializes each request when its call
    // starts and queues it behind the HTTP/2 flow-control window, so the host holds what is in flight
    // (grpc-go does the same); see the report for what is released after close.
    const grow = (a: NodeJS.MemoryUsage, k: 'rss' | 'arrayBuffers') => ((a[k] - before[k]) / MiB).toFixed(0);
    process.stderr.write(
      `# stalled, 200 x 1 MiB in flight: rss +${grow(during, 'rss')} MiB, buffers +${grow(during, 'arrayBuffers')} MiB; ` +
        `1 s after close: rss +${grow(afterClose, 'rss')} MiB, buffers +${grow(afterClose, 'arrayBuffers')} MiB\n`,
    );
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL', reason: 'killed' });
    assert.equal(results.length, 200);
    for (const r of results) {
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.code, grpc.status.UNAVAILABLE, r.error.message);
    }
    await assertNothingLeft(p);
  });
});

describe('plugin that ignores Shutdown', () => {
  it(`answers Shutdown but stays alive: close() SIGKILLs it ${GRACE_MS} ms after it began`, async () => {
    const p = await start(ts('ignores-shutdown'), { gracefulShutdownMs: GRACE_MS });
    await p.ping();
    const t0 = Date.now();
    const exit = await p.close();
    const ms = Date.now() - t0;
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL', reason: 'killed' });
    assert.ok(ms >= GRACE_MS - 20 && ms < 2 * GRACE_MS - 200, `close took ${ms} ms`);
    figure(`ignores Shutdown: close() -> exited (gracefulShutdownMs ${GRACE_MS})`, ms);
    await assertNothingLeft(p);
  });
});

describe('plugin that closes its stdout right after the handshake', () => {
  for (const unterminated of [false, true]) {
    it(`${unterminated ? 'handshake without its newline (read at EOF, as bufio.Scanner does): ' : ''}calls keep working, GRPCStdio still forwards, close() is clean and nothing is logged as an error`, async () => {
      const entries: PluginLogEntry[] = [];
      const out = new PassThrough();
      let forwarded = '';
      out.on('data', (c: Buffer) => (forwarded += c.toString()));
      const env: Record<string, string> = unterminated ? { HANDSHAKE_UNTERMINATED: '1' } : {};
      const p = await start(ts('closes-stdout'), { onLog: (e) => entries.push(e), syncStdout: out, env });
      const kv = p.dispense('kv');
      for (let i = 0; i < 20; i++) await kvPut(kv, `k${i}`, `v${i}`);
      assert.equal(await kvGet(kv, 'k19'), 'v19');
      await p.ping();
      while (!forwarded.includes('\n')) await sleep(10);
      assert.equal(forwarded, 'after close: forwarded over GRPCStdio\n');
      assert.equal(p.hasExited, false);
      assert.equal(p.signal.aborted, false);
      const t0 = Date.now();
      const exit = await p.close();
      figure('closes stdout: close() -> exited', Date.now() - t0);
      assert.deepEqual(exit, { code: 0, signal: null, reason: 'closed' });
      assert.deepEqual(entries.filter((e) => e.level === 'error'), []);
      await assertNothingLeft(p);
    });
  }
});
