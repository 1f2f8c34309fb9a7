/**
 * 100 launch / call / close cycles (the `make soak` run, shortened): Go and TS plugins, KV and
 * brokertest, plain and AutoMTLS, classic and multiplexed. Descriptors, children, zombies, socket
 * files and temp dirs must be exactly back where they were; RSS and heap may only grow within noise.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { soakTable } from '../bench/render';
import { leaks, runSoak } from './soak';

const CYCLES = 100;
/**
 * Growth from the post-warm-up baseline (16 cycles) to the end. Measured here (2 cores, Node 20):
 * 100 cycles +10-17 MB RSS (up to +30 MB by cycle 125 in one run) and +1.0-1.3 MB heapUsed; 1000
 * cycles +37-38 MB RSS, flat from about cycle 300 (allocator and code-space growth that levels off),
 * and +2.1 MB heapUsed. The RSS bound sits above that plateau, so only a real leak (over ~0.6 MB a
 * cycle) trips it; a leaked grpc-js channel or yamux session per cycle shows in the heap first, hence
 * the tight heap bound.
 */
const RSS_BOUND_MB = 56;
const HEAP_BOUND_MB = 3;

it(`soak: ${CYCLES} cycles leave no fds, children, sockets or temp dirs behind, and memory flat`, async () => {
  const r = await runSoak({ cycles: CYCLES, warmup: 16, checkpoints: 4 });
  console.log(soakTable(r).replace(/^/gm, '# '));
  assert.equal(Object.keys(r.combos).length, 16, 'every combination ran');
  assert.deepEqual(leaks(r), []);
  assert.deepEqual(
    { children: r.start.children, zombies: r.start.zombies, sockets: r.start.sockets, tempDirs: r.start.tempDirs, otherFiles: r.start.otherFiles },
    { children: 0, zombies: 0, sockets: 0, tempDirs: 0, otherFiles: 0 },
  );
  // Each checkpoint too, not only the end: a leak that a later cycle happened to release is still one.
  for (const s of r.samples.filter((x) => x.cycle >= r.warmup)) {
    assert.deepEqual(
      [s.fds, s.children, s.zombies, s.sockets, s.tempDirs, s.otherFiles],
      [r.baseline.fds, 0, 0, 0, 0, 0],
      `after ${s.cycle} cycles`,
    );
  }
  assert.ok(r.rssGrowthMB < RSS_BOUND_MB, `RSS grew ${r.rssGrowthMB.toFixed(1)} MB (bound ${RSS_BOUND_MB})`);
  assert.ok(r.heapGrowthMB < HEAP_BOUND_MB, `heapUsed grew ${r.heapGrowthMB.toFixed(2)} MB (bound ${HEAP_BOUND_MB})`);
});
