/**
 * The three files `loopp bundle -o <base>` writes and the launcher's text. The launcher finds the
 * other two next to itself (never an absolute build path), so the three move together; it runs the
 * `node` on PATH (a `#!` line cannot hold a path with spaces, and the building node may be gone).
 *
 * The cache file is a header line, `loopp-cache 1 <bundle id> <node version> <sha256 of the rest>`,
 * then V8's code cache. V8 checks its own version and flags and the source's length, but not the
 * source's content and, in release builds, no checksum of the cache: a cache of another bundle of the
 * same length would run the wrong bytecode, and one damaged byte crashed node (SIGSEGV, measured). So
 * the launcher checks the bundle id (the end of the bundle, a digest of its text) and the cache's
 * digest (0.6 ms for 580 KB) before V8 sees it.
 */

export const BUNDLE_SUFFIX = '.bundle.js';
export const CACHE_SUFFIX = '.cache';

/** Set (to anything) when the launcher should say on stderr whether the code cache was used. */
export const DEBUG_ENV = 'LOOPP_BUNDLE_DEBUG';
/** Set by `loopp bundle` to the cache file to write when the plugin exits; removed before the plugin runs. */
export const WRITE_CACHE_ENV = 'LOOPP_BUNDLE_WRITE_CACHE';

/** The bundle's last line: `// loopp-bundle-id <32 hex digits>`. */
export function bundleTrailer(id: string): string {
  return `\n// loopp-bundle-id ${id}\n`;
}

export interface BundleFiles {
  /** The executable: `<base>`. */
  readonly launcher: string;
  /** `<base>.bundle.js` */
  readonly bundle: string;
  /** `<base>.cache` */
  readonly cache: string;
}

export function bundleFiles(base: string): BundleFiles {
  return { launcher: base, bundle: `${base}${BUNDLE_SUFFIX}`, cache: `${base}${CACHE_SUFFIX}` };
}

/**
 * The launcher of `<name>.bundle.js`. Plain JS that runs as CommonJS and as an ES module: an
 * extensionless file in a `"type": "module"` package is loaded as ESM, where there is no `require`.
 * The bundle is compiled through vm.Script with the cache as cachedData, in a CommonJS wrapper of
 * its own (its own module object, `require` from its own directory).
 */
export function launcherText(name: string, generator: string): string {
  const n = JSON.stringify(name);
  return `#!/usr/bin/env node
// Written by ${generator}: runs ${name}${BUNDLE_SUFFIX} (next to this file) compiled from the V8 code cache
// ${name}${CACHE_SUFFIX} when this node accepts it, else from source. ${DEBUG_ENV}=1 says which on stderr.
'use strict';
function start(require, self, parent) {
  const fs = require('node:fs');
  const path = require('node:path');
  const vm = require('node:vm');
  const Module = require('node:module');
  const digest = (data) => require('node:crypto').createHash('sha256').update(data).digest('hex');
  const dir = path.dirname(self);
  const file = path.join(dir, ${n} + ${JSON.stringify(BUNDLE_SUFFIX)});
  const cacheFile = path.join(dir, ${n} + ${JSON.stringify(CACHE_SUFFIX)});
  const source = fs.readFileSync(file, 'utf8');
  const tail = /\\/\\/ loopp-bundle-id ([0-9a-f]{32})\\n$/.exec(source.slice(-64));
  const id = tail ? tail[1] : '';
  let cachedData;
  let verdict = 'absent';
  try {
    const c = fs.readFileSync(cacheFile);
    const nl = c.indexOf(10);
    const head = c.toString('latin1', 0, nl < 0 ? 0 : nl).split(' ');
    if (head[0] !== 'loopp-cache' || head[1] !== '1' || head[2] !== id) verdict = 'rejected: not the cache of this bundle (run loopp bundle again)';
    else if (head[3] !== process.version) verdict = 'rejected: written by node ' + head[3] + ', this is ' + process.version;
    else if (digest(c.subarray(nl + 1)) !== head[4]) verdict = 'rejected: damaged (its digest differs)';
    else cachedData = c.subarray(nl + 1);
  } catch (err) {
    if (err.code !== 'ENOENT') verdict = 'unreadable: ' + err.message;
  }
  const loader = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData, importModuleDynamically: loader });
  if (cachedData) verdict = script.cachedDataRejected ? 'rejected by V8 (other V8 flags?)' : 'accepted';
  if (process.env.${DEBUG_ENV}) process.stderr.write('loopp bundle: code cache ' + verdict + ' (' + cacheFile + ')\\n');
  const out = process.env.${WRITE_CACHE_ENV};
  if (out) {
    delete process.env.${WRITE_CACHE_ENV};
    // Written at exit, so it holds every function the start and the host's first calls compiled.
    process.once('exit', () => {
      const data = script.createCachedData();
      const head = Buffer.from('loopp-cache 1 ' + id + ' ' + process.version + ' ' + digest(data) + '\\n', 'latin1');
      fs.writeFileSync(out + '.' + process.pid, Buffer.concat([head, data]));
      fs.renameSync(out + '.' + process.pid, out);
    });
  }
  const m = new Module(file, parent);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dir);
  script.runInThisContext().call(m.exports, m.exports, Module.createRequire(file), m, file, dir);
}
if (typeof require === 'function') start(require, __filename, module);
else import('node:module').then((mod) => {
  const req = mod.createRequire(process.argv[1]);
  start(req, req('node:fs').realpathSync(process.argv[1]), undefined);
});
`;
}
