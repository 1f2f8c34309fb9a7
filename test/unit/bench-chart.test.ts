/**
 * The chart of make docs-bench (test/bench/chart.ts -> docs/bench-ratios.svg): speeds relative to Go,
 * targets as marks, one pair of bars per Node version, and the same bytes for the same JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHART_ROWS, chartBar, ratioChart, type ChartRow } from '../bench/chart';
import type { BenchResult, Ratio } from '../bench/common';
import type { BenchFile } from '../bench/render';

function result(title: string, medians: Record<string, number>, ratios: Ratio[] = []): BenchResult {
  const rows = Object.entries(medians).map(([variant, median]) => ({ variant, n: 1, min: median, median, p99: median }));
  return { title, raw: {}, rows, ratios };
}

const B5_ROW: ChartRow = { suite: 'B5', label: 'TS plugin -> Go host', loopp: 'TS plugin -> Go host', floor: 'floor plugin -> Go host', go: 'Go plugin -> Go host', higherIsBetter: true };
const B5 = result('B5 stdio', { 'Go plugin -> Go host': 200, 'TS plugin -> Go host': 50, 'floor plugin -> Go host': 100 }, [
  { label: 'TS plugin -> Go host / Go plugin -> Go host', value: 0.25, target: '>=1.0', met: false },
]);
const FILE20: BenchFile = { date: '2026-01-02T03:04:05.000Z', machine: { line: 'CPU, 2 cores, Node v20.1.0', node: 'v20.1.0' }, results: [B5] };

describe('bench chart', () => {
  it('turns throughput into x / Go and times into Go / x, and targets into marks on that scale', () => {
    assert.deepEqual(chartBar(B5, B5_ROW), { loopp: 0.25, floor: 0.5, marks: [1] });
    const lat = CHART_ROWS.find((r) => r.label === 'TS host -> Go plugin, sequential latency') as ChartRow;
    const c64 = CHART_ROWS.find((r) => r.label === 'TS host -> Go plugin, 64 in flight') as ChartRow;
    const b3 = result(
      'B3 unary',
      { [lat.go]: 0.1, [lat.loopp]: 0.5, [lat.floor as string]: 0.25, [c64.go]: 20000, [c64.loopp]: 5000, [c64.floor as string]: 10000 },
      [
        { label: `${lat.loopp} / ${lat.go}`, value: 5, target: '<=1.5', met: false },
        { label: `${c64.loopp} / ${c64.floor as string}`, value: 0.5, target: '>=0.85', met: false },
        { label: `${c64.loopp} / ${c64.go}`, value: 0.25 },
      ],
    );
    assert.deepEqual(chartBar(b3, lat), { loopp: 0.2, floor: 0.4, marks: [1 / 1.5] });
    assert.deepEqual(chartBar(b3, c64), { loopp: 0.25, floor: 0.5, marks: [0.85 * 0.5] });
    assert.deepEqual(chartBar(undefined, c64), { marks: [] });
    assert.deepEqual(chartBar(result('B3 unary', { [c64.go]: 1, [c64.loopp]: 2 }), c64), { loopp: 2, floor: undefined, marks: [] });
  });

  it('draws a fixed JSON as exactly this SVG', () => {
    assert.equal(
      ratioChart([FILE20], [B5_ROW]),
      [
        '<svg xmlns="http://www.w3.org/2000/svg" width="820" height="182.0" viewBox="0 0 820 182.0" font-family="sans-serif">',
        '<style>.title{font-size:15px;font-weight:bold}.sub{font-size:11px;fill:#444}.suite{font-size:13px;font-weight:bold}.label{font-size:11px}.node{font-size:10px;fill:#555}.val{font-size:10px}.none{font-size:10px;font-style:italic;fill:#888}.tick{font-size:10px;fill:#555}.grid{stroke:#e3e3e3}.go{stroke:#222;stroke-dasharray:4 3}.mark{stroke:#d62728;stroke-width:2.5}</style>',
        '<rect width="820" height="182.0" fill="#fff"/>',
        '<text x="10" y="22" class="title">loopp and the bare node:http2 floor, relative to go-plugin (Go = 1, higher is better)</text>',
        '<text x="10" y="40" class="sub">Medians of one make bench run per Node version. Throughput: x / Go; latency and set-up time: Go / x.</text>',
        '<text x="10" y="54" class="sub">Floor: bare node:http2 host or plugin with hand-framed gRPC (test/bench/floor-*.ts). Red marks: targets.</text>',
        '<line x1="390.0" x2="390.0" y1="74" y2="122.0" class="grid"/>',
        '<text x="390.0" y="70" class="tick" text-anchor="middle">0.00</text>',
        '<line x1="462.0" x2="462.0" y1="74" y2="122.0" class="grid"/>',
        '<text x="462.0" y="70" class="tick" text-anchor="middle">0.25</text>',
        '<line x1="534.0" x2="534.0" y1="74" y2="122.0" class="grid"/>',
        '<text x="534.0" y="70" class="tick" text-anchor="middle">0.50</text>',
        '<line x1="606.0" x2="606.0" y1="74" y2="122.0" class="grid"/>',
        '<text x="606.0" y="70" class="tick" text-anchor="middle">0.75</text>',
        '<line x1="678.0" x2="678.0" y1="74" y2="122.0" class="go"/>',
        '<text x="678.0" y="70" class="tick" text-anchor="middle">Go = 1</text>',
        '<line x1="750.0" x2="750.0" y1="74" y2="122.0" class="grid"/>',
        '<text x="750.0" y="70" class="tick" text-anchor="middle">1.25</text>',
        '<text x="10" y="82.0" class="suite">B5 stdio, 8 MiB plugin stdout -&gt; host</text>',
        '<text x="330" y="106.0" class="label" text-anchor="end">TS plugin -&gt; Go host</text>',
        '<text x="384" y="106.0" class="node" text-anchor="end">v20.1.0</text>',
        '<rect x="390" y="94.0" width="72.0" height="8" fill="#1f5fbf"/>',
        '<text x="465.0" y="102.0" class="val">0.25</text>',
        '<rect x="390" y="103.0" width="144.0" height="8" fill="#a9b4c2"/>',
        '<text x="537.0" y="111.0" class="val">0.50</text>',
        '<line x1="678.0" x2="678.0" y1="92.0" y2="104.0" class="mark"/>',
        '<rect x="10" y="137.0" width="14" height="9" fill="#1f5fbf"/><text x="28" y="146.0" class="label">loopp (TS side)</text>',
        '<rect x="140" y="137.0" width="14" height="9" fill="#a9b4c2"/><text x="158" y="146.0" class="label">floor (bare node:http2 on the TS side)</text>',
        '<line x1="400" x2="400" y1="135.0" y2="147.0" class="mark"/><text x="407" y="146.0" class="label">target</text>',
        '<text x="10" y="166.0" class="sub">Node 20.1.0: CPU, 2 cores, Node v20.1.0, 2026-01-02</text>',
        '</svg>',
        '',
      ].join('\n'),
    );
  });

  it('gives the same bytes whatever the order of the runs, Node versions in order, and escapes labels', () => {
    const b4 = result('B4 broker', { 'Go host <-> Go plugin, classic plain, plugin serves': 1, 'TS host <-> Go plugin, classic plain, plugin serves': 4 });
    const f20: BenchFile = { ...FILE20, results: [B5, b4] };
    const f24: BenchFile = { machine: { line: 'CPU, 2 cores, Node v24.2.0' }, results: [B5] };
    const svg = ratioChart([f24, f20]);
    assert.equal(svg, ratioChart([f20, f24]));
    assert.ok(svg.indexOf('>v20.1.0<') < svg.indexOf('>v24.2.0<'));
    assert.match(svg, /class="label" text-anchor="end">TS host &lt;-&gt; Go plugin, classic plain, plugin serves</);
    assert.equal(/<text[^>]*>[^<]*->/.test(svg), false, 'an unescaped > inside a text element');
    // B4 of the Node 20 run: loopp at Go/x = 0.25, floor missing there; the Node 24 run has no B4
    assert.match(svg, /<rect x="390" y="[\d.]+" width="72.0" height="8" fill="#1f5fbf"\/>/);
    assert.ok(svg.includes('>not run</text>'));
    assert.ok(svg.includes('>no floor</text>'));
    assert.equal(svg.match(/<svg /g)?.length, 1);
    assert.equal(svg.match(/<text /g)?.length, svg.match(/<\/text>/g)?.length);
  });
});
