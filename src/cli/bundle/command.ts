/** `loopp bundle <entry.js> -o <out>`: one file, a launcher and a code cache, for a fast plugin start. */
import * as path from 'node:path';
import { UsageError, flag, list, optionsHelp, parseArgs, value, type OptionSpec, type ParsedArgs } from '../args';
import type { Command } from '../command';
import { EXIT, EXIT_HELP, type ExitCode } from '../exit-codes';
import { LAUNCH_OPTIONS, formatLaunchFailure, launchFailure, launchPlan, startOptions } from '../launch-options';
import { progress, type CliIo } from '../output';
import { CacheRunFailed, bundlePlugin, type BundledPlugin } from './bundle-plugin';
import { NoCacheWritten, type CacheRunOptions } from './code-cache';
import { DEBUG_ENV } from './launcher';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'out', short: 'o', kind: 'value', arg: '<path>', help: 'the launcher to write; the bundle and the cache go next to it (<path>.bundle.js, <path>.cache)' },
  { name: 'external', kind: 'list', arg: '<module>', help: 'leave a module out of the bundle (it is then required at run time from node_modules)' },
  { name: 'minify', kind: 'flag', help: 'minify whitespace and syntax, names kept (default on: a smaller file, a faster start; --no-minify for readable code and stack lines)' },
  { name: 'cache', kind: 'flag', help: 'start the plugin once to write its V8 code cache (default on; --no-cache: bundle and launcher only, no cookie needed)' },
  ...LAUNCH_OPTIONS,
];

const HELP = `Usage: loopp bundle [options] <entry.js> -o <path>

Bundles a plugin's compiled entry point and everything it imports (loopp, @grpc/grpc-js, ...) into one
file with esbuild, and writes a launcher next to it that compiles the bundle from a V8 code cache.
The cache is written by starting the plugin once, as a host would: give its magic cookie.
The three files work from any directory as long as they stay together. Needs esbuild
(npm i -D esbuild).

  -o dist/my-plugin writes:
    dist/my-plugin            the launcher: run this (#!/usr/bin/env node, executable)
    dist/my-plugin.bundle.js  the bundle
    dist/my-plugin.cache      the code cache (for the node that wrote it; another node compiles from source)

Options:
${optionsHelp(OPTIONS)}

Examples:
  loopp bundle dist/kv-plugin.js -o dist/kv-plugin --cookie BASIC_PLUGIN=hello
  loopp bundle dist/relayer.js -o "build/my relayer" --loop relayer
  loopp bundle dist/plugin.js -o dist/plugin --no-cache

${DEBUG_ENV}=1 in the plugin's environment makes the launcher say on stderr whether the cache was
used ("code cache accepted", or why it was rejected).

${EXIT_HELP}
`;

async function cacheOptions(parsed: ParsedArgs, launcher: string, io: CliIo): Promise<CacheRunOptions | false> {
  if (flag(parsed, 'cache') === false) return false;
  const { command: _launcher, ...options } = startOptions(await launchPlan({ options: parsed.options, rest: [launcher] }), { signal: io.signal });
  return options;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

function report(b: BundledPlugin, io: CliIo): void {
  const rel = (f: string): string => path.relative(process.cwd(), f) || f;
  const width = Math.max(...Object.values(b.files).map((f) => rel(f).length)) + 2;
  const cache = b.cache ? `${kb(b.cache.cacheBytes)}, V8 code cache for node ${process.version} (the start that wrote it: ${b.cache.startMs.toFixed(0)} ms)` : 'none (--no-cache)';
  io.stdout.write(
    `${rel(b.files.launcher).padEnd(width)}launcher\n${rel(b.files.bundle).padEnd(width)}${kb(b.bundleBytes)}\n${rel(b.files.cache).padEnd(width)}${cache}\n`,
  );
  for (const w of b.warnings) io.stderr.write(`loopp bundle: esbuild warning: ${w}\n`);
}

async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  // Options may come before and after the entry (`loopp bundle <entry.js> -o <path>`).
  const parsed = parseArgs(argv, OPTIONS, { interspersed: true });
  const [entry, ...extra] = parsed.rest;
  if (entry === undefined) throw new UsageError('missing the entry point: loopp bundle <entry.js> -o <path>');
  if (extra.length > 0) throw new UsageError(`one entry point only; also given: ${extra.join(' ')}`);
  const out = value(parsed, 'out');
  if (out === undefined || out === '') throw new UsageError('-o <path> is required: the launcher to write, e.g. -o dist/my-plugin');
  const cache = await cacheOptions(parsed, path.resolve(out), io);
  const line = progress(io);
  try {
    const bundled = await bundlePlugin({ entry, out, external: list(parsed, 'external'), minify: flag(parsed, 'minify') ?? true, cache, onStep: (step) => line.update(step) });
    line.done();
    report(bundled, io);
    return EXIT.ok;
  } catch (err) {
    line.done();
    return failed(err, io);
  }
}

/** A failure after the options were fine: which step failed decides the exit status. */
function failed(err: unknown, io: CliIo): ExitCode {
  if (err instanceof UsageError) throw err;
  if (err instanceof NoCacheWritten) {
    io.stderr.write(`loopp bundle: ${err.message}\n`);
    return EXIT.failed;
  }
  if (err instanceof CacheRunFailed) {
    io.stderr.write(`loopp bundle: the bundle and the launcher are written (they work without a cache), but ${formatLaunchFailure(launchFailure(err.cause))}`);
    return io.signal.aborted ? EXIT.interrupted : EXIT.launch;
  }
  const { code, path: file } = (err ?? {}) as NodeJS.ErrnoException;
  if (typeof code === 'string' && typeof file === 'string') {
    // A file of the command line (the entry, the -o path) that cannot be read or written: Node's text names it.
    io.stderr.write(`loopp bundle: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  throw err;
}

export const bundleCommand: Command = {
  name: 'bundle',
  summary: 'bundle a plugin into one file with a launcher and a V8 code cache (fast start)',
  help: HELP,
  run,
};
