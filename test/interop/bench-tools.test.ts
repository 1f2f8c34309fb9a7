/**
 * The benchmark programs work (not their numbers: benchmarks are never assertions here): the Go hosts
 * rpc-bench-go, stdio-bench-go, scale-bench-go and the TS host dist/test/bench/host-ts.js, each against
 * a Go and the TS plugin with tiny counts; stdio bytes arrive in full; the floor (bare node:http2:
 * dist/test/bench/floor-host.js against the Go plugins and itself, the Go hosts against
 * floor-plugin.js); and the bundled, code-cached bin/kv-plugin-ts serves as the plain build does.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { binary, fixture, goBinary, ROOT, tmpDir } from '../helpers';

const TS_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'host-ts.js');
const FLOOR_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'floor-host.js');
const FLOOR_PLUGIN = [process.execPath, path.join(ROOT, 'dist', 'test', 'bench', 'floor-plugin.js')];

function goHost(name: string, args: string[], cwd: string): Record<string, unknown> {
  return JSON.parse(execFileSync(goBinary(name), args, { cwd, encoding: 'utf8', timeout: 60_000 })) as Record<string, unknown>;
}

function tsHost(mode: string, args: string[], cwd: string, host = TS_HOST): Record<string, unknown> {
  return JSON.parse(execFileSync(process.execPath, [host, mode, ...args], { cwd, encoding: 'utf8', timeout: 60_000 })) as Record<string, unknown>;
}

describe('benchmark programs', () => {
  const plugins = (): Record<string, string[]> => ({ go: [goBinary('kv-plugin-go')], ts: [binary('kv-plugin-ts')] });
  const stdioPlugins = (): Record<string, string[]> => ({ go: [goBinary('stdio-plugin-go')], ts: [process.execPath, fixture('stdio-bench')] });

  for (const side of ['go', 'ts'] as const) {
    it(`rpc: ${side} host against the Go and TS KV plugins`, () => {
      const cwd = tmpDir();
      try {
        for (const plugin of Object.values(plugins())) {
          const flags = ['--seq', '20', '--inflight', '4', '--calls', '40', '--warmup', '5'];
          const out = side === 'go' ? goHost('rpc-bench-go', [...flags, ...plugin], cwd) : tsHost('rpc', [...flags, ...plugin], cwd);
          assert.equal((out.seqMs as number[]).length, 20);
          assert.ok((out.seqPerSec as number) > 0 && (out.concPerSec as number) > 0);
          assert.equal(out.inflight, 4);
        }
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });

    it(`stdio: ${side} host receives every byte from the Go and TS stdio plugins`, () => {
      const cwd = tmpDir();
      try {
        for (const plugin of Object.values(stdioPlugins())) {
          const flags = ['--n', '2', '--bytes', '300000'];
          const out = side === 'go' ? goHost('stdio-bench-go', [...flags, ...plugin], cwd) : tsHost('stdio', [...flags, ...plugin], cwd);
          assert.equal((out.ms as number[]).length, 2);
          assert.equal(out.bytes, 300000);
        }
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });

    it(`scale: ${side} host launches 5 Go plugins at once`, () => {
      const cwd = tmpDir();
      try {
        const out = side === 'go' ? goHost('scale-bench-go', ['-n', '5', goBinary('kv-plugin-go')], cwd) : tsHost('scale', ['--n', '5', goBinary('kv-plugin-go')], cwd);
        assert.equal(out.n, 5);
        assert.ok((out.wallMs as number) > 0 && (out.rssAfterKB as number) > 0);
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });
  }

  it('rpc: the floor host against the Go and floor KV plugins, the Go host against the floor plugin', () => {
    const cwd = tmpDir();
    try {
      const flags = ['--seq', '20', '--inflight', '4', '--calls', '40', '--warmup', '5'];
      const outs = [
        tsHost('rpc', [...flags, goBinary('kv-plugin-go')], cwd, FLOOR_HOST),
        tsHost('rpc', [...flags, ...FLOOR_PLUGIN], cwd, FLOOR_HOST),
        goHost('rpc-bench-go', [...flags, ...FLOOR_PLUGIN], cwd),
      ];
      for (const out of outs) {
        assert.equal((out.seqMs as number[]).length, 20);
        assert.ok((out.seqPerSec as number) > 0 && (out.concPerSec as number) > 0);
        assert.equal(out.inflight, 4);
      }
      // the floor plugin stores keys as the KV plugins do
      assert.equal(fs.readFileSync(path.join(cwd, 'kv_bench'), 'utf8'), 'v'.repeat(64));
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('stdio: the floor host receives every byte from the Go stdio plugin, the Go host from the floor plugin', () => {
    const cwd = tmpDir();
    try {
      const flags = ['--n', '2', '--bytes', '300000'];
      for (const out of [tsHost('stdio', [...flags, goBinary('stdio-plugin-go')], cwd, FLOOR_HOST), goHost('stdio-bench-go', [...flags, ...FLOOR_PLUGIN], cwd)]) {
        assert.equal((out.ms as number[]).length, 2);
        assert.equal(out.bytes, 300000);
      }
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('broker: the floor host sets up classic sub-connections both ways with the Go brokertest plugin', () => {
    const out = tsHost('broker', ['--n', '3', goBinary('brokertest-plugin-go')], ROOT, FLOOR_HOST);
    assert.equal((out.pluginServesMs as number[]).length, 3);
    assert.equal((out.hostServesMs as number[]).length, 3);
    assert.deepEqual(out.errors, []);
  });

  for (const workers of [0, 2]) {
    it(`scale: the floor host launches 5 Go plugins at once, spawning ${workers === 0 ? 'on the main thread' : 'in 2 worker threads'}, and leaves none running`, () => {
      const cwd = tmpDir();
      try {
        const out = tsHost('scale', ['--n', '5', '--workers', String(workers), goBinary('kv-plugin-go')], cwd, FLOOR_HOST);
        assert.deepEqual([out.n, out.workers], [5, workers]);
        assert.ok((out.wallMs as number) > 0);
        // Every plugin ran in cwd: none may still be running there once the host has returned.
        const left = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e) && (() => { try { return fs.readlinkSync(`/proc/${e}/cwd`) === fs.realpathSync(cwd); } catch { return false; } })());
        assert.deepEqual(left, []);
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });
  }

  it('bin/kv-plugin-ts is a loopp bundle (launcher, bundle, V8 code cache) built by make-bins', () => {
    const launcher = fs.readFileSync(binary('kv-plugin-ts'), 'utf8');
    assert.match(launcher, /^#!\/usr\/bin\/env node\n\/\/ Written by scripts\/make-bins\.js \(loopp bundle\): runs kv-plugin-ts\.bundle\.js/);
    assert.ok(fs.statSync(path.join(ROOT, 'bin', 'kv-plugin-ts.bundle.js')).size > 0);
    assert.ok(fs.statSync(path.join(ROOT, 'bin', 'kv-plugin-ts.cache')).size > 0);
  });
});
