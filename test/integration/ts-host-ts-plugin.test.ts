/**
 * loopp host -> loopp plugin: the KV port over unix and tcp, plain and AutoMTLS; lifecycle (close,
 * kill, exited), reattach; dispense errors (the plugin served in-process). Faults (plugin or host
 * SIGKILLed) are in test/faults.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PluginError, grpcPlugin, reattachPlugin, startPlugin, StartError } from '../../src/index';
import { servePluginInProcess } from '../../src/testing';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { binary, childPids, listDir, rmDir, tmpDir, kvGet, kvPut } from '../helpers';

const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
const plugins = { kv_grpc: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };


let work: string;
let sockDir: string;
before(() => {
  work = tmpDir('loopp-kv-');
  sockDir = tmpDir('loopp-sock-');
});
after(() => {
  rmDir(work);
  rmDir(sockDir);
});

describe('TS host -> kv-plugin-ts', () => {
  for (const transport of ['unix', 'tcp'] as const) {
    for (const autoMTLS of [false, true]) {
      it(`${transport} ${autoMTLS ? 'AutoMTLS' : 'plain'}: put/get, close`, async () => {
        const p = await startPlugin({
          command: binary('kv-plugin-ts'),
          args: transport === 'tcp' ? ['--tcp'] : [],
          cwd: work,
          handshake,
          plugins,
          autoMTLS,
          unixSocketDir: sockDir,
        });
        assert.equal(p.network, transport);
        if (transport === 'unix') assert.match(path.basename(p.address), /^plugin[0-9]+$/);
        else assert.match(p.address, /^127\.0\.0\.1:[0-9]+$/);
        const kv = p.dispense('kv_grpc');
        await kvPut(kv, `k-${transport}-${autoMTLS}`, 'value 1');
        assert.equal(await kvGet(kv, `k-${transport}-${autoMTLS}`), 'value 1');
        assert.equal(fs.readFileSync(path.join(work, `kv_k-${transport}-${autoMTLS}`), 'utf8'), 'value 1');
        await p.ping();
        const t0 = Date.now();
        const exit = await p.close();
        assert.deepEqual(exit, { code: 0, signal: null, reason: 'closed' });
        assert.ok(Date.now() - t0 < 1500, 'graceful exit well inside 2 s');
        assert.deepEqual(await p.close(), exit, 'close() is idempotent');
        assert.deepEqual(childPids(), []);
        assert.deepEqual(listDir(sockDir), []);
        await assert.rejects(p.ping());
      });
    }
  }

  it('kill() SIGKILLs and settles exited with reason killed', async () => {
    const p = await startPlugin({ command: binary('kv-plugin-ts'), cwd: work, handshake, plugins, unixSocketDir: sockDir });
    const exit = await p.kill();
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL', reason: 'killed' });
    assert.deepEqual(await p.close(), exit);
    assert.throws(() => p.dispense('kv_grpc'), (e: unknown) => e instanceof PluginError && e.code === 'ERR_LOOPP_CLOSED');
  });

  it('reattach: a second client drives the running plugin and its close() stops it', async () => {
    const first = await startPlugin({ command: binary('kv-plugin-ts'), cwd: work, handshake, plugins, autoMTLS: false, unixSocketDir: sockDir });
    const cfg = first.reattachConfig();
    assert.deepEqual(cfg, { Protocol: 'grpc', ProtocolVersion: 1, Addr: { Network: 'unix', String: first.address }, Pid: first.pid });
    const json = JSON.parse(JSON.stringify(cfg));
    const second = await reattachPlugin({ reattach: json, plugins });
    await kvPut(second.dispense('kv_grpc'), 'ra', 'via second');
    assert.equal(await kvGet(first.dispense('kv_grpc'), 'ra'), 'via second');
    assert.deepEqual(second.reattachConfig(), json);
    await second.close();
    const exit = await first.exited;
    assert.equal(exit.code, 0);
    await first.close();
  });

  it('reattach to a dead address fails with Reattachment process not found', async () => {
    const err = await reattachPlugin({
      reattach: { Protocol: 'grpc', Addr: { Network: 'unix', String: path.join(sockDir, 'plugin0') }, Pid: 0 },
      plugins,
    }).then(() => assert.fail('should fail'), (e: Error) => e);
    assert.ok(err instanceof StartError);
    assert.equal(err.code, 'ERR_LOOPP_PROCESS_NOT_FOUND');
    assert.equal(err.message, 'Reattachment process not found');
  });

  it('close() still stops the plugin after a dispensed client closed the shared channel', async () => {
    const p = await startPlugin({ command: binary('kv-plugin-ts'), cwd: work, handshake, plugins, unixSocketDir: sockDir, gracefulShutdownMs: 300 });
    const kv = p.dispense('kv_grpc');
    await kvPut(kv, 'k', 'v');
    // grpc-js habit: close the generated client. With channelOverride this closes the plugin's channel.
    kv.close();
    const exit = await p.close();
    assert.equal(exit.reason, 'killed');
    assert.equal(p.hasExited, true);
    assert.deepEqual(listDir(sockDir), []);
  });
});

// No process is needed to check what dispense() does with the negotiated set: the plugin is served in-process.
describe('dispense', () => {
  it('an unknown name is a typed error', async () => {
    await using p = await servePluginInProcess({ handshake, plugins });
    assert.throws(
      () => p.client.dispense('nope' as 'kv_grpc'),
      (e: unknown) => e instanceof PluginError && e.code === 'ERR_LOOPP_UNKNOWN_PLUGIN' && e.message === 'unknown plugin type: nope',
    );
  });

  it('a plugin without a client factory is a typed error', async () => {
    await using p = await servePluginInProcess({ handshake, plugins: { ...plugins, served_only: grpcPlugin({ server: () => {} }) } });
    assert.throws(
      () => p.client.dispense('served_only'),
      (e: unknown) => e instanceof PluginError && e.code === 'ERR_LOOPP_UNKNOWN_PLUGIN' && e.message === 'plugin "served_only" doesn\'t support gRPC',
    );
  });
});
