/** Waiting for streams (sockets, yamux streams) to be closed by their other end, within a bound. */

interface Closable {
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** Resolves once every stream of `streams` has closed, or after `graceMs` (a timer that keeps nothing alive). */
export function allClosed(streams: Iterable<Closable>, graceMs: number): Promise<void> {
  const open = [...streams].filter((s) => !s.destroyed);
  if (open.length === 0 || graceMs <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    let left = open.length;
    const timer = setTimeout(resolve, graceMs);
    timer.unref();
    for (const s of open) {
      s.once('close', () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}
