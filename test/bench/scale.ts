/**
 * B6 scale: one host launching 100 Go KV plugins concurrently (start + dispense + first Get each):
 * wall time until all answered, and the host's RSS growth with all 100 connected (per plugin), TS host
 * (host-ts.js scale, a fresh Node process) vs Go host (go-interop's scale-bench-go), alternated after a
 * warm-up round. The floor: bare Node (floor-host.js scale: spawn, handshake line, an HTTP/2 session
 * and one hand-framed Get per plugin), spawning on the main thread and in two worker threads, to show
 * what taking fork() off the event loop gains on this machine.
 *
 *   node dist/test/bench/scale.js [--rounds 5] [--plugins 100]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, type BenchResult, machineInfo, median, ratio, rows } from './common';
import { markdownTable } from './render';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GO_PLUGIN = path.join(ROOT, 'go-interop', 'bin', 'kv-plugin-go');
const GO_HOST = path.join(ROOT, 'go-interop', 'bin', 'scale-bench-go');
const TS_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'host-ts.js');
const FLOOR_HOST = path.join(ROOT, 'dist', 'test', 'bench', 'floor-host.js');

interface ScaleSample {
  wallMs: number;
  /** Both left out by the floor hosts, which measure time only. */
  rssBeforeKB?: number;
  rssAfterKB?: number;
}

export async function runScale(rounds = Number(arg('rounds', '5')), n = Number(arg('plugins', '100'))): Promise<BenchResult> {
  const warmup = 1;
  for (const f of [GO_PLUGIN, GO_HOST, TS_HOST, FLOOR_HOST]) if (!fs.existsSync(f)) throw new Error(`${f} missing: run make build interop-bin`);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-bench-scale-'));
  const hosts: Record<string, () => string> = {
    'Go host': () => execFileSync(GO_HOST, ['-n', String(n), GO_PLUGIN], { cwd, encoding: 'utf8' }),
    'TS host': () => execFileSync(process.execPath, [TS_HOST, 'scale', '--n', String(n), GO_PLUGIN], { cwd, encoding: 'utf8' }),
    'floor host, spawn on the main thread': () => execFileSync(process.execPath, [FLOOR_HOST, 'scale', '--n', String(n), '--workers', '0', GO_PLUGIN], { cwd, encoding: 'utf8' }),
    'floor host, spawn in 2 worker threads': () => execFileSync(process.execPath, [FLOOR_HOST, 'scale', '--n', String(n), '--workers', '2', GO_PLUGIN], { cwd, encoding: 'utf8' }),
  };
  const raw: Record<string, number[]> = {};
  for (let r = 0; r < rounds + warmup; r++) {
    for (const [name, fn] of Object.entries(hosts)) {
      const s = JSON.parse(fn()) as ScaleSample;
      if (r < warmup) continue;
      (raw[`${name}, wall ms`] ??= []).push(s.wallMs);
      if (s.rssAfterKB !== undefined && s.rssBeforeKB !== undefined) (raw[`${name}, RSS growth MB per plugin`] ??= []).push((s.rssAfterKB - s.rssBeforeKB) / 1024 / n);
    }
  }
  fs.rmSync(cwd, { recursive: true, force: true });
  const result: BenchResult = {
    title: `B6 scale, one host launching ${n} Go KV plugins concurrently (${rounds} rounds after ${warmup} warm-up, alternated)`,
    unit: '',
    rows: rows(raw),
    raw,
  };
  const rss = median(result, 'TS host, RSS growth MB per plugin');
  result.ratios = [
    ratio(result, 'TS host, wall ms', 'Go host, wall ms', '<=1.2'),
    ratio(result, 'TS host, wall ms', 'floor host, spawn on the main thread, wall ms'),
    ratio(result, 'floor host, spawn in 2 worker threads, wall ms', 'floor host, spawn on the main thread, wall ms'),
    { label: 'TS host, RSS growth MB per plugin (absolute, not a ratio)', value: rss, target: '<=2', met: rss <= 2 },
  ];
  return result;
}

if (require.main === module) {
  runScale().then(
    (r) => console.log(`${machineInfo().line}\n\n${markdownTable(r)}`),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
