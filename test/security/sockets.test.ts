/**
 * Socket files and directories loopp creates are out of other users' reach: checked from a real
 * other user (uid 65534, a child spawned with setuid) rather than from mode bits alone. Covered: a
 * TS plugin's main socket (default temp dir; 0600), the same with PLUGIN_UNIX_SOCKET_GROUP (0660, and
 * a member of that group gets an RPC answer), classic broker sockets of both sides (0600, or 0660 with
 * the host's unixSocketGroup), and the multiplexed mode's bridge sockets (0700 directories). src/loop creates no temp files or sockets.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { grpcPlugin, startPlugin, type PluginClientContext } from '../../src/index';
import { BrokerTestClient, EchoService, type ServeEchoResponse } from '../../fixtures/gen/examples/brokertest/brokertest';
import { echoServer } from '../../fixtures/brokertest/echo';
import { fixture, fixtureAt, listDir, rmDir, tmpDir } from '../helpers';
import { COOKIE_ENV, healthCheck, launchPlugin } from './launch';

const OTHER_UID = 65534;
const NOGROUP = 65534;
const PROBE = path.join(__dirname, 'other-user-probe.js');

/** Runs the probe as uid 65534 with primary group `gid` (no supplementary groups). */
function asOtherUser(probe: { connect?: string[]; list?: string[]; rpc?: string }, gid = NOGROUP): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PROBE, JSON.stringify(probe)], { uid: OTHER_UID, gid, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`probe as uid ${OTHER_UID} failed (the tests need root to switch users): ${err.message}\n${stderr}`));
      const out = JSON.parse(stdout) as Record<string, string>;
      // The probe really ran as the other user, without root's groups.
      assert.equal(out.uid, String(OTHER_UID));
      assert.equal(out.gid, String(gid));
      resolve(out);
    });
  });
}

function mode(p: string): number {
  return fs.statSync(p).mode & 0o777;
}

let openDir: string;
before(() => {
  // A directory others may traverse and list, so what is tested is each socket's own mode.
  openDir = tmpDir('loopp-sec-sock-');
  fs.chmodSync(openDir, 0o755);
});
after(() => rmDir(openDir));

describe('a TS plugin\'s main socket', () => {
  it('default (temp dir, no group): plugin<digits>, 0600, owned by the plugin\'s user; another user gets EACCES', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...COOKIE_ENV };
    delete env.PLUGIN_UNIX_SOCKET_DIR;
    const p = await launchPlugin(fixture('kv-memory'), env);
    try {
      const sock = p.handshake.address;
      assert.equal(path.dirname(sock), os.tmpdir());
      assert.match(path.basename(sock), /^plugin[0-9]+$/);
      const st = fs.statSync(sock);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.uid, process.getuid?.());
      assert.equal(await healthCheck(`unix://${sock}`, grpc.credentials.createInsecure()), null, 'the owner is served');
      const out = await asOtherUser({ connect: [sock], rpc: sock });
      assert.equal(out[`connect ${sock}`], 'EACCES');
      assert.match(out[`rpc ${sock}`] as string, /^14 /);
    } finally {
      await p.stop();
    }
  });

  for (const group of ['daemon', '1']) {
    it(`PLUGIN_UNIX_SOCKET_GROUP=${group}: 0660 with gid 1; uid 65534 in group 1 connects and gets an RPC answer, in another group EACCES`, async () => {
      const p = await launchPlugin(fixture('kv-memory'), { ...process.env, ...COOKIE_ENV, PLUGIN_UNIX_SOCKET_DIR: openDir, PLUGIN_UNIX_SOCKET_GROUP: group });
      try {
        const sock = p.handshake.address;
        const st = fs.statSync(sock);
        assert.equal(st.mode & 0o777, 0o660);
        assert.equal(st.gid, 1);
        const member = await asOtherUser({ connect: [sock], rpc: sock }, 1);
        assert.equal(member[`connect ${sock}`], 'ok');
        assert.equal(member[`rpc ${sock}`], 'status=1', 'health SERVING');
        const stranger = await asOtherUser({ connect: [sock] });
        assert.equal(stranger[`connect ${sock}`], 'EACCES');
      } finally {
        await p.stop();
      }
    });
  }
});

const brokerPlugins = {
  brokertest: grpcPlugin({ client: (ctx: PluginClientContext) => ({ ctx, client: ctx.createClient<BrokerTestClient>(BrokerTestClient.service) }) }),
};
function serveEcho(client: BrokerTestClient): Promise<ServeEchoResponse> {
  return new Promise((resolve, reject) => client.serveEcho({ prefix: '' }, (e, r) => (e ? reject(e) : resolve(r))));
}

/**
 * Starts the brokertest plugin with its sockets in `openDir`, has the host serve one broker id and dial
 * one the plugin serves, hands `check` what appeared in `openDir`, and checks that all of it is gone
 * after close.
 */
async function withBrokerSockets(
  extra: { grpcBrokerMultiplex?: boolean; unixSocketGroup?: string },
  check: (created: string[], plugin: { address: string }) => Promise<void>,
): Promise<void> {
  const before = listDir(openDir);
  const plugin = await startPlugin({
    command: process.execPath,
    args: [fixtureAt('brokertest/brokertest-plugin')],
    handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
    plugins: brokerPlugins,
    unixSocketDir: openDir,
    ...extra,
  });
  try {
    const { client, ctx } = plugin.dispense('brokertest');
    const hostServed = await ctx.broker.acceptAndServe(ctx.broker.nextId(), (s) => s.addService(EchoService, echoServer('')));
    const { id } = await serveEcho(client);
    const dialled = await ctx.broker.dial(id);
    await check(listDir(openDir).filter((f) => !before.includes(f)).map((f) => path.join(openDir, f)), plugin);
    dialled.close();
    await hostServed.close();
  } finally {
    await plugin.close();
  }
  assert.deepEqual(listDir(openDir).filter((f) => !before.includes(f)), []);
}

describe('sockets of a running host and plugin', () => {
  for (const mux of [false, true]) {
    it(`${mux ? 'multiplexed: bridge sockets sit in 0700 loopp-mux-* directories' : 'classic: main and broker sockets of both sides are 0600'}; another user can neither connect nor list`, async () => {
      await withBrokerSockets({ grpcBrokerMultiplex: mux }, async (created, plugin) => {
        const sockets = created.filter((f) => fs.statSync(f).isSocket());
        const dirs = created.filter((f) => fs.statSync(f).isDirectory());
        if (mux) {
          // The plugin's main socket; the host's main bridge and the bridge of the dialled id.
          assert.deepEqual(sockets, [plugin.address]);
          assert.equal(dirs.length, 2, created.join(' '));
          for (const d of dirs) {
            assert.match(path.basename(d), /^loopp-mux-/);
            assert.equal(mode(d), 0o700, d);
          }
        } else {
          // The plugin's main socket, the host's broker socket and the plugin's broker socket.
          assert.equal(sockets.length, 3, created.join(' '));
          assert.deepEqual(dirs, []);
        }
        for (const s of sockets) assert.equal(mode(s), 0o600, s);
        const bridged = dirs.map((d) => path.join(d, 'b'));
        const out = await asOtherUser({ connect: [...sockets, ...bridged], list: dirs });
        for (const s of [...sockets, ...bridged]) assert.equal(out[`connect ${s}`], 'EACCES', s);
        for (const d of dirs) assert.equal(out[`list ${d}`], 'EACCES', d);
      });
    });
  }

  it('classic with unixSocketGroup: main and broker sockets of both sides are 0660 with that gid; a member connects, another user gets EACCES', async () => {
    await withBrokerSockets({ unixSocketGroup: '1' }, async (sockets) => {
      // The plugin's main socket, the host's broker socket and the plugin's broker socket.
      assert.equal(sockets.length, 3, sockets.join(' '));
      for (const s of sockets) {
        const st = fs.statSync(s);
        assert.ok(st.isSocket(), s);
        assert.equal(st.mode & 0o777, 0o660, s);
        assert.equal(st.gid, 1, s);
      }
      const member = await asOtherUser({ connect: sockets }, 1);
      for (const s of sockets) assert.equal(member[`connect ${s}`], 'ok', s);
      const stranger = await asOtherUser({ connect: sockets });
      for (const s of sockets) assert.equal(stranger[`connect ${s}`], 'EACCES', s);
    });
  });
});
