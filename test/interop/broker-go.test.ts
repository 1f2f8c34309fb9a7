/**
 * The GRPCBroker against real go-plugin (v1.8.0), classic and multiplexed, plain and AutoMTLS:
 * the bidirectional counter example both ways, the reverse direction (plugin serves, host dials)
 * both ways, knock errors, and multiplexing negotiation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { MUX_UNSUPPORTED_TEXT } from '../../src/wire/handshake';
import { BrokerError, HandshakeError, grpcPlugin, startPlugin, type PluginClientContext } from '../../src/index';
import { BrokerTestClient, EchoClient, type EchoReply, EchoService, type ServeEchoResponse } from '../../fixtures/gen/examples/brokertest/brokertest';
import { echoServer } from '../../fixtures/brokertest/echo';
import { binary, childPids, fixture, fixtureAt, goBinary, listDir, rmDir, run, shellCommand, tmpDir } from '../helpers';

const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
const MODES = [
  { name: 'classic plain', mux: false, mtls: false },
  { name: 'classic AutoMTLS', mux: false, mtls: true },
  { name: 'mux plain', mux: true, mtls: false },
  { name: 'mux AutoMTLS', mux: true, mtls: true },
];

let work: string;
let tmp: string;
before(() => {
  work = tmpDir('loopp-bgo-');
  tmp = tmpDir('loopp-bgo-tmp-');
});
after(() => {
  rmDir(work);
  rmDir(tmp);
});

function call<Req, Res>(client: grpc.Client, method: string, req: Req): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: Req, cb: (e: grpc.ServiceError | null, res: Res) => void) => void>)[method];
  assert.ok(fn);
  return new Promise((resolve, reject) => fn.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));
}

async function counterHost(host: 'go' | 'ts', pluginPath: string, flags: string[], args: string[]) {
  const cmd = host === 'go' ? goBinary('counter-host-go') : binary('counter-host-ts');
  const r = await run(cmd, [...flags, ...args], { cwd: work, env: { ...process.env, TMPDIR: tmp, COUNTER_PLUGIN: shellCommand(pluginPath) }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, `${cmd} ${[...flags, ...args].join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('counter example (host serves AddHelper, plugin dials it)', () => {
  for (const m of MODES) {
    it(`Go host -> counter-plugin-ts, ${m.name}`, async () => {
      const flags = [...(m.mtls ? ['-automtls'] : []), ...(m.mux ? ['-mux'] : [])];
      const key = `go-${m.mux}-${m.mtls}`;
      await counterHost('go', binary('counter-plugin-ts'), flags, ['put', key, '3']);
      await counterHost('go', binary('counter-plugin-ts'), flags, ['put', key, '39']);
      assert.equal(await counterHost('go', binary('counter-plugin-ts'), flags, ['get', key]), '42\n');
    });
    it(`TS host -> counter-plugin-go, ${m.name}`, async () => {
      const flags = [...(m.mtls ? [] : ['--no-automtls']), ...(m.mux ? ['--mux'] : [])];
      const key = `ts-${m.mux}-${m.mtls}`;
      await counterHost('ts', goBinary('counter-plugin-go'), flags, ['put', key, '40']);
      await counterHost('ts', goBinary('counter-plugin-go'), flags, ['put', key, '2']);
      assert.equal(await counterHost('ts', goBinary('counter-plugin-go'), flags, ['get', key]), '42\n');
    });
  }
  it('no socket file is left in the temp dir by our side', () => {
    // Go's own plugin leaves its main socket behind in mux mode (upstream behaviour); ours never do.
    const left = listDir(tmp).filter((f) => !f.startsWith('plugin'));
    assert.deepEqual(left, []);
  });
});

describe('brokertest: plugin serves, host dials, and the reverse', () => {
  for (const m of MODES) {
    for (const grpcJs of [false, true]) it(`Go host (go-plugin v1.8.0) -> brokertest-plugin-ts, ${m.name}, 20 round trips each way${grpcJs ? " (the plugin on grpc-js's server and channel)" : ''}`, async () => {
      const flags = [...(m.mtls ? ['-automtls'] : []), ...(m.mux ? ['-mux'] : []), '-n', '20'];
      const pluginArgs = grpcJs ? ['--grpc-js-server', '--grpc-js-channel'] : [];
      const r = await run(goBinary('brokertest-host-go'), flags, {
        cwd: work,
        env: { ...process.env, TMPDIR: tmp, PLUGIN_CMD: shellCommand(process.execPath, fixtureAt('brokertest/brokertest-plugin'), ...pluginArgs) },
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { pluginServesMs: number[]; hostServesMs: number[]; errors: string[]; forceKilled: boolean };
      assert.deepEqual(out.errors, []);
      assert.equal(out.pluginServesMs.length, 20);
      assert.equal(out.hostServesMs.length, 20);
      assert.equal(out.forceKilled, false);
    });

    for (const grpcChannel of ['loopp', 'grpc-js'] as const) {
      it(`TS host -> brokertest-plugin-go, ${m.name}, 20 round trips each way (${grpcChannel} channel)`, async () => {
        const plugins = { brokertest: grpcPlugin({ client: (ctx: PluginClientContext) => ({ ctx, client: ctx.createClient<BrokerTestClient>(BrokerTestClient.service) }) }) };
        await using p = await startPlugin({ command: goBinary('brokertest-plugin-go'), cwd: work, handshake, plugins, autoMTLS: m.mtls, grpcBrokerMultiplex: m.mux, grpcChannel, unixSocketDir: tmp });
        const { ctx, client } = p.dispense('brokertest');
        assert.equal(ctx.broker.multiplexed, m.mux);
        for (let i = 0; i < 20; i++) {
          const { id } = await call<object, ServeEchoResponse>(client, 'serveEcho', { prefix: `p${i}:` });
          const ch = await ctx.broker.dial(id);
          const echo = new EchoClient('unused', grpc.credentials.createInsecure(), { channelOverride: ch });
          assert.equal((await call<object, EchoReply>(echo, 'echo', { text: 'x' })).text, `p${i}:x`);
          ch.close();
          await call(client, 'stopEcho', { id });
          const hostId = ctx.broker.nextId();
          const served = await ctx.broker.acceptAndServe(hostId, (s) => s.addService(EchoService, echoServer(`h${i}:`)));
          assert.equal((await call<object, EchoReply>(client, 'callHostEcho', { id: hostId, text: 'y' })).text, `h${i}:y`);
          await served.close();
        }
      });
    }
  }

  it('mux: a Go plugin knocking for an id our host does not serve gets "no listener for id"', async () => {
    const plugins = { brokertest: grpcPlugin({ client: (ctx: PluginClientContext) => ctx.createClient<BrokerTestClient>(BrokerTestClient.service) }) };
    await using p = await startPlugin({ command: goBinary('brokertest-plugin-go'), cwd: work, handshake, plugins, grpcBrokerMultiplex: true, unixSocketDir: tmp });
    const client = p.dispense('brokertest');
    const err = await call<object, EchoReply>(client, 'callHostEcho', { id: 4242, text: 'y' }).then(
      () => assert.fail('the dial should fail'),
      (e: grpc.ServiceError) => e,
    );
    assert.match(err.details, /no listener for id 4242/);
  });

  it('mux: our dial for an id a Go plugin does not serve fails after 5 s with go-plugin\'s knock text', async () => {
    const plugins = { brokertest: grpcPlugin({ client: (ctx: PluginClientContext) => ctx }) };
    await using p = await startPlugin({ command: goBinary('brokertest-plugin-go'), cwd: work, handshake, plugins, grpcBrokerMultiplex: true, unixSocketDir: tmp });
    const t0 = Date.now();
    const err = await p.dispense('brokertest').broker.dial(999).then(() => assert.fail('should fail'), (e: Error) => e);
    const ms = Date.now() - t0;
    assert.ok(err instanceof BrokerError);
    assert.equal(err.code, 'ERR_LOOPP_BROKER_TIMEOUT');
    assert.equal(err.message, 'failed to knock before dialling client: timeout waiting for multiplexing knock handshake on id 999');
    assert.ok(ms >= 4900 && ms < 6500, `took ${ms} ms`);
  });
});

describe('multiplexing negotiation', () => {
  for (const answer of ['missing', 'false'] as const) {
    it(`our host refuses a plugin whose field 7 is ${answer}`, async () => {
      const err = await startPlugin({
        command: process.execPath,
        args: [fixture('no-mux-field')],
        env: answer === 'false' ? { NO_MUX_FIELD: 'false' } : {},
        handshake,
        plugins: { kv: grpcPlugin({}) },
        grpcBrokerMultiplex: true,
        autoMTLS: false,
      }).then(() => assert.fail('should refuse'), (e: Error) => e);
      assert.ok(err instanceof HandshakeError);
      assert.equal(err.code, 'ERR_LOOPP_MUX_UNSUPPORTED');
      assert.equal(err.message, MUX_UNSUPPORTED_TEXT);
      assert.deepEqual(childPids(), []);
    });
  }
});
