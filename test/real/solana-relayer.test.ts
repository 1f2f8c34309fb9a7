/**
 * The real chainlink-solana relayer LOOP (commit ee601d69, built outside CI: make real-loops) under
 * loopp's host: NewRelayer with the node-style TOML, the Relayer API against a fake Solana JSON-RPC,
 * RPC outages, the MultiNode panic and its relaunch, a bad config, the keystore, and an RPC this old
 * plugin does not implement. Run by make test-real only (docs/loop.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoopError, type RelayerHandle } from '../../src/loop/index';
import { FAKE_GENESIS_HASH, fakeBlock, startFakeSolanaRpc } from './solana-rpc';
import { solanaHarness, solanaAccount, type SolanaHarness } from './solana-harness';
import { solanaRelayerToml } from './solana-toml';

const START = { signal: AbortSignal.timeout(30_000) };

function report(title: string, lines: string[]): void {
  console.log(`--- ${title}\n${lines.join('\n')}`);
}

async function started(h: SolanaHarness): Promise<RelayerHandle> {
  h.svc.start();
  const relayer = await h.svc.wait({ signal: AbortSignal.timeout(30_000) });
  report('launched', h.launched.map((l) => `launch #${l.launch} pid ${l.pid} in ${Math.round(l.ms)} ms`));
  return relayer;
}

describe('real chainlink-solana relayer LOOP', () => {
  it('NewRelayer with the generated TOML: Ready, HealthReport, GetChainStatus, ListNodeStatuses', async () => {
    await using rpc = await startFakeSolanaRpc();
    const toml = solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'fake-0', url: rpc.url }] });
    await using h = await solanaHarness({ id: 'solana.basic', toml });
    const relayer = await started(h);

    await h.svc.ready();
    const health = await h.svc.healthReport();
    report('health report', Object.entries(health).map(([k, v]) => `${k}: ${v === null ? 'null' : v.message}`));
    assert.equal(health.RelayerService, null);
    for (const [k, v] of Object.entries(health)) assert.equal(v, null, k);
    assert.ok(Object.keys(health).length > 1, JSON.stringify(Object.keys(health)));

    const status = await relayer.getChainStatus();
    report('chain status config', [status.config]);
    assert.equal(status.id, 'localnet');
    assert.equal(status.enabled, true);
    // The chain echoes its config, re-encoded by go-toml: every key we sent, with our node.
    assert.match(status.config, /^ChainID = 'localnet'$/m);
    assert.match(status.config, /^FeeEstimatorMode = 'fixed'$/m);
    assert.ok(status.config.includes(`URL = '${rpc.url}'`), status.config);

    const nodes = await relayer.listNodeStatuses(10);
    report('node statuses', [JSON.stringify(nodes)]);
    assert.equal(nodes.total, 1);
    assert.equal(nodes.nodes.length, 1);
    assert.equal(nodes.nodes[0]?.chainID, 'localnet');
    assert.equal(nodes.nodes[0]?.name, 'fake-0');
    assert.equal(nodes.nodes[0]?.state, '');
    assert.ok(nodes.nodes[0]?.config.includes(`URL = '${rpc.url}'`), nodes.nodes[0]?.config);
    assert.deepEqual(rpc.unknown, []);
  });
});
