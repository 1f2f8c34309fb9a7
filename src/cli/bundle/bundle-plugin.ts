/**
 * `loopp bundle` as a function (scripts/make-bins.js builds bin/kv-plugin-ts with it): the plugin's
 * entry and everything it imports into one file, a launcher next to it, and a V8 code cache written
 * by starting the plugin once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../args';
import { writeBundle, writeLauncher } from './build';
import { NoCacheWritten, writeCodeCache, type CacheRun, type CacheRunOptions } from './code-cache';
import { loadEsbuild } from './esbuild';
import { bundleFiles, type BundleFiles } from './launcher';

export interface BundlePluginOptions {
  /** The compiled entry point (JS). */
  readonly entry: string;
  /** The launcher's path; the bundle and the cache are `<out>.bundle.js` and `<out>.cache`. */
  readonly out: string;
  /** Modules left out of the bundle, required at run time (esbuild's `external`). */
  readonly external?: readonly string[];
  /** Minify whitespace and syntax, keeping names (default true; false keeps the code readable). */
  readonly minify?: boolean;
  /** How to start the plugin for its code cache, or false for no cache. */
  readonly cache: CacheRunOptions | false;
  /** Where esbuild is looked for first (default: process.cwd()). */
  readonly cwd?: string;
  /** Named in the launcher's first comment. */
  readonly generator?: string;
  /** Told what is being done (a progress line). */
  readonly onStep?: (step: string) => void;
}

export interface BundledPlugin {
  readonly files: BundleFiles;
  readonly id: string;
  readonly bundleBytes: number;
  readonly warnings: readonly string[];
  readonly cache?: CacheRun;
}

export async function bundlePlugin(o: BundlePluginOptions): Promise<BundledPlugin> {
  const entry = path.resolve(o.entry);
  const files = bundleFiles(path.resolve(o.out));
  checkPaths(entry, files);
  const esbuild = loadEsbuild(o.cwd ?? process.cwd());
  // The old cache goes first: whatever fails below, it is never left next to a new bundle.
  fs.rmSync(files.cache, { force: true });
  o.onStep?.(`bundling ${entry}`);
  const built = await writeBundle(esbuild, entry, files, { external: o.external ?? [], minify: o.minify ?? true });
  writeLauncher(files, o.generator ?? 'loopp bundle');
  let cache: Awaited<ReturnType<typeof cacheRun>> | undefined;
  if (o.cache !== false) {
    o.onStep?.('starting the plugin once for its code cache');
    cache = await cacheRun(files, o.cache);
  }
  return { files, id: built.id, bundleBytes: built.bundleBytes, warnings: built.warnings, ...(cache ? { cache } : {}) };
}

/** The plugin could not be started (or reached) for its cache: `cause` is startPlugin's error. */
export class CacheRunFailed extends Error {
  override readonly name = 'CacheRunFailed';
}

async function cacheRun(files: BundleFiles, options: CacheRunOptions): Promise<CacheRun> {
  try {
    return await writeCodeCache(files, options);
  } catch (err) {
    if (err instanceof NoCacheWritten) throw err;
    throw new CacheRunFailed(`the plugin could not be started for its code cache: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

function checkPaths(entry: string, files: BundleFiles): void {
  if (!fs.statSync(entry, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`the entry ${JSON.stringify(entry)} is not a file`);
  if (fs.statSync(files.launcher, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`-o ${JSON.stringify(files.launcher)} is a directory; -o names the launcher, e.g. -o dist/my-plugin (writes dist/my-plugin, dist/my-plugin.bundle.js, dist/my-plugin.cache)`);
  }
  if (Object.values(files).includes(entry)) throw new UsageError(`-o ${JSON.stringify(files.launcher)} would overwrite the entry ${JSON.stringify(entry)}`);
}
