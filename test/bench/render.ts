/**
 * Markdown rendering of the `make bench` and `make soak` results, in one place: the suites print
 * these tables, and scripts/refresh-docs.js writes the same text into docs/ between marker comments
 * (`<!-- bench:begin B3 -->` … `<!-- bench:end B3 -->`). No I/O and no runtime imports here, so the
 * refresh script can load it without loading the benchmarks.
 */
import type { BenchResult } from './common';
import type { SoakResult } from '../soak/soak';

/** What `make bench` writes to dist/bench.json. */
export interface BenchFile {
  date?: string;
  /** `node` (process.version) is there in files written since the chart came (chart.ts reads it). */
  machine: { line: string; node?: string };
  results: BenchResult[];
}

/** What `make soak` writes to dist/soak.json (the machine line is a string there). */
export type SoakFile = SoakResult & { machine?: string };

/** Decimals of a suite's numbers: one for launch times (B1/B2, B8) and MB/s (B5), two elsewhere. */
export function benchDigits(r: BenchResult): number {
  return /^B[158]\b/.test(r.title) ? 1 : 2;
}

/** The marker id of a suite: the leading "B<n>" of its title ("B1/B2 launch …" → "B1"). */
export function benchBlockId(r: BenchResult): string {
  const m = /^B\d+/.exec(r.title);
  if (!m) throw new Error(`bench result title does not start with B<n>: ${JSON.stringify(r.title)}`);
  return m[0];
}

export function markdownTable(r: BenchResult, digits = benchDigits(r)): string {
  const u = r.unit === undefined ? ' ms' : r.unit ? ` ${r.unit}` : '';
  const lines = [`**${r.title}**`, '', `| variant | n | min${u} | median${u} | p99${u} |`, '| --- | --- | --- | --- | --- |'];
  for (const t of r.rows) lines.push(`| ${t.variant} | ${t.n} | ${t.min.toFixed(digits)} | ${t.median.toFixed(digits)} | ${t.p99.toFixed(digits)} |`);
  if (r.ratios?.length) {
    lines.push('', '| ratio of medians | value | target |', '| --- | --- | --- |');
    for (const x of r.ratios) lines.push(`| ${x.label} | ${x.value.toFixed(2)} | ${x.target ? `${x.target} ${x.met ? 'met' : 'missed'}` : ''} |`);
  }
  return lines.join('\n');
}

/**
 * The generated blocks of docs/performance.md: `machine` and one per suite (B1, B3, …), each id
 * followed by `suffix` (`-node24` for the tables of the Node 24 run).
 */
export function benchBlocks(file: BenchFile, suffix = ''): Record<string, string> {
  const out: Record<string, string> = { [`machine${suffix}`]: file.machine.line };
  for (const r of file.results) out[`${benchBlockId(r)}${suffix}`] = markdownTable(r);
  return out;
}

export function soakTable(r: Pick<SoakResult, 'cycles' | 'warmup' | 'durationMs' | 'samples' | 'rssGrowthMB' | 'heapGrowthMB'>): string {
  const lines = [
    `**Soak: ${r.cycles} launch / call / close cycles, TS host, Go and TS plugins (KV and brokertest), plain and AutoMTLS, classic and multiplexed; ${(r.durationMs / 1000).toFixed(1)} s**`,
    '',
    '| after cycle | point | open fds | children | zombies | socket files | temp dirs | other temp files | RSS MB | heapUsed MB | elapsed s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of r.samples) {
    lines.push(
      `| ${s.cycle} | ${s.label} | ${s.fds} | ${s.children} | ${s.zombies} | ${s.sockets} | ${s.tempDirs} | ${s.otherFiles} | ${s.rssMB.toFixed(1)} | ${s.heapUsedMB.toFixed(1)} | ${(s.elapsedMs / 1000).toFixed(1)} |`,
    );
  }
  lines.push(
    '',
    `Growth from the warm-up baseline (after ${r.warmup} cycles) to the end: RSS ${r.rssGrowthMB.toFixed(1)} MB, heapUsed ${r.heapGrowthMB.toFixed(2)} MB; ` +
      `${(r.durationMs / r.cycles) | 0} ms per cycle.`,
  );
  return lines.join('\n');
}

/** The generated blocks of docs/reliability.md: `table` (the soak table and its growth line). */
export function soakBlocks(file: SoakFile): Record<string, string> {
  return { table: soakTable(file) };
}

/** The code catalog (src/core/errors.ts ERROR_CODES) as docs/errors.md shows it: one row per code, by class. */
export function errorCodeBlocks(catalog: Readonly<Record<string, { class: string; meaning: string }>>): Record<string, string> {
  const rows = Object.entries(catalog).map(([code, e]) => `| \`${code}\` | \`${e.class}\` | ${e.meaning.replace(/\|/g, '\\|')} |`);
  return { codes: ['| code | class | means |', '| --- | --- | --- |', ...rows].join('\n') };
}

export interface ReplaceResult {
  text: string;
  /** Ids whose block was rewritten, in document order. */
  replaced: string[];
  /** Ids given but without markers in the text (left out). */
  unused: string[];
}

/**
 * Rewrites every `<!-- <kind>:begin <id> -->` … `<!-- <kind>:end <id> -->` block of `text` with
 * `blocks[id]`, as: begin marker, blank line, content, blank line, end marker. A marker is a line of
 * its own (one quoted inside a sentence is text, as are markers of other kinds). Everything outside
 * the blocks, markers included, is kept byte for byte, so a second run with the same blocks changes
 * nothing. Throws, naming the line, on an unpaired, nested or repeated marker, and when a marked id
 * has no content (a stale table would otherwise sit among fresh ones).
 */
export function replaceBlocks(text: string, kind: string, blocks: Readonly<Record<string, string>>): ReplaceResult {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) throw new Error(`bad block kind ${JSON.stringify(kind)}`);
  const marker = new RegExp(`^<!-- ${kind}:(begin|end) ([A-Za-z0-9_.-]+) -->$`, 'gm');
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const seen = new Set<string>();
  const missing: string[] = [];
  const replaced: string[] = [];
  let out = '';
  let copiedTo = 0;
  let open: { id: string; end: number; line: number } | undefined;
  for (const m of text.matchAll(marker)) {
    const [whole, what, id] = m as unknown as [string, 'begin' | 'end', string];
    const at = m.index as number;
    if (what === 'begin') {
      if (open) throw new Error(`line ${lineOf(at)}: ${kind}:begin ${id} inside the open block ${open.id} (line ${open.line})`);
      if (seen.has(id)) throw new Error(`line ${lineOf(at)}: ${kind} block ${id} appears twice`);
      seen.add(id);
      open = { id, end: at + whole.length, line: lineOf(at) };
      continue;
    }
    if (!open) throw new Error(`line ${lineOf(at)}: ${kind}:end ${id} without a begin`);
    if (open.id !== id) throw new Error(`line ${lineOf(at)}: ${kind}:end ${id} closes the block ${open.id} (line ${open.line})`);
    const content = blocks[id];
    if (content === undefined) missing.push(id);
    else {
      if (new RegExp(`^<!-- ${kind}:`, 'm').test(content)) throw new Error(`content of ${kind} block ${id} contains a ${kind} marker line`);
      out += `${text.slice(copiedTo, open.end)}\n\n${content}\n\n`;
      copiedTo = at;
      replaced.push(id);
    }
    open = undefined;
  }
  if (open) throw new Error(`line ${open.line}: ${kind}:begin ${open.id} is never closed`);
  if (missing.length > 0) throw new Error(`no ${kind} data for the block(s) ${missing.join(', ')}`);
  out += text.slice(copiedTo);
  return { text: out, replaced, unused: Object.keys(blocks).filter((id) => !seen.has(id)) };
}
