/**
 * Relayer LOOPs across languages: loopp's host (registry + command factory + supervision) driving
 * chainlink-common's test driver `-cmd=relayer`, including `-limit` crashes; and chainlink-common's
 * own host code (loop.NewRelayerService, in go-interop/bin/loop-host-go) running bin/relayer-loop-ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOOP_KINDS, LoopError, LoopRegistry, LoopService, newCmdFactory, relayerLoopPlugin, type Keystore, type PluginRelayerHost, type RelayerHandle } from '../../src/loop/index';
import { binary, childPids, goBinary, listDir, rmDir, run, sleep, tmpDir } from '../helpers';
import { REF, REFERENCE_FILE } from './relayer-reference-suite';

const STATIC_CONFIG = '[Foo]\nBar = "Baz"\n';
const keystore = (accounts: string[]): Keystore => ({ accounts: () => accounts, sign: (_a, d) => Buffer.from(d) });

async function relayerService(registry: LoopRegistry, id: string, args: string[], extraEnv: Record<string, string> = {}) {
  const driver = goBinary('loop-test-plugin');
  const factory = await newCmdFactory((n) => registry.register(n), { id, cmd: driver, args: ['-cmd=relayer', ...args], env: Object.entries(extraEnv) });
  return new LoopService<PluginRelayerHost, RelayerHandle>({
    name: 'RelayerService',
    kind: LOOP_KINDS.relayer,
    cmdFactory: factory,
    plugin: relayerLoopPlugin(),
    newService: (host) => host.newRelayer({ config: STATIC_CONFIG, keystore: keystore(['acct-1']), csaKeystore: keystore(['csa-1']) }),
    pingIntervalMs: 300,
  });
}

describe('TS host -> chainlink-common driver -cmd=relayer', () => {
  it('serves the keystores, creates the relayer and gets the static chain status', async () => {
    const registry = new LoopRegistry();
    await using svc = await relayerService(registry, 'relayer.static', ['-static-checks']);
    assert.equal((await svc.healthReport()).RelayerService?.message, 'plugin unavailable');
    await assert.rejects(svc.ready(), /plugin unavailable/);
    svc.start();
    const relayer = await svc.wait({ signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(await relayer.getChainStatus(), { id: 'some_chain', enabled: true, config: '' });
    assert.deepEqual(await relayer.getChainInfo(), { familyName: 'someFamily', chainId: '123', networkName: 'someNetwork', networkNameFull: 'someNetwork-test' });
    for (const [method, call] of [
      ['Relayer.LatestHead', () => relayer.latestHead()],
      ['Relayer.FinalizedHead', () => relayer.finalizedHead()],
    ] as const) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof LoopError);
        assert.equal(e.code, 'ERR_LOOPP_LOOP_CALL');
        assert.equal(e.input, method);
        assert.equal(e.message, `${method}: not implemented`);
        return true;
      });
    }
    await svc.ready();
    const health = await svc.healthReport();
    assert.equal(health.RelayerService, null);
    assert.equal(registry.get('relayer.static')?.name, 'relayer.static');
  });

  it('-limit: dies with status 3, is relaunched, answers again; no leaks over 5 relaunches', async () => {
    const sockDir = tmpDir('loopp-relay-limit-');
    const registry = new LoopRegistry();
    const codes: Array<number | null> = [];
    const driver = goBinary('loop-test-plugin');
    // -limit counts every call on the main connection (broker and stdio streams, NewRelayer, pings).
    const factory = await newCmdFactory((n) => registry.register(n), { id: 'relayer.limit', cmd: driver, args: ['-cmd=relayer', '-limit=6'], env: [['TMPDIR', sockDir]] });
    const watched = new LoopService<PluginRelayerHost, RelayerHandle>({
      name: 'RelayerService',
      kind: LOOP_KINDS.relayer,
      cmdFactory: factory,
      plugin: relayerLoopPlugin(),
      newService: (host) => host.newRelayer({ config: STATIC_CONFIG, keystore: keystore(['a']), csaKeystore: keystore(['c']) }),
      pingIntervalMs: 200,
      onExited: (e) => codes.push(e.code),
    });
    watched.start();
    try {
      const until = Date.now() + 40_000;
      while (watched.launches < 6 && Date.now() < until) await sleep(50);
      assert.ok(watched.launches >= 6, `only ${watched.launches} launches`);
      const relayer = await watched.wait({ signal: AbortSignal.timeout(10_000) });
      assert.equal((await relayer.getChainStatus()).id, 'some_chain');
      assert.ok(codes.length >= 5, `exits seen: ${codes.join(',')}`);
      for (const c of codes) assert.equal(c, 3);
    } finally {
      await watched.close();
    }
    assert.deepEqual(childPids(), []);
    assert.deepEqual(listDir(sockDir), []);
    rmDir(sockDir);
  });
});

describe('chainlink-common host (loop.NewRelayerService) -> relayer-loop-ts', () => {
  it('gets the chain status and scrapes /metrics on the assigned Prometheus port', async () => {
    // chainlink's host SIGKILLs the plugin after its own Close (go-plugin's "error closing client during
    // Kill" path), so the plugin's socket goes to a directory of the test's.
    const sockDir = tmpDir('loopp-gohost-relayer-');
    const config = `ReferenceFile = ${JSON.stringify(REFERENCE_FILE)}\n`;
    const r = await run(goBinary('loop-host-go'), ['-cmd', binary('relayer-loop-ts'), '-config', config, '-page-size', '2', '-scrape', '-timeout', '30s', '-env', `TMPDIR=${sockDir}`], { timeoutMs: 60_000 });
    rmDir(sockDir);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      prometheusPort: number;
      chainStatus: { id: string; enabled: boolean };
      chainInfo: { familyName: string };
      nodeStatuses: { nodes: unknown[]; nextPageToken: string; total: number };
      health: Record<string, unknown>;
      env: string[];
      metrics: { body: string };
    };
    assert.deepEqual(out.chainStatus, REF.chainStatus);
    assert.equal(out.chainInfo.familyName, REF.chainInfo.familyName);
    // The plugin answers next_page_token "2"; chainlink-common v1.3.1's relayerClient.ListNodeStatuses
    // never copies it into its result, so a Go host always sees "" (loopp's RelayerHandle returns it).
    assert.deepEqual(out.nodeStatuses, { nodes: REF.nodes.slice(0, 2), nextPageToken: '', total: REF.nodes.length });
    assert.ok(out.prometheusPort > 0);
    assert.ok(out.env.includes(`CL_PROMETHEUS_PORT=${out.prometheusPort}`));
    assert.match(out.metrics.body, /health\{service_id="PluginRelayer"\} 1/);
    assert.match(out.metrics.body, /uptime_seconds \d+/);
    for (const v of Object.values(out.health)) assert.equal(v, null);
  });

  it('-expect reference.json: every Relayer method (and of what its factories return) matches, 0 mismatches', async () => {
    const sockDir = tmpDir('loopp-gohost-expect-');
    const r = await run(goBinary('loop-host-go'), ['-expect', REFERENCE_FILE, '-timeout', '30s', '-env', `TMPDIR=${sockDir}`, '-cmd', binary('relayer-loop-ts')], { timeoutMs: 60_000 });
    rmDir(sockDir);
    const out = JSON.parse(r.stdout) as { mismatches?: string[]; error?: string; results: Record<string, unknown> };
    assert.equal(out.error, undefined);
    assert.deepEqual(out.mismatches, []);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.ok(Object.keys(out.results).length >= 30, `only ${Object.keys(out.results).length} results`);
  });
});
