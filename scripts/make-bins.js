#!/usr/bin/env node
// Writes the executables of bin/ (git-ignored): tiny launchers for compiled entry points, so a Go host
// can exec them directly (no `node` prefix, no shell).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bins = {
  'kv-plugin-ts': 'dist/fixtures/kv/kv-plugin.js',
  'kv-host-ts': 'dist/fixtures/kv/kv-host.js',
  'counter-plugin-ts': 'dist/fixtures/counter/counter-plugin.js',
  'counter-host-ts': 'dist/fixtures/counter/counter-host.js',
  'relayer-loop-ts': 'dist/fixtures/relayer/relayer-loop.js',
};
fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
for (const [name, target] of Object.entries(bins)) {
  const abs = path.join(root, target);
  if (!fs.existsSync(abs)) continue;
  const file = path.join(root, 'bin', name);
  fs.writeFileSync(file, `#!${process.execPath}\nrequire(${JSON.stringify(abs)});\n`, { mode: 0o755 });
  fs.chmodSync(file, 0o755);
}
