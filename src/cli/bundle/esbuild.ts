/**
 * esbuild, loaded only by `loopp bundle`. It is an optional peer dependency, not a dependency: it is
 * about 10 MB with its native binary, and a host or a plugin that is never bundled should not install
 * it. The plugin author's own copy is used (found from the working directory first, then from loopp).
 */
import * as path from 'node:path';
import { UsageError } from '../args';

/** The part of esbuild's API `loopp bundle` uses (esbuild's own types are a dev dependency only). */
export interface Esbuild {
  readonly version: string;
  build(options: {
    entryPoints: string[];
    bundle: true;
    platform: 'node';
    format: 'cjs';
    target: string;
    write: false;
    outfile: string;
    external: string[];
    define: Record<string, string>;
    banner: { js: string };
    tsconfigRaw: Record<string, never>;
    minifyWhitespace: boolean;
    minifySyntax: boolean;
    logLevel: 'silent';
  }): Promise<{ outputFiles: { path: string; contents: Uint8Array }[]; warnings: EsbuildMessage[] }>;
}

export interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number } | null;
}

export function loadEsbuild(cwd: string): Esbuild {
  let file: string;
  try {
    file = require.resolve('esbuild', { paths: [cwd, __dirname] });
  } catch {
    throw new UsageError("loopp bundle needs esbuild, which is not installed here: run `npm i -D esbuild` in your plugin's project (see docs/cli.md)");
  }
  return require(file) as Esbuild;
}

export function formatEsbuildMessage(m: EsbuildMessage): string {
  return m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text;
}

/** esbuild's errors (`BuildFailure.errors`) as `file:line:col: text` lines, or undefined for another error. */
export function esbuildMessages(err: unknown): string | undefined {
  const errors = (err as { errors?: EsbuildMessage[] } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors.map(formatEsbuildMessage).join('\n');
}
