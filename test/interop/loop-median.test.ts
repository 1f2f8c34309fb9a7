/**
 * Median LOOP across languages: loopp's host (registry + command factory + supervision) driving
 * chainlink-common v1.3.1's test driver `-cmd=median`. The host serves the three data sources, the
 * median provider (digester, tracker, transmitter, report codec, median contract, onchain config
 * codec, contract reader) and the error log with the driver's static fixtures; the driver evaluates
 * each of them inside NewMedianFactory, then its static factory and reporting plugin compare what
 * the host sends with the same fixtures.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newCmdFactory } from '../../src/loop/host/cmd-factory';
import { LOOP_KINDS } from '../../src/loop/wire/handshakes';
import { type MedianFactoryHandle, medianLoopPlugin, type PluginMedianHost } from '../../src/loop/host/median';
import { LoopRegistry } from '../../src/loop/host/registry';
import { LoopService } from '../../src/loop/host/service';
import { goBinary, sleep } from '../helpers';
import {
  ATTRIBUTED_OBSERVATIONS,
  DATA_SOURCE_VALUE,
  GAS_PRICE_SUBUNITS,
  JUELS_PER_FEE_COIN,
  MEDIAN_CONTRACT_ID,
  OBSERVATION,
  PLUGIN_TIMESTAMP,
  QUERY,
  recordingErrorLog,
  REPORT,
  REPORTING_PLUGIN_CONFIG,
  REPORTING_PLUGIN_INFO,
  staticDataSource,
  staticMedianProvider,
} from './median-fixtures';

async function medianService(id: string, gasPriceSubunits: bigint, errorLog = recordingErrorLog(), juels = JUELS_PER_FEE_COIN) {
  const registry = new LoopRegistry();
  const driver = goBinary('loop-test-plugin');
  const factory = await newCmdFactory((n) => registry.register(n), { id, cmd: driver, args: ['-cmd=median'] });
  return new LoopService<PluginMedianHost, MedianFactoryHandle>({
    name: 'MedianService',
    kind: LOOP_KINDS.median,
    cmdFactory: factory,
    plugin: medianLoopPlugin(),
    newService: (host) =>
      host.newMedianFactory({
        provider: staticMedianProvider(),
        contractID: MEDIAN_CONTRACT_ID,
        dataSource: staticDataSource(DATA_SOURCE_VALUE),
        juelsPerFeeCoinDataSource: staticDataSource(juels),
        gasPriceSubunitsDataSource: staticDataSource(gasPriceSubunits),
        errorLog,
      }),
    pingIntervalMs: 300,
  });
}

describe('TS host -> chainlink-common driver -cmd=median', () => {
  it('creates the factory and the reporting plugin, and runs one Query / Observation / Report round', async () => {
    const errorLog = recordingErrorLog();
    await using svc = await medianService('median.static', GAS_PRICE_SUBUNITS, errorLog);
    svc.start();
    const factory = await svc.wait({ signal: AbortSignal.timeout(20_000) });
    // The driver's static factory saves one error through the host's ErrorLog.
    assert.deepEqual(errorLog.messages, ['an error']);
    await factory.ready();
    const health = await factory.healthReport();
    assert.ok(Object.keys(health).some((k) => k.endsWith('staticReportingPluginFactory')), JSON.stringify(Object.keys(health)));
    for (const v of Object.values(health)) assert.equal(v, null);

    const plugin = await factory.newReportingPlugin(REPORTING_PLUGIN_CONFIG);
    assert.deepEqual(plugin.info, REPORTING_PLUGIN_INFO);
    const query = await plugin.query(PLUGIN_TIMESTAMP);
    assert.deepEqual(query, QUERY);
    const observation = await plugin.observation(PLUGIN_TIMESTAMP, query);
    assert.deepEqual(observation, OBSERVATION);
    const report = await plugin.report(PLUGIN_TIMESTAMP, query, ATTRIBUTED_OBSERVATIONS);
    assert.deepEqual(report, { shouldReport: true, report: REPORT });
    assert.equal(await plugin.shouldAcceptFinalizedReport(PLUGIN_TIMESTAMP, report.report), true);
    assert.equal(await plugin.shouldTransmitAcceptedReport(PLUGIN_TIMESTAMP, report.report), true);
    // The static plugin checks its inputs: a wrong timestamp is an error.
    await assert.rejects(plugin.query({ ...PLUGIN_TIMESTAMP, epoch: 1 }), /expected/);
    await plugin.close();

    // A wrong config is refused by the static factory.
    await assert.rejects(factory.newReportingPlugin({ ...REPORTING_PLUGIN_CONFIG, n: 3 }), /expected N 12 but got 3/);
  });

  it('accepts a zero gas price data source (the driver allows 0 there)', async () => {
    await using svc = await medianService('median.zero-gas', 0n);
    svc.start();
    const factory = await svc.wait({ signal: AbortSignal.timeout(20_000) });
    const plugin = await factory.newReportingPlugin(REPORTING_PLUGIN_CONFIG);
    assert.deepEqual(await plugin.query(PLUGIN_TIMESTAMP), QUERY);
    await plugin.close();
  });

  it('a dependency that does not match the fixtures is refused by NewMedianFactory', async () => {
    await using svc = await medianService('median.bad-juels', GAS_PRICE_SUBUNITS, recordingErrorLog(), JUELS_PER_FEE_COIN - 1n);
    svc.start();
    let cause = '';
    for (const until = Date.now() + 15_000; Date.now() < until && !cause.includes('juels'); await sleep(100)) {
      const e = (await svc.healthReport()).MedianService;
      cause = e?.cause instanceof Error ? e.cause.message : '';
    }
    assert.match(cause, /juelsPerFeeCoinDataSource does not equal .*expected Value 1234 but got 1233/);
    await assert.rejects(svc.ready(), /plugin unavailable/);
  });
});
