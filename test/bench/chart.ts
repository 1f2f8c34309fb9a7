/**
 * The chart of `make docs-bench` (docs/bench-ratios.svg): for the B3, B4 and B5 cells that have a TS
 * side, loopp and the bare node:http2 floor relative to go-plugin, one pair of bars per Node version
 * (one `make bench` JSON each), the issue's targets as marks. Every bar is a speed relative to Go, so
 * higher is better everywhere: throughput / Go's throughput, and Go's time / the time for latencies
 * and set-up times (the inverse of the tables' ratio). Hand-written SVG, no I/O, no runtime imports:
 * the same JSON gives the same bytes.
 */
import type { BenchResult } from './common';
import type { BenchFile } from './render';

export interface ChartRow {
  suite: 'B3' | 'B4' | 'B5';
  label: string;
  /** variant names (row names of the suite's table) */
  loopp: string;
  floor?: string;
  go: string;
  /** throughput (true) or a time (false) */
  higherIsBetter: boolean;
}

const c64 = 'calls/s, 64 in flight';
const c1 = 'calls/s, 1 in flight';
const lat = 'sequential latency ms';
const b3 = (label: string, loopp: string, floor: string, metric: string): ChartRow => ({
  suite: 'B3',
  label: `${label}, ${metric.replace('calls/s, ', '').replace(' ms', '')}`,
  loopp: `${loopp}, ${metric}`,
  floor: `${floor}, ${metric}`,
  go: `Go host -> Go plugin, ${metric}`,
  higherIsBetter: metric !== lat,
});
const b4 = (pair: string, mode: string, dir: string, floor: boolean): ChartRow => ({
  suite: 'B4',
  label: `${pair}, ${mode}, ${dir}`,
  loopp: `${pair}, ${mode}, ${dir}`,
  ...(floor ? { floor: `floor host <-> Go plugin, ${mode}, ${dir}` } : {}),
  go: `Go host <-> Go plugin, ${mode}, ${dir}`,
  higherIsBetter: false,
});

export const CHART_ROWS: readonly ChartRow[] = [
  b3('TS host -> Go plugin', 'TS host -> Go plugin', 'floor host -> Go plugin', c64),
  b3('TS host -> Go plugin', 'TS host -> Go plugin', 'floor host -> Go plugin', c1),
  b3('TS host -> Go plugin', 'TS host -> Go plugin', 'floor host -> Go plugin', lat),
  b3('Go host -> TS plugin', 'Go host -> TS plugin', 'Go host -> floor plugin', c64),
  b3('Go host -> TS plugin', 'Go host -> TS plugin', 'Go host -> floor plugin', c1),
  b3('Go host -> TS plugin', 'Go host -> TS plugin', 'Go host -> floor plugin', lat),
  b4('TS host <-> Go plugin', 'classic plain', 'plugin serves', true),
  b4('TS host <-> Go plugin', 'classic plain', 'host serves', true),
  b4('Go host <-> TS plugin', 'classic plain', 'plugin serves', false),
  b4('Go host <-> TS plugin', 'classic plain', 'host serves', false),
  b4('TS host <-> Go plugin', 'mux plain', 'plugin serves', false),
  b4('TS host <-> Go plugin', 'mux plain', 'host serves', false),
  { suite: 'B5', label: 'Go plugin -> TS host', loopp: 'Go plugin -> TS host', floor: 'Go plugin -> floor host', go: 'Go plugin -> Go host', higherIsBetter: true },
  { suite: 'B5', label: 'TS plugin -> Go host', loopp: 'TS plugin -> Go host', floor: 'floor plugin -> Go host', go: 'Go plugin -> Go host', higherIsBetter: true },
];

const SUITE_TITLES: Record<ChartRow['suite'], string> = {
  B3: 'B3 unary RPC, KV Get',
  B4: 'B4 broker sub-connection set-up + first call',
  B5: 'B5 stdio, 8 MiB plugin stdout -> host',
};

export interface ChartBar {
  loopp?: number;
  floor?: number;
  /** the targets of the suite's ratios for this cell, as speeds relative to Go */
  marks: number[];
}

function medianOf(r: BenchResult, variant: string): number | undefined {
  return r.rows.find((x) => x.variant === variant)?.median;
}

/** The speeds relative to Go of one cell in one run (undefined where the run lacks a variant). */
export function chartBar(r: BenchResult | undefined, row: ChartRow): ChartBar {
  const go = r && medianOf(r, row.go);
  if (!r || go === undefined) return { marks: [] };
  const speed = (variant: string | undefined) => {
    const m = variant === undefined ? undefined : medianOf(r, variant);
    return m === undefined ? undefined : row.higherIsBetter ? m / go : go / m;
  };
  const bar: ChartBar = { loopp: speed(row.loopp), floor: speed(row.floor), marks: [] };
  for (const x of r.ratios ?? []) {
    if (!x.target || !x.label.startsWith(`${row.loopp} / `)) continue;
    const against = x.label.slice(row.loopp.length + 3);
    const base = against === row.go ? 1 : against === row.floor ? bar.floor : undefined;
    if (base === undefined) continue;
    const t = Number(x.target.slice(2));
    bar.marks.push((row.higherIsBetter ? t : 1 / t) * base);
  }
  return bar;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const n1 = (x: number) => x.toFixed(1);

function nodeLabel(f: BenchFile): string {
  const v = (f.machine as { node?: string }).node ?? /Node (v[\d.]+)/.exec(f.machine.line)?.[1] ?? '?';
  return `Node ${v.replace(/^v/, '')}`;
}

const W = 820;
const LABEL_W = 330;
const X0 = LABEL_W + 60;
const X1 = W - 70;
const BAR_H = 9;
const COLORS = { loopp: '#1f5fbf', floor: '#a9b4c2', mark: '#d62728', go: '#222' };

/**
 * The SVG for the runs in `files` (one per Node version, sorted by Node version, the tables' run
 * first when versions tie), with CHART_ROWS as its cells.
 */
export function ratioChart(files: readonly BenchFile[], rows: readonly ChartRow[] = CHART_ROWS): string {
  const runs = [...files].map((f) => ({ f, label: nodeLabel(f) })).sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
  const find = (f: BenchFile, suite: string) => f.results.find((r) => r.title.startsWith(`${suite} `) || r.title.startsWith(`${suite}/`));
  const bars = rows.map((row) => runs.map(({ f }) => chartBar(find(f, row.suite), row)));
  const values = bars.flat().flatMap((b) => [b.loopp ?? 0, b.floor ?? 0, ...b.marks]);
  const max = Math.max(1.25, Math.ceil(Math.max(...values) * 4) / 4);
  const x = (v: number) => X0 + (Math.min(v, max) / max) * (X1 - X0);
  const rowH = runs.length * (2 * BAR_H + 6) + 8;
  const out: string[] = [];
  let y = 70;
  let suite = '';
  rows.forEach((row, i) => {
    if (row.suite !== suite) {
      suite = row.suite;
      y += 12;
      out.push(`<text x="10" y="${n1(y)}" class="suite">${esc(SUITE_TITLES[row.suite])}</text>`);
      y += 8;
    }
    out.push(`<text x="${LABEL_W}" y="${n1(y + rowH / 2)}" class="label" text-anchor="end">${esc(row.label)}</text>`);
    runs.forEach(({ label }, v) => {
      const b = bars[i]?.[v] as ChartBar;
      const top = y + 4 + v * (2 * BAR_H + 6);
      out.push(`<text x="${X0 - 6}" y="${n1(top + BAR_H + 3)}" class="node" text-anchor="end">${esc(label.replace('Node ', 'v'))}</text>`);
      for (const [k, which] of (['loopp', 'floor'] as const).entries()) {
        const val = b[which];
        const by = top + k * BAR_H;
        if (val === undefined) {
          const what = which === 'floor' && row.floor === undefined ? 'no floor' : 'not run';
          out.push(`<text x="${X0 + 3}" y="${n1(by + BAR_H - 1)}" class="none">${what}</text>`);
          continue;
        }
        out.push(`<rect x="${X0}" y="${n1(by)}" width="${n1(x(val) - X0)}" height="${BAR_H - 1}" fill="${COLORS[which]}"/>`);
        out.push(`<text x="${n1(x(val) + 3)}" y="${n1(by + BAR_H - 1)}" class="val">${val.toFixed(2)}${val > max ? ' &#8594;' : ''}</text>`);
      }
      for (const m of b.marks) out.push(`<line x1="${n1(x(m))}" x2="${n1(x(m))}" y1="${n1(top - 2)}" y2="${n1(top + BAR_H + 1)}" class="mark"/>`);
    });
    y += rowH;
  });
  const plotTop = 74;
  const grid: string[] = [];
  for (let g = 0; g <= max + 1e-9; g += 0.25) {
    const gx = n1(x(g));
    grid.push(`<line x1="${gx}" x2="${gx}" y1="${plotTop}" y2="${n1(y)}" class="${g === 1 ? 'go' : 'grid'}"/>`);
    grid.push(`<text x="${gx}" y="${plotTop - 4}" class="tick" text-anchor="middle">${g === 1 ? 'Go = 1' : g.toFixed(2)}</text>`);
  }
  const legendY = y + 24;
  const machines = runs.map(({ f, label }) => `${label}: ${f.machine.line}${f.date ? `, ${f.date.slice(0, 10)}` : ''}`);
  const h = legendY + 22 + machines.length * 14;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${n1(h)}" viewBox="0 0 ${W} ${n1(h)}" font-family="sans-serif">`,
    '<style>.title{font-size:15px;font-weight:bold}.sub{font-size:11px;fill:#444}.suite{font-size:13px;font-weight:bold}.label{font-size:11px}.node{font-size:10px;fill:#555}.val{font-size:10px}.none{font-size:10px;font-style:italic;fill:#888}.tick{font-size:10px;fill:#555}.grid{stroke:#e3e3e3}.go{stroke:#222;stroke-dasharray:4 3}.mark{stroke:#d62728;stroke-width:2.5}</style>',
    `<rect width="${W}" height="${n1(h)}" fill="#fff"/>`,
    '<text x="10" y="22" class="title">loopp and the bare node:http2 floor, relative to go-plugin (Go = 1, higher is better)</text>',
    '<text x="10" y="40" class="sub">Medians of one make bench run per Node version. Throughput: x / Go; latency and set-up time: Go / x.</text>',
    '<text x="10" y="54" class="sub">Floor: bare node:http2 host or plugin with hand-framed gRPC (test/bench/floor-*.ts). Red marks: targets.</text>',
    ...grid,
    ...out,
    `<rect x="10" y="${n1(legendY - 9)}" width="14" height="9" fill="${COLORS.loopp}"/><text x="28" y="${n1(legendY)}" class="label">loopp (TS side)</text>`,
    `<rect x="140" y="${n1(legendY - 9)}" width="14" height="9" fill="${COLORS.floor}"/><text x="158" y="${n1(legendY)}" class="label">floor (bare node:http2 on the TS side)</text>`,
    `<line x1="400" x2="400" y1="${n1(legendY - 11)}" y2="${n1(legendY + 1)}" class="mark"/><text x="407" y="${n1(legendY)}" class="label">target</text>`,
    ...machines.map((m, i) => `<text x="10" y="${n1(legendY + 20 + i * 14)}" class="sub">${esc(m)}</text>`),
    '</svg>',
    '',
  ].join('\n');
}
