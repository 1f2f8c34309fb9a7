/**
 * loopp's host launching a real Go go-plugin plugin (v1.8.0, which always listens on unix on Linux):
 * plain and AutoMTLS, close without SIGKILL, stderr hclog re-logged, and reattach.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { grpcPlugin, reattachPlugin, startPlugin, type PluginLogEntry } from '../../src/index';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { childPids, goBinary, listDir, rmDir, tmpDir, kvGet, kvPut } from '../helpers';

const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
const plugins = { kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };
const SUFFIX = '\n\nWritten from plugin-go-grpc';


let work: string;
let sockDir: string;
before(() => {
  work = tmpDir('loopp-goplug-');
  sockDir = tmpDir('loopp-goplug-sock-');
});
after(() => {
  rmDir(work);
  rmDir(sockDir);
});

describe('TS host -> Go KV plugin (go-plugin v1.8.0)', () => {
  for (const [autoMTLS, grpcChannel] of [[false, 'loopp'], [true, 'loopp'], [false, 'grpc-js'], [true, 'grpc-js']] as const) {
    it(`${autoMTLS ? 'AutoMTLS' : 'plain'} (${grpcChannel} channel)`, async () => {
      const logs: PluginLogEntry[] = [];
      const p = await startPlugin({ command: goBinary('kv-plugin-go'), cwd: work, handshake, plugins, autoMTLS, grpcChannel, unixSocketDir: sockDir, onLog: (e) => logs.push(e) });
      assert.equal(p.network, 'unix');
      assert.equal(path.dirname(p.address), sockDir);
      const kv = p.dispense('kv');
      await kvPut(kv, `k${autoMTLS}`, 'from node');
      assert.equal(await kvGet(kv, `k${autoMTLS}`), `from node${SUFFIX}`);
      await p.ping();
      const exit = await p.close();
      assert.deepEqual(exit, { code: 0, signal: null, reason: 'closed' });
      assert.deepEqual(childPids(), []);
      assert.deepEqual(listDir(sockDir), []);
      // The Go plugin's hclog JSON arrives parsed, at its level, with its fields.
      const addr = logs.find((e) => e.message === 'plugin address');
      assert.ok(addr, JSON.stringify(logs.slice(0, 5)));
      assert.equal(addr.json, true);
      assert.equal(addr.level, 'debug');
      assert.equal(addr.fields.network, 'unix');
      if (autoMTLS) assert.ok(logs.some((e) => /automatic mTLS/.test(e.message)));
    });
  }

  it('reattach to a running Go plugin works', async () => {
    const first = await startPlugin({ command: goBinary('kv-plugin-go'), cwd: work, handshake, plugins, autoMTLS: false, unixSocketDir: sockDir });
    await kvPut(first.dispense('kv'), 'shared', 'one');
    const second = await reattachPlugin({ reattach: JSON.parse(JSON.stringify(first.reattachConfig())), plugins });
    assert.equal(await kvGet(second.dispense('kv'), 'shared'), `one${SUFFIX}`);
    await second.ping();
    await second.close();
    const exit = await first.exited;
    assert.equal(exit.code, 0);
    await first.close();
    assert.deepEqual(childPids(), []);
    assert.equal(fs.existsSync(first.address), false);
  });
});
