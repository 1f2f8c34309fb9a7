/** The loopp gRPC server's framing: messages across and within DATA chunks, the receive limit, grpc-timeout. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { frameMessage, MessageDecoder, parseTimeoutMs } from '../../src/net/h2server/framing';

describe('MessageDecoder', () => {
  test('messages split at every byte, and several in one chunk, come out whole and in order', () => {
    const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(70_000, 7)];
    const wire = Buffer.concat(bodies.map((b) => frameMessage(b)));
    for (const step of [1, 2, 5, 6, 4096, wire.length]) {
      const d = new MessageDecoder(-1);
      const out: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) out.push(...d.push(wire.subarray(i, i + step)));
      assert.deepEqual(
        out.map((m) => m.subarray(5)),
        bodies,
        `step ${step}`,
      );
    }
  });

  test('a message over the limit is refused from its prefix, with grpc-js text', () => {
    const d = new MessageDecoder(10);
    assert.deepEqual(d.push(frameMessage(Buffer.alloc(10))).length, 1);
    assert.throws(() => d.push(frameMessage(Buffer.alloc(11)).subarray(0, 5)), { message: 'Received message larger than max (11 vs 10)' });
  });
});

test('grpc-timeout parses as grpc-js does', () => {
  assert.equal(parseTimeoutMs('100m'), 100);
  assert.equal(parseTimeoutMs('2S'), 2000);
  assert.equal(parseTimeoutMs('1H'), 3_600_000);
  assert.equal(parseTimeoutMs('1500u'), 1);
  assert.equal(parseTimeoutMs('999999n'), 0);
  assert.equal(parseTimeoutMs('x'), undefined);
});
