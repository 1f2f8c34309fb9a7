/** The median host's value codecs: loop.BigInt and the CBOR/JSON VersionedBytes subset. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bigFromPb, bigToPb } from '../../src/loop/host/median';
import { cborDecode, cborEncode, decodeVersioned, encodeVersioned } from '../../src/loop/wire/versioned-bytes';

describe('loop.BigInt', () => {
  it('is sign plus big-endian magnitude, zero as empty bytes', () => {
    assert.deepEqual(bigToPb(0n), { negative: false, value: Buffer.alloc(0) });
    assert.deepEqual(bigToPb(-1042n), { negative: true, value: Buffer.from([0x04, 0x12]) });
    for (const v of [0n, 1n, -12n, 255n, 256n, 1234567890987654321n, -(2n ** 130n)]) assert.equal(bigFromPb(bigToPb(v)), v);
    assert.equal(bigFromPb(undefined), 0n);
  });
});

describe('CBOR (core deterministic subset)', () => {
  it('encodes a text map the way fxamacker/cbor CoreDetEncOptions does', () => {
    // map(2) "param1" "value1" "param2" "value2"
    const want = Buffer.concat([Buffer.from([0xa2, 0x66]), Buffer.from('param1'), Buffer.from([0x66]), Buffer.from('value1'), Buffer.from([0x66]), Buffer.from('param2'), Buffer.from([0x66]), Buffer.from('value2')]);
    assert.deepEqual(cborEncode({ param2: 'value2', param1: 'value1' }), want);
    assert.deepEqual(cborDecode(want), { param1: 'value1', param2: 'value2' });
  });

  it('round-trips scalars, bytes, arrays and nested maps', () => {
    const v = { a: [0, 23, 24, 255, 256, 65536, -1, -25, 2 ** 40, 2n ** 64n - 1n, 1.5, true, false, null], b: Buffer.from([1, 2, 3]), c: { d: 'é' } };
    assert.deepEqual(cborDecode(cborEncode(v)), v);
    assert.equal(cborDecode(Buffer.from([0xf6])), null);
    assert.throws(() => cborDecode(Buffer.from([0x62, 0x61])), /unexpected end/);
  });

  it('VersionedBytes: version 0 is JSON, 2 is CBOR, others are refused', () => {
    assert.deepEqual(decodeVersioned(encodeVersioned({ x: 'y' }, 2)), { x: 'y' });
    assert.deepEqual(encodeVersioned({ x: 'y' }, 0), { version: 0, data: Buffer.from('{"x":"y"}') });
    assert.throws(() => encodeVersioned(1, 3), /unsupported encoding version 3/);
    assert.throws(() => decodeVersioned(undefined), /nil versioned bytes/);
  });
});
