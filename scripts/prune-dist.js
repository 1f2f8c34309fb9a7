#!/usr/bin/env node
// Removes compiled files whose TypeScript source is gone (a moved or deleted test would otherwise keep
// running from dist/, since tsc never deletes outputs). Run after tsc by `make build`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const OUTPUT = /\.(js|js\.map|d\.ts|d\.ts\.map)$/;

function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      walk(full);
      continue;
    }
    if (!OUTPUT.test(entry.name)) continue;
    const source = path.join(ROOT, path.relative(DIST, full)).replace(OUTPUT, '.ts');
    if (!fs.existsSync(source)) fs.rmSync(full);
  }
}

for (const top of ['src', 'test', 'fixtures']) {
  const dir = path.join(DIST, top);
  if (fs.existsSync(dir)) walk(dir);
}
