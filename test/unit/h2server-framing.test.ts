/** The loopp gRPC server's own wire pieces: grpc-timeout (the framing both ends share: grpc-framing.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTimeoutMs } from '../../src/net/h2server/framing';

test('grpc-timeout parses as grpc-js does', () => {
  assert.equal(parseTimeoutMs('100m'), 100);
  assert.equal(parseTimeoutMs('2S'), 2000);
  assert.equal(parseTimeoutMs('1H'), 3_600_000);
  assert.equal(parseTimeoutMs('1500u'), 1);
  assert.equal(parseTimeoutMs('999999n'), 0);
  assert.equal(parseTimeoutMs('x'), undefined);
});
