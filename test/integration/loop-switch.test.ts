/**
 * The node's switch with real processes: CL_SOLANA_CMD / CL_SOLANA_ENV start (or not) a relayer LOOP
 * for one chain, the env file reaches the plugin, the id is registered while it runs and released
 * when it closes; the always-LOOP kinds fall back to chainlink-<kind> on PATH. The LOOP is
 * bin/relayer-loop-ts behind a shell wrapper that records the environment it was given.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors';
import { LoopRegistry, startRelayerLoop, type Keystore, type StartRelayerLoopOptions } from '../../src/loop/index';
import { binary, childPids, listDir, rmDir, tmpDir } from '../helpers';

const keystore = (accounts: string[]): Keystore => ({ accounts: () => accounts, sign: (_a, d) => Buffer.from(d) });
const RELAYER = { config: '[Foo]\nBar = "Baz"\n', keystore: keystore(['a']), csaKeystore: keystore(['c']) };

/** An executable `name` in `dir` that writes its environment to $LOOPP_ENV_DUMP, then runs the TS relayer LOOP. */
function wrapper(dir: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n/usr/bin/env > "$LOOPP_ENV_DUMP"\nexec ${JSON.stringify(binary('relayer-loop-ts'))}\n`, { mode: 0o755 });
  return file;
}

function envDump(file: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function options(registry: LoopRegistry, network: StartRelayerLoopOptions['network'], env: Record<string, string>): StartRelayerLoopOptions {
  return { registry, network, chainID: 'localnet', relayer: RELAYER, env, pingIntervalMs: 500 };
}

describe('startRelayerLoop: CL_<NETWORK>_CMD / CL_<NETWORK>_ENV', () => {
  it('unset CL_SOLANA_CMD: nothing starts, nothing is registered', async () => {
    await using registry = new LoopRegistry();
    assert.equal(await startRelayerLoop(options(registry, 'solana', { PATH: process.env.PATH ?? '' })), undefined);
    assert.deepEqual(registry.list(), []);
  });

  it('set: the LOOP for solana.<chainID> runs with the env file, the id lives as long as the service', async () => {
    const dir = tmpDir('loopp switch ');
    try {
      const dump = path.join(dir, 'env.txt');
      const envFile = path.join(dir, 'solana.env');
      // The plugin gets only this file's entries and the registry's (skipHostEnv): the TS launcher needs PATH.
      fs.writeFileSync(envFile, `GOMEMLIMIT=1MiB\nLOOPP_ENV_DUMP=${JSON.stringify(dump)}\nPATH=${JSON.stringify(process.env.PATH ?? '')}\nTMPDIR=${JSON.stringify(dir)}\n`);
      await using registry = new LoopRegistry();
      const svc = await startRelayerLoop(options(registry, 'solana', { CL_SOLANA_CMD: wrapper(dir, 'chainlink-solana'), CL_SOLANA_ENV: envFile }));
      assert.ok(svc !== undefined);
      try {
        assert.equal(svc.name, 'RelayerService');
        const relayer = await svc.wait({ signal: AbortSignal.timeout(20_000) });
        assert.deepEqual(await relayer.getChainStatus(), { id: 'some_chain', enabled: true, config: '' });
        const registered = registry.list();
        assert.deepEqual(registered.map((r) => r.name), ['solana.localnet']);
        const seen = envDump(dump);
        assert.equal(seen.GOMEMLIMIT, '1MiB');
        assert.equal(seen.CL_PROMETHEUS_PORT, String(registered[0]?.envCfg.prometheusPort));
        assert.equal(seen.CL_SOLANA_CMD, undefined, 'the host environment does not reach the plugin');
      } finally {
        await svc.close();
      }
      assert.deepEqual(registry.list(), []);
      assert.deepEqual(childPids(), []);
      assert.deepEqual(listDir(dir).sort(), ['chainlink-solana', 'env.txt', 'solana.env']);
    } finally {
      rmDir(dir);
    }
  });

  it('always-LOOP kinds: chainlink-<kind> from PATH; missing everywhere is a typed error, nothing registered', async () => {
    const dir = tmpDir('loopp-switch-');
    try {
      await using registry = new LoopRegistry();
      await assert.rejects(startRelayerLoop(options(registry, 'aptos', { PATH: '/nonexistent' })), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'ERR_LOOPP_ENV');
        assert.equal(err.message, 'plugin command not found: chainlink-aptos');
        assert.equal(err.hint, 'install chainlink-aptos on PATH, or set CL_APTOS_CMD to its path');
        return true;
      });
      await assert.rejects(startRelayerLoop(options(registry, 'solana', { CL_SOLANA_CMD: path.join(dir, 'nope') })), /plugin command not found: .*nope/);
      assert.deepEqual(registry.list(), []);

      wrapper(dir, 'chainlink-aptos');
      const dump = path.join(dir, 'env.txt');
      const env = { PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}`, CL_APTOS_ENV: path.join(dir, 'aptos.env') };
      fs.writeFileSync(env.CL_APTOS_ENV, `LOOPP_ENV_DUMP=${dump}\nPATH=${process.env.PATH ?? ''}\nTMPDIR=${dir}\n`);
      await using svc = await startRelayerLoop(options(registry, 'aptos', env));
      assert.ok(svc !== undefined);
      await svc.wait({ signal: AbortSignal.timeout(20_000) });
      assert.deepEqual(registry.list().map((r) => r.name), ['aptos.localnet']);
    } finally {
      rmDir(dir);
    }
  });
});
