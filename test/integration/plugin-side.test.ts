/**
 * servePlugin's contract with whatever host launches it, checked by launching TS plugins by hand:
 * cookie refusal, unknown socket group, TCP port range, SIGINT, hclog on stderr, stdout silence, and
 * the host-side rule that no plugin outlives a host that exits without closing it. Socket modes and
 * groups are checked from another user in test/security/sockets.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GRPCControllerClient } from '../../src/gen';
import { NOT_A_PLUGIN_TEXT } from '../../src/wire/env';
import { isHclogTimestamp } from '../../src/wire/hclog';
import { grpcPlugin, reattachPlugin } from '../../src/index';
import { assertPidGone, binary, fixture, goBinary, launchByHand, listDir, rmDir, run, sleep, tmpDir, type LaunchedByHand } from '../helpers';

let sockDir: string;
before(() => {
  sockDir = tmpDir('loopp-ps-');
});
after(() => rmDir(sockDir));

const baseEnv = () => ({ ...process.env, BASIC_PLUGIN: 'hello', PLUGIN_PROTOCOL_VERSIONS: '1', PLUGIN_UNIX_SOCKET_DIR: sockDir });

type Launched = LaunchedByHand;

/** Launches a fixture by hand and returns its handshake line. */
function launch(name: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<Launched> {
  return launchByHand(fixture(name), env, args);
}

/** SIGKILL, then remove the socket a killed plugin cannot (no host here to do it). */
async function stop(l: Launched): Promise<void> {
  l.child.kill('SIGKILL');
  await new Promise((r) => l.child.once('close', r));
  const [, , network, address] = l.line.split('|');
  if (network === 'unix') fs.rmSync(address as string, { force: true });
}

describe('servePlugin, launched by hand', () => {
  it('refuses to run without the magic cookie: Go\'s text on stderr, exit 1, nothing on stdout', async () => {
    const r = await run(binary('kv-plugin-ts'), [], { env: { PATH: process.env.PATH ?? '' } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, NOT_A_PLUGIN_TEXT);
    assert.equal(r.stdout, '');
  });

  it('an unknown socket group fails before the handshake with Go\'s text', async () => {
    const r = await run(process.execPath, [fixture('kv-memory')], { env: { ...baseEnv(), PLUGIN_UNIX_SOCKET_GROUP: 'no-such-group-xyz' } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /"@message":"plugin init error"/);
    assert.match(r.stderr, /failed to find gid from \\"no-such-group-xyz\\"/);
    assert.deepEqual(listDir(sockDir), []);
  });

  it('tcp: listens on 127.0.0.1 inside PLUGIN_MIN_PORT..PLUGIN_MAX_PORT', async () => {
    const net = await import('node:net');
    // Occupy the first port of the range so the plugin must move on to the next one.
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const first = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const l = await launch('kv-memory', { ...baseEnv(), FIXTURE_TRANSPORT: 'tcp', PLUGIN_MIN_PORT: String(first), PLUGIN_MAX_PORT: String(first + 5) });
      const [, , network, address] = l.line.split('|');
      assert.equal(network, 'tcp');
      const port = Number((address as string).split(':')[1]);
      assert.ok(port > first && port <= first + 5, `port ${port} outside ${first + 1}..${first + 5}`);
      assert.match(address as string, /^127\.0\.0\.1:/);
      await stop(l);
    } finally {
      blocker.close();
    }
  });

  it('tcp: a fully taken range fails with Go\'s text', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const r = await run(process.execPath, [fixture('kv-memory')], { env: { ...baseEnv(), FIXTURE_TRANSPORT: 'tcp', PLUGIN_MIN_PORT: String(port), PLUGIN_MAX_PORT: String(port) } });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /Couldn't bind plugin TCP listener/);
    } finally {
      blocker.close();
    }
  });

  it('writes hclog JSON on stderr (string fields, 6-digit timestamps) and ignores SIGINT', async () => {
    const l = await launch('kv-memory', { ...baseEnv(), PLUGIN_PROTOCOL_VERSIONS: '1,x' });
    l.child.kill('SIGINT');
    await sleep(200);
    assert.equal(l.child.exitCode, null, 'SIGINT must not stop a plugin');
    assert.equal(l.child.signalCode, null, 'SIGINT must not stop a plugin');
    const [, , network, address] = l.line.split('|');
    const client = await reattachPlugin({
      reattach: { Protocol: 'grpc', Addr: { Network: network as 'unix', String: address as string }, Pid: l.child.pid as number },
      plugins: { kv: grpcPlugin({}) },
    });
    await client.ping();
    client.kill();
    const lines = l.stderr().split('\n').filter((s) => s.startsWith('{'));
    assert.ok(lines.length >= 2, l.stderr());
    for (const raw of lines) {
      const entry = JSON.parse(raw) as Record<string, unknown>;
      for (const k of ['@level', '@message', '@timestamp']) assert.equal(typeof entry[k], 'string', `${k} in ${raw}`);
      assert.ok(isHclogTimestamp(entry['@timestamp'] as string), raw);
      assert.deepEqual(Object.keys(entry), [...Object.keys(entry)].sort());
    }
    assert.ok(lines.some((s) => s.includes('plugin received interrupt signal, ignoring')));
    assert.match(l.stderr(), /server sent invalid plugin version "x"/);
    await assertPidGone(l.child.pid as number);
  });

  it('descriptors that do not decode fail the start (exit 1, hclog plugin init error) before anything listens', async () => {
    const script = `require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'src', 'index.js'))}).servePlugin({
      handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
      plugins: { kv: {} },
      reflection: { descriptors: new Uint8Array([0x0a, 0x03, 0x12, 0x01, 0x61]) },
    });`;
    const own = tmpDir('loopp-ps-descriptors-');
    const r = await run(process.execPath, ['-e', script], { env: { ...baseEnv(), PLUGIN_UNIX_SOCKET_DIR: own } });
    const left = listDir(own);
    rmDir(own);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const line = JSON.parse(r.stderr.trim().split('\n').at(-1) as string) as Record<string, unknown>;
    assert.equal(line['@message'], 'plugin init error');
    assert.equal(line.error, 'reflection.descriptors: file 0 of the FileDescriptorSet does not decode: a FileDescriptorProto without a name (field 1)');
    assert.deepEqual(left, []);
  });

  it('prints field 7 only when PLUGIN_MULTIPLEX_GRPC is non-empty', async () => {
    const l = await launch('kv-memory', { ...baseEnv(), PLUGIN_MULTIPLEX_GRPC: 'false' });
    assert.equal(l.line.split('|').length, 7);
    assert.equal(l.line.split('|')[6], 'true');
    await stop(l);
  });

  it('multiplexed: gives up after 5 s without the host\'s connection, as go-plugin\'s muxer does', async () => {
    const t0 = Date.now();
    const l = await launch('kv-memory', { ...baseEnv(), PLUGIN_MULTIPLEX_GRPC: 'true' });
    assert.equal(l.line.split('|')[6], 'true');
    const code = await new Promise<number | null>((r) => l.child.once('exit', (c) => r(c)));
    const ms = Date.now() - t0;
    assert.equal(code, 1);
    assert.ok(ms >= 4900 && ms < 7000, `exited after ${ms} ms`);
    assert.match(l.stderr(), /timed out waiting for connection to be established/);
    assert.equal(fs.existsSync(l.line.split('|')[3] as string), false, 'socket removed');
  });
});

/** Calls GRPCController.Shutdown on a plugin's main socket; resolves with the call's outcome. */
function shutdownCall(address: string): { reply: Promise<grpc.ServiceError | null>; close(): void } {
  const client = new GRPCControllerClient(`unix://${address}`, grpc.credentials.createInsecure());
  const reply = new Promise<grpc.ServiceError | null>((resolve) => client.shutdown({}, (err) => resolve(err)));
  return { reply, close: () => client.close() };
}

const exitOf = (l: Launched) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
    if (l.child.exitCode !== null || l.child.signalCode !== null) r({ code: l.child.exitCode, signal: l.child.signalCode });
    else l.child.once('exit', (code, signal) => r({ code, signal }));
  });

describe('servePlugin stopping', () => {
  const ROUNDS = 20;
  let dir: string;
  before(() => {
    dir = tmpDir('loopp-stop-');
  });
  after(() => rmDir(dir));
  const env = () => ({ ...baseEnv(), PLUGIN_UNIX_SOCKET_DIR: dir });

  it(`Shutdown: the socket file is gone before the reply, which arrives whole (OK, not a reset), then exit 0 (${ROUNDS} rounds)`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const l = await launch('kv-memory', env());
      const address = l.line.split('|')[3] as string;
      assert.ok(fs.existsSync(address));
      const call = shutdownCall(address);
      const err = await call.reply;
      const present = fs.existsSync(address);
      call.close();
      assert.equal(err, null, `round ${i}: the Shutdown reply failed: ${err?.message}`);
      assert.equal(present, false, `round ${i}: the socket was still there when the reply came`);
      assert.deepEqual(await exitOf(l), { code: 0, signal: null });
    }
    assert.deepEqual(listDir(dir), []);
  });

  it(`SIGTERM right after the Shutdown call: socket removed, the signal's exit status (${ROUNDS} rounds)`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const l = await launch('kv-memory', env());
      const address = l.line.split('|')[3] as string;
      const call = shutdownCall(address);
      // A host that does not wait for a reply it deems lost (as some hosts do when Shutdown fails).
      await sleep(i % 4);
      l.child.kill('SIGTERM');
      const exit = await exitOf(l);
      call.close();
      // Either the signal won, or Shutdown finished first (exit 0): never a socket left behind.
      assert.ok(exit.signal === 'SIGTERM' || (exit.code === 0 && exit.signal === null), `round ${i}: ${JSON.stringify(exit)}`);
      assert.equal(fs.existsSync(address), false, `round ${i}: the socket was left behind`);
    }
    assert.deepEqual(listDir(dir), []);
  });

  it('SIGTERM while serving: the socket goes and the plugin ends with SIGTERM', async () => {
    const l = await launch('kv-memory', env());
    const address = l.line.split('|')[3] as string;
    l.child.kill('SIGTERM');
    assert.deepEqual(await exitOf(l), { code: null, signal: 'SIGTERM' });
    assert.equal(fs.existsSync(address), false);
    assert.deepEqual(listDir(dir), []);
  });
});

describe('host process exit', () => {
  it('a host that exits without closing its plugins takes them down (Go plugin)', async () => {
    const host = spawn(process.execPath, [path.join(__dirname, '..', '..', 'fixtures', 'hosts', 'host-then-hang.js'), goBinary('kv-plugin-go')], {
      // The killed Go plugin cannot remove its socket: keep it in the test's directory.
      env: { ...process.env, HOST_MODE: 'exit', TMPDIR: sockDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    host.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => host.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    const pid = Number(out.trim());
    assert.ok(pid > 0, out);
    await assertPidGone(pid, 2000);
  });
});
