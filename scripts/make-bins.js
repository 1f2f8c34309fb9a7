#!/usr/bin/env node
// Writes the executables of bin/ (git-ignored): tiny launchers for compiled entry points, so a Go host
// can exec them directly (no `node` prefix, no shell).
//
// Each starts with `#!/usr/bin/env node`: the node on PATH when it runs, not the one that built it
// (that one may be gone, another version, or sit in a path with spaces, which a #! line cannot hold).
// The paths of the compiled files are JS string literals (JSON.stringify), so any directory works.
//
// Fast start for the plugins in FAST: what `loopp bundle` makes for a user's plugin, by the same code
// (dist/src/cli/bundle/bundle-plugin.js): bin/<name> is a launcher that compiles bin/<name>.bundle.js
// (esbuild: one read and one compile instead of ~150 module resolutions) from the V8 code cache
// bin/<name>.cache, written here by starting the plugin once. The cache is only an optimisation: a
// node that rejects it compiles as usual. Without esbuild the plain launcher is written.
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
const FAST = { 'kv-plugin-ts': { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' } };

function hasEsbuild() {
  try {
    require.resolve('esbuild');
    return true;
  } catch {
    return false;
  }
}

async function fast(name, entry, handshake) {
  const { bundlePlugin } = require(path.join(root, 'dist', 'src', 'cli', 'bundle', 'bundle-plugin.js'));
  const file = path.join(root, 'bin', name);
  const cache = { handshake, plugins: {}, autoMTLS: true, startTimeoutMs: 30_000 };
  try {
    await bundlePlugin({ entry, out: file, cache, cwd: root, generator: 'scripts/make-bins.js (loopp bundle)' });
  } catch (err) {
    // The launcher and the bundle are there: it still runs, compiled at each start.
    console.warn(`make-bins: no code cache for ${name}: ${err.message}`);
  }
}

async function main() {
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  // Written by the make-bins of before loopp bundle; a leftover would only confuse.
  fs.rmSync(path.join(root, 'dist', 'bundle'), { recursive: true, force: true });
  for (const [name, target] of Object.entries(bins)) {
    const abs = path.join(root, target);
    if (!fs.existsSync(abs)) continue;
    if (FAST[name] && hasEsbuild()) {
      await fast(name, abs, FAST[name]);
      continue;
    }
    const file = path.join(root, 'bin', name);
    fs.writeFileSync(file, `#!/usr/bin/env node\nrequire(${JSON.stringify(abs)});\n`, { mode: 0o755 });
    fs.chmodSync(file, 0o755);
  }
}

main().catch((err) => {
  console.error(`make-bins: ${err.stack ?? err}`);
  process.exitCode = 1;
});
