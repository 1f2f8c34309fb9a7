/**
 * gRPC message framing shared by loopp's channel and server: messages come out whole, prefix included,
 * and in order however DATA frames cut them (every split point of a sample stream, steps of several
 * sizes, one byte at a time), zero-length messages included, a whole message in one chunk without a
 * copy; a message over the limit is refused from its prefix with grpc-js's text; the compressed flag
 * is reported for the end to decide.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageDecoder, MessageTooLarge, frameMessage, isCompressed } from '../../src/net/grpc-framing';

const messages = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from([1, 2, 3])];
const stream = Buffer.concat(messages.map(frameMessage));

function decodeIn(chunks: Buffer[], max = -1): Buffer[] {
  const d = new MessageDecoder(max);
  return chunks.flatMap((c) => d.push(c)).map((m) => m.subarray(5));
}

describe('gRPC framing', () => {
  it('frameMessage writes flag 0 and the big-endian length', () => {
    assert.deepEqual([...frameMessage(Buffer.from('ab'))], [0, 0, 0, 0, 2, 97, 98]);
    assert.deepEqual([...frameMessage(new Uint8Array([9]))], [0, 0, 0, 0, 1, 9]);
  });

  it('one chunk, every two-way split, steps of several sizes and one byte at a time give the same messages', () => {
    assert.deepEqual(decodeIn([stream]), messages);
    for (const at of [1, 4, 5, 6, 9, 10, 11, 15, 16, 17, 1000, 70_016, 70_020, stream.length - 1]) {
      assert.deepEqual(decodeIn([stream.subarray(0, at), stream.subarray(at)]), messages, `split at ${at}`);
    }
    for (const step of [1, 2, 5, 6, 4096]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) chunks.push(stream.subarray(i, i + step));
      assert.deepEqual(decodeIn(chunks), messages, `step ${step}`);
    }
  });

  it('a message whole in one chunk comes out as a view of it, prefix included (no copy)', () => {
    const one = frameMessage(Buffer.from('abc'));
    const [m] = new MessageDecoder(-1).push(one);
    assert.equal(m?.buffer, one.buffer);
    assert.deepEqual(m, one);
  });

  it('a message over the receive limit: MessageTooLarge with grpc-js text, from its prefix alone', () => {
    assert.throws(() => decodeIn([stream], 69_999), (e: unknown) => e instanceof MessageTooLarge && e.message === 'Received message larger than max (70000 vs 69999)');
    assert.deepEqual(decodeIn([stream], 70_000), messages);
    const d = new MessageDecoder(10);
    assert.equal(d.push(frameMessage(Buffer.alloc(10))).length, 1);
    assert.throws(() => d.push(frameMessage(Buffer.alloc(11)).subarray(0, 5)), { message: 'Received message larger than max (11 vs 10)' });
  });

  it('the compressed flag is reported on the message', () => {
    const framed = frameMessage(Buffer.from('x'));
    assert.equal(isCompressed(framed), false);
    framed[0] = 1;
    const [m] = new MessageDecoder(-1).push(framed);
    assert.equal(isCompressed(m!), true);
  });
});
