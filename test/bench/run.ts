/**
 * `make bench`: runs the benchmark suites, writes one JSON file (with the machine line) and prints
 * Markdown tables (render.ts; `make docs-bench` writes the same tables into docs/performance.md).
 * Benchmarks never run inside `make test`. `--suites` picks some (make bench runs B3,B4,B5 again
 * under Node 24 that way; the chart, chart.ts, shows both).
 *   node dist/test/bench/run.js [--out dist/bench.json] [--suites B1,B3,B4,B5,B6,B7,B8]
 */
import * as fs from 'node:fs';
import { runBroker } from './broker';
import { runBundle } from './bundle';
import { arg, machineInfo, type BenchResult } from './common';
import { runLaunch } from './launch';
import { runProxy } from './proxy';
import { markdownTable } from './render';
import { runRpc } from './rpc';
import { runScale } from './scale';
import { runStdio } from './stdio';

const SUITES: Record<string, () => Promise<BenchResult>> = {
  B1: runLaunch,
  B3: runRpc,
  B4: runBroker,
  B5: runStdio,
  B6: runScale,
  B7: runProxy,
  B8: runBundle,
};

async function main(): Promise<void> {
  const machine = machineInfo();
  const picked = arg('suites', Object.keys(SUITES).join(',')).split(',');
  const unknown = picked.filter((id) => !SUITES[id]);
  if (unknown.length > 0) throw new Error(`unknown suite(s) ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`);
  const results: BenchResult[] = [];
  for (const id of picked) results.push(await (SUITES[id] as () => Promise<BenchResult>)());
  const out = arg('out', 'dist/bench.json');
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2));
  console.log(`${machine.line}\n`);
  for (const r of results) console.log(`${markdownTable(r)}\n`);
  console.log(`JSON: ${out}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exitCode = 1;
});
