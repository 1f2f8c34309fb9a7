#!/usr/bin/env node
// Rewrites the generated tables of docs/ from the JSON of the last `make bench` or `make soak`:
// only the text between `<!-- bench:begin ID -->` and `<!-- bench:end ID -->` (or soak:…) changes;
// the prose around the tables is hand-written and kept. Running it twice changes nothing the second time.
//
//   node scripts/refresh-docs.js bench [--json dist/bench.json] [--doc docs/performance.md] [--check]
//   node scripts/refresh-docs.js soak  [--json dist/soak.json]  [--doc docs/reliability.md] [--check]
//   node scripts/refresh-docs.js errors [--doc docs/errors.md] [--check]   (from src/core/errors.ts's catalog)
//
// --check writes nothing and exits 1 if the document would change. The tables are rendered by
// test/bench/render.ts (compiled to dist/ by `make build`), the code the benchmarks print with.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DEFAULTS = {
  bench: { json: 'dist/bench.json', doc: 'docs/performance.md', run: 'make bench' },
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

function main(args) {
  const kind = args[0];
  const defaults = DEFAULTS[kind];
  if (!defaults) fail('usage: refresh-docs.js bench|soak|errors [--json FILE] [--doc FILE] [--check]');
  const jsonFile = path.resolve(ROOT, option(args, 'json', defaults.json));
  const docFile = path.resolve(ROOT, option(args, 'doc', defaults.doc));
  const check = args.includes('--check');

  let render;
  try {
    render = require(path.join(ROOT, 'dist', 'test', 'bench', 'render.js'));
  } catch (err) {
    fail(`cannot load dist/test/bench/render.js (run make build first): ${err.message}`);
  }
  if (!fs.existsSync(jsonFile)) fail(`${shown(jsonFile)} not found; run ${defaults.run} first`);
  const data = kind === 'errors' ? require(jsonFile).ERROR_CODES : JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  if (kind === 'soak' && data.cycles !== SOAK_CYCLES) {
    console.error(`refresh-docs: warning: ${shown(jsonFile)} holds ${data.cycles} cycles, not the ${SOAK_CYCLES} of make soak`);
  }
  const blocks = kind === 'bench' ? render.benchBlocks(data) : kind === 'soak' ? render.soakBlocks(data) : render.errorCodeBlocks(data);

  const before = fs.readFileSync(docFile, 'utf8');
  let result;
  try {
    result = render.replaceBlocks(before, kind, blocks);
  } catch (err) {
    fail(`${shown(docFile)}: ${err.message}`);
  }
  const doc = shown(docFile);
  const changed = result.text !== before;
  if (result.unused.length > 0) console.error(`refresh-docs: no marker in ${doc} for ${result.unused.join(', ')} (left out)`);
  if (check) {
    console.log(`${doc}: ${changed ? 'would change' : 'up to date'} (${kind} blocks ${result.replaced.join(', ')})`);
    if (changed) process.exitCode = 1;
    return;
  }
  if (changed) fs.writeFileSync(docFile, result.text);
  console.log(`${doc}: ${changed ? 'rewrote' : 'unchanged,'} ${kind} blocks ${result.replaced.join(', ')} from ${shown(jsonFile)}`);
}

main(process.argv.slice(2));
