/**
 * B5 stdio: plugin stdout forwarded over GRPCStdio to the host's sync writer (go-plugin's SyncStdout,
 * loopp's `syncStdout`), in MB/s, for Go and TS hosts against Go and TS plugins. The plugin writes
 * 8 MiB in one write when asked (Get("stdout:N"): go-interop's stdio-plugin-go, fixtures/plugins/
 * stdio-bench.ts); the time runs from before the Get until the host's writer has all the bytes. Each
 * round launches every pair once, in turn, after a warm-up round; every launch does one untimed
 * transfer, then 3 timed ones. The floor, bare node:http2 with hand-framed gRPC: floor-host.js stdio
 * reads the StdioData stream of the Go stdio plugin (host side), and floor-plugin.js sends the bytes as
 * 1 KiB StdioData messages, go-plugin's size, from memory (plugin side: no stdout pipe in between).
 *
 *   node dist/test/bench/stdio.js [--rounds 5]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arg, type BenchResult, machineInfo, ratio, rows } from './common';
import { markdownTable } from './render';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GO_PLUGIN = path.join(ROOT, 'go-interop', 'bin', 'stdio-plugin-go');
const TS_PLUGIN = path.join(ROOT, 'dist', 'fixtures', 'plugins', 'stdio-bench.js');
const GO_HOST = path.join(ROOT, 'go-interop', 'bin', 'stdio-bench-go');
const TS_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'host-ts.js');
const FLOOR_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'floor-host.js');
const FLOOR_PLUGIN = path.join(ROOT, 'dist', 'test', 'bench', 'floor-plugin.js');
const BYTES = 8 << 20;

function host(kind: 'go' | 'ts' | 'floor', plugin: string[]): number[] {
  const flags = ['--n', '3', '--bytes', String(BYTES)];
  const out =
    kind === 'go'
      ? execFileSync(GO_HOST, [...flags, ...plugin], { encoding: 'utf8' })
      : execFileSync(process.execPath, [kind === 'ts' ? TS_HOST : FLOOR_HOST, 'stdio', ...flags, ...plugin], { encoding: 'utf8' });
  return (JSON.parse(out) as { ms: number[] }).ms.map((ms) => BYTES / 1e6 / (ms / 1000));
}

export async function runStdio(rounds = Number(arg('rounds', '5'))): Promise<BenchResult> {
  const warmup = 1;
  for (const f of [GO_PLUGIN, TS_PLUGIN, GO_HOST, TS_HOST, FLOOR_HOST, FLOOR_PLUGIN]) if (!fs.existsSync(f)) throw new Error(`${f} missing: run make build interop-bin`);
  const pairs: Record<string, ['go' | 'ts' | 'floor', string[]]> = {
    'Go plugin -> Go host': ['go', [GO_PLUGIN]],
    'Go plugin -> TS host': ['ts', [GO_PLUGIN]],
    'Go plugin -> floor host': ['floor', [GO_PLUGIN]],
    'TS plugin -> Go host': ['go', [process.execPath, TS_PLUGIN]],
    'floor plugin -> Go host': ['go', [process.execPath, FLOOR_PLUGIN]],
    'TS plugin -> TS host': ['ts', [process.execPath, TS_PLUGIN]],
  };
  const raw: Record<string, number[]> = {};
  for (let r = 0; r < rounds + warmup; r++) {
    for (const [name, [kind, plugin]] of Object.entries(pairs)) {
      const mbps = host(kind, plugin);
      if (r >= warmup) (raw[name] ??= []).push(...mbps);
    }
  }
  const result: BenchResult = {
    title: `B5 stdio, 8 MiB plugin stdout -> host sync writer (${rounds} rounds x 3 after a warm-up round, pairs alternated; MB/s, higher is better)`,
    unit: 'MB/s',
    rows: rows(raw),
    raw,
  };
  result.ratios = [
    ratio(result, 'Go plugin -> TS host', 'Go plugin -> Go host', '>=1.0'),
    ratio(result, 'Go plugin -> TS host', 'Go plugin -> floor host'),
    ratio(result, 'Go plugin -> floor host', 'Go plugin -> Go host'),
    ratio(result, 'TS plugin -> Go host', 'Go plugin -> Go host', '>=1.0'),
    ratio(result, 'TS plugin -> Go host', 'floor plugin -> Go host'),
    ratio(result, 'floor plugin -> Go host', 'Go plugin -> Go host'),
    ratio(result, 'TS plugin -> TS host', 'Go plugin -> Go host'),
  ];
  return result;
}

if (require.main === module) {
  runStdio().then(
    (r) => console.log(`${machineInfo().line}\n\n${markdownTable(r)}`),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
