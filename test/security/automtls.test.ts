/**
 * AutoMTLS admits only the peer whose certificate was exchanged at start, on every way in: a TS
 * plugin's main listener (classic and multiplexed), brokered sub-servers on either side (classic
 * listeners and multiplexed knocked streams), and the TS host, which refuses a plugin serving another
 * certificate than the one in its handshake.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { connectPlugin, type PluginConnection } from '../../src/host/connection';
import { createLog } from '../../src/core/debug';
import { StartError, grpcPlugin, startPlugin } from '../../src/index';
import { BrokerTestClient, EchoClient, EchoService, type EchoReply, type ServeEchoResponse } from '../../fixtures/gen/examples/brokertest/brokertest';
import { derToPem, generateCertificate, type CertificateBundle } from '../../src/net/mtls/cert';
import { serverCredentials } from '../../src/net/grpc/credentials';
import { createBridge } from '../../src/net/grpc/bridge';
import { grpcTarget, listenUnix } from '../../src/net/transport';
import { createYamuxSession } from '../../src/net/yamux/session';
import { echoServer } from '../../fixtures/brokertest/echo';
import { childPids, fixture, fixtureAt, listDir, rmDir, sleep, tmpDir } from '../helpers';
import { COOKIE_ENV, INTRUDERS, credentialsOf, healthCheck, launchPlugin, type ByHand, type Caller } from './launch';

let sockDir: string;
let host: CertificateBundle;
before(() => {
  sockDir = tmpDir('loopp-sec-tls-');
  host = generateCertificate();
});
after(() => rmDir(sockDir));

const pluginEnv = (mux: boolean): NodeJS.ProcessEnv => ({
  ...process.env,
  ...COOKIE_ENV,
  PLUGIN_CLIENT_CERT: host.certPem,
  PLUGIN_UNIX_SOCKET_DIR: sockDir,
  ...(mux ? { PLUGIN_MULTIPLEX_GRPC: 'true' } : {}),
});

function call<Req, Res>(client: grpc.Client, method: string, req: Req): Promise<Res> {
  type Unary = (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, res: Res) => void) => void;
  const fn = (client as unknown as Record<string, Unary>)[method] as Unary;
  return new Promise((resolve, reject) => fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))));
}
const refusal = (p: Promise<unknown>): Promise<grpc.ServiceError> =>
  p.then(
    () => assert.fail('the call was answered'),
    (e: grpc.ServiceError) => e,
  );

describe('a TS plugin\'s main server', () => {
  it('classic: the host certificate is admitted; a stranger, no certificate and plaintext are refused (UNAVAILABLE), and the plugin keeps serving', async () => {
    const p = await launchPlugin(fixture('kv-memory'), pluginEnv(false));
    try {
      const pluginPem = derToPem(p.handshake.serverCert as Buffer);
      const target = grpcTarget(p.handshake.network, p.handshake.address);
      for (const who of [...INTRUDERS, 'the peer' as Caller]) {
        const { credentials, options } = credentialsOf(who, host, pluginPem);
        const err = await healthCheck(target, credentials, options);
        if (who === 'the peer') assert.equal(err, null, 'the host is admitted after the intruders');
        else assert.equal(err?.code, grpc.status.UNAVAILABLE, who);
      }
      assert.equal(p.child.exitCode, null);
    } finally {
      await p.stop();
    }
  });

  it('multiplexed: over yamux streams the same four callers get the same answers; a second raw connection is closed', async () => {
    const p = await launchPlugin(fixture('kv-memory'), pluginEnv(true), true);
    const raw = net.connect({ path: p.handshake.address });
    await new Promise((r) => raw.once('connect', r));
    const session = createYamuxSession({ socket: raw, side: 'client' });
    const bridge = await createBridge(() => Promise.resolve(session.open()), { dir: sockDir, log: createLog('test'), label: 'main' });
    try {
      const pluginPem = derToPem(p.handshake.serverCert as Buffer);
      for (const who of [...INTRUDERS, 'the peer' as Caller]) {
        const { credentials, options } = credentialsOf(who, host, pluginPem);
        const err = await healthCheck(grpcTarget('unix', bridge.path), credentials, options);
        if (who === 'the peer') assert.equal(err, null);
        else assert.equal(err?.code, grpc.status.UNAVAILABLE, who);
      }
      // Whoever connects after the host gets nothing: the plugin closes the connection.
      const late = net.connect({ path: p.handshake.address });
      late.on('error', () => {});
      await new Promise((r) => late.once('close', r));
    } finally {
      await bridge.close();
      session.close();
      await p.stop();
    }
  });
});

describe('brokered sub-servers', () => {
  for (const mux of [false, true]) {
    const mode = mux ? 'multiplexed' : 'classic';
    it(`${mode}: an id the plugin serves refuses every intruder and admits the host; an id the host serves refuses a plugin whose certificate it does not trust`, async () => {
      const p: ByHand = await launchPlugin(fixtureAt('brokertest/brokertest-plugin'), pluginEnv(mux), mux);
      const pluginPem = derToPem(p.handshake.serverCert as Buffer);
      // The host's material, except that broker dials present `dialAs` and served ids trust `trustPem`.
      let mainDialled = false;
      let dialAs: Caller = 'the peer';
      let trustPem = pluginPem;
      let conn: PluginConnection | undefined;
      try {
        conn = await connectPlugin({
          network: p.handshake.network,
          address: p.handshake.address,
          credentials: {
            channel: () => {
              const who = mainDialled ? dialAs : 'the peer';
              mainDialled = true;
              return credentialsOf(who, host, pluginPem);
            },
            server: () => serverCredentials(host, trustPem),
          },
          brokerListen: () => listenUnix({ dir: sockDir }),
          multiplex: mux,
          bridgeDir: sockDir,
          instance: 'security-test',
          log: createLog('test'),
        });
        const bt = new BrokerTestClient('unused', grpc.credentials.createInsecure(), { channelOverride: conn.channel });
        const echoVia = async (channel: grpc.ChannelInterface) => {
          const echo = new EchoClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
          try {
            return await call<object, EchoReply>(echo, 'echo', { text: 'x' });
          } finally {
            channel.close();
          }
        };

        // The plugin serves, the host dials (one id per attempt: a classic ConnInfo serves one dial).
        for (const who of [...INTRUDERS, 'the peer' as Caller]) {
          const { id } = await call<object, ServeEchoResponse>(bt, 'serveEcho', { prefix: 'p:' });
          dialAs = who;
          const attempt = echoVia(await conn.broker.dial(id));
          if (who === 'the peer') assert.equal((await attempt).text, 'p:x');
          else assert.equal((await refusal(attempt)).code, grpc.status.UNAVAILABLE, who);
          await call(bt, 'stopEcho', { id });
        }

        // The host serves, the plugin dials with its own (legitimate) certificate.
        const before = listDir(sockDir);
        const id = conn.broker.nextId();
        const served = await conn.broker.acceptAndServe(id, (s) => s.addService(EchoService, echoServer('h:')));
        const created = listDir(sockDir).filter((f) => !before.includes(f));
        if (mux) {
          // Nothing to reach from outside: the id is served on knocked streams of the host's own session.
          assert.deepEqual(created, []);
        } else {
          assert.equal(created.length, 1, 'one listener for the served id');
          for (const who of INTRUDERS) {
            const { credentials, options } = credentialsOf(who, generateCertificate(), host.certPem);
            const echo = new EchoClient(grpcTarget('unix', `${sockDir}/${created[0] as string}`), credentials, options);
            const err = await refusal(call(echo, 'echo', { text: 'x' }));
            echo.close();
            assert.equal(err.code, grpc.status.UNAVAILABLE, who);
          }
        }
        assert.equal((await call<object, EchoReply>(bt, 'callHostEcho', { id, text: 'y' })).text, 'h:y');
        await served.close();

        trustPem = generateCertificate().certPem;
        const distrusting = conn.broker.nextId();
        const served2 = await conn.broker.acceptAndServe(distrusting, (s) => s.addService(EchoService, echoServer('h:')));
        const err = await refusal(call(bt, 'callHostEcho', { id: distrusting, text: 'y' }));
        // The plugin's dial failed at TLS (UNAVAILABLE), which the fixture reports as UNKNOWN.
        assert.equal(err.code, grpc.status.UNKNOWN);
        assert.match(err.details, /UNAVAILABLE/);
        await served2.close();
      } finally {
        conn?.close();
        await conn?.broker.close();
        await p.stop();
      }
    });
  }
});

describe('the TS host', () => {
  for (const mux of [false, true]) {
    it(`${mux ? 'multiplexed' : 'classic'}: a plugin serving another certificate than its handshake's is refused by startPlugin (StartError ERR_LOOPP_TLS), killed, its socket removed`, async () => {
      const dir = tmpDir('loopp-sec-impostor-');
      const before = childPids();
      try {
        const err = await startPlugin({
          command: process.execPath,
          args: [fixture('handshake-cert-mismatch')],
          handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
          plugins: { kv: grpcPlugin({}) },
          grpcBrokerMultiplex: mux,
          unixSocketDir: dir,
          startTimeoutMs: 30_000,
        }).then(
          () => assert.fail('startPlugin accepted an impostor'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof StartError, String(err));
        assert.equal(err.code, 'ERR_LOOPP_TLS');
        // loopp's own text, the same on every Node major; Node's error (whose wording varies) is the cause.
        assert.equal(err.message, 'error connecting to plugin: TLS handshake failed: certificate signed by unknown authority');
        assert.deepEqual((err.input as { tlsCode: string }).tlsCode, 'DEPTH_ZERO_SELF_SIGNED_CERT');
        assert.equal((err.cause as NodeJS.ErrnoException | undefined)?.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
        assert.deepEqual(childPids().filter((pid) => !before.includes(pid)), []);
        // The bridge directory (multiplexed) goes synchronously; the socket before the throw.
        for (let i = 0; i < 40 && listDir(dir).length > 0; i++) await sleep(25);
        assert.deepEqual(listDir(dir), []);
      } finally {
        rmDir(dir);
      }
    });
  }
});
