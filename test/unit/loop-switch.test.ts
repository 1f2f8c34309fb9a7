/**
 * The node's per-kind switch (CL_<KIND>_CMD / CL_<KIND>_ENV) and its Query-deadline guard
 * (CL_MIN_OCR2_MAX_DURATION_QUERY), as pure functions: what the node would run, and the deadline.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors';
import { configuredLoop, minOcr2MaxDurationQueryNs, PLUGIN_KINDS, queryDeadlineNs, type PluginKind } from '../../src/loop/index';
import { rmDir, tmpDir } from '../helpers';

function configError(code: string, message: string | RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

describe('configuredLoop: what the node runs for a kind', () => {
  it('median, mercury, evm, solana: unset or empty CL_<KIND>_CMD means in process (undefined)', () => {
    for (const kind of ['median', 'mercury', 'evm', 'solana'] as const) {
      assert.equal(configuredLoop(kind, {}), undefined, kind);
      assert.equal(configuredLoop(kind, { [`CL_${kind.toUpperCase()}_CMD`]: '' }), undefined, kind);
    }
  });

  it('the other relayer kinds are always LOOPs: chainlink-<kind> unless CL_<KIND>_CMD says otherwise', () => {
    const always = PLUGIN_KINDS.filter((k) => !['median', 'mercury', 'evm', 'solana'].includes(k));
    assert.deepEqual(always, ['aptos', 'cosmos', 'starknet', 'tron', 'ton', 'sui']);
    for (const kind of always) {
      assert.deepEqual(configuredLoop(kind, {}), { kind, cmd: `chainlink-${kind}`, source: 'default', env: [] });
      assert.deepEqual(configuredLoop(kind, { [`CL_${kind.toUpperCase()}_CMD`]: '/opt/x' }), { kind, cmd: '/opt/x', source: 'env', env: [] });
    }
  });

  it('CL_<KIND>_ENV is an env file whose entries come with the command', () => {
    const dir = tmpDir('loopp-switch-');
    try {
      const file = path.join(dir, 'solana.env');
      fs.writeFileSync(file, 'GOMEMLIMIT=1MiB\n# comment\nexport A="b c"\n');
      assert.deepEqual(configuredLoop('solana', { CL_SOLANA_CMD: 'chainlink-solana', CL_SOLANA_ENV: file }), {
        kind: 'solana',
        cmd: 'chainlink-solana',
        source: 'env',
        env: [
          ['GOMEMLIMIT', '1MiB'],
          ['A', 'b c'],
        ],
      });
      // Read only when the LOOP is on: an in-process kind ignores its env file, as the node does.
      assert.equal(configuredLoop('median', { CL_MEDIAN_ENV: path.join(dir, 'missing.env') }), undefined);
      assert.throws(
        () => configuredLoop('median', { CL_MEDIAN_CMD: 'm', CL_MEDIAN_ENV: path.join(dir, 'missing.env') }),
        configError('ERR_LOOPP_ENV', `open ${path.join(dir, 'missing.env')}: no such file or directory`),
      );
    } finally {
      rmDir(dir);
    }
  });

  it('an unknown kind is a ConfigError naming it', () => {
    assert.throws(() => configuredLoop('bitcoin' as PluginKind, {}), configError('ERR_LOOPP_CONFIG', 'unknown plugin kind "bitcoin"'));
  });
});

describe('CL_MIN_OCR2_MAX_DURATION_QUERY and the Query deadline', () => {
  it('defaults to 100ms; parses Go durations; a bad value gives the node text', () => {
    assert.equal(minOcr2MaxDurationQueryNs({}), 100e6);
    assert.equal(minOcr2MaxDurationQueryNs({ CL_MIN_OCR2_MAX_DURATION_QUERY: '' }), 100e6);
    assert.equal(minOcr2MaxDurationQueryNs({ CL_MIN_OCR2_MAX_DURATION_QUERY: '1.5s' }), 1.5e9);
    assert.equal(minOcr2MaxDurationQueryNs({ CL_MIN_OCR2_MAX_DURATION_QUERY: '0' }), 0);
    assert.throws(
      () => minOcr2MaxDurationQueryNs({ CL_MIN_OCR2_MAX_DURATION_QUERY: '20' }),
      configError('ERR_LOOPP_ENV', 'failed to parse CL_MIN_OCR2_MAX_DURATION_QUERY: time: missing unit in duration "20"'),
    );
  });

  it('raises a MaxDurationQuery below the minimum, with a warning', () => {
    const warnings: Array<[string, unknown]> = [];
    const logger = { debug() {}, info() {}, warn: (m: string, f?: unknown) => warnings.push([m, f]), error() {} };
    assert.equal(queryDeadlineNs(0, 100e6, logger), 100e6);
    assert.deepEqual(warnings, [
      ['MaxDurationQuery 0s is below CL_MIN_OCR2_MAX_DURATION_QUERY; raised to 100ms', { maxDurationQuery: '0s', min: '100ms' }],
    ]);
    assert.equal(queryDeadlineNs(2e9, 100e6, logger), 2e9);
    assert.equal(queryDeadlineNs(5e6, undefined, logger), 5e6);
    assert.equal(warnings.length, 1);
  });

  it('refuses a zero it would not raise', () => {
    const zero = configError('ERR_LOOPP_CONFIG', 'MaxDurationQuery is 0s: every Query to the LOOP would time out at once');
    assert.throws(() => queryDeadlineNs(0, undefined), zero);
    assert.throws(() => queryDeadlineNs(0, 0), zero);
  });
});
