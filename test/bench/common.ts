/** Shared pieces of the benchmarks: statistics, machine line, argument parsing (tables: render.ts). */
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

export interface Ratio {
  /** e.g. "TS host -> Go plugin / Go host -> Go plugin" */
  label: string;
  value: number;
  /** the target, e.g. "<= 1.10" */
  target?: string;
  met?: boolean;
}

export interface BenchResult {
  title: string;
  rows: BenchRow[];
  raw: Record<string, number[]>;
  /** unit of the numbers (default "ms"; "" when the variant names carry it) */
  unit?: string;
  /** ratios of medians (or differences, when the label says so) */
  ratios?: Ratio[];
}

export function median(r: BenchResult, variant: string): number {
  const row = r.rows.find((x) => x.variant === variant);
  if (!row) throw new Error(`no variant ${variant} in ${r.title}`);
  return row.median;
}

/** Difference of the medians of two variants (a - b, in the result's unit), checked against `<= x`. */
export function difference(r: BenchResult, a: string, b: string, target?: string): Ratio {
  const value = median(r, a) - median(r, b);
  const out: Ratio = { label: `${a} minus ${b} (difference, not a ratio)`, value };
  if (target) {
    out.target = target;
    out.met = value <= Number(target.slice(2));
  }
  return out;
}

/** Ratio of the medians of two variants, checked against `<= x` or `>= x` when a target is given. */
export function ratio(r: BenchResult, a: string, b: string, target?: string): Ratio {
  const value = median(r, a) / median(r, b);
  const out: Ratio = { label: `${a} / ${b}`, value };
  if (target) {
    const t = Number(target.slice(2));
    out.target = target;
    out.met = target.startsWith('<=') ? value <= t : value >= t;
  }
  return out;
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

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
