/**
 * Real go-plugin hosts (v1.8.0 and v1.4.10) launching loopp's TypeScript plugins: the KV example
 * matrix, Kill without force-kill, SyncStdout/SyncStderr byte-exactness, reattach, Ping (SkipHostEnv is
 * in test/security/host-env).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binary, fixture, goBinary, listDir, rmDir, run, shellCommand, tmpDir } from '../helpers';

let work: string;
let sockTmp: string;
before(() => {
  work = tmpDir('loopp-gohost-');
  sockTmp = tmpDir('loopp-gohost-tmp-');
});
after(() => {
  rmDir(work);
  rmDir(sockTmp);
});

/** Runs a Go host; the plugin's sockets go to a private TMPDIR so leftovers are visible. */
async function goHost(bin: string, args: string[], env: Record<string, string>) {
  const r = await run(goBinary(bin), args, { cwd: work, env: { ...process.env, TMPDIR: sockTmp, ...env }, timeoutMs: 30_000 });
  return r;
}

describe('Go host (go-plugin v1.8.0) -> kv-plugin-ts', () => {
  // The plugin serves with loopp's gRPC server (the default) and with grpc-js's (--grpc-js-server).
  for (const [transport, mtls, server] of matrix()) {
    it(`${transport} ${mtls ? 'AutoMTLS' : 'plain'}${server === 'grpc-js' ? ', grpc-js server' : ''}`, async () => {
      const args = [...(transport === 'tcp' ? ['--tcp'] : []), ...(server === 'grpc-js' ? ['--grpc-js-server'] : [])];
      const env = { KV_PLUGIN: shellCommand(binary('kv-plugin-ts'), ...args), KV_HOST_LOG_LEVEL: 'debug' };
      const flags = mtls ? ['-automtls'] : [];
      const key = `go-${transport}-${mtls}-${server}`;
      const put = await goHost('kv-host-go', [...flags, 'put', key, 'from go host'], env);
      assert.equal(put.code, 0, put.stderr);
      // The Go host re-logs our hclog line, proving it parsed our JSON and which transport was used.
      assert.match(put.stderr, new RegExp(`plugin address: .*network=${transport}`));
      if (mtls) assert.match(put.stderr, /AutoMTLS|mTLS|configuring client automatic mTLS/i);
      const get = await goHost('kv-host-go', [...flags, 'get', key], env);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, 'from go host\n');
      assert.equal(fs.readFileSync(path.join(work, `kv_${key}`), 'utf8'), 'from go host');
      assert.doesNotMatch(put.stderr + get.stderr, /plugin failed to exit gracefully|\[ERROR\]/);
      assert.deepEqual(listDir(sockTmp), []);
    });
  }
});

function* matrix(): Generator<['unix' | 'tcp', boolean, 'loopp' | 'grpc-js']> {
  for (const server of ['loopp', 'grpc-js'] as const) {
    for (const transport of ['unix', 'tcp'] as const) {
      for (const mtls of [false, true]) yield [transport, mtls, server];
    }
  }
}

describe('Go host (go-plugin v1.4.10) -> kv-plugin-ts', () => {
  for (const mtls of [false, true]) {
    it(mtls ? 'AutoMTLS' : 'plain', async () => {
      const env = { KV_PLUGIN: shellCommand(binary('kv-plugin-ts')) };
      const flags = mtls ? ['-automtls'] : [];
      const key = `v1410-${mtls}`;
      const put = await goHost('kv-host-go-v1410', [...flags, 'put', key, 'old host'], env);
      assert.equal(put.code, 0, put.stderr);
      const get = await goHost('kv-host-go-v1410', [...flags, 'get', key], env);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, 'old host\n');
      assert.doesNotMatch(put.stderr + get.stderr, /plugin failed to exit gracefully/);
    });
  }
});

/** Runs feature-host-go `scenario` against the plugin `plugin` (argv, quoted into PLUGIN_CMD for its `sh -c`). */
async function feature(scenario: string, flags: string[], plugin: string[], env: Record<string, string> = {}) {
  const r = await goHost('feature-host-go', [...flags, scenario], { PLUGIN_CMD: shellCommand(...plugin), ...env });
  assert.equal(r.code, 0, `feature-host-go ${scenario}: ${r.stderr}`);
  return { json: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr };
}

describe('Go host features against a TS plugin', () => {
  for (const mtls of [false, true]) {
    it(`Kill() ends the plugin gracefully, without the force-kill path (${mtls ? 'AutoMTLS' : 'plain'})`, async () => {
      const { json } = await feature('kill', mtls ? ['-automtls'] : [], [binary('kv-plugin-ts')]);
      assert.equal(json.value, 'v');
      assert.equal(json.forceKilled, false);
      assert.equal(json.exited, true);
      assert.ok((json.killMs as number) < 2000, `Kill took ${json.killMs} ms`);
    });
  }

  it('stdout/stderr written by the TS plugin arrive byte-exact in SyncStdout/SyncStderr', async () => {
    const outFile = path.join(work, 'sync-stdout.bin');
    const errFile = path.join(work, 'sync-stderr.bin');
    const outBytes = 100_000;
    const errBytes = 4097;
    const { json } = await feature(
      'stdio',
      ['-automtls', `-stdout-bytes=${outBytes}`, `-stderr-bytes=${errBytes}`, `-stdout-file=${outFile}`, `-stderr-file=${errFile}`],
      [process.execPath, fixture('stdio-writer')],
      { STDIO_OUT_BYTES: String(outBytes), STDIO_ERR_BYTES: String(errBytes) },
    );
    assert.equal(json.timedOut, false);
    const want = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
    assert.deepEqual(fs.readFileSync(outFile), want(outBytes, 1));
    assert.deepEqual(fs.readFileSync(errFile), want(errBytes, 7));
  });

  it('reattach to a running TS plugin works', async () => {
    const { json } = await feature('reattach', [], [binary('kv-plugin-ts')]);
    const rc = json.reattachConfig as { Protocol: string; Pid: number; Addr: { Network: string; String: string } };
    assert.equal(rc.Protocol, 'grpc');
    assert.ok(rc.Pid > 0);
    assert.equal(rc.Addr.Network, 'unix');
    assert.equal(json.viaB, 'v1');
    assert.equal(json.viaA, 'v2');
    assert.equal(json.exitedAfterKill, true);
  });

  it('Ping() answers through the health service "plugin"', async () => {
    const { json } = await feature('ping', ['-automtls'], [binary('kv-plugin-ts')]);
    assert.equal(json.ok, true);
  });
});
