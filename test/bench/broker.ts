/**
 * Broker sub-connection set-up (acceptAndServe + dial + first RPC), both directions, classic and
 * multiplexed, plain and AutoMTLS, for Go and TS hosts and plugins, alternated round by round.
 *   plugin-serves: ServeEcho RPC (plugin allocates an id, acceptAndServe) + host dial + first Echo
 *   host-serves:   host nextId + acceptAndServe + CallHostEcho RPC (plugin dials, calls Echo)
 * The floor (classic plain only): floor-host.js broker does the same steps against the Go plugin on
 * bare node:http2 (the broker stream, ConnInfo, a new HTTP/2 session per sub-connection) with
 * hand-framed gRPC. Multiplexed set-up has no floor: its sub-connections are yamux streams, which
 * Node does not provide; AutoMTLS none either: its cost is the TLS handshake, Node's own in both.
 *
 *   node dist/test/bench/broker.js [--rounds 6] [--per-round 5] [--json out.json]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { grpcPlugin, startPlugin, type PluginClientContext } from '../../src/index';
import { BrokerTestClient, EchoClient, EchoService } from '../../fixtures/gen/examples/brokertest/brokertest';
import { echoServer } from '../../fixtures/brokertest/echo';
import { arg, type BenchResult, machineInfo, ratio, rows } from './common';
import { markdownTable } from './render';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GO_HOST = path.join(ROOT, 'go-interop', 'bin', 'brokertest-host-go');
const GO_PLUGIN = path.join(ROOT, 'go-interop', 'bin', 'brokertest-plugin-go');
const FLOOR_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'floor-host.js');
const TS_PLUGIN = `${process.execPath} ${path.join(ROOT, 'dist', 'fixtures', 'brokertest', 'brokertest-plugin.js')}`;
const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };

interface Sample {
  pluginServes: number[];
  hostServes: number[];
}

function goHost(pluginCmd: string, mux: boolean, mtls: boolean, n: number): Sample {
  const flags = ['-n', String(n), ...(mux ? ['-mux'] : []), ...(mtls ? ['-automtls'] : [])];
  // go-plugin's host leaves brokered unix sockets behind when it kills its plugin: they go to a
  // directory of this run's own (TMPDIR, which both Go sides use), removed afterwards.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-bench-'));
  let out: { pluginServesMs: number[]; hostServesMs: number[]; errors: string[] };
  try {
    out = JSON.parse(execFileSync(GO_HOST, flags, { env: { ...process.env, PLUGIN_CMD: pluginCmd, TMPDIR: tmp }, encoding: 'utf8' })) as typeof out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (out.errors.length > 0) throw new Error(out.errors.join('; '));
  return { pluginServes: out.pluginServesMs, hostServes: out.hostServesMs };
}

function floorHost(pluginCmd: string, n: number): Sample {
  const out = JSON.parse(execFileSync(process.execPath, [FLOOR_HOST, 'broker', '--n', String(n), pluginCmd], { encoding: 'utf8' })) as {
    pluginServesMs: number[];
    hostServesMs: number[];
  };
  return { pluginServes: out.pluginServesMs, hostServes: out.hostServesMs };
}

function unary<Res>(client: grpc.Client, method: string, req: object): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: object, cb: (e: Error | null, res: Res) => void) => void>)[method] as (
    r: object,
    cb: (e: Error | null, res: Res) => void,
  ) => void;
  return new Promise((resolve, reject) => fn.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));
}

async function tsHost(pluginCmd: string, mux: boolean, mtls: boolean, n: number): Promise<Sample> {
  const [command, ...args] = pluginCmd.split(' ') as [string, ...string[]];
  const plugins = { b: grpcPlugin({ client: (ctx: PluginClientContext) => ({ ctx, client: ctx.createClient<BrokerTestClient>(BrokerTestClient.service) }) }) };
  const p = await startPlugin({ command, args, handshake, plugins, autoMTLS: mtls, grpcBrokerMultiplex: mux });
  const { ctx, client } = p.dispense('b');
  const sample: Sample = { pluginServes: [], hostServes: [] };
  try {
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      const { id } = await unary<{ id: number }>(client, 'serveEcho', { prefix: 'p' });
      const ch = await ctx.broker.dial(id);
      const echo = new EchoClient('unused', grpc.credentials.createInsecure(), { channelOverride: ch });
      await unary(echo, 'echo', { text: 'x' });
      sample.pluginServes.push(performance.now() - t0);
      ch.close();
      await unary(client, 'stopEcho', { id });
      t0 = performance.now();
      const hostId = ctx.broker.nextId();
      const served = await ctx.broker.acceptAndServe(hostId, (s) => s.addService(EchoService, echoServer('h')));
      await unary(client, 'callHostEcho', { id: hostId, text: 'y' });
      sample.hostServes.push(performance.now() - t0);
      await served.close();
    }
  } finally {
    await p.close();
  }
  return sample;
}

export async function runBroker(rounds = Number(arg('rounds', '6')), perRound = Number(arg('per-round', '5'))): Promise<BenchResult> {
  for (const f of [GO_HOST, GO_PLUGIN, FLOOR_HOST]) if (!fs.existsSync(f)) throw new Error(`${f} missing: run make interop-bin`);
  const variants: Record<string, (mux: boolean, mtls: boolean) => Promise<Sample | undefined>> = {
    'Go host <-> Go plugin': async (m, t) => goHost(GO_PLUGIN, m, t, perRound),
    'Go host <-> TS plugin': async (m, t) => goHost(TS_PLUGIN, m, t, perRound),
    'TS host <-> Go plugin': (m, t) => tsHost(GO_PLUGIN, m, t, perRound),
    'TS host <-> TS plugin': (m, t) => tsHost(TS_PLUGIN, m, t, perRound),
    'floor host <-> Go plugin': async (m, t) => (m || t ? undefined : floorHost(GO_PLUGIN, perRound)),
  };
  const results: Record<string, number[]> = {};
  for (const mux of [false, true]) {
    for (const mtls of [false, true]) {
      for (let r = 0; r < rounds + 1; r++) {
        for (const [name, fn] of Object.entries(variants)) {
          const s = await fn(mux, mtls);
          if (r === 0 || !s) continue; // warm-up round, or no such variant in this mode
          const mode = `${mux ? 'mux' : 'classic'} ${mtls ? 'AutoMTLS' : 'plain'}`;
          (results[`${name}, ${mode}, plugin serves`] ??= []).push(...s.pluginServes);
          (results[`${name}, ${mode}, host serves`] ??= []).push(...s.hostServes);
        }
      }
    }
  }
  const result: BenchResult = {
    title: `B4 broker sub-connection set-up + first RPC (${rounds} rounds x ${perRound} after a warm-up round, variants alternated)`,
    rows: rows(results),
    raw: results,
    ratios: [],
  };
  for (const mode of ['classic plain', 'classic AutoMTLS', 'mux plain', 'mux AutoMTLS'])
    for (const dir of ['plugin serves', 'host serves'])
      for (const pair of ['TS host <-> Go plugin', 'Go host <-> TS plugin'])
        result.ratios?.push(ratio(result, `${pair}, ${mode}, ${dir}`, `Go host <-> Go plugin, ${mode}, ${dir}`, '<=1.5'));
  for (const dir of ['plugin serves', 'host serves']) {
    const floor = `floor host <-> Go plugin, classic plain, ${dir}`;
    result.ratios?.push(ratio(result, `TS host <-> Go plugin, classic plain, ${dir}`, floor), ratio(result, floor, `Go host <-> Go plugin, classic plain, ${dir}`));
  }
  return result;
}

if (require.main === module) {
  runBroker().then(
    (r) => console.log(`${machineInfo().line}\n\n${markdownTable(r)}`),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
