/**
 * Large stdio bursts through GRPCStdio, both directions of the TS/Go pairing: a TS plugin's
 * interleaved stdout/stderr writes (stdioBurstPlan: log lines coalesced into messages, large writes
 * split across them, the writer held by the 1 MiB back-pressure) reach a Go host (go-plugin v1.8.0's
 * SyncStdout/SyncStderr) and a TS host byte-exact, in messages of at most 64 KiB; a Go plugin's 1 KiB
 * messages reach a TS host's slow sink in order, the host never writing to a sink that owes a 'drain'.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { startPlugin } from '../../src/index';
import { burstBytes, FIXTURE_HANDSHAKE, floodChunk, stdioBurstPlan } from '../../fixtures/plugins/_common';
import { childPids, fixture, goBinary, kvGet, rmDir, run, shellCommand, tmpDir } from '../helpers';
import { kvPlugins } from '../load/common';

const BURST_BYTES = 8 * 1024 * 1024;
const MAX_MESSAGE = 64 * 1024;
const work = tmpDir('loopp-stdio-bursts-');
after(() => rmDir(work));

/** What the plan writes: each channel's stream, and both in write order. */
function expected(total: number): { out: Buffer; err: Buffer; both: Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const both: Buffer[] = [];
  const offsets = { out: 0, err: 0 };
  for (const p of stdioBurstPlan(total)) {
    const b = burstBytes(p.err, p.err ? offsets.err : offsets.out, p.length);
    (p.err ? err : out).push(b);
    both.push(b);
    if (p.err) offsets.err += p.length;
    else offsets.out += p.length;
  }
  return { out: Buffer.concat(out), err: Buffer.concat(err), both: Buffer.concat(both) };
}

/** Keeps every write; optionally slow (a pause per 256 KiB); records writes made while a 'drain' was owed. */
class RecordingSink extends Writable {
  readonly chunks: Buffer[] = [];
  received = 0;
  writesWhileOwingDrain = 0;
  #sincePause = 0;
  readonly #slow: boolean;

  constructor(slow: boolean) {
    super({ highWaterMark: 64 * 1024 });
    this.#slow = slow;
  }

  override write(chunk: Buffer, ...rest: never[]): boolean {
    if (this.writableNeedDrain) this.writesWhileOwingDrain++;
    return super.write(chunk, ...rest);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    this.#sincePause += chunk.length;
    if (this.#slow && this.#sincePause >= 256 * 1024) {
      this.#sincePause = 0;
      setTimeout(cb, 5);
    } else cb();
  }

  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.received < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(this.received, n, `${this.received} of ${n} bytes arrived within ${timeoutMs} ms`);
  }
}

describe('stdio bursts', () => {
  it('TS plugin -> Go host: an 8 MiB interleaved burst arrives byte-exact per channel, in messages of at most 64 KiB', async () => {
    const want = expected(BURST_BYTES);
    const outFile = path.join(work, 'go-stdout.bin');
    const errFile = path.join(work, 'go-stderr.bin');
    const report = path.join(work, 'go-report.json');
    const r = await run(
      goBinary('feature-host-go'),
      [`-stdout-bytes=${want.out.length}`, `-stderr-bytes=${want.err.length}`, `-stdout-file=${outFile}`, `-stderr-file=${errFile}`, 'stdio'],
      {
        cwd: work,
        env: { ...process.env, PLUGIN_CMD: shellCommand(process.execPath, fixture('stdio-writer')), FEATURE_HOST_LOG_LEVEL: 'warn', STDIO_BURST_BYTES: String(BURST_BYTES), STDIO_REPORT_FILE: report },
        timeoutMs: 30_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as Record<string, number | boolean>;
    assert.equal(json.timedOut, false);
    assert.ok(fs.readFileSync(outFile).equals(want.out), 'stdout differs');
    assert.ok(fs.readFileSync(errFile).equals(want.err), 'stderr differs');
    // go-plugin's host writes each message's data in one Write: the largest is a full 64 KiB message.
    assert.equal(json.stdoutMaxWrite, MAX_MESSAGE);
    assert.ok((json.stderrMaxWrite as number) <= MAX_MESSAGE, `stderr message of ${json.stderrMaxWrite} bytes`);
    assert.ok((json.stdoutWrites as number) < want.out.length / 1024, `${json.stdoutWrites} stdout messages: not coalesced`);
    // The writer outran gRPC and was held by write() === false / 'drain' (nothing was dropped: bytes exact).
    assert.ok((JSON.parse(fs.readFileSync(report, 'utf8')) as { drainWaits: number }).drainWaits > 0);
  });

  it('TS plugin -> TS host: the same burst, both channels into one slow sink, arrives byte-exact in write order', async () => {
    const want = expected(BURST_BYTES);
    const sink = new RecordingSink(true);
    const report = path.join(work, 'ts-report.json');
    const p = await startPlugin({
      command: process.execPath,
      args: [fixture('stdio-writer')],
      cwd: work,
      handshake: FIXTURE_HANDSHAKE,
      plugins: kvPlugins,
      env: { STDIO_BURST_BYTES: String(BURST_BYTES), STDIO_REPORT_FILE: report },
      syncStdout: sink,
      syncStderr: sink,
    });
    try {
      await sink.waitFor(want.both.length, 20_000);
      assert.ok(Buffer.concat(sink.chunks).equals(want.both), 'bytes or their order across stdout/stderr differ');
      assert.equal(Math.max(...sink.chunks.map((c) => c.length)), MAX_MESSAGE);
      assert.equal(sink.writesWhileOwingDrain, 0);
    } finally {
      assert.deepEqual(await p.close(), { code: 0, signal: null, reason: 'closed' });
    }
    // Read once the plugin has exited: it writes the report after its last write returns.
    assert.ok((JSON.parse(fs.readFileSync(report, 'utf8')) as { drainWaits: number }).drainWaits > 0);
    assert.deepEqual(childPids(), []);
  });

  it('Go plugin -> TS host: 16 MiB in 1 KiB messages into a slow sink arrive in order, the sink never written while it owes a drain', async () => {
    const n = 16 * 1024 * 1024;
    const sink = new RecordingSink(true);
    const p = await startPlugin({ command: goBinary('stdio-plugin-go'), cwd: work, handshake: FIXTURE_HANDSHAKE, plugins: kvPlugins, syncStdout: sink });
    try {
      await kvGet(p.dispense('kv'), `flood:${n}`);
      await sink.waitFor(n, 20_000);
      assert.ok(Buffer.concat(sink.chunks).equals(floodChunk(0, n)), 'flood bytes differ');
      assert.ok(sink.chunks.every((c) => c.length <= 1024));
      assert.equal(sink.writesWhileOwingDrain, 0);
    } finally {
      assert.deepEqual(await p.close(), { code: 0, signal: null, reason: 'closed' });
    }
    assert.deepEqual(childPids(), []);
  });
});
