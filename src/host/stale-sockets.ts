/**
 * A plugin that was killed, crashed or was refused cannot remove the unix sockets it announced (its
 * main socket, its broker sockets); its host does, once the process is gone. Only what the plugin
 * could have made is removed: a path that is still a socket, owned by this user, and created after
 * the plugin was spawned; never whatever path a plugin printed.
 */
import { lstat, rm } from 'node:fs/promises';

/** Filesystem timestamps can be coarser than the clock read at spawn. */
const CLOCK_SLACK_MS = 1000;

export async function removeStaleSockets(paths: Iterable<string>, spawnedAtMs: number): Promise<void> {
  const uid = process.getuid?.();
  await Promise.all(
    [...new Set(paths)].map(async (file) => {
      try {
        const st = await lstat(file);
        if (!st.isSocket() || (uid !== undefined && st.uid !== uid) || st.ctimeMs < spawnedAtMs - CLOCK_SLACK_MS) return;
        await rm(file, { force: true });
      } catch {
        // already removed by the plugin
      }
    }),
  );
}
