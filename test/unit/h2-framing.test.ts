/**
 * gRPC message framing of loopp's channel: messages come out whole and in order however DATA frames cut
 * them (every split point of a sample stream, and one byte at a time), zero-length messages included;
 * a message over the limit and a compressed message are refused with grpc-js's texts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompressedMessage, MessageDecoder, MessageTooLarge, frameMessage } from '../../src/net/h2/framing';

const messages = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from([1, 2, 3])];
const stream = Buffer.concat(messages.map(frameMessage));

function decodeIn(chunks: Buffer[], max = -1): Buffer[] {
  const d = new MessageDecoder(max);
  return chunks.flatMap((c) => d.push(c));
}

describe('h2 framing', () => {
  it('frameMessage writes flag 0 and the big-endian length', () => {
    assert.deepEqual([...frameMessage(Buffer.from('ab'))], [0, 0, 0, 0, 2, 97, 98]);
  });

  it('one chunk, every two-way split, and one byte at a time give the same messages', () => {
    assert.deepEqual(decodeIn([stream]), messages);
    for (const at of [1, 4, 5, 6, 9, 10, 11, 15, 16, 17, 1000, 70_016, 70_020, stream.length - 1]) {
      assert.deepEqual(decodeIn([stream.subarray(0, at), stream.subarray(at)]), messages, `split at ${at}`);
    }
    const small = Buffer.concat([messages[0]!, messages[1]!, messages[3]!].map(frameMessage));
    assert.deepEqual(decodeIn([...small].map((b) => Buffer.from([b]))), [messages[0], messages[1], messages[3]]);
  });

  it('a message over the receive limit: MessageTooLarge with grpc-js text', () => {
    assert.throws(() => decodeIn([stream], 69_999), (e: unknown) => e instanceof MessageTooLarge && e.message === 'Received message larger than max (70000 vs 69999)');
    assert.deepEqual(decodeIn([stream], 70_000), messages);
  });

  it('a compressed message is refused', () => {
    const framed = frameMessage(Buffer.from('x'));
    framed[0] = 1;
    assert.throws(() => decodeIn([framed]), CompressedMessage);
  });
});
