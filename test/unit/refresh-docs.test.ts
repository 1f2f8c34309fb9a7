/**
 * The generated tables of docs/ (make docs-bench, make docs-soak): block replacement between marker
 * comments, and the Markdown the bench and soak print and the refresh writes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchBlockId, benchBlocks, markdownTable, replaceBlocks, soakBlocks, soakTable, type BenchFile } from '../bench/render';
import type { BenchResult } from '../bench/common';
import type { SoakResult } from '../soak/soak';

const ROOT = path.resolve(__dirname, '..', '..', '..');

const DOC = [
  '# Title',
  '',
  'Prose that mentions `<!-- bench:begin B3 -->` inside a sentence.',
  '<!-- bench:begin B3 -->',
  'old B3 table',
  '<!-- bench:end B3 -->',
  'Hand-written text between.',
  '<!-- soak:begin table -->',
  'old soak table',
  '<!-- soak:end table -->',
  '<!-- bench:begin machine -->',
  '<!-- bench:end machine -->',
  'Tail, no newline at the end.',
].join('\n');

describe('replaceBlocks', () => {
  it('rewrites exactly the marked blocks of its kind and keeps every other byte', () => {
    const r = replaceBlocks(DOC, 'bench', { B3: '| a |\n| --- |\n| 1 |', machine: 'CPU, 2 cores', B9: 'not in the doc' });
    assert.equal(
      r.text,
      [
        '# Title',
        '',
        'Prose that mentions `<!-- bench:begin B3 -->` inside a sentence.',
        '<!-- bench:begin B3 -->',
        '',
        '| a |',
        '| --- |',
        '| 1 |',
        '',
        '<!-- bench:end B3 -->',
        'Hand-written text between.',
        '<!-- soak:begin table -->',
        'old soak table',
        '<!-- soak:end table -->',
        '<!-- bench:begin machine -->',
        '',
        'CPU, 2 cores',
        '',
        '<!-- bench:end machine -->',
        'Tail, no newline at the end.',
      ].join('\n'),
    );
    assert.deepEqual(r.replaced, ['B3', 'machine']);
    assert.deepEqual(r.unused, ['B9']);
  });

  it('is idempotent: a second run with the same blocks changes nothing', () => {
    const blocks = { B3: 'new B3', machine: 'm' };
    const once = replaceBlocks(DOC, 'bench', blocks).text;
    const twice = replaceBlocks(once, 'bench', blocks).text;
    assert.equal(twice, once);
    const soakOnce = replaceBlocks(once, 'soak', { table: 'new soak' }).text;
    assert.equal(replaceBlocks(soakOnce, 'soak', { table: 'new soak' }).text, soakOnce);
    assert.equal(replaceBlocks(soakOnce, 'bench', blocks).text, soakOnce);
  });

  it('leaves a text without markers as it is', () => {
    assert.deepEqual(replaceBlocks('no markers\n', 'bench', { B1: 'x' }), { text: 'no markers\n', replaced: [], unused: ['B1'] });
  });

  it('refuses malformed markers, naming the line', () => {
    const bad = (text: string, message: string) => assert.throws(() => replaceBlocks(text, 'bench', { B1: 'x', B3: 'y' }), { message });
    bad('a\n<!-- bench:begin B1 -->\nb', 'line 2: bench:begin B1 is never closed');
    bad('<!-- bench:end B1 -->', 'line 1: bench:end B1 without a begin');
    bad('<!-- bench:begin B1 -->\n<!-- bench:end B3 -->', 'line 2: bench:end B3 closes the block B1 (line 1)');
    bad('<!-- bench:begin B1 -->\n<!-- bench:begin B3 -->\n<!-- bench:end B3 -->\n<!-- bench:end B1 -->', 'line 2: bench:begin B3 inside the open block B1 (line 1)');
    bad('<!-- bench:begin B1 -->\n<!-- bench:end B1 -->\n<!-- bench:begin B1 -->\n<!-- bench:end B1 -->', 'line 3: bench block B1 appears twice');
  });

  it('refuses a marked block it has no data for, and content that would add markers', () => {
    assert.throws(() => replaceBlocks('<!-- bench:begin B4 -->\n<!-- bench:end B4 -->\n<!-- bench:begin B5 -->\n<!-- bench:end B5 -->', 'bench', {}), {
      message: 'no bench data for the block(s) B4, B5',
    });
    assert.throws(() => replaceBlocks('<!-- bench:begin B1 -->\n<!-- bench:end B1 -->', 'bench', { B1: 'x\n<!-- bench:end B1 -->' }), {
      message: 'content of bench block B1 contains a bench marker line',
    });
    assert.throws(() => replaceBlocks('', 'Bench', {}), { message: 'bad block kind "Bench"' });
  });
});

const RESULT: BenchResult = {
  title: 'B5 stdio (1 round)',
  unit: 'MB/s',
  raw: {},
  rows: [
    { variant: 'Go plugin -> Go host', n: 3, min: 100, median: 120.04, p99: 150.96 },
    { variant: 'TS plugin -> TS host', n: 3, min: 60.26, median: 70, p99: 80 },
  ],
  ratios: [
    { label: 'TS plugin -> TS host / Go plugin -> Go host', value: 70 / 120.04, target: '>=1.0', met: false },
    { label: 'no target', value: 2 },
  ],
};

describe('bench and soak tables', () => {
  it('renders a suite as make bench prints it (one decimal for B1 and B5, two elsewhere)', () => {
    assert.equal(
      markdownTable(RESULT),
      [
        '**B5 stdio (1 round)**',
        '',
        '| variant | n | min MB/s | median MB/s | p99 MB/s |',
        '| --- | --- | --- | --- | --- |',
        '| Go plugin -> Go host | 3 | 100.0 | 120.0 | 151.0 |',
        '| TS plugin -> TS host | 3 | 60.3 | 70.0 | 80.0 |',
        '',
        '| ratio of medians | value | target |',
        '| --- | --- | --- |',
        '| TS plugin -> TS host / Go plugin -> Go host | 0.58 | >=1.0 missed |',
        '| no target | 2.00 |  |',
      ].join('\n'),
    );
    const b3: BenchResult = { title: 'B3 unary', raw: {}, rows: [{ variant: 'v', n: 1, min: 1, median: 2, p99: 3 }] };
    assert.equal(markdownTable(b3), '**B3 unary**\n\n| variant | n | min ms | median ms | p99 ms |\n| --- | --- | --- | --- | --- |\n| v | 1 | 1.00 | 2.00 | 3.00 |');
    assert.equal(benchBlockId({ ...b3, title: 'B1/B2 launch' }), 'B1');
    assert.throws(() => benchBlockId({ ...b3, title: 'launch' }), { message: 'bench result title does not start with B<n>: "launch"' });
    const file: BenchFile = { machine: { line: 'CPU, 2 cores' }, results: [RESULT, b3] };
    assert.deepEqual(Object.keys(benchBlocks(file)), ['machine', 'B5', 'B3']);
    assert.equal(benchBlocks(file).B3, markdownTable(b3));
    assert.deepEqual(benchBlocks(file, '-node24'), { 'machine-node24': 'CPU, 2 cores', 'B5-node24': markdownTable(RESULT), 'B3-node24': markdownTable(b3) });
  });

  it('renders the soak table as make soak prints it', () => {
    const sample = (cycle: number, label: string, rssMB: number, elapsedMs: number) => ({
      cycle,
      label,
      elapsedMs,
      fds: 22,
      children: 0,
      zombies: 0,
      sockets: 0,
      tempDirs: 0,
      otherFiles: 0,
      rssMB,
      heapUsedMB: 10.04,
    });
    const r = {
      cycles: 20,
      warmup: 16,
      durationMs: 2140,
      samples: [sample(16, 'after warm-up', 70, 1800), sample(20, 'end', 69.44, 2140)],
      rssGrowthMB: -0.56,
      heapGrowthMB: 0.154,
    } as unknown as SoakResult;
    const expected = [
      '**Soak: 20 launch / call / close cycles, TS host, Go and TS plugins (KV and brokertest), plain and AutoMTLS, classic and multiplexed; 2.1 s**',
      '',
      '| after cycle | point | open fds | children | zombies | socket files | temp dirs | other temp files | RSS MB | heapUsed MB | elapsed s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      '| 16 | after warm-up | 22 | 0 | 0 | 0 | 0 | 0 | 70.0 | 10.0 | 1.8 |',
      '| 20 | end | 22 | 0 | 0 | 0 | 0 | 0 | 69.4 | 10.0 | 2.1 |',
      '',
      'Growth from the warm-up baseline (after 16 cycles) to the end: RSS -0.6 MB, heapUsed 0.15 MB; 107 ms per cycle.',
    ].join('\n');
    assert.equal(soakTable(r), expected);
    assert.deepEqual(soakBlocks(r), { table: expected });
  });
});

/** The blocks a document holds now, as replaceBlocks would write them back. */
function currentBlocks(text: string, kind: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(new RegExp(`^<!-- ${kind}:begin (\\S+) -->\\n\\n([^]*?)\\n\\n<!-- ${kind}:end \\1 -->$`, 'gm'))) out[m[1] as string] = m[2] as string;
  return out;
}

describe('docs/ generated blocks', () => {
  for (const [doc, kind, ids] of [
    ['docs/performance.md', 'bench', ['machine', 'B1', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'machine-node24', 'B3-node24', 'B4-node24', 'B5-node24']],
    ['docs/reliability.md', 'soak', ['table']],
  ] as const) {
    it(`${doc} holds the ${kind} blocks ${ids.join(', ')} in the form the refresh writes`, () => {
      const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
      const blocks = currentBlocks(text, kind);
      assert.deepEqual(Object.keys(blocks), ids);
      const r = replaceBlocks(text, kind, blocks);
      assert.equal(r.text, text);
      assert.deepEqual(r.replaced, ids);
    });
  }
});
