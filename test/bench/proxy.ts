/**
 * B7 the host's provider proxy (median -> host -> relayer): what the hop through the Node host adds
 * per call. The relayer is a real process (go-interop's relayer-ref-go, chainlink-common v1.3.1's
 * serving code); its median provider comes from Relayer.NewPluginProvider. Sequential
 * ReportCodec.MaxReportLength calls, either straight on the host's provider channel, or through
 * addUnaryProxy served by loopp's server on a unix socket (as the median plugin reaches it on its
 * broker id), variants alternated in blocks; the client is loopp's channel in both.
 *
 *   node dist/test/bench/proxy.js [--rounds 5]
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LOOP_KINDS, LoopService, newCmdFactory, LoopRegistry, relayerLoopPlugin, type PluginRelayerHost, type RelayerHandle } from '../../src/loop/index';
import { createGrpcServer } from '../../src/index';
import { addUnaryProxy } from '../../src/loop/wire/grpc-proxy';
import { H2Channel } from '../../src/net/h2/channel';
import { dialNet } from '../../src/net/h2/dial';
import { createLog } from '../../src/core/debug';
import { medianProviderPaths } from '../../src/loop/wire/median-provider';
import { loopProtos } from '../../src/gen';
import { arg, type BenchResult, difference, machineInfo, ratio, rows } from './common';
import { markdownTable } from './render';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RELAYER = path.join(ROOT, 'go-interop', 'bin', 'relayer-ref-go');
const REFERENCE = path.join(ROOT, 'fixtures', 'relayer', 'reference.json');
const CALLS = 500;

function maxReportLength(client: grpc.Client): Promise<number> {
  const fn = (client as unknown as { maxReportLength: (r: object, cb: (e: Error | null, r: { max: number }) => void) => void }).maxReportLength;
  return new Promise((resolve, reject) => fn.call(client, { n: 4 }, (e, r) => (e ? reject(e) : resolve(r.max))));
}

async function timed(client: grpc.Client, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await maxReportLength(client);
    out.push(performance.now() - t0);
  }
  return out;
}

export async function runProxy(rounds = Number(arg('rounds', '5'))): Promise<BenchResult> {
  if (!fs.existsSync(RELAYER)) throw new Error(`${RELAYER} missing: run make interop-bin`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-bench-proxy-'));
  const registry = new LoopRegistry();
  const cmdFactory = await newCmdFactory((n) => registry.register(n), { id: 'relayer.bench', cmd: RELAYER, env: [['TMPDIR', dir]] });
  const ks = { accounts: () => ['a'], sign: (_a: string, d: Uint8Array) => Buffer.from(d) };
  const svc = new LoopService<PluginRelayerHost, RelayerHandle>({
    name: 'RelayerService',
    kind: LOOP_KINDS.relayer,
    cmdFactory,
    plugin: relayerLoopPlugin(),
    newService: (h) => h.newRelayer({ config: `ReferenceFile = ${JSON.stringify(REFERENCE)}\n`, keystore: ks, csaKeystore: ks }),
  });
  svc.start();
  // loopp's own server, as the host serves the proxy to the median plugin on a broker id.
  const proxy = createGrpcServer();
  const listener = net.createServer((socket) => injector.injectConnection(socket));
  const injector = proxy.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  try {
    const relayer = await svc.wait({ signal: AbortSignal.timeout(30_000) });
    const provider = await relayer.newPluginProvider({
      providerType: 'median',
      relayArgs: { externalJobID: '2b4c1c6e-3f3a-4a8e-9a51-3c5e0e6f7a10', jobID: 1, contractID: '0x1', new: true, relayConfig: Buffer.from('{}') },
      pluginArgs: { transmitterID: '0x2', pluginConfig: Buffer.from('{}') },
    });
    addUnaryProxy(proxy, provider.channel, medianProviderPaths());
    const sock = path.join(dir, 'proxy.sock');
    await new Promise<void>((resolve, reject) => listener.once('error', reject).listen(sock, () => resolve()));
    const { ReportCodecClient } = loopProtos.median();
    const direct = new ReportCodecClient('unused', grpc.credentials.createInsecure(), { channelOverride: provider.channel });
    const toProxy = new H2Channel({ target: `unix:${sock}`, dial: dialNet('unix', sock), secure: false, options: {}, log: createLog('bench') });
    const viaProxy = new ReportCodecClient('unused', grpc.credentials.createInsecure(), { channelOverride: toProxy });
    const raw: Record<string, number[]> = { 'host -> relayer (direct)': [], 'host proxy -> relayer (one extra hop)': [] };
    for (let r = 0; r < rounds + 1; r++) {
      const a = await timed(direct, CALLS);
      const b = await timed(viaProxy, CALLS);
      if (r === 0) continue; // warm-up
      raw['host -> relayer (direct)']!.push(...a);
      raw['host proxy -> relayer (one extra hop)']!.push(...b);
    }
    viaProxy.close();
    await provider.close();
    const result: BenchResult = {
      title: `B7 provider proxy, ReportCodec.MaxReportLength on relayer-ref-go's median provider, sequential latency (${rounds} rounds of ${CALLS} calls per variant after a warm-up round)`,
      rows: rows(raw),
      raw,
    };
    result.ratios = [
      difference(result, 'host proxy -> relayer (one extra hop)', 'host -> relayer (direct)'),
      ratio(result, 'host proxy -> relayer (one extra hop)', 'host -> relayer (direct)'),
    ];
    return result;
  } finally {
    proxy.forceShutdown();
    listener.close();
    await svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runProxy().then(
    (r) => console.log(`${machineInfo().line}\n\n${markdownTable(r)}`),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
