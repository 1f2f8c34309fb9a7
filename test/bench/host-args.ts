/**
 * What the two TS bench hosts (host-ts.ts on loopp, floor-host.ts on bare node:http2) share with each
 * other and with go-interop's bench hosts: the `--flag N … PLUGIN [ARGS…]` command line, and B3's
 * measurement of a KV Get (warm-up, sequential latency, then calls with C in flight).
 */

export function parseHostArgs(argv: string[]): { flags: Map<string, number>; cmd: [string, ...string[]] } {
  const flags = new Map<string, number>();
  let i = 0;
  while (i < argv.length && (argv[i] as string).startsWith('--')) {
    flags.set((argv[i] as string).slice(2), Number(argv[i + 1]));
    i += 2;
  }
  return { flags, cmd: argv.slice(i) as [string, ...string[]] };
}

export interface GetsSample {
  seqMs: number[];
  seqPerSec: number;
  concPerSec: number;
  inflight: number;
}

/** B3's measurement of `get` with the flags --seq, --inflight, --calls and --warmup (rpc-bench-go's defaults). */
export async function measureGets(get: () => Promise<unknown>, flags: Map<string, number>): Promise<GetsSample> {
  const seq = flags.get('seq') ?? 2000;
  const inflight = flags.get('inflight') ?? 64;
  const calls = flags.get('calls') ?? 12800;
  const warmup = flags.get('warmup') ?? 500;
  for (let i = 0; i < warmup; i++) await get();
  const seqMs: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < seq; i++) {
    const t = performance.now();
    await get();
    seqMs.push(performance.now() - t);
  }
  const seqPerSec = seq / ((performance.now() - t0) / 1000);
  let next = 0;
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next++ < calls) await get();
    }),
  );
  return { seqMs, seqPerSec, concPerSec: calls / ((performance.now() - t0) / 1000), inflight };
}
