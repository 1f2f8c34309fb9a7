/**
 * loopp/testing: a plugin set served in-process over a real gRPC connection. The KV and counter
 * (bidirectional, through the broker) plugins in both broker modes, errors with their status, the
 * one teardown path (close, kill, the signal, `await using`) and that nothing is left: no socket,
 * temp dir, broker id, handle or child process.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConfigError, PluginError, StartError, grpcPlugin, type PluginSet } from '../../src/index';
import { servePluginInProcess, type InProcessPlugin } from '../../src/testing';
import { brokerResources, type Broker } from '../../src/shared/broker';
import { CounterService } from '../../fixtures/gen/examples/counter/counter';
import { type GetRequest, type GetResponse, KVClient, KVService, type PutRequest } from '../../fixtures/gen/examples/kv/kv';
import { counterClient } from '../../fixtures/counter/counter-client';
import { counterServer } from '../../fixtures/counter/counter-server';
import { childPids, kvGet, kvPut, listDir, rmDir, run, tmpDir } from '../helpers';

/** An in-memory KV whose Get of a missing key fails with NOT_FOUND and trailing metadata. */
function kvPlugins() {
  const store = new Map<string, Buffer>();
  return {
    kv: grpcPlugin({
      server: ({ server }) =>
        server.addService(KVService, {
          get: (call: grpc.ServerUnaryCall<GetRequest, GetResponse>, cb: grpc.sendUnaryData<GetResponse>) => {
            const value = store.get(call.request.key);
            if (value !== undefined) return cb(null, { value });
            const metadata = new grpc.Metadata();
            metadata.set('x-missing-key', call.request.key);
            cb({ code: grpc.status.NOT_FOUND, details: `no such key: ${call.request.key}`, metadata });
          },
          put: (call: grpc.ServerUnaryCall<PutRequest, object>, cb: grpc.sendUnaryData<object>) => {
            store.set(call.request.key, Buffer.from(call.request.value));
            cb(null, {});
          },
        }),
      client: ({ createClient }) => createClient<KVClient>(KVClient.service),
    }),
  };
}

function counterPlugins(dir: string) {
  return { counter: grpcPlugin({ server: ({ server, broker }) => server.addService(CounterService, counterServer(broker, dir)), client: counterClient }) };
}

/** What both brokers still hold (ids served, dials waiting, ConnInfo slots, bridges). */
function brokersHold(t: InProcessPlugin<PluginSet>): unknown {
  return [(t.client.broker as Broker)[brokerResources](), (t.server.broker as Broker)[brokerResources]()];
}
const NOTHING = { slots: 0, waiting: 0, servers: 0, bridges: 0, unsent: 0 };

/** The handles keeping the loop alive, by kind (sockets, servers, timers), after pending callbacks ran. */
async function activeResources(): Promise<string[]> {
  await new Promise((r) => setImmediate(r));
  return process.getActiveResourcesInfo().filter((k) => k !== 'FSReqCallback' && k !== 'FSReqPromise').sort();
}

let work: string;
before(() => {
  work = tmpDir('loopp-testing-');
});
after(() => rmDir(work));

describe('servePluginInProcess: the KV plugin', () => {
  for (const transport of ['unix', 'tcp'] as const) {
    for (const autoMTLS of [false, true]) {
      it(`${transport}, ${autoMTLS ? 'AutoMTLS' : 'plain'}: Put/Get through the dispensed client, then nothing left`, async () => {
        const before = await activeResources();
        const exitListeners = process.listenerCount('exit');
        await using t = await servePluginInProcess({ plugins: kvPlugins(), transport, autoMTLS });
        assert.equal(t.client.network, transport);
        if (transport === 'unix') assert.equal(path.dirname(t.client.address), t.dir);
        else assert.match(t.client.address, /^127\.0\.0\.1:[0-9]+$/);
        assert.equal(t.client.protocolVersion, 1);
        assert.equal(t.client.pid, 0);
        const kv = t.dispense('kv');
        await kvPut(kv, 'k', 'value 1');
        assert.equal(await kvGet(kv, 'k'), 'value 1');
        await t.client.ping();
        assert.deepEqual(listDir(t.dir), transport === 'unix' ? [path.basename(t.client.address)] : []);
        await t.close();
        assert.equal(fs.existsSync(t.dir), false, 'temp dir removed');
        assert.deepEqual(await t.client.exited, { code: 0, signal: null, reason: 'closed' });
        assert.deepEqual(brokersHold(t), [NOTHING, NOTHING]);
        assert.deepEqual(await activeResources(), before);
        assert.equal(process.listenerCount('exit'), exitListeners);
        assert.deepEqual(childPids(), []);
      });
    }
  }

  it('an error from the plugin arrives with its code, details and trailing metadata', async () => {
    await using t = await servePluginInProcess({ plugins: kvPlugins() });
    const kv = t.dispense('kv');
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => kv.get({ key: 'nope' }, (e) => (e ? resolve(e) : reject(new Error('Get should fail')))));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'no such key: nope');
    assert.deepEqual(err.metadata.get('x-missing-key'), ['nope']);
  });

  it('dispense: an unknown name is ERR_LOOPP_UNKNOWN_PLUGIN, and after close ERR_LOOPP_CLOSED', async () => {
    await using t = await servePluginInProcess({ plugins: kvPlugins() });
    assert.throws(
      () => t.dispense('nope' as 'kv'),
      (e: unknown) => e instanceof PluginError && e.code === 'ERR_LOOPP_UNKNOWN_PLUGIN' && e.message === 'unknown plugin type: nope' && e.hint === 'Known plugins: kv.',
    );
    await t.close();
    assert.throws(() => t.dispense('kv'), (e: unknown) => e instanceof PluginError && e.code === 'ERR_LOOPP_CLOSED');
  });

  it('versionedPlugins: the newest version both sides have is served and dispensed', async () => {
    const v1 = { kv: grpcPlugin({ server: () => {}, client: () => 'v1 client' }) };
    await using t = await servePluginInProcess({ versionedPlugins: { 1: v1, 3: kvPlugins(), 2: v1 } });
    assert.equal(t.client.protocolVersion, 3);
    assert.equal(t.server.protocolVersion, 3);
    const kv = t.dispense('kv') as KVClient;
    await kvPut(kv, 'v', '3');
    assert.equal(await kvGet(kv, 'v'), '3');
  });

  it('the plugin\'s log lines reach the logger at their level; captured stdio reaches syncStdout', async () => {
    const lines: string[] = [];
    const out = new PassThrough();
    const got: Buffer[] = [];
    out.on('data', (c: Buffer) => got.push(c));
    await using t = await servePluginInProcess({ plugins: kvPlugins(), onLog: (e) => lines.push(`${e.level} ${e.message}`), captureStdio: true, syncStdout: out });
    try {
      t.server.logger.warn('from the plugin', { n: 1 });
      process.stdout.write('through GRPCStdio\n');
    } finally {
      await t.close();
    }
    assert.ok(lines.includes('warn from the plugin'), lines.join('\n'));
    assert.equal(Buffer.concat(got).toString(), 'through GRPCStdio\n');
  });
});

describe('servePluginInProcess: the counter (the plugin calls the host back over the broker)', () => {
  for (const grpcBrokerMultiplex of [false, true]) {
    for (const grpcChannel of ['loopp', 'grpc-js'] as const) {
      it(`${grpcBrokerMultiplex ? 'multiplexed' : 'classic'} broker, ${grpcChannel} channel: Put adds through the host's AddHelper; no broker id left`, async () => {
        const dir = fs.mkdtempSync(path.join(work, 'counter-'));
        await using t = await servePluginInProcess({ plugins: counterPlugins(dir), grpcBrokerMultiplex, grpcChannel });
        assert.equal(t.client.broker.multiplexed, grpcBrokerMultiplex);
        assert.equal(t.server.broker.multiplexed, grpcBrokerMultiplex);
        const counter = t.dispense('counter');
        for (let i = 1; i <= 10; i++) await counter.put('n', i);
        assert.equal(await counter.get('n'), 55);
        assert.equal(fs.readFileSync(path.join(dir, 'kv_n'), 'utf8'), '55');
        assert.deepEqual(brokersHold(t), [NOTHING, NOTHING]);
        // The plugin's socket, and multiplexed, grpc-js's bridge dir for the main channel: each
        // AddHelper's broker socket (classic) or bridge went with its close().
        const bridge = grpcBrokerMultiplex && grpcChannel === 'grpc-js';
        assert.deepEqual(listDir(t.dir).map((f) => f.replace(/^plugin[0-9]+$/, 'plugin').replace(/^loopp-mux-.*/, 'bridge')).sort(), bridge ? ['bridge', 'plugin'] : ['plugin']);
        await t.close();
        assert.equal(fs.existsSync(t.dir), false);
      });
    }
  }
});

describe('servePluginInProcess: the one teardown path', () => {
  it('close() is idempotent: one promise, the temp dir gone, kill() after it a no-op', async () => {
    await using t = await servePluginInProcess({ plugins: kvPlugins() });
    const first = t.close();
    assert.equal(t.close(), first);
    await first;
    assert.equal(t.close(), first);
    await t.kill();
    assert.equal(fs.existsSync(t.dir), false);
    assert.deepEqual(await t.client.exited, { code: 0, signal: null, reason: 'closed' });
    await assert.rejects(t.client.ping());
  });

  it('kill() stops both sides at once (exit reason killed) and is idempotent; it hurries a close() under way', async () => {
    await using t = await servePluginInProcess({ plugins: kvPlugins() });
    const killed = t.kill();
    assert.equal(t.kill(), killed);
    await killed;
    assert.deepEqual(await t.client.exited, { code: null, signal: null, reason: 'killed' });
    assert.equal(fs.existsSync(t.dir), false);

    await using u = await servePluginInProcess({ plugins: kvPlugins() });
    const closing = u.close();
    await u.kill();
    await closing;
    assert.equal((await u.client.exited).reason, 'killed');
    assert.equal(fs.existsSync(u.dir), false);
  });

  it('await using closes at the end of the block', async () => {
    let dir: string;
    let exited: Promise<unknown>;
    {
      await using t = await servePluginInProcess({ plugins: kvPlugins() });
      dir = t.dir;
      exited = t.client.exited;
      await kvPut(t.dispense('kv'), 'a', 'b');
      assert.equal(fs.existsSync(dir), true);
    }
    assert.equal(fs.existsSync(dir), false);
    assert.deepEqual(await exited, { code: 0, signal: null, reason: 'closed' });
  });

  it('aborting the signal after the set-up closes the plugin', async () => {
    const ac = new AbortController();
    await using t = await servePluginInProcess({ plugins: kvPlugins(), signal: ac.signal });
    ac.abort();
    assert.deepEqual(await t.client.exited, { code: 0, signal: null, reason: 'closed' });
    await t.close();
    assert.equal(fs.existsSync(t.dir), false);
  });

  describe('failed set-ups leave nothing in TMPDIR', () => {
    let tmp: string;
    let saved: string | undefined;
    before(() => {
      tmp = fs.mkdtempSync(path.join(work, 'tmpdir-'));
      saved = process.env.TMPDIR;
      process.env.TMPDIR = tmp;
    });
    after(() => {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    });

    it('an already aborted signal: rejects with its reason before anything is made', async () => {
      const reason = new Error('stop');
      await assert.rejects(servePluginInProcess({ plugins: kvPlugins(), signal: AbortSignal.abort(reason) }), (e) => e === reason);
      assert.deepEqual(listDir(tmp), []);
    });

    it('aborted during the set-up: StartError ERR_LOOPP_ABORTED, the plugin stopped, its socket and dir gone', async () => {
      const ac = new AbortController();
      const reason = new Error('stop');
      const plugins = {
        kv: grpcPlugin({
          server: (ctx) => {
            kvPlugins().kv.server?.(ctx);
            assert.equal(listDir(tmp).length, 1, 'the temp dir exists while serving');
            ac.abort(reason);
          },
        }),
      };
      const err = await servePluginInProcess({ plugins, signal: ac.signal }).then(() => assert.fail('should reject'), (e: unknown) => e);
      assert.ok(err instanceof StartError);
      assert.equal(err.code, 'ERR_LOOPP_ABORTED');
      assert.equal(err.cause, reason);
      assert.deepEqual(listDir(tmp), []);
    });

    it('a plugin whose server() throws: that error, nothing left', async () => {
      const boom = new Error('cannot register');
      const plugins = { kv: grpcPlugin({ server: () => { throw boom; } }) };
      await assert.rejects(servePluginInProcess({ plugins }), (e) => e === boom);
      assert.deepEqual(listDir(tmp), []);
    });

    it('no plugins, or a bad number of milliseconds: ConfigError ERR_LOOPP_CONFIG naming the input', async () => {
      await assert.rejects(servePluginInProcess({}), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_LOOPP_CONFIG');
      for (const bad of [{ startTimeoutMs: -1 }, { gracefulShutdownMs: Number.NaN }, { startTimeoutMs: 1.5 }]) {
        await assert.rejects(
          servePluginInProcess({ plugins: kvPlugins(), ...bad }),
          (e: unknown) => e instanceof ConfigError && e.code === 'ERR_LOOPP_CONFIG' && Object.is(e.input, Object.values(bad)[0]),
        );
      }
      assert.deepEqual(listDir(tmp), []);
    });

    it('a process that exits without close() (process.exit, as --test-force-exit) takes its temp dir and socket along', async () => {
      const script = `const { servePluginInProcess } = require(${JSON.stringify(require.resolve('../../src/testing'))});
        servePluginInProcess({ plugins: { p: { server() {} } } }).then((t) => { console.log(require('node:fs').readdirSync(t.dir).length); process.exit(0); });`;
      const r = await run(process.execPath, ['-e', script], { env: { ...process.env, TMPDIR: tmp } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1\n', 'the socket was there');
      assert.deepEqual(listDir(tmp), []);
    });

    it('a cookie servePlugin refuses (empty key): its ConfigError, nothing left', async () => {
      const handshake = { protocolVersion: 1, magicCookieKey: '', magicCookieValue: 'x' };
      await assert.rejects(servePluginInProcess({ plugins: kvPlugins(), handshake }), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_LOOPP_ENV');
      assert.deepEqual(listDir(tmp), []);
    });
  });
});
