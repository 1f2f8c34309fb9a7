/**
 * The real chainlink-solana relayer LOOP (commit ee601d69, built outside CI: make real-loops) under
 * loopp's host: NewRelayer with the node-style TOML, the Relayer API against a fake Solana JSON-RPC,
 * RPC outages, the MultiNode panic and its relaunch, a bad config, the keystore, and an RPC this old
 * plugin does not implement. Run by make test-real only (docs/loop.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoopError, type RelayerHandle } from '../../src/loop/index';
import { sleep } from '../helpers';
import { FAKE_GENESIS_HASH, fakeBlock, startFakeSolanaRpc } from './solana-rpc';
import { solanaHarness, solanaAccount, type SolanaHarness } from './solana-harness';
import { solanaRelayerToml } from './solana-toml';

type Head = Awaited<ReturnType<RelayerHandle['latestHead']>>;

const EMPTY_HEAD: Head = { height: '', hash: Buffer.alloc(0), timestamp: 0 };

/** What types.Head must say for the fake's block at `slot` (the hash is the base58 text's bytes). */
function headOf(slot: number): Head {
  const b = fakeBlock(slot);
  return { height: String(b.blockHeight), hash: Buffer.from(b.blockhash), timestamp: b.blockTime };
}

function report(title: string, lines: string[]): void {
  console.log(`--- ${title}\n${lines.join('\n')}`);
}

/**
 * GetChainStatus's config is the chain's TOMLConfig re-encoded by go-toml: our TOML without the
 * `Solana.` prefix, strings in single quotes (ours have no quotes inside).
 */
function goTomlEcho(toml: string): string {
  return toml
    .split('\n')
    .filter((l) => l !== '[Solana]')
    .map((l) => l.replace(/^\[(\[?)Solana\./, '[$1').replace(/"([^"]*)"/g, "'$1'"))
    .join('\n');
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
    assert.deepEqual(health, { RelayerService: null, 'PluginSolana.Relayer': null, 'PluginSolana.Chain': null, 'PluginSolana.Txm': null });

    const status = await relayer.getChainStatus();
    report('chain status config', [status.config]);
    assert.deepEqual(status, { id: 'localnet', enabled: true, config: goTomlEcho(toml) });

    const nodes = await relayer.listNodeStatuses(10);
    report('node statuses', [JSON.stringify(nodes)]);
    assert.deepEqual(nodes, { nodes: [{ chainID: 'localnet', name: 'fake-0', config: `Name = 'fake-0'\nURL = '${rpc.url}'\nSendOnly = false\n`, state: '' }], total: 1, nextPageToken: '' });
    assert.deepEqual(rpc.unknown, []);
  });

  it('LatestHead is the block the fake served; RPC down gives an empty head and no error; back up, heads again', async () => {
    await using rpc = await startFakeSolanaRpc();
    await using h = await solanaHarness({ id: 'solana.head', toml: solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'fake-0', url: rpc.url }] }) });
    const relayer = await started(h);

    const head = await relayer.latestHead();
    const slot = rpc.lastServedBlockSlot();
    assert.ok(slot !== undefined);
    report('LatestHead', [`slot ${slot}: height ${head.height} hash ${head.hash.toString()} timestamp ${head.timestamp}`]);
    assert.deepEqual(head, headOf(slot));
    assert.deepEqual(rpc.called('getSlot').at(-1)?.params, [{ commitment: 'confirmed' }]);
    assert.deepEqual(rpc.called('getBlock').at(-1)?.params, [slot, { commitment: 'confirmed', encoding: 'base64', maxSupportedTransactionVersion: 0 }]);

    await rpc.stop();
    const t = performance.now();
    assert.deepEqual(await relayer.latestHead(), EMPTY_HEAD);
    report('LatestHead with the RPC down', [`empty head, no error, after ${Math.round(performance.now() - t)} ms`]);

    await rpc.start();
    await sleep(500); // a slot later
    const again = await relayer.latestHead();
    const slot2 = rpc.lastServedBlockSlot();
    assert.ok(slot2 !== undefined && slot2 > slot, `${slot2} after ${slot}`);
    assert.deepEqual(again, headOf(slot2));
    assert.deepEqual(rpc.unknown, []);
  });

  it('Keystore with base58 accounts: Accounts feeds the balance monitor, which asks getBalance for each', async () => {
    const accounts = [solanaAccount('transmitter-1'), solanaAccount('transmitter-2')];
    await using rpc = await startFakeSolanaRpc({ balances: { [accounts[0] as string]: 1_234_000_000 } });
    const toml = solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'fake-0', url: rpc.url }], chain: { BalancePollPeriod: '1s' } });
    await using h = await solanaHarness({ id: 'solana.keystore', toml, accounts });
    await started(h);
    const asked = () => new Set(rpc.called('getBalance').map((c) => c.params[0]));
    await h.waitFor('getBalance for both accounts', () => accounts.every((a) => asked().has(a)), 10_000);
    report('balance calls', rpc.calls.filter((c) => c.method === 'getBalance' || c.method === 'getGenesisHash').map((c) => `${c.atMs} ms ${c.method} ${JSON.stringify(c.params)}`));
    report('balance monitor log', h.lines(/balance/i));
    assert.deepEqual([...asked()].sort(), [...accounts].sort());
    // Once per client, before the first balance.
    assert.equal(rpc.called('getGenesisHash').length, 1);
    assert.ok(rpc.called('getGenesisHash')[0]!.atMs <= rpc.called('getBalance')[0]!.atMs);
    assert.deepEqual(rpc.unknown, []);
  });

  it('a TOML with an unknown key: NewRelayer fails with the plugin\'s text in a typed LoopError', async () => {
    await using rpc = await startFakeSolanaRpc();
    const toml = solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'fake-0', url: rpc.url }], chain: { NoSuchKey: 1 } });
    await using h = await solanaHarness({ id: 'solana.badtoml', toml });
    h.svc.start();
    await h.waitFor('NewRelayer to fail', () => h.newRelayerErrors.length > 0, 20_000);
    const err = h.newRelayerErrors[0];
    assert.ok(err instanceof LoopError, String(err));
    report('NewRelayer error', [err.message.split('\n')[0] ?? '']);
    assert.equal(err.code, 'ERR_LOOPP_LOOP_CALL');
    assert.ok(err.message.startsWith('failed to create Relayer: 2 UNKNOWN: failed to decode config toml: strict mode: fields in the document are missing in the target struct'), err.message);
    assert.ok(err.message.includes('NoSuchKey = 1'), err.message);
    await assert.rejects(h.svc.ready(), (e: unknown) => e instanceof LoopError && e.code === 'ERR_LOOPP_LOOP_UNAVAILABLE' && e.cause === h.newRelayerErrors.at(-1));
    assert.equal(h.launched.length, 0);
  });

  it('GetChainInfo, FinalizedHead, Name, which this plugin does not implement: typed UNIMPLEMENTED errors naming the method, the plugin unharmed', async () => {
    await using rpc = await startFakeSolanaRpc();
    await using h = await solanaHarness({ id: 'solana.chaininfo', toml: solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'fake-0', url: rpc.url }] }) });
    const relayer = await started(h);
    const pid = h.svc.pid;
    const t = performance.now();
    await assert.rejects(relayer.getChainInfo(), (e: unknown) => {
      report('GetChainInfo', [`${(e as Error).message} (${Math.round(performance.now() - t)} ms)`]);
      return e instanceof LoopError && e.code === 'ERR_LOOPP_LOOP_UNIMPLEMENTED' && e.input === 'Relayer.GetChainInfo' && /GetChainInfo/.test(e.message);
    });
    // Newer than this plugin's chainlink-common too: FinalizedHead; and its Service does not answer Name.
    const unimplemented = (method: string) => (e: unknown) => {
      report(method, [(e as Error).message]);
      return e instanceof LoopError && e.code === 'ERR_LOOPP_LOOP_UNIMPLEMENTED' && e.input === method && e.message.includes(method);
    };
    await assert.rejects(relayer.finalizedHead(), unimplemented('Relayer.FinalizedHead'));
    await assert.rejects(relayer.name(), unimplemented('Service.Name'));
    assert.equal((await relayer.getChainStatus()).id, 'localnet');
    assert.equal(h.svc.pid, pid);
    assert.equal(h.svc.launches, 1);
    assert.deepEqual(h.exits, []);
  });

  it('MultiNode enabled against the fake: genesis hash, version and blockhash polls; LatestHead from the fake', async () => {
    await using rpc = await startFakeSolanaRpc();
    const toml = solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'fake-0', url: rpc.url }], multiNodeEnabled: true, multiNode: { PollInterval: '1s', FinalizedBlockPollInterval: '1s' } });
    await using h = await solanaHarness({ id: 'solana.multinode', toml });
    const relayer = await started(h);
    const seen = () => new Set(rpc.calls.map((c) => c.method));
    await h.waitFor('getVersion and getLatestBlockhash polls', () => seen().has('getVersion') && seen().has('getLatestBlockhash'), 15_000);
    report('MultiNode calls', [[...seen()].sort().join(' '), ...rpc.calls.slice(0, 12).map((c) => `${c.atMs} ms ${c.method} ${JSON.stringify(c.params)}`)]);
    report('MultiNode warn/error/critical lines', h.lines(/./).filter((l) => / (warn|critical|error) /.test(l)));
    assert.deepEqual(h.logs.filter((r) => r.level === 'critical'), []);
    const head = await relayer.latestHead();
    const slot = rpc.lastServedBlockSlot();
    assert.ok(slot !== undefined);
    report('MultiNode LatestHead', [`slot ${slot}: height ${head.height} hash ${head.hash.toString()} timestamp ${head.timestamp}`]);
    assert.deepEqual(head, headOf(slot));
    assert.deepEqual(rpc.unknown, []);
  });

  it('MultiNode enabled and no RPC: LatestHead fails, the plugin panics (exit 2) and LoopService relaunches it', async () => {
    const rpc = await startFakeSolanaRpc();
    const deadUrl = rpc.url; // a port nobody listens on any more
    await rpc.close();
    const toml = solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'dead-0', url: deadUrl }], multiNodeEnabled: true });
    // The panic is the balance monitor's (nil MultiNodeClient), which reads the chain only with accounts.
    await using h = await solanaHarness({ id: 'solana.panic', toml, accounts: [solanaAccount('transmitter-1')] });
    await started(h);
    await h.waitFor('the panic and the relaunch', () => h.launched.length >= 2, 45_000);
    const panic = h.logs.find((r) => r.level === 'critical' && r.message.startsWith('[PANIC]'));
    assert.ok(panic !== undefined, JSON.stringify(h.logs.filter((r) => r.level === 'critical')));
    const exit = h.exits[0];
    assert.ok(exit !== undefined);
    assert.equal(exit.code, 2);
    const relaunched = h.launched[1]!;
    report('panic and relaunch', [
      `first launch at ${h.launched[0]!.atMs} ms; panic line at ${panic.atMs} ms; exit (code ${exit.code}) seen at ${exit.atMs} ms`,
      `relaunched (launch #2, pid ${relaunched.pid}) at ${relaunched.atMs} ms: ${relaunched.atMs - exit.atMs} ms after the exit, ${relaunched.atMs - panic.atMs} ms after the panic line; launch itself ${Math.round(relaunched.ms)} ms`,
      ...h.lines(/./).filter((l) => / (warn|error|critical) /.test(l)).slice(0, 16),
    ]);
    // The relaunched plugin answers (until its own panic, about 10 s later).
    const relayer = await h.svc.wait();
    assert.equal((await relayer.getChainStatus()).id, 'localnet');
    await assert.rejects(relayer.latestHead(), /no live nodes available/);
  });
});
