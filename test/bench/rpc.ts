/**
 * B3 unary RPC over the plugin connection (KV Get of a 64-byte value, plain): sequential latency and
 * throughput at 1 and 64 calls in flight, for Go and TS hosts against Go and TS plugins, and the floor:
 * a bare node:http2 host (floor-host.js) and plugin (floor-plugin.js) with hand-framed gRPC. Each round
 * launches every pair once, in turn (A B C D … A B C D …, after a warm-up round); the host is a fresh
 * process each time (go-interop's rpc-bench-go, host-ts.js rpc or floor-host.js rpc).
 *
 *   node dist/test/bench/rpc.js [--rounds 5]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, type BenchResult, type BenchRow, machineInfo, ratio, stats } from './common';
import { markdownTable } from './render';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GO_PLUGIN = path.join(ROOT, 'go-interop', 'bin', 'kv-plugin-go');
const TS_PLUGIN = path.join(ROOT, 'bin', 'kv-plugin-ts');
const GO_HOST = path.join(ROOT, 'go-interop', 'bin', 'rpc-bench-go');
const TS_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'host-ts.js');
const FLOOR_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'floor-host.js');
const FLOOR_PLUGIN = path.join(ROOT, 'dist', 'test', 'bench', 'floor-plugin.js');
const INFLIGHT = 64;
const SEQ = 1000;
// Calls before the timed ones, in every host (Go's too): V8 is still compiling the call path to its
// top tier after a few hundred (TS host, sequential median 0.27-0.31 ms after 500 calls, 0.18 ms after
// 3 000, same process, same plugin), and B3 measures the steady state, not the JIT's warm-up.
const WARMUP_CALLS = 5000;

interface RpcSample {
  seqMs: number[];
  seqPerSec: number;
  concPerSec: number;
}

type Host = 'go' | 'ts' | 'floor';

function host(kind: Host, plugin: string[], cwd: string, flags: string[]): RpcSample {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd, encoding: 'utf8' });
  const out =
    kind === 'go'
      ? run(GO_HOST, [...flags.map((f) => f.replace(/^--/, '-')), ...plugin])
      : run(process.execPath, [kind === 'ts' ? TS_HOST : FLOOR_HOST, 'rpc', ...flags, ...plugin]);
  return JSON.parse(out) as RpcSample;
}

export async function runRpc(rounds = Number(arg('rounds', '4'))): Promise<BenchResult> {
  const warmup = 1;
  for (const f of [GO_PLUGIN, TS_PLUGIN, GO_HOST, TS_HOST, FLOOR_HOST, FLOOR_PLUGIN]) if (!fs.existsSync(f)) throw new Error(`${f} missing: run make build interop-bin`);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-bench-rpc-'));
  const flags = ['--seq', String(SEQ), '--inflight', String(INFLIGHT), '--calls', '6400', '--warmup', String(WARMUP_CALLS)];
  const floorPlugin = [process.execPath, FLOOR_PLUGIN];
  const pairs: Record<string, [Host, string[]]> = {
    'Go host -> Go plugin': ['go', [GO_PLUGIN]],
    'TS host -> Go plugin': ['ts', [GO_PLUGIN]],
    'floor host -> Go plugin': ['floor', [GO_PLUGIN]],
    'Go host -> TS plugin': ['go', [TS_PLUGIN]],
    'Go host -> floor plugin': ['go', floorPlugin],
    'TS host -> TS plugin': ['ts', [TS_PLUGIN]],
    'floor host -> floor plugin': ['floor', floorPlugin],
  };
  const lat: Record<string, number[]> = {};
  const one: Record<string, number[]> = {};
  const many: Record<string, number[]> = {};
  for (let r = 0; r < rounds + warmup; r++) {
    for (const [name, [kind, plugin]] of Object.entries(pairs)) {
      const s = host(kind, plugin, cwd, flags);
      if (r < warmup) continue;
      (lat[name] ??= []).push(...s.seqMs);
      (one[name] ??= []).push(s.seqPerSec);
      (many[name] ??= []).push(s.concPerSec);
    }
  }
  fs.rmSync(cwd, { recursive: true, force: true });
  const raw: Record<string, number[]> = {};
  const out: BenchRow[] = [];
  const add = (src: Record<string, number[]>, suffix: string) => {
    for (const [name, xs] of Object.entries(src)) {
      raw[`${name}, ${suffix}`] = xs;
      out.push({ variant: `${name}, ${suffix}`, ...stats(xs) });
    }
  };
  add(lat, 'sequential latency ms');
  add(one, 'calls/s, 1 in flight');
  add(many, `calls/s, ${INFLIGHT} in flight`);
  const result: BenchResult = {
    title: `B3 unary RPC, KV Get (${rounds} rounds after ${warmup} warm-up, pairs alternated; ${WARMUP_CALLS} untimed calls first in each process; latency pooled over ${SEQ} calls per round, throughput one value per round)`,
    unit: '',
    rows: out,
    raw,
  };
  const c = `calls/s, ${INFLIGHT} in flight`;
  const c1 = 'calls/s, 1 in flight';
  const seqLat = 'sequential latency ms';
  // loopp / floor next to loopp / Go, per cell; the targets are issue 12's.
  result.ratios = [
    ratio(result, `TS host -> Go plugin, ${c}`, `Go host -> Go plugin, ${c}`),
    ratio(result, `TS host -> Go plugin, ${c}`, `floor host -> Go plugin, ${c}`, '>=0.85'),
    ratio(result, `floor host -> Go plugin, ${c}`, `Go host -> Go plugin, ${c}`),
    ratio(result, `Go host -> TS plugin, ${c}`, `Go host -> Go plugin, ${c}`, '>=0.6'),
    ratio(result, `Go host -> TS plugin, ${c}`, `Go host -> floor plugin, ${c}`, '>=0.85'),
    ratio(result, `Go host -> floor plugin, ${c}`, `Go host -> Go plugin, ${c}`),
    ratio(result, `TS host -> TS plugin, ${c}`, `Go host -> Go plugin, ${c}`),
    ratio(result, `TS host -> TS plugin, ${c}`, `floor host -> floor plugin, ${c}`),
    ratio(result, `TS host -> Go plugin, ${c1}`, `Go host -> Go plugin, ${c1}`),
    ratio(result, `TS host -> Go plugin, ${c1}`, `floor host -> Go plugin, ${c1}`),
    ratio(result, `Go host -> TS plugin, ${c1}`, `Go host -> Go plugin, ${c1}`),
    ratio(result, `Go host -> TS plugin, ${c1}`, `Go host -> floor plugin, ${c1}`),
    ratio(result, `TS host -> Go plugin, ${seqLat}`, `Go host -> Go plugin, ${seqLat}`, '<=1.5'),
    ratio(result, `TS host -> Go plugin, ${seqLat}`, `floor host -> Go plugin, ${seqLat}`),
    ratio(result, `Go host -> TS plugin, ${seqLat}`, `Go host -> Go plugin, ${seqLat}`),
    ratio(result, `Go host -> TS plugin, ${seqLat}`, `Go host -> floor plugin, ${seqLat}`),
  ];
  return result;
}

if (require.main === module) {
  runRpc().then(
    (r) => console.log(`${machineInfo().line}\n\n${markdownTable(r)}`),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
