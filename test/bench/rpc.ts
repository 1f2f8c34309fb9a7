/**
 * B3 unary RPC over the plugin connection (KV Get of a 64-byte value, plain): sequential latency and
 * throughput at 1 and 64 calls in flight, for Go and TS hosts against Go and TS plugins. Each round
 * launches every pair once, in turn (A B C D A B C D …, after a warm-up round); the host is a fresh
 * process each time (go-interop's rpc-bench-go, or host-ts.js rpc).
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
const INFLIGHT = 64;
const SEQ = 1000;

interface RpcSample {
  seqMs: number[];
  seqPerSec: number;
  concPerSec: number;
}

function host(go: boolean, plugin: string, cwd: string, flags: string[]): RpcSample {
  const out = go
    ? execFileSync(GO_HOST, [...flags.map((f) => f.replace(/^--/, '-')), plugin], { cwd, encoding: 'utf8' })
    : execFileSync(process.execPath, [TS_HOST, 'rpc', ...flags, plugin], { cwd, encoding: 'utf8' });
  return JSON.parse(out) as RpcSample;
}

export async function runRpc(rounds = Number(arg('rounds', '4'))): Promise<BenchResult> {
  const warmup = 1;
  for (const f of [GO_PLUGIN, TS_PLUGIN, GO_HOST, TS_HOST]) if (!fs.existsSync(f)) throw new Error(`${f} missing: run make build interop-bin`);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-bench-rpc-'));
  const flags = ['--seq', String(SEQ), '--inflight', String(INFLIGHT), '--calls', '6400', '--warmup', '300'];
  const pairs: Record<string, [boolean, string]> = {
    'Go host -> Go plugin': [true, GO_PLUGIN],
    'TS host -> Go plugin': [false, GO_PLUGIN],
    'Go host -> TS plugin': [true, TS_PLUGIN],
    'TS host -> TS plugin': [false, TS_PLUGIN],
  };
  const lat: Record<string, number[]> = {};
  const one: Record<string, number[]> = {};
  const many: Record<string, number[]> = {};
  for (let r = 0; r < rounds + warmup; r++) {
    for (const [name, [go, plugin]] of Object.entries(pairs)) {
      const s = host(go, plugin, cwd, flags);
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
    title: `B3 unary RPC, KV Get (${rounds} rounds after ${warmup} warm-up, pairs alternated; latency pooled over ${SEQ} calls per round, throughput one value per round)`,
    unit: '',
    rows: out,
    raw,
  };
  const c = `calls/s, ${INFLIGHT} in flight`;
  result.ratios = [
    ratio(result, `TS host -> Go plugin, ${c}`, `Go host -> Go plugin, ${c}`, '>=0.6'),
    ratio(result, `Go host -> TS plugin, ${c}`, `Go host -> Go plugin, ${c}`, '>=0.5'),
    ratio(result, `TS host -> TS plugin, ${c}`, `Go host -> Go plugin, ${c}`),
    ratio(result, 'TS host -> Go plugin, sequential latency ms', 'Go host -> Go plugin, sequential latency ms'),
    ratio(result, 'Go host -> TS plugin, sequential latency ms', 'Go host -> Go plugin, sequential latency ms'),
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
