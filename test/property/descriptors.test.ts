/**
 * Property tests: servePlugin's `reflection.descriptors` reader on random bytes, on real
 * FileDescriptorSets with bytes spliced in or cut out, and on arrays of anything. It returns files or
 * throws ConfigError ERR_LOOPP_DESCRIPTORS (ERR_LOOPP_CONFIG never: the option itself is well formed),
 * never anything else; whatever it returns indexes and walks its imports without throwing or looping
 * (hand-made sets can import in a cycle).
 * Seed / runs / replay: see fc-config.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { shippedDescriptorSet } from '../../src/gen';
import { FileIndex } from '../../src/plugin/reflection/file-index';
import { readDescriptors } from '../../src/plugin/reflection/options';
import { fileDescriptorSet as examplesSet } from '../../fixtures/gen/descriptor-set';
import { CHECK_COVERAGE, RUNS, check, spliceBytes, typed } from './fc-config';

const CODES = ['ERR_LOOPP_DESCRIPTORS'] as const;
const REAL_SETS = [Buffer.from(examplesSet()), Buffer.from(shippedDescriptorSet())];

/** Reads `input`, checks the contract, and walks every file's imports. */
function readAndWalk(input: Parameters<typeof readDescriptors>[0]): boolean {
  const r = typed(() => readDescriptors(input), { codes: CODES });
  if (!r.ok) return false;
  const index = new FileIndex();
  for (const f of r.value) {
    assert.equal(typeof f.name, 'string');
    assert.ok(f.name.length > 0);
    index.add(f);
  }
  const sent = new Set<string>();
  for (const f of r.value) {
    const out = index.withImports(f, sent);
    assert.ok(out.length >= 1 && out.length <= r.value.length, `${out.length} files for ${r.value.length}`);
  }
  return true;
}

describe('reflection descriptors (property)', () => {
  it('random bytes as a FileDescriptorSet: files or ERR_LOOPP_DESCRIPTORS', (t) => {
    let accepted = 0;
    check(
      t,
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        if (readAndWalk(bytes)) accepted++;
      }),
    );
    t.diagnostic(`accepted ${accepted} of ${RUNS}`);
  });

  it('real sets with bytes spliced in or cut out: files or ERR_LOOPP_DESCRIPTORS', (t) => {
    const outcomes = { ok: 0, refused: 0 };
    check(
      t,
      fc.property(fc.constantFrom(...REAL_SETS), fc.nat(), fc.uint8Array({ maxLength: 8 }), fc.nat({ max: 8 }), (set, at, insert, remove) => {
        outcomes[readAndWalk(spliceBytes(set, at, Buffer.from(insert), remove)) ? 'ok' : 'refused']++;
      }),
    );
    t.diagnostic(`ok ${outcomes.ok}, refused ${outcomes.refused}`);
    if (CHECK_COVERAGE) assert.ok(outcomes.ok > 0 && outcomes.refused > 0, JSON.stringify(outcomes));
  });

  it('arrays of anything (bytes, strings, objects): files or ERR_LOOPP_DESCRIPTORS', (t) => {
    const file = fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.anything());
    check(
      t,
      fc.property(fc.array(file, { maxLength: 4 }), (files) => {
        readAndWalk(files as never);
      }),
    );
  });
});
