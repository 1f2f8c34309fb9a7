/**
 * Property tests (extra): the one-copy StdioData codec (src/internal/stdio-wire.ts) against the generated
 * codec: random bytes decode to the same message or both decoders fail; encodings are byte-identical.
 * Seed / runs / replay: see fc-config.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StdioData } from '../../src/gen';
import { decodeStdioData, encodeStdioData, encodeStdioParts } from '../../src/shared/stdio-codec';
import { RUNS, check } from './fc-config';

type Decoded = { ok: true; channel: number; data: string } | { ok: false };

function decodeWith(decode: (b: Buffer) => StdioData, bytes: Buffer): Decoded {
  try {
    const m = decode(bytes);
    return { ok: true, channel: m.channel, data: Buffer.from(m.data).toString('hex') };
  } catch {
    return { ok: false };
  }
}

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};

/** Bytes near the fast path's shape: [08 channel] [12 len data], with lengths that lie and stray fields. */
const wireBytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  fc
    .record({
      channel: fc.option(fc.oneof(fc.nat({ max: 300 }), fc.constant(0x7fffffff)), { nil: undefined }),
      data: fc.uint8Array({ maxLength: 300 }),
      lie: fc.integer({ min: -3, max: 3 }),
      extra: fc.uint8Array({ maxLength: 4 }),
      truncate: fc.nat({ max: 3 }),
    })
    .map(({ channel, data, lie, extra, truncate }) => {
      const head = channel === undefined ? [] : [0x08, ...varint(channel)];
      const body = [0x12, ...varint(Math.max(0, data.length + lie)), ...data];
      const all = Buffer.from([...head, ...body, ...extra]);
      return all.subarray(0, Math.max(0, all.length - truncate));
    }),
);

describe('property: StdioData fast codec', () => {
  it(`decodeStdioData agrees with the generated decoder on any bytes (or both fail) (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(wireBytes, (bytes) => {
        assert.deepEqual(decodeWith(decodeStdioData, bytes), decodeWith((b) => StdioData.decode(b), bytes));
      }),
    );
  });

  it(`encodeStdioData is byte-identical to the generated encoder (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.oneof(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer(), fc.constantFrom(0, 1, 2, 127, 128)), fc.uint8Array({ maxLength: 2000 }), fc.nat(), fc.nat(), (channel, bytes, a, b) => {
        const src = Buffer.from(bytes);
        const start = a % (src.length + 1);
        const end = start + (b % (src.length - start + 1));
        const want = Buffer.from(StdioData.encode({ channel, data: src.subarray(start, end) }).finish());
        assert.deepEqual(encodeStdioData(channel, src, start, end), want);
      }),
    );
  });

  it(`encodeStdioParts is byte-identical to the generated encoder of the parts' concatenation (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.oneof(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer(), fc.constantFrom(0, 1, 2)), fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), (channel, arrays) => {
        const parts = arrays.map((a) => Buffer.from(a));
        const n = parts.reduce((sum, p) => sum + p.length, 0);
        const want = Buffer.from(StdioData.encode({ channel, data: Buffer.concat(parts) }).finish());
        assert.deepEqual(encodeStdioParts(channel, parts, n), want);
      }),
    );
  });
});
