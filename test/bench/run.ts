/**
 * `make bench`: runs the benchmark suites, writes one JSON file (with the machine line) and prints
 * Markdown tables (render.ts; `make docs-bench` writes the same tables into docs/performance.md).
 * Benchmarks never run inside `make test`.
 *   node dist/test/bench/run.js [--out dist/bench.json]
 */
import * as fs from 'node:fs';
import { runBroker } from './broker';
import { arg, machineInfo, type BenchResult } from './common';
import { runLaunch } from './launch';
import { runProxy } from './proxy';
import { markdownTable } from './render';
import { runRpc } from './rpc';
import { runScale } from './scale';
import { runStdio } from './stdio';

async function main(): Promise<void> {
  const machine = machineInfo();
  const results: BenchResult[] = [];
  results.push(await runLaunch());
  results.push(await runRpc());
  results.push(await runBroker());
  results.push(await runStdio());
  results.push(await runScale());
  results.push(await runProxy());
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
