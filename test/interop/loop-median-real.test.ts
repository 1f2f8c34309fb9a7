/**
 * The real median reporting LOOP (chainlink-feeds at the version Chainlink core pins, built by
 * `make -C go-interop feeds`) driven through loopp/loop's public API: LoopRegistry + newCmdFactory +
 * LoopService launch it, the host serves the live provider of fixtures/median (a feed contract, a
 * report codec, config codecs) with three data sources and an error log, and libocr's
 * NumericalMedian plugin inside the LOOP makes every decision asserted here.
 *
 * Oracles: one LOOP (one node's median plugin) and one factory, with four reporting plugins of
 * oracle ids 0..3 made from it. Each plugin keeps its own libocr state (the latest accepted report),
 * as each oracle does, so ShouldAccept/ShouldTransmit are asked of all four. A factory's data sources
 * are fixed when it is made, so they answer the values of the oracle whose Observation is running.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LOOP_KINDS,
  LoopError,
  LoopRegistry,
  LoopService,
  medianLoopPlugin,
  newCmdFactory,
  type AttributedObservation,
  type MedianFactoryHandle,
  type PluginMedianHost,
  type ReportingPluginHandle,
  type ReportTimestamp,
} from '../../src/loop/index';
import { type OracleValues, oracleDataSources, type OracleDataSources } from '../../fixtures/median/data-sources';
import { type LiveMedianProvider, liveMedianProvider, medianPluginConfig, decodeReport, preciseTime, reportLength } from '../../fixtures/median/live-provider';
import { decodeMedianObservation, encodeNumericalMedianConfig, encodeOnchainConfig } from '../../fixtures/median/ocr-wire';
import { observeAsOracles } from '../../fixtures/median/round';
import { childPids, goBinary, listDir, rmDir, tmpDir } from '../helpers';

const N = 4;
const F = 1;
/** An EVM-style digest: prefix 0x0001, then anything. */
const DIGEST = Buffer.concat([Buffer.of(0, 1), Buffer.alloc(30, 0x5a)]);
const ALPHA_REPORT_PPB = 10_000_000n; // 1 %
const ALPHA_ACCEPT_PPB = 10_000_000n;
const DELTA_C_MS = 3_600_000; // 1 h
const OFFCHAIN_CONFIG = encodeNumericalMedianConfig({
  alphaReportPpb: ALPHA_REPORT_PPB,
  alphaAcceptPpb: ALPHA_ACCEPT_PPB,
  deltaCNanoseconds: BigInt(DELTA_C_MS) * 1_000_000n,
});
const ONCHAIN_CONFIG = encodeOnchainConfig({ min: 0n, max: 10n ** 18n });

/** Oracle i observes these; the values sort to 99 000, 101 000, 102 000, 103 000: median (index 2) 102 000. */
const VALUES: OracleValues[] = [
  { value: 101_000n, juelsPerFeeCoin: 5n, gasPriceSubunits: 10n },
  { value: 99_000n, juelsPerFeeCoin: 6n, gasPriceSubunits: 20n },
  { value: 103_000n, juelsPerFeeCoin: 7n, gasPriceSubunits: 30n },
  { value: 102_000n, juelsPerFeeCoin: 8n, gasPriceSubunits: 40n },
];
const MEDIAN = 102_000n;
const ts = (epoch: number, round: number): ReportTimestamp => ({ configDigest: DIGEST, epoch, round });

interface Rig extends AsyncDisposable {
  svc: LoopService<PluginMedianHost, MedianFactoryHandle>;
  registry: LoopRegistry;
  provider: LiveMedianProvider;
  sources: OracleDataSources;
  errors: string[];
  /** Every factory made (one per launch). */
  factories: MedianFactoryHandle[];
  launches: Array<{ launch: number; ms: number; pid: number }>;
  sockDir: string;
  plugins(factory: MedianFactoryHandle): Promise<ReportingPluginHandle[]>;
}

/**
 * Launches the LOOP and, on dispose, closes it and checks that nothing is left: every factory's
 * served broker ids closed, no child process, no file in the plugin's TMPDIR.
 */
async function medianRig(id: string): Promise<Rig> {
  const sockDir = tmpDir('loopp-median-real-');
  const registry = new LoopRegistry();
  const provider = liveMedianProvider({
    configDigest: DIGEST,
    n: N,
    f: F,
    onchainConfig: ONCHAIN_CONFIG,
    offchainConfig: OFFCHAIN_CONFIG,
    latest: { configDigest: DIGEST, epoch: 1, round: 1, answer: 100_000n, timestamp: preciseTime(Date.now()) },
  });
  const sources = oracleDataSources(VALUES.map((v) => ({ ...v })));
  const errors: string[] = [];
  const factories: MedianFactoryHandle[] = [];
  const launches: Rig['launches'] = [];
  const cmdFactory = await newCmdFactory((n) => registry.register(n), { id, cmd: goBinary('chainlink-feeds'), env: [['TMPDIR', sockDir]] });
  const svc = new LoopService<PluginMedianHost, MedianFactoryHandle>({
    name: 'MedianService',
    kind: LOOP_KINDS.median,
    cmdFactory,
    plugin: medianLoopPlugin(),
    newService: async (host) => {
      const factory = await host.newMedianFactory({
        provider,
        contractID: '0x5a5a',
        dataSource: sources.dataSource,
        juelsPerFeeCoinDataSource: sources.juelsPerFeeCoinDataSource,
        gasPriceSubunitsDataSource: sources.gasPriceSubunitsDataSource,
        errorLog: { saveError: (m) => void errors.push(m) },
      });
      factories.push(factory);
      return factory;
    },
    onLaunched: (info) => launches.push(info),
    pingIntervalMs: 500,
  });
  svc.start();
  return {
    svc,
    registry,
    provider,
    sources,
    errors,
    factories,
    launches,
    sockDir,
    plugins: (factory) => Promise.all(Array.from({ length: N }, (_, i) => factory.newReportingPlugin(medianPluginConfig(provider.contractConfig, i)))),
    async [Symbol.asyncDispose]() {
      try {
        await svc.close();
        assert.deepEqual(
          factories.map((f) => f.servedIds()),
          factories.map(() => []),
          'served broker ids left open',
        );
        assert.deepEqual(childPids(), [], 'child processes left running');
        assert.deepEqual(listDir(sockDir), [], 'files left in the plugin TMPDIR');
      } finally {
        rmDir(sockDir);
      }
    },
  };
}

const reportOf = async (plugins: ReportingPluginHandle[], t: ReportTimestamp, query: Buffer, aos: AttributedObservation[]) => {
  const answers = await Promise.all(plugins.map((p) => p.report(t, query, aos)));
  // Every oracle runs Report on the leader's attributed observations and must agree.
  for (const a of answers.slice(1)) assert.deepEqual(a, answers[0]);
  return answers[0]!;
};

describe('TS host -> real median LOOP (chainlink-feeds v0.1.2-0.20250227211209-7cd000095135)', () => {
  it('launches with the registry port, makes the factory and four reporting plugins; Ready says Unstarted (upstream)', async () => {
    await using rig = await medianRig('median.real.launch');
    const factory = await rig.svc.wait({ signal: AbortSignal.timeout(20_000) });
    const port = rig.registry.get('median.real.launch')?.envCfg.prometheusPort;
    assert.ok(port !== undefined && port > 0);
    // The plugin serves its Prometheus metrics on the port the registry gave it.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^go_goroutines /m);

    assert.deepEqual(rig.factories, [factory]);
    assert.equal(factory.servedIds().length, 5);
    // Upstream quirk (spec §8.1): nothing starts chainlink-feeds' reportingPluginFactoryService.
    await assert.rejects(factory.ready(), /service is "Unstarted", not started/);
    const health = await factory.healthReport();
    assert.deepEqual(Object.keys(health), ['PluginMedian.ReportingPluginFactory']);
    assert.match(String(health['PluginMedian.ReportingPluginFactory']?.message), /service is "Unstarted", not started/);

    const plugins = await rig.plugins(factory);
    for (const p of plugins) {
      assert.deepEqual(p.info, {
        name: 'NumericalMedian',
        uniqueReports: false,
        reportingPluginLimits: { maxQueryLength: 0, maxObservationLength: 92, maxReportLength: reportLength(N) },
      });
    }
    // NewReportingPlugin decoded the onchain config and asked the codec for the report limit, once per plugin.
    assert.equal(rig.provider.calls.get('onchainConfigCodec.decode'), N);
    assert.equal(rig.provider.calls.get('reportCodec.maxReportLength'), N);
    assert.deepEqual(rig.errors, []);
  });

  it('a round of four oracles: 2 % deviation reports the median, every oracle accepts and transmits, then the report is stale', async () => {
    await using rig = await medianRig('median.real.round');
    const factory = await rig.svc.wait({ signal: AbortSignal.timeout(20_000) });
    const plugins = await rig.plugins(factory);
    const t = ts(2, 1);
    const before = Math.floor(Date.now() / 1000);
    const { query, observations } = await observeAsOracles(plugins, rig.sources, t);
    const after = Math.ceil(Date.now() / 1000);
    assert.deepEqual(query, Buffer.alloc(0));
    // Each Observation asked the three data sources once, at the round's timestamp.
    assert.equal(rig.sources.observed.length, 3 * N);
    for (const o of rig.sources.observed) assert.deepEqual(o.ts, t);
    for (const [i, ao] of observations.entries()) {
      const o = decodeMedianObservation(ao.observation);
      assert.ok(o.timestamp >= before && o.timestamp <= after, `timestamp ${o.timestamp}`);
      assert.deepEqual({ ...o, timestamp: 0 }, { timestamp: 0, ...VALUES[i] });
    }

    const r = await reportOf(plugins, t, query, observations);
    assert.equal(r.shouldReport, true);
    const inReport = decodeReport(r.report);
    assert.deepEqual(
      inReport.map((o) => o.value).sort((a, b) => Number(a - b)),
      [99_000n, 101_000n, 102_000n, 103_000n],
    );
    assert.deepEqual(new Set(inReport.map((o) => o.observer)), new Set([0, 1, 2, 3]));

    for (const p of plugins) assert.equal(await p.shouldAcceptFinalizedReport(t, r.report), true);
    for (const p of plugins) assert.equal(await p.shouldTransmitAcceptedReport(t, r.report), true);
    // The second ShouldAccept of the same epoch/round: already accepted, so stale.
    assert.equal(await plugins[0]!.shouldAcceptFinalizedReport(t, r.report), false);

    await rig.provider.contractTransmitter.transmit({ reportTimestamp: t, extraHash: Buffer.alloc(32) }, r.report, []);
    assert.equal(rig.provider.latest.answer, MEDIAN);
    // The contract now holds epoch 2 round 1: transmitting the same report is no longer useful.
    assert.equal(await plugins[1]!.shouldTransmitAcceptedReport(t, r.report), false);
    assert.deepEqual(rig.errors, []);
  });

  it('no report when the contract holds the median and is fresh, or deviates by less than alpha; a report once DeltaC has passed', async () => {
    await using rig = await medianRig('median.real.decide');
    const factory = await rig.svc.wait({ signal: AbortSignal.timeout(20_000) });
    const plugins = await rig.plugins(factory);
    const decide = async (epoch: number, answer: bigint, ageMs: number) => {
      rig.provider.latest = { configDigest: DIGEST, epoch: epoch - 1, round: 1, answer, timestamp: preciseTime(Date.now() - ageMs) };
      const t = ts(epoch, 1);
      const { query, observations } = await observeAsOracles(plugins, rig.sources, t);
      return reportOf(plugins, t, query, observations);
    };
    assert.deepEqual(await decide(2, MEDIAN, 0), { shouldReport: false, report: Buffer.alloc(0) });
    // |102 000 - 102 500| / 102 500 = 0.49 % < 1 %.
    assert.deepEqual(await decide(3, 102_500n, 0), { shouldReport: false, report: Buffer.alloc(0) });
    // 1.02 % >= 1 %.
    assert.equal((await decide(4, 100_980n, 0)).shouldReport, true);
    // The same answer, but older than DeltaC (1 h).
    const stale = await decide(5, MEDIAN, DELTA_C_MS + 60_000);
    assert.equal(stale.shouldReport, true);
    assert.equal(decodeReport(stale.report).length, N);
    // A median outside the onchain config's [min, max] is never reported.
    rig.sources.values = VALUES.map((v) => ({ ...v, value: -v.value }));
    assert.deepEqual(await decide(6, 1n, DELTA_C_MS + 60_000), { shouldReport: false, report: Buffer.alloc(0) });
  });

  it('fewer than f+1 valid observations: the plugin\'s error, inside ERR_LOOPP_LOOP_CALL', async () => {
    await using rig = await medianRig('median.real.invalid');
    const factory = await rig.svc.wait({ signal: AbortSignal.timeout(20_000) });
    const [leader] = await rig.plugins(factory);
    const t = ts(2, 1);
    const junk = Array.from({ length: N }, (_, i) => ({ observation: Buffer.from('junk'), observer: i }));
    const refused = (valid: number) => (err: unknown) => {
      assert.ok(err instanceof LoopError);
      assert.equal(err.code, 'ERR_LOOPP_LOOP_CALL');
      assert.equal(err.message, `ReportingPlugin.Report: only received ${valid} valid attributed observations, but need at least f+1 (2)`);
      return true;
    };
    await assert.rejects(leader!.report(t, Buffer.alloc(0), junk), refused(0));
    const { observations } = await observeAsOracles([leader!], rig.sources, t);
    await assert.rejects(leader!.report(t, Buffer.alloc(0), [observations[0]!, ...junk.slice(1)]), refused(1));
    // A non-empty query is refused by Observation.
    await assert.rejects(leader!.observation(t, Buffer.from('q')), (err: unknown) => {
      assert.ok(err instanceof LoopError);
      assert.equal(err.message, 'ReportingPlugin.Observation: expected empty query');
      return true;
    });
  });

  it('a SIGKILLed median process is relaunched with a new factory; the old one is released and a new round reports', async (t) => {
    await using rig = await medianRig('median.real.sigkill');
    const first = await rig.svc.wait({ signal: AbortSignal.timeout(20_000) });
    const oldPlugins = await rig.plugins(first);
    const pid = rig.svc.pid;
    assert.ok(pid !== undefined);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    while (rig.launches.length < 2) {
      assert.ok(performance.now() - t0 < 20_000, 'not relaunched within 20 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const relaunchMs = performance.now() - t0;
    const second = await rig.svc.wait();
    assert.notEqual(second, first);
    assert.notEqual(rig.svc.pid, pid);
    // The old factory's data sources, provider and error log are no longer served.
    assert.deepEqual(first.servedIds(), []);
    assert.equal(second.servedIds().length, 5);
    await assert.rejects(oldPlugins[0]!.query(ts(2, 1)), LoopError);

    const plugins = await rig.plugins(second);
    const round = ts(2, 1);
    const { query, observations } = await observeAsOracles(plugins, rig.sources, round);
    const r = await reportOf(plugins, round, query, observations);
    assert.equal(r.shouldReport, true);
    assert.equal(await plugins[0]!.shouldAcceptFinalizedReport(round, r.report), true);
    t.diagnostic(`SIGKILL -> relaunched with a new factory in ${relaunchMs.toFixed(0)} ms (launch itself ${rig.launches[1]!.ms.toFixed(0)} ms)`);
  });
});
