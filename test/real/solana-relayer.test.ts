/**
 * The real chainlink-solana relayer LOOP (commit ee601d69, built outside CI: make real-loops) under
 * loopp's host: NewRelayer with the node-style TOML, the Relayer API against a fake Solana JSON-RPC,
 * RPC outages, the MultiNode panic and its relaunch, a bad config, the keystore, the RPCs this old
 * plugin does not implement, and a median provider for an OCR2 feed up to sendTransaction. Run by
 * make test-real only (docs/loop.md).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { LoopError, type Head, type Keystore, type RelayerHandle } from '../../src/loop/index';
import { sleep } from '../helpers';
import { base58 } from './base58';
import { ocr2StateAccount, transmissionsAccount, type Ocr2State } from './ocr2-accounts';
import { solanaAccount, solanaHarness, type SolanaHarness } from './solana-harness';
import { fakeBlock, startFakeSolanaRpc } from './solana-rpc';
import { solanaRelayerToml } from './solana-toml';

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
    assert.equal(err.input, 'PluginRelayer.NewRelayer');
    // The plugin's own text, which quotes the whole config after a tab.
    assert.equal(err.message, `PluginRelayer.NewRelayer: failed to decode config toml: strict mode: fields in the document are missing in the target struct:\n\t${toml}`);
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

  it('NewPluginProvider(median) for a Solana OCR2 feed: as far as the fake chain takes it', async () => {
    const key = (seed: string) => createHash('sha256').update(`loopp-fake-solana/feed/${seed}`).digest();
    const [stateKey, transmissionsKey, programKey, storeKey, transmitterKey] = ['state', 'transmissions', 'ocr2-program', 'store-program', 'transmitter'].map(key) as [Buffer, Buffer, Buffer, Buffer, Buffer];
    const state: Ocr2State = {
      transmissions: transmissionsKey,
      minAnswer: -(10n ** 20n),
      maxAnswer: 10n ** 20n,
      f: 1,
      round: 7,
      epoch: 42,
      configCount: 3,
      configDigest: Buffer.concat([Buffer.from([0, 3]), key('digest').subarray(2)]),
      configBlock: 123_456n,
      offchainConfigVersion: 2n,
      offchainConfig: Buffer.from('offchain-config-bytes'),
      oracles: [1, 2, 3, 4].map((i) => ({ transmitter: key(`oracle-${i}`), signer: key(`signer-${i}`).subarray(0, 20) })),
    };
    const transmission = { slot: 249_990n, timestamp: 1_700_000_500, answer: 123_456_789n };
    const owner = base58(programKey);
    await using rpc = await startFakeSolanaRpc({
      accounts: {
        [base58(stateKey)]: { data: ocr2StateAccount(state), owner },
        [base58(transmissionsKey)]: { data: transmissionsAccount(transmission), owner: base58(storeKey) },
      },
    });
    // Sign with empty data is the TXM's "do you hold this key" check; a real signature is 64 bytes.
    const signed: Array<{ account: string; bytes: number }> = [];
    const ks: Keystore = {
      accounts: () => [base58(transmitterKey)],
      sign: (account, data) => {
        signed.push({ account, bytes: data.length });
        if (account !== base58(transmitterKey)) throw new Error(`no key ${account}`);
        return data.length === 0 ? Buffer.alloc(0) : createHash('sha512').update(data).digest();
      },
    };
    await using h = await solanaHarness({ id: 'solana.provider', toml: solanaRelayerToml({ chainId: 'localnet', nodes: [{ name: 'fake-0', url: rpc.url }] }), keystore: ks });
    const relayer = await started(h);
    const steps: string[] = [];
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      try {
        const r = await fn();
        steps.push(`ok ${name}`);
        return r;
      } catch (err) {
        steps.push(`BLOCKED at ${name}: ${(err as Error).message}`);
        throw err;
      }
    };
    const relayConfig = { chainID: 'localnet', ocr2ProgramID: base58(programKey), transmissionsID: base58(transmissionsKey), storeProgramID: base58(storeKey) };
    const provider = await step('Relayer.NewPluginProvider (NewMedianProvider + Start: both caches fetch their account)', () =>
      relayer.newPluginProvider({
        providerType: 'median',
        relayArgs: { externalJobID: '1051429b-aa66-11ed-b0d2-5cff35dfbe67', jobID: 1, contractID: base58(stateKey), new: false, relayConfig: Buffer.from(JSON.stringify(relayConfig)) },
        pluginArgs: { transmitterID: base58(transmitterKey), pluginConfig: Buffer.alloc(0) },
      }),
    );
    try {
      await step('provider Ready', () => provider.ready());
      assert.equal(await step('OffchainConfigDigester.ConfigDigestPrefix', () => provider.offchainConfigDigester.configDigestPrefix()), 3);
      assert.deepEqual(await step('ContractConfigTracker.LatestConfigDetails', () => provider.contractConfigTracker.latestConfigDetails()), { changedInBlock: 123_456, configDigest: state.configDigest });
      const config = await step('ContractConfigTracker.LatestConfig', () => provider.contractConfigTracker.latestConfig(123_456));
      assert.deepEqual({ ...config, onchainConfig: undefined }, {
        configDigest: state.configDigest,
        configCount: 3,
        signers: state.oracles.map((o) => o.signer),
        transmitters: state.oracles.map((o) => base58(o.transmitter)),
        F: 1,
        onchainConfig: undefined,
        offchainConfigVersion: 2,
        offchainConfig: state.offchainConfig,
      });
      assert.deepEqual(await step('OnchainConfigCodec.Decode', () => provider.onchainConfigCodec.decode(config.onchainConfig)), { min: state.minAnswer, max: state.maxAnswer });
      const height = await step('ContractConfigTracker.LatestBlockHeight', () => provider.contractConfigTracker.latestBlockHeight());
      assert.ok(height >= 250_000 && height <= rpc.currentSlot(), `${height}`);
      assert.deepEqual(await step('MedianContract.LatestTransmissionDetails', () => provider.medianContract.latestTransmissionDetails()), {
        configDigest: state.configDigest,
        epoch: 42,
        round: 7,
        latestAnswer: 123_456_789n,
        latestTimestamp: { seconds: 1_700_000_500, nanos: 0 },
      });
      assert.deepEqual(await step('MedianContract.LatestRoundRequested', () => provider.medianContract.latestRoundRequested(0)), { configDigest: state.configDigest, epoch: 0, round: 0 });
      assert.deepEqual(await step('ContractTransmitter.LatestConfigDigestAndEpoch', () => provider.contractTransmitter.latestConfigDigestAndEpoch()), { configDigest: state.configDigest, epoch: 42 });
      assert.equal(await step('ContractTransmitter.FromAccount', () => provider.contractTransmitter.fromAccount()), base58(transmitterKey));
      assert.equal(await step('ReportCodec.MaxReportLength', () => provider.reportCodec.maxReportLength(4)), 61);
      // Four observations; the report carries the median timestamp, juels and value, observers by value.
      const observations = [
        { timestamp: 1_700_000_600, value: 300n, juelsPerFeeCoin: 7n, gasPriceSubunits: 0n, observer: 0 },
        { timestamp: 1_700_000_601, value: 100n, juelsPerFeeCoin: 5n, gasPriceSubunits: 0n, observer: 1 },
        { timestamp: 1_700_000_602, value: 400n, juelsPerFeeCoin: 8n, gasPriceSubunits: 0n, observer: 2 },
        { timestamp: 1_700_000_603, value: 200n, juelsPerFeeCoin: 6n, gasPriceSubunits: 0n, observer: 3 },
      ];
      const report = await step('ReportCodec.BuildReport', () => provider.reportCodec.buildReport(observations));
      const expected = Buffer.alloc(61);
      expected.writeUInt32BE(1_700_000_602, 0);
      expected.writeUInt8(4, 4);
      Buffer.from([1, 3, 0, 2]).copy(expected, 5);
      expected.writeBigUInt64BE(300n, 37 + 8); // median (int128 big-endian)
      expected.writeBigUInt64BE(7n, 53); // juels per fee coin (int64 big-endian)
      assert.deepEqual(report, expected);
      assert.equal(await step('ReportCodec.MedianFromReport', () => provider.reportCodec.medianFromReport(report)), 300n);
      const reportContext = { reportTimestamp: { configDigest: state.configDigest, epoch: 42, round: 8 }, extraHash: key('extra-hash') };
      const sigs = [0, 1].map((signer) => ({ signature: Buffer.alloc(65, signer + 1), signer }));
      await step('ContractTransmitter.Transmit (getLatestBlockhash, then the TXM queue: Sign with empty data checks the key)', () =>
        provider.contractTransmitter.transmit(reportContext, report, sigs),
      );
      assert.deepEqual(signed[0], { account: base58(transmitterKey), bytes: 0 });
      // The TXM signs and sends in the background: the fake has no sendTransaction, which ends the road.
      await step('TXM: sign the transaction and send it', () => h.waitFor('sendTransaction', () => rpc.unknown.includes('sendTransaction'), 10_000));
      // The wire transaction: one signature (compact-u16 count 1, 64 bytes), then the message the
      // host's keystore signed: our "signature" made it in.
      const sent = rpc.called('sendTransaction')[0]!;
      assert.deepEqual(sent.params[1], { encoding: 'base64', skipPreflight: true, preflightCommitment: 'confirmed', maxRetries: 0 });
      const wire = Buffer.from(String(sent.params[0]), 'base64');
      assert.equal(wire[0], 1);
      const message = wire.subarray(65);
      assert.deepEqual(signed[1], { account: base58(transmitterKey), bytes: message.length });
      assert.deepEqual(wire.subarray(1, 65), createHash('sha512').update(message).digest());
      steps.push(`BLOCKED after that: the fake answers sendTransaction (${wire.length}-byte transaction) with -32601`);
    } finally {
      report('NewPluginProvider steps', steps);
      report('provider log lines', h.lines(/./).filter((l) => / (warn|error|critical) |Transmi|Queuing|tx/.test(l)).map((l) => l.slice(0, 400)).slice(0, 20));
      report('fake RPC calls', [[...new Set(rpc.calls.map((c) => c.method))].sort().join(' '), `unknown: ${rpc.unknown.join(' ')}`]);
      await provider.close();
    }
    assert.deepEqual([...new Set(rpc.unknown)], ['sendTransaction']);
  });
});
