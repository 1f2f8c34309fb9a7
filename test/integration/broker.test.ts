/**
 * The GRPCBroker between loopp's host and loopp's plugin: both directions, repeated round trips
 * without resource growth and go-plugin's 5 s timeout text with the plugin served in-process
 * (loopp/testing: both brokers on the two ends of a real connection, no process needed); no socket
 * left after a launched plugin's client closes (a plugin killed mid-dial is in test/faults).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BrokerError, grpcPlugin, startPlugin, type PluginClientContext } from '../../src/index';
import { servePluginInProcess } from '../../src/testing';
import {
  BrokerTestClient,
  BrokerTestService,
  EchoClient,
  type EchoReply,
  EchoService,
  type ServeEchoResponse,
} from '../../fixtures/gen/examples/brokertest/brokertest';
import { echoServer } from '../../fixtures/brokertest/echo';
import { brokerTestServer } from '../../fixtures/brokertest/brokertest-server';
import { fixtureAt, listDir, rmDir, tmpDir } from '../helpers';

function call<Req, Res>(client: grpc.Client, method: string, req: Req): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: Req, cb: (e: grpc.ServiceError | null, res: Res) => void) => void>)[method] as (
    r: Req,
    cb: (e: grpc.ServiceError | null, res: Res) => void,
  ) => void;
  return new Promise((resolve, reject) => fn.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));
}

const plugins = {
  brokertest: grpcPlugin({
    server: ({ server, broker }) => server.addService(BrokerTestService, brokerTestServer(broker)),
    client: (ctx: PluginClientContext) => ({ ctx, client: ctx.createClient<BrokerTestClient>(BrokerTestClient.service) }),
  }),
};

let sockDir: string;
before(() => {
  sockDir = tmpDir('loopp-broker-');
});
after(() => rmDir(sockDir));

function start(autoMTLS: boolean, grpcBrokerMultiplex = false, grpcChannel: 'loopp' | 'grpc-js' = 'loopp') {
  return startPlugin({
    grpcBrokerMultiplex,
    grpcChannel,
    command: process.execPath,
    args: [fixtureAt('brokertest/brokertest-plugin')],
    handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
    plugins,
    autoMTLS,
    unixSocketDir: sockDir,
  });
}

function serveHere(autoMTLS: boolean, grpcBrokerMultiplex: boolean) {
  return servePluginInProcess({ plugins, autoMTLS, grpcBrokerMultiplex });
}

/** One round trip in each direction; returns nothing, asserts the replies. */
async function roundTrips(p: { dispense(name: 'brokertest'): { ctx: PluginClientContext; client: BrokerTestClient } }, i: number): Promise<void> {
  const { client, ctx } = p.dispense('brokertest');
  // plugin serves, host dials
  const { id } = await call<object, ServeEchoResponse>(client, 'serveEcho', { prefix: `p${i}:` });
  const channel = await ctx.broker.dial(id);
  const echo = new EchoClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  assert.equal((await call<object, EchoReply>(echo, 'echo', { text: 'x' })).text, `p${i}:x`);
  channel.close();
  await call(client, 'stopEcho', { id });
  // host serves, plugin dials
  const hostId = ctx.broker.nextId();
  const served = await ctx.broker.acceptAndServe(hostId, (server) => server.addService(EchoService, echoServer(`h${i}:`)));
  assert.equal((await call<object, EchoReply>(client, 'callHostEcho', { id: hostId, text: 'y' })).text, `h${i}:y`);
  await served.close();
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

for (const mux of [false, true]) {
  const mode = mux ? 'multiplexed' : 'classic';
  describe(`${mode} broker, TS host <-> TS plugin`, () => {
    for (const autoMTLS of [false, true]) {
      it(`both directions, 50 sequential round trips without growth (${autoMTLS ? 'AutoMTLS' : 'plain'})`, async () => {
        await using p = await serveHere(autoMTLS, mux);
        assert.equal(p.client.broker.multiplexed, mux);
        assert.equal(p.server.broker.multiplexed, mux);
        await roundTrips(p, 0);
        const fds0 = fdCount();
        const sockets0 = listDir(p.dir).length;
        for (let i = 1; i <= 50; i++) await roundTrips(p, i);
        assert.ok(listDir(p.dir).length <= sockets0, `socket files grew from ${sockets0} to ${listDir(p.dir).length}`);
        assert.ok(fdCount() <= fds0 + 4, `fds grew from ${fds0} to ${fdCount()}`);
      });
    }

    it(mux ? 'a knock for an id nobody serves gets "no listener for id"' : 'a dial for an id nobody serves fails after 5 s with go-plugin\'s text', async () => {
      await using p = await serveHere(false, mux);
      const { ctx } = p.dispense('brokertest');
      const t0 = Date.now();
      const err = await ctx.broker.dial(4242).then(() => assert.fail('dial should fail'), (e: Error) => e);
      const ms = Date.now() - t0;
      assert.ok(err instanceof BrokerError);
      assert.equal(err.id, 4242);
      if (mux) {
        assert.equal(err.code, 'ERR_LOOPP_BROKER');
        assert.equal(err.message, 'failed to knock before dialling client: failed to knock for id 4242: no listener for id 4242');
        assert.ok(ms < 1000, `took ${ms} ms`);
      } else {
        assert.equal(err.code, 'ERR_LOOPP_BROKER_TIMEOUT');
        assert.equal(err.message, 'timeout waiting for connection info');
        assert.ok(ms >= 4900 && ms < 6500, `took ${ms} ms`);
      }
    });

    for (const channel of ['loopp', 'grpc-js'] as const) {
      it(`no broker socket file remains after the client closes (${channel} channel)`, async () => {
        await using p = await start(true, mux, channel);
        const { ctx, client } = p.dispense('brokertest');
        // Leave served ids (and, multiplexed, a dialled channel) open on both sides, then close the client.
        await ctx.broker.acceptAndServe(ctx.broker.nextId(), (s) => s.addService(EchoService, echoServer('')));
        const { id } = await call<object, ServeEchoResponse>(client, 'serveEcho', { prefix: '' });
        await ctx.broker.dial(id);
        // The plugin's socket; multiplexed, grpc-js's channel adds a bridge dir per channel (main, dialled), loopp's none.
        assert.equal(listDir(sockDir).length, mux ? (channel === 'grpc-js' ? 3 : 1) : 3);
        await p.close();
        assert.deepEqual(listDir(sockDir), []);
      });
    }
  });
}
