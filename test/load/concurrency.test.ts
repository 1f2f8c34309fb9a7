/**
 * 10 000 RPCs issued at once (one Promise.all) over one plugin connection (TS host -> TS and Go KV
 * plugins, plain, AutoMTLS and multiplexed) and over one brokered connection (brokertest: an Echo the
 * plugin serves on a broker id, classic and multiplexed), and from a Go host to the TS KV plugin: every
 * call completes with its own answer.
 * Times are logged, never asserted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binary, childPids, goBinary, kvGet, kvPut, rmDir, run, tmpDir } from '../helpers';
import { echoCall, startBrokertest, startKv, withPluginEcho } from './common';

const N = 10_000;
const KEYS = 100;
const GO_SUFFIX = '\n\nWritten from plugin-go-grpc';

interface Mode {
  autoMTLS: boolean;
  mux: boolean;
}
const modeName = (m: Mode) => `${m.autoMTLS ? 'AutoMTLS' : 'plain'}, ${m.mux ? 'multiplexed' : 'classic'}`;

/** Runs `call(i)` for i < N all at once; returns the answers in order and the elapsed ms. */
async function burst<T>(call: (i: number) => Promise<T>): Promise<{ answers: T[]; ms: number }> {
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: N }, (_, i) => call(i)));
  return { answers, ms: performance.now() - t0 };
}

describe(`${N} concurrent RPCs over one plugin connection`, () => {
  const modes: Mode[] = [
    { autoMTLS: false, mux: false },
    { autoMTLS: true, mux: false },
    { autoMTLS: false, mux: true },
  ];
  for (const go of [false, true]) {
    for (const mode of modes) {
      it(`TS host -> ${go ? 'Go' : 'TS'} KV plugin, ${modeName(mode)}: ${N} Gets at once, each with its key's value`, async () => {
        const work = tmpDir('loopp-conc-');
        const p = await startKv({ go, ...mode, cwd: work });
        try {
          const kv = p.dispense('kv');
          await Promise.all(Array.from({ length: KEYS }, (_, k) => kvPut(kv, `key${k}`, `value ${k}`)));
          const { answers, ms } = await burst((i) => kvGet(kv, `key${i % KEYS}`));
          console.log(`# ${N} concurrent Gets, TS host -> ${go ? 'Go' : 'TS'} KV plugin, ${modeName(mode)}: ${ms.toFixed(0)} ms`);
          assert.equal(answers.length, N);
          answers.forEach((a, i) => assert.equal(a, `value ${i % KEYS}${go ? GO_SUFFIX : ''}`, `call ${i}`));
          await p.ping();
        } finally {
          assert.deepEqual(await p.close(), { code: 0, signal: null, reason: 'closed' });
          rmDir(work);
        }
        assert.deepEqual(childPids(), []);
      });
    }
  }
});

describe(`${N} concurrent RPCs from a Go host (go-plugin v1.8.0) to a TS plugin`, () => {
  // loopp's servers announce 1 000 concurrent streams (Node's HTTP/2 server stalls far beyond that);
  // grpc-go must queue the rest on its side and finish every call.
  for (const autoMTLS of [false, true]) {
    it(`${N} Gets on ${N} goroutines, ${autoMTLS ? 'AutoMTLS' : 'plain'}: all succeed`, async () => {
      const work = tmpDir('loopp-conc-go-');
      try {
        const flags = ['-inflight', String(N), '-calls', String(N), '-seq', '1', '-warmup', '0', ...(autoMTLS ? ['-automtls'] : [])];
        const r = await run(goBinary('rpc-bench-go'), [...flags, binary('kv-plugin-ts')], { cwd: work, timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout) as { concPerSec: number; inflight: number };
        assert.equal(out.inflight, N);
        console.log(`# ${N} concurrent Gets, Go host -> TS KV plugin, ${autoMTLS ? 'AutoMTLS' : 'plain'}: ${((N / out.concPerSec) * 1000).toFixed(0)} ms`);
      } finally {
        rmDir(work);
      }
    });
  }
});

describe(`${N} concurrent RPCs over one brokered connection`, () => {
  for (const go of [false, true]) {
    for (const mode of [
      { autoMTLS: false, mux: false },
      { autoMTLS: true, mux: true },
    ]) {
      it(`TS host -> ${go ? 'Go' : 'TS'} brokertest plugin, ${modeName(mode)}: ${N} Echos on a plugin-served broker id`, async () => {
        const p = await startBrokertest({ go, ...mode });
        try {
          const { answers, ms } = await withPluginEcho(p, 'echo:', (echo) => burst((i) => echoCall(echo, String(i))));
          console.log(`# ${N} concurrent Echos, brokered, TS host -> ${go ? 'Go' : 'TS'} plugin, ${modeName(mode)}: ${ms.toFixed(0)} ms`);
          answers.forEach((a, i) => assert.deepEqual(a, { text: `echo:${i}` }, `call ${i}`));
        } finally {
          assert.deepEqual(await p.close(), { code: 0, signal: null, reason: 'closed' });
        }
        assert.deepEqual(childPids(), []);
      });
    }
  }
});
