/**
 * The import rules of src/ (.dependency-cruiser.cjs), as `make test` checks them: the tree keeps them,
 * and a violating import fails with the name of the rule it breaks (checked on a scratch tree that
 * mirrors src/'s folders, so no file of the package is touched).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { tmpDir } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

/** depcruise's `err` output for `targets` under `cwd`, and whether it found violations. */
function cruise(cwd: string, targets: string[], tsConfig = true): { ok: boolean; output: string } {
  const args = [...targets, '--config', CONFIG, '--output-type', 'err'];
  if (!tsConfig) args.push('--ts-config', path.join(cwd, 'tsconfig.json'));
  try {
    return { ok: true, output: execFileSync(DEPCRUISE, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A scratch tree with the given files (path -> content) and a tsconfig like the project's. */
function scratch(files: Record<string, string>): string {
  const dir = tmpDir('loopp-layers-');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true }, include: ['src/**/*.ts', 'fixtures/**/*.ts'] }));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe('layer rules', () => {
  it('the package, its fixtures and its tests keep every rule', () => {
    const r = cruise(ROOT, ['src', 'fixtures', 'test']);
    assert.ok(r.ok, r.output);
    assert.match(r.output, /no dependency violations found/);
  });

  const violations: Array<[rule: string, files: Record<string, string>]> = [
    ['core-is-the-bottom', { 'src/core/a.ts': "import { b } from '../host/b';\nexport const a = b;\n", 'src/host/b.ts': 'export const b = 1;\n' }],
    ['wire-imports-core-only', { 'src/wire/a.ts': "import { b } from '../net/b';\nexport const a = b;\n", 'src/net/b.ts': 'export const b = 1;\n' }],
    ['host-never-imports-plugin', { 'src/host/a.ts': "import { b } from '../plugin/b';\nexport const a = b;\n", 'src/plugin/b.ts': 'export const b = 1;\n' }],
    ['plugin-never-imports-host', { 'src/plugin/a.ts': "import { b } from '../host/b';\nexport const a = b;\n", 'src/host/b.ts': 'export const b = 1;\n' }],
    ['one-door-to-generated-code', { 'src/shared/a.ts': "import { b } from '../gen/x/b';\nexport const a = b;\n", 'src/gen/x/b.ts': 'export const b = 1;\n' }],
    ['loop-through-the-public-entries', { 'src/loop/host/a.ts': "import { b } from '../../host/b';\nexport const a = b;\n", 'src/host/b.ts': 'export const b = 1;\n' }],
    ['loop-host-never-imports-loop-plugin', { 'src/loop/host/a.ts': "import { b } from '../plugin/b';\nexport const a = b;\n", 'src/loop/plugin/b.ts': 'export const b = 1;\n' }],
    ['fixtures-use-public-entries', { 'fixtures/a.ts': "import { b } from '../src/host/b';\nexport const a = b;\n", 'src/host/b.ts': 'export const b = 1;\n' }],
    ['cli-on-top', { 'src/loop/a.ts': "import { b } from '../cli/b';\nexport const a = b;\n", 'src/cli/b.ts': 'export const b = 1;\n' }],
    ['no-circular', { 'src/shared/a.ts': "import { b } from './b';\nexport const a = () => b;\n", 'src/shared/b.ts': "import { a } from './a';\nexport const b = () => a;\n" }],
  ];
  for (const [rule, files] of violations) {
    it(`an import that breaks ${rule} fails, naming the rule`, () => {
      const dir = scratch(files);
      try {
        const r = cruise(dir, Object.keys(files).filter((f) => f.includes('/a.ts')), false);
        assert.equal(r.ok, false, r.output);
        assert.match(r.output, new RegExp(`error ${rule}: `));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
