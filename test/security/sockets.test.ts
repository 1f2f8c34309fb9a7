/**
 * Socket files and directories loopp creates are out of other users' reach: checked from a real
 * other user (uid 65534, a child spawned with setuid) rather than from mode bits alone. Covered: a
 * TS plugin's main socket (default temp dir; 0600), the same with PLUGIN_UNIX_SOCKET_GROUP (0660, and
 * a member of that group gets an RPC answer), classic broker sockets of both sides (0600, or 0660 with
 * the host's unixSocketGroup), and the multiplexed mode's bridge sockets (0700 directories). src/loop creates no temp files or sockets.
 *
 * Switching users needs root (or CAP_SETUID and CAP_SETGID): without it the cross-user tests are
 * skipped with that reason (the one skip the project allows); the mode-bit tests run for any user.
 * The probe is bundled into a temp directory the other user can read (test/security/other-user.ts),
 * so the checkout may sit under a 0700 directory or a path with spaces.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { grpcPlugin, startPlugin, type PluginClientContext } from '../../src/index';
import { BrokerTestClient, EchoService, type ServeEchoResponse } from '../../fixtures/gen/examples/brokertest/brokertest';
import { echoServer } from '../../fixtures/brokertest/echo';
import { ROOT, fixture, fixtureAt, listDir, rmDir, tmpDir } from '../helpers';
import { COOKIE_ENV, healthCheck, launchPlugin } from './launch';
import { NOGROUP, OTHER_UID, prepareOtherUser, socketGroup, switchUserSkipReason, systemSocketGroup, type OtherUser, type Probe } from './other-user';

const PROBE = path.join(__dirname, 'other-user-probe.js');
/** The group handed to PLUGIN_UNIX_SOCKET_GROUP, by its name on this machine (not assumed). */
const GROUP = systemSocketGroup();
const GIDS = [GROUP.gid, NOGROUP];
/** Options of the tests that need to switch users: skipped, with the reason, where this process may not. */
const SKIP = switchUserSkipReason(GIDS);
const CROSS_USER = SKIP === undefined ? {} : { skip: SKIP };

function mode(p: string): number {
  return fs.statSync(p).mode & 0o777;
}

let openDir: string;
let other: OtherUser | undefined;
before(() => {
  // A directory others may traverse and list, so what is tested is each socket's own mode.
  openDir = tmpDir('loopp-sec-sock-');
  fs.chmodSync(openDir, 0o755);
  if (SKIP === undefined) other = prepareOtherUser(PROBE, GIDS);
});
after(() => {
  rmDir(openDir);
  other?.remove();
});

/** Runs the probe as uid 65534 with primary group `gid` (no supplementary groups). */
function asOtherUser(probe: Probe, gid = NOGROUP): Promise<Record<string, string>> {
  assert.ok(other, 'the other user is prepared in before()');
  return other.run(probe, gid);
}

describe('test set-up: the other user and the socket group', () => {
  it('the socket group is the first /etc/group entry with a gid other than 0, ours and 65534, by its real name', () => {
    const debian = 'root:x:0:\ndaemon:x:1:\nbin:x:2:\nnogroup:x:65534:\n';
    const fedora = '# comment\nroot:x:0:\nbin:x:1:\ndaemon:x:2:\nnobody:x:65534:\n';
    const alpine = 'root:x:0:root\nbin:x:1:root,bin,daemon\ndaemon:x:2:root,bin,daemon\nnogroup:x:65533:\nnobody:x:65534:\n';
    assert.deepEqual(socketGroup(debian, [0, 65534]), { name: 'daemon', gid: 1 });
    assert.deepEqual(socketGroup(fedora, [0, 65534]), { name: 'bin', gid: 1 });
    assert.deepEqual(socketGroup(alpine, [0, 65534]), { name: 'bin', gid: 1 });
    // A non-root user's own gid is avoided too; a name loopp would resolve to another gid, or read as a gid, is passed over.
    assert.deepEqual(socketGroup('users:x:100:\ndup:x:100:\n42:x:7:\ndup:x:8:\nstaff:x:50:\n', [100, 65534]), { name: 'staff', gid: 50 });
    assert.equal(socketGroup('root:x:0:\nnogroup:x:65534:\n', [0, 65534]), undefined);
    const fromEtc = socketGroup(fs.readFileSync('/etc/group', 'utf8'), [0, process.getgid?.() ?? 0, NOGROUP]);
    assert.deepEqual(GROUP, fromEtc);
  });

  it('a probe as uid 65534 reaches the test directory and connects where the mode allows, so EACCES below comes from the sockets\' modes', CROSS_USER, async () => {
    const sock = path.join(openDir, 'world-writable');
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      fs.chmodSync(sock, 0o666);
      const out = await asOtherUser({ connect: [sock], list: [openDir] });
      assert.deepEqual(out, { uid: String(OTHER_UID), gid: String(NOGROUP), groups: String(NOGROUP), [`connect ${sock}`]: 'ok', [`list ${openDir}`]: 'ok' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('the probe runs as uid 65534 from a checkout under a 0700 directory with a space in its path, and with a node there too', CROSS_USER, async () => {
    // The checkout and node reached through a directory only we may traverse: run in place, the
    // probe would fail with MODULE_NOT_FOUND and node with EACCES.
    const hidden = tmpDir('loopp-sec-hidden-');
    let there: OtherUser | undefined;
    try {
      assert.equal(mode(hidden), 0o700);
      const checkout = path.join(hidden, 'my checkout');
      fs.symlinkSync(ROOT, checkout);
      const node = path.join(hidden, 'node');
      fs.symlinkSync(process.execPath, node);
      there = prepareOtherUser(path.join(checkout, path.relative(ROOT, PROBE)), GIDS, node);
      assert.equal(there.node, path.join(there.dir, 'node'));
      assert.equal(path.dirname(there.dir), os.tmpdir());
      assert.equal(mode(there.dir), 0o755);
      assert.deepEqual(fs.readdirSync(there.dir).sort(), ['node', 'probe.js']);
      assert.equal(mode(path.join(there.dir, 'probe.js')), 0o644);
      assert.equal(mode(path.join(there.dir, 'node')), 0o755);
      const out = await there.run({ list: [hidden, openDir] }, GROUP.gid);
      assert.deepEqual(out, { uid: String(OTHER_UID), gid: String(GROUP.gid), groups: String(GROUP.gid), [`list ${hidden}`]: 'EACCES', [`list ${openDir}`]: 'ok' });
      there.remove();
      assert.equal(fs.existsSync(there.dir), false);
    } finally {
      there?.remove();
      rmDir(hidden);
    }
  });
});

describe('a TS plugin\'s main socket', () => {
  /** Launches kv-memory with its socket in the default temp dir and checks its name, mode and owner. */
  async function defaultSocket<T>(check: (sock: string) => Promise<T>): Promise<T> {
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
      return await check(sock);
    } finally {
      await p.stop();
    }
  }

  it('default (temp dir, no group): plugin<digits>, 0600, owned by the plugin\'s user, who is served', async () => {
    await defaultSocket(async () => undefined);
  });

  it('default (temp dir, no group): another user (uid 65534) gets EACCES on connect and no RPC answer', CROSS_USER, async () => {
    await defaultSocket(async (sock) => {
      const out = await asOtherUser({ connect: [sock], rpc: sock });
      assert.equal(out[`connect ${sock}`], 'EACCES');
      assert.match(out[`rpc ${sock}`] as string, /^14 /);
    });
  });

  for (const group of [GROUP.name, String(GROUP.gid)]) {
    it(`PLUGIN_UNIX_SOCKET_GROUP=${group}: 0660 with gid ${GROUP.gid}; uid 65534 in group ${GROUP.gid} connects and gets an RPC answer, in another group EACCES`, CROSS_USER, async () => {
      const p = await launchPlugin(fixture('kv-memory'), { ...process.env, ...COOKIE_ENV, PLUGIN_UNIX_SOCKET_DIR: openDir, PLUGIN_UNIX_SOCKET_GROUP: group });
      try {
        const sock = p.handshake.address;
        const st = fs.statSync(sock);
        assert.equal(st.mode & 0o777, 0o660);
        assert.equal(st.gid, GROUP.gid);
        const member = await asOtherUser({ connect: [sock], rpc: sock }, GROUP.gid);
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
  extra: { grpcBrokerMultiplex?: boolean; unixSocketGroup?: string; grpcChannel?: 'loopp' | 'grpc-js' },
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

/** Checks the modes of what a host and plugin created; resolves with its sockets and directories. */
function checkModes(mux: boolean, created: string[], plugin: { address: string }, bridges: number): { sockets: string[]; dirs: string[] } {
  const sockets = created.filter((f) => fs.statSync(f).isSocket());
  const dirs = created.filter((f) => fs.statSync(f).isDirectory());
  if (mux) {
    // The plugin's main socket; with grpc-js's channel, the host's main bridge and the bridge of the dialled id.
    assert.deepEqual(sockets, [plugin.address]);
    assert.equal(dirs.length, bridges, created.join(' '));
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
  return { sockets, dirs };
}

describe('sockets of a running host and plugin', () => {
  const cases = [
    { mux: false, grpcChannel: 'loopp', bridges: 0, what: 'classic: main and broker sockets of both sides are 0600' },
    { mux: true, grpcChannel: 'grpc-js', bridges: 2, what: "multiplexed, grpc-js's channel: bridge sockets sit in 0700 loopp-mux-* directories" },
    { mux: true, grpcChannel: 'loopp', bridges: 0, what: "multiplexed, loopp's channel: only the plugin's 0600 socket, no bridge" },
  ] as const;
  for (const { mux, grpcChannel, bridges, what } of cases) {
    it(what, async () => {
      await withBrokerSockets({ grpcBrokerMultiplex: mux, grpcChannel }, async (created, plugin) => {
        checkModes(mux, created, plugin, bridges);
      });
    });

    it(`${what}; another user can neither connect nor list`, CROSS_USER, async () => {
      await withBrokerSockets({ grpcBrokerMultiplex: mux, grpcChannel }, async (created, plugin) => {
        const { sockets, dirs } = checkModes(mux, created, plugin, bridges);
        const bridged = dirs.map((d) => path.join(d, 'b'));
        const out = await asOtherUser({ connect: [...sockets, ...bridged], list: dirs });
        for (const s of [...sockets, ...bridged]) assert.equal(out[`connect ${s}`], 'EACCES', s);
        for (const d of dirs) assert.equal(out[`list ${d}`], 'EACCES', d);
      });
    });
  }

  it(`classic with unixSocketGroup: main and broker sockets of both sides are 0660 with that gid (${GROUP.gid}); a member connects, another user gets EACCES`, CROSS_USER, async () => {
    await withBrokerSockets({ unixSocketGroup: String(GROUP.gid) }, async (sockets) => {
      // The plugin's main socket, the host's broker socket and the plugin's broker socket.
      assert.equal(sockets.length, 3, sockets.join(' '));
      for (const s of sockets) {
        const st = fs.statSync(s);
        assert.ok(st.isSocket(), s);
        assert.equal(st.mode & 0o777, 0o660, s);
        assert.equal(st.gid, GROUP.gid, s);
      }
      const member = await asOtherUser({ connect: sockets }, GROUP.gid);
      for (const s of sockets) assert.equal(member[`connect ${s}`], 'ok', s);
      const stranger = await asOtherUser({ connect: sockets });
      for (const s of sockets) assert.equal(stranger[`connect ${s}`], 'EACCES', s);
    });
  });
});
