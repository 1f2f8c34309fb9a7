/** Writes the bundle (esbuild, one CommonJS file ending with its id) and its launcher. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../args';
import { esbuildMessages, formatEsbuildMessage, type Esbuild } from './esbuild';
import { bundleTrailer, launcherText, type BundleFiles } from './launcher';

export interface WrittenBundle {
  /** A digest of the bundle's text, written at its end and into its cache's header. */
  readonly id: string;
  readonly bundleBytes: number;
  /** esbuild's warnings, `file:line:col: text`. */
  readonly warnings: readonly string[];
}

// An ES module's import.meta becomes the bundle's own file: the bundle is CommonJS (vm.Script runs
// scripts, not modules), where esbuild would otherwise leave import.meta empty.
const IMPORT_META_URL = '__looppImportMetaUrl';
const DEFINE = { 'import.meta.url': IMPORT_META_URL, 'import.meta.filename': '__filename', 'import.meta.dirname': '__dirname' };
const BANNER = `var ${IMPORT_META_URL} = require('node:url').pathToFileURL(__filename).href;`;

export interface BundleBuild {
  /** Modules left out of the bundle (esbuild's `external`). */
  readonly external: readonly string[];
  /**
   * esbuild's whitespace and syntax minification (names are kept): 1.3 MB instead of 2.0 MB for the
   * KV plugin, and its start 4-5 ms faster (min and first quartile of 40 alternated launches).
   */
  readonly minify: boolean;
}

export async function writeBundle(esbuild: Esbuild, entry: string, files: BundleFiles, build: BundleBuild): Promise<WrittenBundle> {
  let built: Awaited<ReturnType<Esbuild['build']>>;
  try {
    built = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      outfile: files.bundle,
      external: [...build.external],
      minifyWhitespace: build.minify,
      minifySyntax: build.minify,
      define: DEFINE,
      banner: { js: BANNER },
      // The entry is compiled JS, run by node: imports resolve as node resolves them, not through a
      // tsconfig's "paths" (which would bundle the TypeScript sources instead of what was tested).
      tsconfigRaw: {},
      logLevel: 'silent',
    });
  } catch (err) {
    const messages = esbuildMessages(err);
    if (messages === undefined) throw err;
    throw new UsageError(`esbuild could not bundle ${entry}:\n${messages}`);
  }
  const output = built.outputFiles.find((f) => f.path === files.bundle);
  if (output === undefined) throw new Error(`esbuild wrote no ${files.bundle} (it wrote ${built.outputFiles.map((f) => f.path).join(', ')})`);
  const text = Buffer.from(output.contents).toString('utf8');
  const id = createHash('sha256').update(text).digest('hex').slice(0, 32);
  fs.mkdirSync(path.dirname(files.bundle), { recursive: true });
  fs.writeFileSync(files.bundle, text + bundleTrailer(id));
  const warnings = built.warnings.map(formatEsbuildMessage);
  return { id, bundleBytes: fs.statSync(files.bundle).size, warnings };
}

export function writeLauncher(files: BundleFiles, generator: string): void {
  fs.writeFileSync(files.launcher, launcherText(path.basename(files.launcher), generator), { mode: 0o755 });
  fs.chmodSync(files.launcher, 0o755);
}
