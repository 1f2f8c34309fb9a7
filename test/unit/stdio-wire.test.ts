import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StdioData } from '../../src/gen';
import { decodeStdioData, encodeStdioData, encodeStdioParts } from '../../src/shared/stdio-codec';

describe('stdio wire fast path', () => {
  it('encodes exactly as the generated codec, for every channel and size class', () => {
    for (const channel of [0, 1, 2, 127, 128, 300, 0x7fffffff, -1]) {
      for (const size of [0, 1, 127, 128, 1024, 16384, 20000]) {
        const data = Buffer.alloc(size, size & 0xff);
        const want = Buffer.from(StdioData.encode({ channel, data }).finish());
        assert.deepEqual(encodeStdioData(channel, data), want, `channel ${channel} size ${size}`);
        // a slice of a larger buffer encodes the same
        const big = Buffer.concat([Buffer.alloc(3, 9), data, Buffer.alloc(5, 7)]);
        assert.deepEqual(encodeStdioData(channel, big, 3, 3 + size), want);
      }
    }
  });
  it('encodes parts as the generated codec encodes their concatenation, up to a 64 KiB message', () => {
    for (const channel of [1, 2, 300, -1]) {
      for (const sizes of [[1], [0, 5], [100, 1, 27], [16383, 1], [65535, 1], [1000, 30000, 34536]]) {
        const parts = sizes.map((n, i) => Buffer.alloc(n, i + 1));
        const n = sizes.reduce((a, b) => a + b, 0);
        const want = Buffer.from(StdioData.encode({ channel, data: Buffer.concat(parts) }).finish());
        assert.deepEqual(encodeStdioParts(channel, parts, n), want, `channel ${channel} sizes ${sizes.join('+')}`);
      }
    }
  });
  it('decodes what the generated codec encodes', () => {
    for (const channel of [0, 1, 2, 200]) {
      for (const size of [0, 1, 1024, 20000]) {
        const data = Buffer.alloc(size, 0x5a);
        const got = decodeStdioData(Buffer.from(StdioData.encode({ channel, data }).finish()));
        assert.equal(got.channel, channel);
        assert.deepEqual(Buffer.from(got.data), data);
      }
    }
  });
  it('falls back to the generated decoder for unusual shapes (fields out of order, unknown fields)', () => {
    const odd = Buffer.from([0x12, 0x02, 0x61, 0x62, 0x08, 0x02, 0x18, 0x05]);
    const got = decodeStdioData(odd);
    assert.equal(got.channel, 2);
    assert.equal(Buffer.from(got.data).toString(), 'ab');
  });
});
