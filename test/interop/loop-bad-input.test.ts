/**
 * Bad input to the seed's LOOPs, started as a node starts them: a command that is the wrong kind of
 * LOOP (its cookie differs) and a relayer config the plugin rejects. Each gives a typed error through
 * the supervised service (ready() says why), the supervisor keeps trying without piling anything up,
 * and close() leaves no process, socket file or registration behind.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { StartError } from '../../src/index';
import { LoopError, LoopRegistry, startMedianLoop, startRelayerLoop, type Keystore } from '../../src/loop/index';
import { assertNothingLeft, goBinary, rmDir, sleep, tmpDir } from '../helpers';

const keystore = (accounts: string[]): Keystore => ({ accounts: () => accounts, sign: (_a, d) => Buffer.from(d) });
const noop = { observe: () => 0n };

/** Waits until the service has tried at least `n` launches' worth of time and reports a cause. */
async function unavailableCause(svc: { ready(): Promise<void> }): Promise<unknown> {
  const until = Date.now() + 15_000;
  for (;;) {
    const err = await svc.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof LoopError, `ready() should fail, got ${String(err)}`);
    assert.equal(err.code, 'ERR_LOOPP_LOOP_UNAVAILABLE');
    if (err.cause !== undefined) return err.cause;
    assert.ok(Date.now() < until, 'no cause reported within 15 s');
    await sleep(50);
  }
}

describe('bad input to the seed LOOPs', () => {
  it('CL_MEDIAN_CMD names a relayer binary: its cookie differs, so it exits before the handshake; typed, retried, nothing left', async () => {
    const dir = tmpDir('loopp-bad-');
    await using registry = new LoopRegistry();
    try {
      fs.writeFileSync(path.join(dir, 'median.env'), `TMPDIR=${dir}\n`);
      const svc = await startMedianLoop({
        registry,
        contractID: '0x1',
        jobID: 1,
        relay: 'evm',
        env: { CL_MEDIAN_CMD: goBinary('relayer-ref-go'), CL_MEDIAN_ENV: path.join(dir, 'median.env') },
        factory: {
          provider: { channel: undefined as never },
          dataSource: noop,
          juelsPerFeeCoinDataSource: noop,
          gasPriceSubunitsDataSource: noop,
          errorLog: { saveError() {} },
        },
        pingIntervalMs: 200,
      });
      assert.ok(svc !== undefined);
      try {
        const cause = await unavailableCause(svc);
        assert.ok(cause instanceof StartError, String(cause));
        assert.equal(cause.code, 'ERR_LOOPP_EXITED_BEFORE_HANDSHAKE');
        assert.equal(svc.launches, 0);
      } finally {
        await svc.close();
      }
      assertNothingLeft(registry, dir, ['median.env']);
    } finally {
      rmDir(dir);
    }
  });

  it('a relayer config the plugin rejects: its text in a typed error, the served keystores released, nothing left', async () => {
    const dir = tmpDir('loopp-bad-');
    await using registry = new LoopRegistry();
    try {
      fs.writeFileSync(path.join(dir, 'solana.env'), `TMPDIR=${dir}\n`);
      const svc = await startRelayerLoop({
        registry,
        network: 'solana',
        chainID: 'localnet',
        relayer: { config: 'Unknown = 1\n', keystore: keystore(['a']), csaKeystore: keystore(['c']) },
        env: { CL_SOLANA_CMD: goBinary('relayer-ref-go'), CL_SOLANA_ENV: path.join(dir, 'solana.env') },
        pingIntervalMs: 200,
      });
      assert.ok(svc !== undefined);
      try {
        const cause = await unavailableCause(svc);
        assert.ok(cause instanceof LoopError, String(cause));
        assert.equal(cause.code, 'ERR_LOOPP_LOOP_CALL');
        assert.match(cause.message, /^PluginRelayer.NewRelayer: relayer-ref: config: strict mode: fields in the document are missing in the target struct$/);
        assert.equal(svc.launches, 0);
      } finally {
        await svc.close();
      }
      assertNothingLeft(registry, dir, ['solana.env']);
    } finally {
      rmDir(dir);
    }
  });
});
