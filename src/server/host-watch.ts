/**
 * Beyond go-plugin: a plugin whose host died exits instead of lingering as an orphan. The host is our
 * parent (go-plugin hosts exec us directly, and `sh -c cmd` execs cmd), so being re-parented means
 * the host is gone.
 */
export function watchHost(onHostGone: () => void, intervalMs = 250): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onHostGone();
    }
  }, intervalMs);
  // The gRPC server keeps the process alive while it serves; the watch alone must not.
  timer.unref();
  return () => clearInterval(timer);
}
