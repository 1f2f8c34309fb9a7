/**
 * The launch options `check` and `call` share: what a command line makes of the cookie, the versions,
 * the environment, a LOOP kind and the flags; mistakes as UsageErrors; start failures mapped to a
 * message that says what to do.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../src/cli/args';
import { LAUNCH_OPTIONS, formatLaunchFailure, launchFailure, launchPlan, startOptions } from '../../src/cli/launch-options';
import { LOOP_KINDS } from '../../src/loop/index';
import { HandshakeError, StartError } from '../../src/index';

const plan = (argv: string[]) => launchPlan(parseArgs(argv, LAUNCH_OPTIONS));

describe('launch options', () => {
  it('a go-plugin plugin: cookie, version 1, AutoMTLS on, no mux, unix, 60 s', async () => {
    const p = await plan(['--cookie', 'BASIC_PLUGIN=hello', './kv', '-v']);
    assert.deepEqual(p, {
      command: './kv',
      args: ['-v'],
      handshake: { magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello', protocolVersion: 1 },
      versions: [1],
      env: {},
      loop: undefined,
      autoMTLS: true,
      mux: false,
      tcp: false,
      startTimeoutMs: 60_000,
    });
  });

  it('versions sorted and deduplicated, the newest as protocolVersion; env, flags, timeout', async () => {
    const p = await plan(['--cookie', 'K=v=w', '--version', '3', '--version', '2', '--version', '3', '--env', 'A=1', '--env', 'B=x=y', '--no-automtls', '--mux', '--tcp', '--timeout', '2s', 'p']);
    assert.deepEqual(p.versions, [2, 3]);
    assert.deepEqual(p.handshake, { magicCookieKey: 'K', magicCookieValue: 'v=w', protocolVersion: 3 });
    assert.deepEqual(p.env, { A: '1', B: 'x=y' });
    assert.deepEqual([p.autoMTLS, p.mux, p.tcp, p.startTimeoutMs], [false, true, true, 2000]);
    const o = startOptions(p);
    assert.deepEqual(Object.keys(o.versionedPlugins ?? {}), ['2', '3']);
    assert.equal(o.grpcBrokerMultiplex, true);
  });

  it('--loop: the kind\'s cookie, version 0, a node\'s CL_* variables on a free Prometheus port; --env wins', async () => {
    const p = await plan(['--loop', 'median', '--env', 'CL_LOG_LEVEL=debug', './feeds']);
    assert.deepEqual(p.handshake, LOOP_KINDS.median.handshake);
    assert.deepEqual(p.versions, [0]);
    assert.match(p.env['CL_PROMETHEUS_PORT'] ?? '', /^[1-9]\d*$/);
    assert.equal(p.env['CL_LOG_LEVEL'], 'debug');
  });

  it('names each mistake', async () => {
    const usage = (argv: string[], re: RegExp) => assert.rejects(plan(argv), (e) => e instanceof UsageError && re.test(e.message));
    await usage(['--cookie', 'A=b'], /^missing the plugin command/);
    await usage(['./p'], /^--cookie KEY=VALUE is required/);
    await usage(['--cookie', 'A=', './p'], /the value must not be empty/);
    await usage(['--cookie', 'A=b', '--loop', 'relayer', './p'], /both set the magic cookie/);
    await usage(['--loop', 'solana', './p'], /unknown LOOP kind; the kinds are relayer, median/);
    await usage(['--cookie', 'A=b', '--version', 'x', './p'], /--version "x": expected a whole number/);
    await usage(['--cookie', 'A=b', '--timeout', 'soon', './p'], /--timeout "soon": expected a duration/);
  });

  it('a failed start says what to do, with the plugin\'s stderr', () => {
    const cookie = launchFailure(new StartError('ERR_LOOPP_EXITED_BEFORE_HANDSHAKE', 'plugin exited before we could connect', { stderrTail: 'This binary is a plugin. These are not meant to be executed directly.\n' }));
    assert.equal(
      formatLaunchFailure(cookie),
      'could not start the plugin (ERR_LOOPP_EXITED_BEFORE_HANDSHAKE): plugin exited before we could connect\n' +
        '  The plugin refused the magic cookie: pass the --cookie KEY=VALUE it was built with, or --loop KIND for a Chainlink LOOP.\n' +
        '  plugin stderr (last lines):\n' +
        '    This binary is a plugin. These are not meant to be executed directly.\n',
    );
    assert.match(launchFailure(new HandshakeError('ERR_LOOPP_APP_VERSION', 'Incompatible API version')).hint, /--version N/);
    assert.match(launchFailure(new StartError('ERR_LOOPP_START_TIMEOUT', 'timeout')).hint, /Raise --timeout/);
    assert.equal(launchFailure(new Error('boom')).code, 'error');
  });
});
