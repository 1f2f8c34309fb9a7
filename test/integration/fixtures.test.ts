/**
 * Host-side failure scenarios: each fixture plugin misbehaves in one way; startPlugin must fail with
 * the typed error (code + go-plugin's text), and leave no process, socket or temp dir behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { DIAGNOSE_TEXT } from '../../src/wire/handshake';
import { HandshakeError, StartError, grpcPlugin, startPlugin, type PluginLogEntry, type StartPluginOptions } from '../../src/index';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { childPids, fixture, listDir, rmDir, sleep, tmpDir, kvGet, kvPut } from '../helpers';

const plugins = { kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };
type P = typeof plugins;

let sockDir: string;
before(() => {
  sockDir = tmpDir('loopp-fx-');
});
after(() => rmDir(sockDir));

function opts(name: string, extra: Partial<StartPluginOptions<P>> = {}): StartPluginOptions<P> {
  return {
    command: process.execPath,
    args: [fixture(name)],
    handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
    plugins,
    unixSocketDir: sockDir,
    startTimeoutMs: 10_000,
    ...extra,
  };
}

async function expectStartFailure(name: string, extra: Partial<StartPluginOptions<P>> = {}): Promise<Error> {
  const err = await startPlugin(opts(name, extra)).then(
    () => assert.fail(`${name}: start should have failed`),
    (e: Error) => e,
  );
  assert.deepEqual(childPids(), [], `${name}: a child process is left`);
  assert.deepEqual(listDir(sockDir), [], `${name}: files left in the socket dir`);
  return err;
}


describe('refused handshakes', () => {
  const reasons = [
    ['core', 'ERR_LOOPP_CORE_VERSION', {}],
    ['app', 'ERR_LOOPP_APP_VERSION', {}],
    ['netrpc', 'ERR_LOOPP_PROTOCOL', {}],
    ['mux', 'ERR_LOOPP_MUX_UNSUPPORTED', { grpcBrokerMultiplex: true }],
    ['cert', 'ERR_LOOPP_SERVER_CERT', {}],
    ['no-cert', 'ERR_LOOPP_SERVER_CERT', {}],
  ] as const;
  for (const [reason, code, extra] of reasons) {
    it(`${reason}: the plugin is killed and the socket it announced (and listened on) is removed`, async () => {
      const err = await expectStartFailure('refused-after-listening', { ...extra, env: { REFUSE: reason } });
      assert.ok(err instanceof HandshakeError, String(err));
      assert.equal(err.code, code);
    });
  }

  it('a path the plugin did not create is left alone, socket or not', async () => {
    const dir = tmpDir('loopp-fx-foreign-');
    const net = await import('node:net');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const foreign = path.join(dir, 'foreign.sock');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(foreign, () => r()));
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, 'x');
    // Older than the plugin: created before it was spawned.
    await sleep(1100);
    try {
      for (const announced of [foreign, file]) {
        const err = await startPlugin(opts('refused-after-listening', { env: { REFUSE: 'app', ANNOUNCE: announced } })).then(
          () => assert.fail('start should have failed'),
          (e: Error) => e,
        );
        assert.ok(err instanceof HandshakeError && err.code === 'ERR_LOOPP_APP_VERSION', String(err));
        assert.ok(fs.existsSync(announced), `${announced} was removed`);
      }
      // The plugin's own socket (not announced) is not the host's to remove: it is left, and nothing else.
      const left = listDir(sockDir);
      assert.equal(left.length, 2);
      for (const name of left) fs.rmSync(path.join(sockDir, name));
    } finally {
      server.close();
      rmDir(dir);
    }
  });
});

describe('plugins that exit right after the handshake', () => {
  for (const autoMTLS of [false, true]) {
    for (const mux of [false, true]) {
      it(`${autoMTLS ? 'AutoMTLS' : 'plain'}, ${mux ? 'multiplexed' : 'classic'}: startPlugin fails (StartError ERR_LOOPP_CONNECT), nothing left`, async () => {
        const err = await expectStartFailure('exits-after-handshake', { autoMTLS, grpcBrokerMultiplex: mux });
        assert.ok(err instanceof StartError, String(err));
        assert.equal(err.code, 'ERR_LOOPP_CONNECT');
        // Multiplexed, the raw dial can still land in the dying plugin's accept queue: the session then
        // dies under the first connection, and the probe's socket error explains it; or the kernel
        // resets the queued connection as the listener goes (ECONNRESET, seen under Node 24). Classic,
        // loopp's channel reports its own connection's error, which can be the same reset or close.
        assert.match(
          err.message,
          mux
            ? /^error (dialing plugin for multiplexing: connect (ECONNREFUSED|ENOENT|ECONNRESET) |connecting to plugin: \S)/
            : /^error connecting to plugin: (connect (ECONNREFUSED|ENOENT|ECONNRESET) |read ECONNRESET$|Connection closed before the HTTP\/2 session was established$)/,
        );
      });
    }
  }
});

describe('the connection step is inside the start', () => {
  for (const mux of [false, true]) {
    const mode = mux ? 'multiplexed' : 'classic';
    it(`${mode}: the caller's signal aborts a start stuck connecting (StartError ERR_LOOPP_ABORTED, reason kept)`, async () => {
      const reason = new Error('caller gave up');
      const ac = new AbortController();
      setTimeout(() => ac.abort(reason), 400);
      const t0 = Date.now();
      const err = await expectStartFailure('silent-after-handshake', { grpcBrokerMultiplex: mux, autoMTLS: false, signal: ac.signal });
      assert.ok(err instanceof StartError, String(err));
      assert.equal(err.code, 'ERR_LOOPP_ABORTED');
      assert.equal(err.cause, reason);
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    });
    it(`${mode}: startTimeoutMs bounds the whole start, connection included (one deadline)`, async () => {
      const t0 = Date.now();
      const err = await expectStartFailure('silent-after-handshake', { grpcBrokerMultiplex: mux, autoMTLS: true, startTimeoutMs: 700 });
      const ms = Date.now() - t0;
      assert.ok(err instanceof StartError, String(err));
      assert.equal(err.code, 'ERR_LOOPP_START_TIMEOUT');
      assert.equal(err.input, 700);
      assert.ok(ms >= 650 && ms < 5000, `took ${ms} ms`);
    });
  }
});

describe('start-up failures', () => {
  it('bad core version', async () => {
    const err = await expectStartFailure('bad-core-version');
    assert.ok(err instanceof HandshakeError);
    assert.equal(err.code, 'ERR_LOOPP_CORE_VERSION');
    assert.equal(err.line, '2|1|unix|/tmp/loopp-no-such-socket|grpc|');
    assert.match(err.message, /^Incompatible core API version with plugin\. Plugin version: 2, Core version: 1\n/);
  });

  it('bad app version', async () => {
    const err = await expectStartFailure('bad-app-version');
    assert.ok(err instanceof HandshakeError);
    assert.equal(err.code, 'ERR_LOOPP_APP_VERSION');
    assert.equal(err.message, 'Incompatible API version with plugin. Plugin version: 11, Client versions: [1]');
  });

  it('never handshakes: start timeout', async () => {
    const t0 = Date.now();
    const err = await expectStartFailure('never-handshakes', { startTimeoutMs: 300 });
    assert.ok(err instanceof StartError);
    assert.equal(err.code, 'ERR_LOOPP_START_TIMEOUT');
    assert.equal(err.message, 'timeout while waiting for plugin to start');
    assert.ok(Date.now() - t0 < 3000);
    assert.match(err.stderrTail, /\[INFO\] waiting for nothing/);
  });

  it('never handshakes: aborted by the signal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user gave up')), 200);
    const err = await expectStartFailure('never-handshakes', { signal: ac.signal });
    assert.ok(err instanceof StartError);
    assert.equal(err.code, 'ERR_LOOPP_ABORTED');
    assert.equal((err.cause as Error).message, 'user gave up');
  });

  it('exits before the handshake', async () => {
    const err = await expectStartFailure('exits-before-handshake');
    assert.ok(err instanceof StartError);
    assert.equal(err.code, 'ERR_LOOPP_EXITED_BEFORE_HANDSHAKE');
    assert.equal(err.message, 'plugin exited before we could connect');
    assert.equal(err.exitCode, 3);
    assert.match(err.stderrTail, /config file missing/);
  });

  it('junk first line', async () => {
    const err = await expectStartFailure('junk-first-line');
    assert.ok(err instanceof HandshakeError);
    assert.equal(err.code, 'ERR_LOOPP_HANDSHAKE_MALFORMED');
    assert.equal(err.message, `Unrecognized remote plugin message: lolinvalid\n${DIAGNOSE_TEXT}`);
  });

  it('4-field netrpc line', async () => {
    const err = await expectStartFailure('netrpc-handshake');
    assert.ok(err instanceof HandshakeError);
    assert.equal(err.code, 'ERR_LOOPP_PROTOCOL');
    assert.equal(err.message, 'Unsupported plugin protocol "netrpc". Supported: [grpc]');
  });

  it('slow handshake beyond startTimeoutMs', async () => {
    const err = await expectStartFailure('slow-handshake', { startTimeoutMs: 300, env: { SLOW_HANDSHAKE_MS: '3000' } });
    assert.equal((err as StartError).code, 'ERR_LOOPP_START_TIMEOUT');
  });

  it('a command that does not exist', async () => {
    const err = await startPlugin({ ...opts('kv-memory'), command: '/nonexistent/plugin' }).then(
      () => assert.fail('should fail'),
      (e: Error) => e,
    );
    assert.ok(err instanceof StartError);
    assert.equal(err.code, 'ERR_LOOPP_SPAWN');
    assert.match(err.message, /ENOENT/);
  });
});

describe('scenarios that start', () => {
  it('slow handshake within startTimeoutMs works', async () => {
    await using p = await startPlugin(opts('slow-handshake', { env: { SLOW_HANDSHAKE_MS: '700' } }));
    await p.ping();
  });

  it('padded certificate is accepted (tolerant decode)', async () => {
    await using p = await startPlugin(opts('padded-cert'));
    const kv = p.dispense('kv');
    await kvPut(kv, 'a', 'b');
    assert.equal(await kvGet(kv, 'a'), 'b');
  });

  it('odd hclog JSON never crashes the host and is logged as text', async () => {
    const entries: PluginLogEntry[] = [];
    await using p = await startPlugin(opts('hclog-odd-json', { onLog: (e) => entries.push(e) }));
    await p.ping();
    const nonString = entries.find((e) => e.raw.includes('"@message":123'));
    assert.ok(nonString);
    assert.equal(nonString.json, false);
    assert.equal(nonString.level, 'debug');
    const threeDigits = entries.find((e) => e.raw.includes('three digits'));
    assert.ok(threeDigits);
    assert.equal(threeDigits.json, false);
    const fine = entries.find((e) => e.message === 'fine');
    assert.ok(fine);
    assert.equal(fine.json, true);
    assert.equal(fine.level, 'warn');
    assert.equal(fine.fields.k, 'v');
  });

  it('a panic on stderr is logged at error and the exit is reported as a crash', async () => {
    const entries: PluginLogEntry[] = [];
    const p = await startPlugin(opts('panics-after-handshake', { onLog: (e) => entries.push(e) }));
    const exit = await p.exited;
    assert.deepEqual(exit, { code: 2, signal: null, reason: 'crashed' });
    const panic = entries.findIndex((e) => e.message === 'panic: invalid foo bar');
    assert.ok(panic >= 0);
    const after = entries.slice(panic);
    assert.ok(after.length >= 4);
    for (const e of after) if (e.message !== '') assert.equal(e.level, 'error', e.message);
    assert.ok(p.signal.aborted);
    await assert.rejects(p.ping());
    await p.close();
    assert.deepEqual(childPids(), []);
  });

  it('stdout/stderr written after the handshake arrive byte-exact through GRPCStdio', async () => {
    const out = new PassThrough();
    const errS = new PassThrough();
    const outChunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    out.on('data', (c: Buffer) => outChunks.push(c));
    errS.on('data', (c: Buffer) => errChunks.push(c));
    await using p = await startPlugin(opts('stdio-writer', { syncStdout: out, syncStderr: errS, env: { STDIO_OUT_BYTES: '70000', STDIO_ERR_BYTES: '3000', STDIO_CONSOLE: '1' } }));
    const want = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
    const until = Date.now() + 5000;
    while (Buffer.concat(outChunks).length < 70000 + 23 || Buffer.concat(errChunks).length < 3000) {
      if (Date.now() > until) break;
      await sleep(20);
    }
    const gotOut = Buffer.concat(outChunks);
    assert.equal(gotOut.length, 70000 + 'hello from console.log\n'.length);
    assert.deepEqual(gotOut.subarray(0, 70000), want(70000, 1));
    assert.equal(gotOut.subarray(70000).toString(), 'hello from console.log\n');
    assert.deepEqual(Buffer.concat(errChunks), want(3000, 7));
    // The host writes each GRPCStdio message's data whole: consecutive writes to one channel were
    // coalesced into messages of at most 64 KiB (the two stdout writes: 65 536 + 4 464 bytes).
    assert.ok(outChunks.every((c) => c.length <= 64 * 1024));
    assert.equal(outChunks[0]?.length, 64 * 1024);
    await p.ping();
  });
});
