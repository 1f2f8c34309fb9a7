import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { allClosed } from '../../src/core/closed';

describe('allClosed', () => {
  it('resolves when the last stream closes, before the bound', async () => {
    const a = new PassThrough();
    const b = new PassThrough();
    const t0 = Date.now();
    setTimeout(() => a.destroy(), 20);
    setTimeout(() => b.destroy(), 40);
    await allClosed([a, b], 5000);
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(a.destroyed && b.destroyed);
  });
  it('resolves after the bound when a stream stays open, and at once for none or already closed', async () => {
    const open = new PassThrough();
    // The bound's timer keeps nothing alive (a socket would, in real use); this one stands in for it.
    const alive = setInterval(() => {}, 1000);
    const t0 = Date.now();
    await allClosed([open], 60);
    clearInterval(alive);
    assert.ok(Date.now() - t0 >= 55);
    assert.equal(open.destroyed, false);
    const gone = new PassThrough();
    gone.destroy();
    await allClosed([gone], 60_000);
    await allClosed([], 60_000);
    open.destroy();
  });
});
