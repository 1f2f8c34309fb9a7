/**
 * What the two TS bench hosts (host-ts.ts on loopp, floor-host.ts on bare node:http2) share with each
 * other and with go-interop's bench hosts: the `--flag N … PLUGIN [ARGS…]` command line, B3's
 * measurement of a KV Get (warm-up, sequential latency, then calls with C in flight) and B5's of stdio.
 */

function parseHostArgs(argv: string[]): { flags: Map<string, number>; cmd: [string, ...string[]] } {
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

/**
 * B5's measurement, fed by whatever receives the plugin's stdout: `add(bytes)` per chunk; `measure`
 * asks for `size` bytes n + 1 times (`send`) and times each until all have arrived, the first untimed.
 */
export function stdioMeter(n: number, size: number) {
  let received = 0;
  let waiter: { target: number; resolve: () => void } | undefined;
  return {
    add(bytes: number): void {
      received += bytes;
      if (waiter && received >= waiter.target) waiter.resolve();
    },
    async measure(send: () => Promise<unknown>): Promise<{ ms: number[]; bytes: number }> {
      const ms: number[] = [];
      let target = 0;
      for (let i = 0; i <= n; i++) {
        target += size;
        const t0 = performance.now();
        const arrived = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out with ${received} of ${target} bytes`)), 30_000);
          waiter = { target, resolve: () => (clearTimeout(timer), resolve()) };
          if (received >= target) waiter.resolve();
        });
        await send();
        await arrived;
        if (i > 0) ms.push(performance.now() - t0);
      }
      return { ms, bytes: size };
    },
  };
}

export type HostMode = (flags: Map<string, number>, cmd: [string, ...string[]]) => Promise<object>;

/** The bench hosts' main: `<program> MODE [--flag N …] PLUGIN [ARGS…]`, one JSON line out. */
export function runHostMode(program: string, modes: Record<string, HostMode>): void {
  const [mode = '', ...rest] = process.argv.slice(2);
  const { flags, cmd } = parseHostArgs(rest);
  const fn = modes[mode];
  if (!fn || cmd.length === 0) {
    console.error(`usage: ${program} ${Object.keys(modes).join('|')} [--flag N …] PLUGIN [ARGS…]`);
    process.exit(1);
  }
  fn(flags, cmd).then(
    (out) => console.log(JSON.stringify(out)),
    (err: Error) => {
      console.error(`error: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
