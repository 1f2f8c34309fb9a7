/**
 * How the typed relayer host fails: a method the plugin leaves out (ERR_LOOPP_LOOP_UNIMPLEMENTED
 * naming it), a provider call the plugin refuses (ERR_LOOPP_LOOP_CALL with its text), a call the
 * host cancels, and a relayer LOOP killed during a held call: a typed error, no hang, nothing left.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOOP_KINDS, LoopError, LoopRegistry, LoopService, newCmdFactory, relayerLoopPlugin, type Keystore, type PluginRelayerHost, type RelayerHandle } from '../../src/loop/index';
import { binary, childPids, listDir, rmDir, sleep, tmpDir } from '../helpers';
import { REF, REFERENCE_FILE, rejectsWithStatus } from './relayer-reference-suite';

const keystore = (accounts: string[]): Keystore => ({ accounts: () => accounts, sign: (_a, d) => Buffer.from(d) });

async function tsRelayer(env: Record<string, string>, sockDir: string) {
  const registry = new LoopRegistry();
  const factory = await newCmdFactory((n) => registry.register(n), { id: 'relayer.failures', cmd: binary('relayer-loop-ts'), env: Object.entries({ ...env, TMPDIR: sockDir }) });
  return new LoopService<PluginRelayerHost, RelayerHandle>({
    name: 'RelayerService',
    kind: LOOP_KINDS.relayer,
    cmdFactory: factory,
    plugin: relayerLoopPlugin(),
    newService: (host) => host.newRelayer({ config: `ReferenceFile = ${JSON.stringify(REFERENCE_FILE)}\n`, keystore: keystore(['a']), csaKeystore: keystore(['c']) }),
    pingIntervalMs: 200,
  });
}

describe('typed relayer host: failures', () => {
  it('a relayer that leaves methods out: ERR_LOOPP_LOOP_UNIMPLEMENTED naming each, the rest still answers', async () => {
    const sockDir = tmpDir('loopp-relayer-unimpl-');
    const svc = await tsRelayer({ LOOPP_RELAYER_OMIT: 'getChainInfo,latestHead,newContractWriter,newPluginProvider' }, sockDir);
    try {
      svc.start();
      const relayer = await svc.wait({ signal: AbortSignal.timeout(20_000) });
      const unimplemented = { code: 'Unimplemented', message: 'not implemented' };
      await rejectsWithStatus(relayer.getChainInfo(), 'Relayer.GetChainInfo', unimplemented, 'ERR_LOOPP_LOOP_UNIMPLEMENTED');
      await rejectsWithStatus(relayer.latestHead(), 'Relayer.LatestHead', unimplemented, 'ERR_LOOPP_LOOP_UNIMPLEMENTED');
      await rejectsWithStatus(relayer.newContractWriter('{}'), 'Relayer.NewContractWriter', unimplemented, 'ERR_LOOPP_LOOP_UNIMPLEMENTED');
      const args = { relayArgs: { ...REF.relayArgs, relayConfig: Buffer.alloc(0) }, pluginArgs: { transmitterID: 't', pluginConfig: Buffer.alloc(0) } };
      await rejectsWithStatus(relayer.newPluginProvider({ providerType: 'median', ...args }), 'Relayer.NewPluginProvider', unimplemented, 'ERR_LOOPP_LOOP_UNIMPLEMENTED');
      await assert.rejects(relayer.getChainInfo(), (e: unknown) => e instanceof LoopError && e.hint !== undefined && /older chainlink-common/.test(e.hint));
      assert.deepEqual(await relayer.getChainStatus(), REF.chainStatus);
    } finally {
      await svc.close();
    }
    assert.deepEqual(childPids(), []);
    assert.deepEqual(listDir(sockDir), []);
    rmDir(sockDir);
  });

  it('a call the host cancels (its signal aborts after 300 ms): ERR_LOOPP_LOOP_CALL with the cancel hint; the relayer still answers', async () => {
    const sockDir = tmpDir('loopp-relayer-cancel-');
    const svc = await tsRelayer({ LOOPP_RELAYER_HOLD: 'latestHead' }, sockDir);
    try {
      svc.start();
      const relayer = await svc.wait({ signal: AbortSignal.timeout(20_000) });
      const t0 = Date.now();
      await assert.rejects(relayer.latestHead(AbortSignal.timeout(300)), (e: unknown) => {
        assert.ok(e instanceof LoopError);
        assert.equal(e.code, 'ERR_LOOPP_LOOP_CALL');
        assert.equal(e.input, 'Relayer.LatestHead');
        assert.match(e.hint ?? '', /cancelled/);
        return true;
      });
      assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
      assert.deepEqual(await relayer.getChainStatus(), REF.chainStatus);
    } finally {
      await svc.close();
    }
    assert.deepEqual(childPids(), []);
    rmDir(sockDir);
  });

  it('SIGKILL during a held call: the call rejects typed (Unavailable) within 2 s; later calls reject typed; close leaves no process and no socket', async () => {
    const sockDir = tmpDir('loopp-relayer-kill-');
    const svc = await tsRelayer({ LOOPP_RELAYER_HOLD: 'replay' }, sockDir);
    try {
      svc.start();
      const relayer = await svc.wait({ signal: AbortSignal.timeout(20_000) });
      const provider = await relayer.newPluginProvider({
        providerType: 'median',
        relayArgs: { ...REF.relayArgs, relayConfig: Buffer.alloc(0) },
        pluginArgs: { transmitterID: 't', pluginConfig: Buffer.alloc(0) },
      });
      const held = relayer.replay({ fromBlock: '1', args: {} });
      await sleep(200);
      const pid = svc.pid;
      assert.ok(pid !== undefined);
      const t0 = Date.now();
      process.kill(pid, 'SIGKILL');
      await assert.rejects(held, (e: unknown) => {
        assert.ok(e instanceof LoopError, String(e));
        assert.equal(e.code, 'ERR_LOOPP_LOOP_CALL');
        assert.equal(e.input, 'Relayer.Replay');
        assert.equal((e.cause as { code?: number }).code, 14);
        return true;
      });
      assert.ok(Date.now() - t0 < 2_000, `rejected after ${Date.now() - t0} ms`);
      await assert.rejects(provider.reportCodec.maxReportLength(1), (e: unknown) => e instanceof LoopError && e.code === 'ERR_LOOPP_LOOP_CALL' && e.input === 'ReportCodec.MaxReportLength');
      await provider.close(); // the plugin is gone: close still returns
    } finally {
      await svc.close();
    }
    assert.deepEqual(childPids(), []);
    assert.deepEqual(listDir(sockDir), []);
    rmDir(sockDir);
  });
});
