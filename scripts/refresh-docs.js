#!/usr/bin/env node
// Rewrites the generated tables of docs/ from the JSON of the last `make bench` or `make soak`:
// only the text between `<!-- bench:begin ID -->` and `<!-- bench:end ID -->` (or soak:…) changes;
// the prose around the tables is hand-written and kept. Running it twice changes nothing the second time.
//
//   node scripts/refresh-docs.js bench [--json dist/bench.json [--json dist/bench-node24.json]] [--doc docs/performance.md]
//                                      [--svg docs/bench-ratios.svg] [--check]
//   node scripts/refresh-docs.js soak  [--json dist/soak.json]  [--doc docs/reliability.md] [--check]
//   node scripts/refresh-docs.js errors [--doc docs/errors.md] [--check]   (from src/core/errors.ts's catalog)
//
// --check writes nothing and exits 1 if the document would change. The tables are rendered by
// test/bench/render.ts (compiled to dist/ by `make build`), the code the benchmarks print with.
// bench: the first --json is the run of the machine's node (blocks B1, B3, …); each further one, a
// run under another Node version, fills the blocks suffixed -node<major> (B3-node24, …); the chart
// (test/bench/chart.ts) shows every run given and is written to --svg.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DEFAULTS = {
  bench: { json: 'dist/bench.json', doc: 'docs/performance.md', run: 'make bench', svg: 'docs/bench-ratios.svg' },
  soak: { json: 'dist/soak.json', doc: 'docs/reliability.md', run: 'make soak' },
  errors: { json: 'dist/src/core/errors.js', doc: 'docs/errors.md', run: 'make build' },
};
const SOAK_CYCLES = 1000; // what `make soak` runs

// A path for messages: relative to the repository when inside it, absolute otherwise.
function shown(file) {
  const rel = path.relative(ROOT, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

function fail(message) {
  console.error(`refresh-docs: ${message}`);
  process.exit(1);
}

function option(args, name, fallback) {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  if (args[i + 1] === undefined) fail(`--${name} needs a value`);
  return args[i + 1];
}

function options(args, name) {
  const out = [];
  args.forEach((a, i) => {
    if (a !== `--${name}`) return;
    if (args[i + 1] === undefined) fail(`--${name} needs a value`);
    out.push(args[i + 1]);
  });
  return out;
}

function readJson(file, run) {
  if (!fs.existsSync(file)) fail(`${shown(file)} not found; run ${run} first`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function nodeMajor(file, data) {
  const m = /^v?(\d+)\./.exec(data.machine.node ?? '') ?? /Node v(\d+)\./.exec(data.machine.line);
  if (!m) fail(`${shown(file)}: no Node version in its machine line`);
  return m[1];
}

// Tables of the first run, -node<major> tables of the others, the chart of all.
function benchOutputs(files) {
  const render = load('render');
  const data = files.map((f) => readJson(f, 'make bench'));
  const first = nodeMajor(files[0], data[0]);
  const blocks = render.benchBlocks(data[0]);
  data.slice(1).forEach((d, i) => {
    const major = nodeMajor(files[i + 1], d);
    if (major === first) fail(`${shown(files[i + 1])} is a Node ${major} run, as is ${shown(files[0])}`);
    Object.assign(blocks, render.benchBlocks(d, `-node${major}`));
  });
  return { blocks, svg: load('chart').ratioChart(data) };
}

function load(name) {
  try {
    return require(path.join(ROOT, 'dist', 'test', 'bench', `${name}.js`));
  } catch (err) {
    fail(`cannot load dist/test/bench/${name}.js (run make build first): ${err.message}`);
  }
}

function main(args) {
  const kind = args[0];
  const defaults = DEFAULTS[kind];
  if (!defaults) fail('usage: refresh-docs.js bench|soak|errors [--json FILE] [--doc FILE] [--check]');
  const docFile = path.resolve(ROOT, option(args, 'doc', defaults.doc));
  const check = args.includes('--check');
  const jsonFiles = (kind === 'bench' ? options(args, 'json') : [option(args, 'json', defaults.json)]).map((f) => path.resolve(ROOT, f));
  if (jsonFiles.length === 0) jsonFiles.push(path.resolve(ROOT, defaults.json));
  const jsonFile = jsonFiles[0];

  const render = load('render');
  let blocks;
  let svg;
  if (kind === 'bench') ({ blocks, svg } = benchOutputs(jsonFiles));
  else if (kind === 'errors') {
    if (!fs.existsSync(jsonFile)) fail(`${shown(jsonFile)} not found; run ${defaults.run} first`);
    blocks = render.errorCodeBlocks(require(jsonFile).ERROR_CODES);
  } else {
    const data = readJson(jsonFile, defaults.run);
    if (data.cycles !== SOAK_CYCLES) {
      console.error(`refresh-docs: warning: ${shown(jsonFile)} holds ${data.cycles} cycles, not the ${SOAK_CYCLES} of make soak`);
    }
    blocks = render.soakBlocks(data);
  }
  const from = jsonFiles.map(shown).join(', ');
  const before = fs.readFileSync(docFile, 'utf8');
  let result;
  try {
    result = render.replaceBlocks(before, kind, blocks);
  } catch (err) {
    fail(`${shown(docFile)}: ${err.message}`);
  }
  const doc = shown(docFile);
  if (svg !== undefined) writeOrCheck(path.resolve(ROOT, option(args, 'svg', defaults.svg)), svg, check, `chart of ${from}`);
  if (result.unused.length > 0) console.error(`refresh-docs: no marker in ${doc} for ${result.unused.join(', ')} (left out)`);
  writeOrCheck(docFile, result.text, check, `${kind} blocks ${result.replaced.join(', ')} from ${from}`);
}

// Writes `text` to `file` if it differs; with --check only reports, and exits 1 when it would change.
function writeOrCheck(file, text, check, what) {
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  const changed = text !== before;
  if (check) {
    console.log(`${shown(file)}: ${changed ? 'would change' : 'up to date'} (${what})`);
    if (changed) process.exitCode = 1;
    return;
  }
  if (changed) fs.writeFileSync(file, text);
  console.log(`${shown(file)}: ${changed ? 'rewrote' : 'unchanged,'} ${what}`);
}

main(process.argv.slice(2));
