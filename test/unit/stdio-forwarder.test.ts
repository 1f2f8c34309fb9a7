/**
 * The plugin-side GRPCStdio queue on its own (StdioForwarder.push, a stand-in server stream): how
 * writes become messages (coalesced per channel up to 64 KiB, in write order across channels), the
 * bound on what waits for a host that has not opened the stream, and pausing on the stream's 'drain'.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { createLog } from '../../src/core/debug';
import { StdioData_Channel } from '../../src/gen';
import { StdioForwarder } from '../../src/plugin/stdio';
import { decodeStdioData } from '../../src/shared/stdio-codec';

const log = createLog('loop:test');
const OUT = StdioData_Channel.STDOUT;
const ERR = StdioData_Channel.STDERR;

/** A server stream that keeps what is written and reports back-pressure after `room` messages until drained. */
class FakeCall extends EventEmitter {
  readonly messages: { channel: number; data: Buffer }[] = [];
  room = Infinity;
  write(m: { wire: Buffer }): boolean {
    const d = decodeStdioData(m.wire);
    this.messages.push({ channel: d.channel, data: Buffer.from(d.data) });
    return --this.room > 0;
  }
  end(): void {}
}

function open(f: StdioForwarder, call: FakeCall): void {
  let handler: ((c: unknown) => void) | undefined;
  f.addTo({ addService: (_s: unknown, impl: { streamStdio: (c: unknown) => void }) => (handler = impl.streamStdio) } as unknown as grpc.Server);
  handler?.(call);
}

const tick = () => new Promise((r) => setImmediate(r));
const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('StdioForwarder', () => {
  it('coalesces one tick of writes per channel into messages of at most 64 KiB, keeping the order across channels', async () => {
    const f = new StdioForwarder({ log });
    const call = new FakeCall();
    open(f, call);
    f.push(OUT, bytes(10, 1));
    f.push(OUT, bytes(20, 2));
    f.push(ERR, bytes(5, 3));
    f.push(OUT, bytes(70_000, 4));
    f.push(OUT, bytes(1, 5));
    await tick();
    assert.deepEqual(
      call.messages.map((m) => [m.channel, m.data.length]),
      [
        [OUT, 30],
        [ERR, 5],
        [OUT, 65_536],
        [OUT, 4_465],
      ],
    );
    assert.deepEqual(Buffer.concat(call.messages.filter((m) => m.channel === OUT).map((m) => m.data)), Buffer.concat([bytes(10, 1), bytes(20, 2), bytes(70_000, 4), bytes(1, 5)]));
  });

  it('before the stream opens, keeps the newest maxQueuedBytes and counts what it dropped', async () => {
    const f = new StdioForwarder({ log, maxQueuedBytes: 100_000 });
    for (let i = 0; i < 10; i++) f.push(OUT, bytes(30_000, i));
    const call = new FakeCall();
    open(f, call);
    await tick();
    const got = Buffer.concat(call.messages.map((m) => m.data));
    assert.equal(f.droppedBytes + got.length, 300_000);
    assert.ok(got.length <= 100_000, `${got.length} bytes kept`);
    // What is kept is the tail of what was written, whole messages dropped from the front.
    assert.deepEqual(got, Buffer.concat(Array.from({ length: 10 }, (_, i) => bytes(30_000, i))).subarray(300_000 - got.length));
  });

  it("stops at the stream's back-pressure and resumes on its 'drain', losing nothing", async () => {
    const f = new StdioForwarder({ log });
    const call = new FakeCall();
    call.room = 2;
    open(f, call);
    f.push(OUT, bytes(5 * 65_536, 7));
    await tick();
    assert.equal(call.messages.length, 2);
    f.push(OUT, bytes(3, 8)); // joins the queue behind the three waiting messages
    call.room = Infinity;
    call.emit('drain');
    await tick();
    assert.deepEqual(
      call.messages.map((m) => m.data.length),
      [65_536, 65_536, 65_536, 65_536, 65_536, 3],
    );
  });
});
