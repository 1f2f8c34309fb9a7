/**
 * The node's composition of the seed's two LOOPs, with real processes on both sides: a relayer LOOP
 * standing in for chainlink-solana, whose median provider answers live (our Go reference relayer,
 * built on chainlink-common v1.3.1's serving code, then the TS relayer LOOP), and the real
 * chainlink-feeds median LOOP.
 * Both start through the node's switch (CL_SOLANA_CMD, CL_MEDIAN_CMD). The median plugin's provider
 * comes from the relayer (NewPluginProvider, type median) and the Node host hands it on as a
 * transparent gRPC proxy on a broker id: the plugin's calls flow median -> host -> relayer, undecoded.
 * Evidence that they do: the plugin's Report decision follows the relayer's contract state, which
 * only the relayer holds.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  LoopError,
  LoopRegistry,
  startMedianLoop,
  startRelayerLoop,
  type Keystore,
  type MedianFactoryHandle,
  type MedianProviderHandle,
  type ReportingPluginHandle,
  type ReportTimestamp,
} from '../../src/loop/index';
import { oracleDataSources, type OracleValues } from '../../fixtures/median/data-sources';
import { medianPluginConfig } from '../../fixtures/median/live-provider';
import { observeAsOracles } from '../../fixtures/median/round';
import { assertNothingLeft, binary, goBinary, ROOT, rmDir, sleep, tmpDir } from '../helpers';

const REFERENCE = path.join(ROOT, 'fixtures', 'relayer', 'reference.json');
const keystore = (accounts: string[]): Keystore => ({ accounts: () => accounts, sign: (_a, d) => Buffer.from(d) });
const RELAY_ARGS = { externalJobID: '2b4c1c6e-3f3a-4a8e-9a51-3c5e0e6f7a10', jobID: 42, contractID: '0xc0ffee', new: true, relayConfig: Buffer.from('{"chainID":"localnet"}') };
const PLUGIN_ARGS = { transmitterID: '0xfeed', pluginConfig: Buffer.from('{}') };
/** Oracle i observes VALUES[i]; median (index 2 of the sorted values) 102 000. */
const VALUES: OracleValues[] = [101_000n, 99_000n, 103_000n, 102_000n].map((value, i) => ({ value, juelsPerFeeCoin: BigInt(5 + i), gasPriceSubunits: BigInt(10 * (i + 1)) }));

interface Node extends AsyncDisposable {
  provider: MedianProviderHandle;
  factory: MedianFactoryHandle;
  relayerPid(): number | undefined;
  plugins: ReportingPluginHandle[];
  sources: ReturnType<typeof oracleDataSources>;
  digest: Buffer;
}

/** A node with CL_SOLANA_CMD=relayer-ref-go and CL_MEDIAN_CMD=chainlink-feeds, the job's provider from the relayer. */
async function node(dir: string, relayerCmd: string, latestAnswer: bigint): Promise<Node> {
  const registry = new LoopRegistry();
  const envFile = path.join(dir, 'loop.env');
  // PATH for the TS relayer's `#!/usr/bin/env node` launcher (LOOPs get no host environment).
  fs.writeFileSync(envFile, `TMPDIR=${dir}\nPATH=${process.env.PATH ?? ''}\n`);
  const relayerConfig = `ReferenceFile = ${JSON.stringify(REFERENCE)}\n[Median]\nLatestAnswer = "${latestAnswer}"\nLatestTimestamp = ${Math.floor(Date.now() / 1000)}\n`;
  const relayerSvc = await startRelayerLoop({
    registry,
    network: 'solana',
    chainID: 'localnet',
    relayer: { config: relayerConfig, keystore: keystore(['acct-1']), csaKeystore: keystore(['csa-1']) },
    env: { CL_SOLANA_CMD: relayerCmd, CL_SOLANA_ENV: envFile },
    pingIntervalMs: 500,
  });
  assert.ok(relayerSvc !== undefined);
  const relayer = await relayerSvc.wait({ signal: AbortSignal.timeout(20_000) });
  const provider = await relayer.newPluginProvider({ providerType: 'median', relayArgs: RELAY_ARGS, pluginArgs: PLUGIN_ARGS });
  const sources = oracleDataSources(VALUES.map((v) => ({ ...v })));
  const medianSvc = await startMedianLoop({
    registry,
    contractID: RELAY_ARGS.contractID,
    jobID: RELAY_ARGS.jobID,
    relay: 'solana',
    env: { CL_MEDIAN_CMD: goBinary('chainlink-feeds'), CL_MEDIAN_ENV: envFile },
    factory: { provider, ...sources, errorLog: { saveError() {} } },
    pingIntervalMs: 500,
  });
  assert.ok(medianSvc !== undefined);
  const factory = await medianSvc.wait({ signal: AbortSignal.timeout(20_000) });
  assert.deepEqual(registry.list().map((r) => r.name), ['Median.0xc0ffee.42', 'solana.localnet']);
  // The oracles' config is the relayer's contract config, read through the provider.
  const details = await provider.contractConfigTracker.latestConfigDetails();
  const cc = await provider.contractConfigTracker.latestConfig(details.changedInBlock);
  const plugins = await Promise.all(Array.from({ length: cc.signers.length }, (_, i) => factory.newReportingPlugin(medianPluginConfig(cc, i))));
  return {
    provider,
    factory,
    plugins,
    sources,
    digest: Buffer.from(cc.configDigest),
    relayerPid: () => relayerSvc.pid,
    async [Symbol.asyncDispose]() {
      // The median job first (it uses the provider), then the provider, then the relayer.
      await medianSvc.close();
      await provider.close();
      await relayerSvc.close();
      assert.deepEqual(factory.servedIds(), [], 'served broker ids left open');
      await registry.close();
      assertNothingLeft(registry, dir, ['loop.env']);
    },
  };
}

async function round(n: Node, t: ReportTimestamp) {
  const { query, observations } = await observeAsOracles(n.plugins, n.sources, t);
  const reports = await Promise.all(n.plugins.map((p) => p.report(t, query, observations)));
  for (const r of reports.slice(1)) assert.deepEqual(r, reports[0]);
  return reports[0]!;
}

/** Both relayer LOOPs serve fixtures/relayer/reference.json with a live median provider. */
const RELAYERS: Array<[string, () => string]> = [
  ['Go reference relayer (chainlink-common v1.3.1 serving code)', () => goBinary('relayer-ref-go')],
  ['TS relayer LOOP (bin/relayer-loop-ts)', () => binary('relayer-loop-ts')],
];

for (const [peer, relayerCmd] of RELAYERS) describe(`node composition: ${peer} provider -> host proxy -> real median LOOP`, () => {
  it('a full round on the relayer-served provider; after the transmit the relayer holds the median and the plugin does not report again', async () => {
    const dir = tmpDir('loopp-compose-');
    try {
      await using n = await node(dir, relayerCmd(), 100_000n);
      const t: ReportTimestamp = { configDigest: n.digest, epoch: 2, round: 1 };
      const r = await round(n, t);
      assert.equal(r.shouldReport, true, '2 % above the contract answer of the relayer');
      // The report was built by the relayer's codec (the plugin's BuildReport went through the proxy).
      assert.equal(await n.provider.reportCodec.medianFromReport(r.report), 102_000n);
      for (const p of n.plugins) assert.equal(await p.shouldAcceptFinalizedReport(t, r.report), true);
      for (const p of n.plugins) assert.equal(await p.shouldTransmitAcceptedReport(t, r.report), true);
      await n.provider.contractTransmitter.transmit({ reportTimestamp: t, extraHash: Buffer.alloc(32) }, r.report, []);
      assert.equal((await n.provider.medianContract.latestTransmissionDetails()).latestAnswer, 102_000n);
      for (const p of n.plugins) assert.equal(await p.shouldTransmitAcceptedReport(t, r.report), false, 'already on the relayer contract');

      const next = await round(n, { configDigest: n.digest, epoch: 2, round: 2 });
      assert.equal(next.shouldReport, false, 'the relayer contract holds the median now');
    } finally {
      rmDir(dir);
    }
  });

  it('the relayer dies mid-job: the median plugin gets a typed error through the proxy, no hang, nothing left behind', async () => {
    const dir = tmpDir('loopp-compose-');
    try {
      await using n = await node(dir, relayerCmd(), 100_000n);
      const pid = n.relayerPid();
      assert.ok(pid !== undefined);
      process.kill(pid, 'SIGKILL');
      while (n.relayerPid() === pid) await sleep(20);
      const t: ReportTimestamp = { configDigest: n.digest, epoch: 3, round: 1 };
      const { query, observations } = await observeAsOracles(n.plugins, n.sources, t);
      const t0 = Date.now();
      await assert.rejects(n.plugins[0]!.report(t, query, observations), (err: unknown) => {
        assert.ok(err instanceof LoopError);
        assert.equal(err.code, 'ERR_LOOPP_LOOP_CALL');
        assert.match(err.message, /^ReportingPlugin\.Report: /);
        return true;
      });
      assert.ok(Date.now() - t0 < 10_000, 'failed rather than hung');
    } finally {
      rmDir(dir);
    }
  });
});
