/**
 * Launch-to-first-RPC, measured the way each host's user sees it (from "start the plugin" to the reply
 * of the first app RPC, inside an already running host process), with every variant run in turn
 * (A B C … A B C …) after a warm-up. `node -e 0` is the floor for a Node plugin.
 *
 *   node dist/test/bench/launch.js [--rounds 15] [--json out.json]
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { grpcPlugin, startPlugin } from '../../src/index';
import { type GetResponse, KVClient } from '../../fixtures/gen/examples/kv/kv';
import { arg, type BenchResult, difference, machineInfo, ratio, rows } from './common';
import { markdownTable } from './render';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GO_PLUGIN = path.join(ROOT, 'go-interop', 'bin', 'kv-plugin-go');
const TS_PLUGIN = path.join(ROOT, 'bin', 'kv-plugin-ts');
const GO_BENCH = path.join(ROOT, 'go-interop', 'bin', 'launch-bench-go');
const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
const plugins = { kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };

export async function nodeFloor(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', () => resolve());
  });
  return performance.now() - t0;
}

/** One launch by go-plugin (launch-bench-go) to the reply of the first KV Get; `args` are the plugin's. */
export function goHost(plugin: string, autoMTLS: boolean, cwd: string, args: readonly string[] = []): number {
  const out = execFileSync(GO_BENCH, ['-n', '1', ...(autoMTLS ? ['-automtls'] : []), plugin, ...args], { cwd, encoding: 'utf8' });
  const ms = (JSON.parse(out) as { ms: number[] }).ms[0];
  if (ms === undefined) throw new Error(`launch-bench-go printed no timing: ${out}`);
  return ms;
}

/** One launch by loopp's startPlugin to the reply of the first KV Get, then close. */
export async function tsHost(plugin: string, autoMTLS: boolean, cwd: string, args: readonly string[] = []): Promise<number> {
  const t0 = performance.now();
  const p = await startPlugin({ command: plugin, args, cwd, handshake, plugins, autoMTLS });
  const kv = p.dispense('kv');
  // A missing key is an error reply from the Go plugin: still a completed first RPC.
  await new Promise<GetResponse | undefined>((resolve) => kv.get({ key: 'bench' }, (_e, r) => resolve(r)));
  const ms = performance.now() - t0;
  await p.close();
  return ms;
}

/**
 * Every variant in turn, plain and AutoMTLS in the same round (a burst of load on the shared machine
 * then hits both modes alike), `rounds` times after `warmup` uncounted rounds; the results are named
 * `<variant> (plain)` / `<variant> (AutoMTLS)`, except `node -e 0` (once per round, no TLS).
 */
export async function alternated(variants: Record<string, (mtls: boolean) => Promise<number>>, rounds: number, warmup: number): Promise<Record<string, number[]>> {
  const results: Record<string, number[]> = {};
  for (let r = 0; r < rounds + warmup; r++) {
    for (const mtls of [false, true]) {
      for (const [name, fn] of Object.entries(variants)) {
        if (mtls && name === 'node -e 0') continue;
        const ms = await fn(mtls);
        if (r < warmup) continue;
        const key = name === 'node -e 0' ? name : `${name}${mtls ? ' (AutoMTLS)' : ' (plain)'}`;
        (results[key] ??= []).push(ms);
      }
    }
  }
  return results;
}

export async function runLaunch(rounds = Number(arg('rounds', '15'))): Promise<BenchResult> {
  const warmup = 2;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-bench-'));
  for (const f of [GO_PLUGIN, TS_PLUGIN, GO_BENCH]) if (!fs.existsSync(f)) throw new Error(`${f} missing: run make build interop-bin`);
  const variants: Record<string, (mtls: boolean) => Promise<number>> = {
    'node -e 0': () => nodeFloor(),
    'Go host -> Go plugin': async (m) => goHost(GO_PLUGIN, m, cwd),
    'TS host -> Go plugin': (m) => tsHost(GO_PLUGIN, m, cwd),
    'Go host -> TS plugin': async (m) => goHost(TS_PLUGIN, m, cwd),
    'TS host -> TS plugin': (m) => tsHost(TS_PLUGIN, m, cwd),
  };
  const results = await alternated(variants, rounds, warmup);
  fs.rmSync(cwd, { recursive: true, force: true });
  const result: BenchResult = {
    title: `B1/B2 launch to first RPC (${rounds} rounds after ${warmup} warm-up, variants alternated)`,
    rows: rows(results),
    raw: results,
  };
  result.ratios = [
    ratio(result, 'TS host -> Go plugin (plain)', 'Go host -> Go plugin (plain)', '<=1.1'),
    ratio(result, 'TS host -> Go plugin (AutoMTLS)', 'Go host -> Go plugin (AutoMTLS)', '<=1.1'),
    difference(result, 'Go host -> TS plugin (plain)', 'node -e 0', '<=60'),
    difference(result, 'Go host -> TS plugin (AutoMTLS)', 'node -e 0', '<=75'),
    difference(result, 'TS host -> TS plugin (plain)', 'node -e 0', '<=60'),
    difference(result, 'TS host -> TS plugin (AutoMTLS)', 'node -e 0', '<=75'),
  ];
  return result;
}

if (require.main === module) {
  runLaunch().then(
    (r) => console.log(`${machineInfo().line}\n\n${markdownTable(r)}`),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
