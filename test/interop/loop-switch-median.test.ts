/**
 * The node's median switch with the real median LOOP (chainlink-feeds): CL_MEDIAN_CMD starts one LOOP
 * per job, and the Query deadline follows the node's rule: a Solana job's MaxDurationQuery below
 * CL_MIN_OCR2_MAX_DURATION_QUERY is raised (with a warning), a zero that nobody raises is refused
 * before the plugin sees it, and the deadline is applied to the call (1 ns expires: DEADLINE_EXCEEDED).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors';
import { LoopError, LoopRegistry, startMedianLoop, type ReportTimestamp, type StartMedianLoopOptions } from '../../src/loop/index';
import { oracleDataSources } from '../../fixtures/median/data-sources';
import { liveMedianProvider, medianPluginConfig, preciseTime } from '../../fixtures/median/live-provider';
import { encodeNumericalMedianConfig, encodeOnchainConfig } from '../../fixtures/median/ocr-wire';
import { assertNothingLeft, goBinary, rmDir, tmpDir } from '../helpers';

const DIGEST = Buffer.concat([Buffer.of(0, 1), Buffer.alloc(30, 0x33)]);
const TS: ReportTimestamp = { configDigest: DIGEST, epoch: 1, round: 1 };

function job(dir: string, registry: LoopRegistry, relay: string, env: Record<string, string>, warnings: string[]): StartMedianLoopOptions {
  const provider = liveMedianProvider({
    configDigest: DIGEST,
    n: 4,
    f: 1,
    onchainConfig: encodeOnchainConfig({ min: 0n, max: 10n ** 18n }),
    offchainConfig: encodeNumericalMedianConfig({ alphaReportPpb: 10_000_000n, alphaAcceptPpb: 10_000_000n, deltaCNanoseconds: 3_600_000_000_000n }),
    latest: { configDigest: DIGEST, epoch: 0, round: 0, answer: 1n, timestamp: preciseTime(Date.now()) },
  });
  const sources = oracleDataSources([{ value: 5n, juelsPerFeeCoin: 1n, gasPriceSubunits: 1n }]);
  const envFile = path.join(dir, 'median.env');
  fs.writeFileSync(envFile, `TMPDIR=${dir}\n`);
  return {
    registry,
    contractID: '0xfeed',
    jobID: 7,
    relay,
    env: { CL_MEDIAN_CMD: goBinary('chainlink-feeds'), CL_MEDIAN_ENV: envFile, ...env },
    logger: { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} },
    factory: {
      provider,
      dataSource: sources.dataSource,
      juelsPerFeeCoinDataSource: sources.juelsPerFeeCoinDataSource,
      gasPriceSubunitsDataSource: sources.gasPriceSubunitsDataSource,
      errorLog: { saveError() {} },
    },
    pingIntervalMs: 500,
  };
}

/** The config of oracle 0 of `o`'s provider, with MaxDurationQuery set. */
function configWith(o: StartMedianLoopOptions, maxDurationQuery: number) {
  return { ...medianPluginConfig((o.factory.provider as ReturnType<typeof liveMedianProvider>).contractConfig, 0), maxDurationQuery };
}

describe('startMedianLoop with chainlink-feeds: CL_MEDIAN_CMD and CL_MIN_OCR2_MAX_DURATION_QUERY', () => {
  it('unset CL_MEDIAN_CMD: in process, nothing starts', async () => {
    await using registry = new LoopRegistry();
    const dir = tmpDir('loopp-switch-median-');
    try {
      const o = job(dir, registry, 'solana', {}, []);
      assert.equal(await startMedianLoop({ ...o, env: {} }), undefined);
      assert.deepEqual(registry.list(), []);
    } finally {
      rmDir(dir);
    }
  });

  it('solana job: MaxDurationQuery 0 is raised to the minimum with a warning, and Query answers', async () => {
    const dir = tmpDir('loopp-switch-median-');
    await using registry = new LoopRegistry();
    const warnings: string[] = [];
    try {
      const o = job(dir, registry, 'solana', { CL_MIN_OCR2_MAX_DURATION_QUERY: '250ms' }, warnings);
      const svc = await startMedianLoop(o);
      assert.ok(svc !== undefined);
      try {
        assert.deepEqual(registry.list().map((r) => r.name), ['Median.0xfeed.7']);
        const factory = await svc.wait({ signal: AbortSignal.timeout(20_000) });
        const plugin = await factory.newReportingPlugin(configWith(o, 0));
        assert.deepEqual(warnings, ['MaxDurationQuery 0s is below CL_MIN_OCR2_MAX_DURATION_QUERY; raised to 250ms']);
        assert.deepEqual(await plugin.query(TS), Buffer.alloc(0));
      } finally {
        await svc.close();
      }
      assertNothingLeft(registry, dir, ['median.env']);
    } finally {
      rmDir(dir);
    }
  });

  it('another relay: a zero is refused before the plugin; 1 ns becomes the call deadline, which expires', async () => {
    const dir = tmpDir('loopp-switch-median-');
    await using registry = new LoopRegistry();
    try {
      const o = job(dir, registry, 'evm', {}, []);
      await using svc = await startMedianLoop(o);
      assert.ok(svc !== undefined);
      const factory = await svc.wait({ signal: AbortSignal.timeout(20_000) });
      await assert.rejects(factory.newReportingPlugin(configWith(o, 0)), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'ERR_LOOPP_CONFIG');
        assert.equal(err.message, 'MaxDurationQuery is 0s: every Query to the LOOP would time out at once');
        return true;
      });
      const plugin = await factory.newReportingPlugin(configWith(o, 1));
      await assert.rejects(plugin.query(TS), (err: unknown) => {
        assert.ok(err instanceof LoopError);
        assert.equal(err.code, 'ERR_LOOPP_LOOP_CALL');
        assert.match(err.message, /^ReportingPlugin\.Query: Deadline exceeded/);
        return true;
      });
    } finally {
      rmDir(dir);
    }
  });

  it('a bad CL_MIN_OCR2_MAX_DURATION_QUERY fails the job before anything starts', async () => {
    const dir = tmpDir('loopp-switch-median-');
    await using registry = new LoopRegistry();
    try {
      const o = job(dir, registry, 'solana', { CL_MIN_OCR2_MAX_DURATION_QUERY: '20' }, []);
      assert.throws(() => startMedianLoop(o), /^ConfigError: failed to parse CL_MIN_OCR2_MAX_DURATION_QUERY: time: missing unit in duration "20"$/);
      assert.deepEqual(registry.list(), []);
    } finally {
      rmDir(dir);
    }
  });
});
