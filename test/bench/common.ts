/** Shared pieces of the benchmarks: statistics, machine line, Markdown table, argument parsing. */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';

export interface Stats {
  n: number;
  min: number;
  median: number;
  p99: number;
}

export interface BenchRow extends Stats {
  variant: string;
}

export interface BenchResult {
  title: string;
  rows: BenchRow[];
  raw: Record<string, number[]>;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number;
  return { n: s.length, min: s[0] as number, median: q(0.5), p99: q(0.99) };
}

export function rows(raw: Record<string, number[]>): BenchRow[] {
  return Object.entries(raw).map(([variant, v]) => ({ variant, ...stats(v) }));
}

export function machineInfo(): { cpu: string; cores: number; node: string; go: string; line: string } {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const cores = os.cpus().length;
  let go = 'go: not found';
  try {
    go = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as missing
  }
  return { cpu, cores, node: process.version, go, line: `${cpu}, ${cores} cores, Node ${process.version}, ${go}` };
}

export function markdownTable(r: BenchResult, digits = 2): string {
  const lines = [`**${r.title}**`, '', '| variant | n | min ms | median ms | p99 ms |', '| --- | --- | --- | --- | --- |'];
  for (const t of r.rows) lines.push(`| ${t.variant} | ${t.n} | ${t.min.toFixed(digits)} | ${t.median.toFixed(digits)} | ${t.p99.toFixed(digits)} |`);
  return lines.join('\n');
}

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
