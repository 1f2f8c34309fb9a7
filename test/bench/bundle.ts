/**
 * B8: what `loopp bundle` does for a user's plugin. The user-style KV plugin (fixtures/bundle: tsc
 * output importing `loopp` by name) launched to the reply of its first KV Get, before (`node file.js`,
 * node resolving and compiling each module) and after `loopp bundle` (one file compiled from a V8 code
 * cache), by go-plugin and by loopp, against `node -e 0`; every variant in turn after a warm-up. The
 * bundle is made here by the built `loopp` command, into a directory whose path holds a space.
 *
 *   node dist/test/bench/bundle.js [--rounds 15]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, difference, machineInfo, rows, type BenchResult } from './common';
import { alternated, goHost, nodeFloor, tsHost } from './launch';
import { markdownTable } from './render';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ENTRY = path.join(ROOT, 'dist', 'fixtures', 'bundle', 'user-kv-plugin.js');
const LOOPP = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Bundles the plugin with `loopp bundle` (code cache included) and returns the launcher. */
function bundle(dir: string): string {
  const out = path.join(dir, 'user kv plugin');
  execFileSync(process.execPath, [LOOPP, 'bundle', ENTRY, '-o', out, '--cookie', 'BASIC_PLUGIN=hello'], { cwd: dir, stdio: 'ignore' });
  return out;
}

export async function runBundle(rounds = Number(arg('rounds', '15'))): Promise<BenchResult> {
  const warmup = 2;
  if (!fs.existsSync(ENTRY)) throw new Error(`${ENTRY} missing: run make build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp bench bundle '));
  const launcher = bundle(dir);
  const node = [process.execPath, [ENTRY]] as const;
  const variants: Record<string, (mtls: boolean) => Promise<number>> = {
    'node -e 0': () => nodeFloor(),
    'Go host -> node file.js (before)': async (m) => goHost(node[0], m, dir, node[1]),
    'Go host -> loopp bundle (after)': async (m) => goHost(launcher, m, dir),
    'TS host -> node file.js (before)': (m) => tsHost(node[0], m, dir, node[1]),
    'TS host -> loopp bundle (after)': (m) => tsHost(launcher, m, dir),
  };
  let results: Record<string, number[]>;
  try {
    results = await alternated(variants, rounds, warmup);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const result: BenchResult = {
    title: `B8 loopp bundle: a user's plugin launched to its first RPC, before and after (${rounds} rounds after ${warmup} warm-up, variants alternated)`,
    rows: rows(results),
    raw: results,
  };
  result.ratios = [
    difference(result, 'Go host -> node file.js (before) (plain)', 'node -e 0'),
    difference(result, 'Go host -> loopp bundle (after) (plain)', 'node -e 0', '<=40'),
    difference(result, 'TS host -> node file.js (before) (plain)', 'node -e 0'),
    difference(result, 'TS host -> loopp bundle (after) (plain)', 'node -e 0', '<=40'),
    difference(result, 'Go host -> loopp bundle (after) (AutoMTLS)', 'node -e 0'),
    difference(result, 'TS host -> loopp bundle (after) (AutoMTLS)', 'node -e 0'),
  ];
  return result;
}

if (require.main === module) {
  runBundle().then(
    (r) => console.log(`${machineInfo().line}\n\n${markdownTable(r)}`),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
