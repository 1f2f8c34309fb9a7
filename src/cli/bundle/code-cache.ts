/**
 * Fills the bundle's V8 code cache: starts the launcher once as a host would (handshake, connection,
 * a health check), then closes it; the launcher writes the cache as the plugin exits, so it holds the
 * functions of the start and of serving a first call. Without a cache the launcher still works.
 */
import * as fs from 'node:fs';
import { startPlugin, type PluginClient, type PluginExit, type PluginSet, type StartPluginOptions } from '../../index';
import { WRITE_CACHE_ENV, type BundleFiles } from './launcher';

/** How a host starts the plugin (handshake, env, AutoMTLS, ...): startPlugin's options but the command. */
export type CacheRunOptions = Omit<StartPluginOptions<PluginSet>, 'command'>;

export interface CacheRun {
  readonly cacheBytes: number;
  /** From spawning the launcher to its connected client (no cache yet: the plain start). */
  readonly startMs: number;
}

/** Thrown when the plugin ran but left no cache: it did not exit by itself after Shutdown. */
export class NoCacheWritten extends Error {
  override readonly name = 'NoCacheWritten';
  constructor(readonly exit: PluginExit) {
    super(
      `the plugin did not exit by itself after GRPCController.Shutdown (it was ${exit.reason}, ${exit.signal ?? `code ${exit.code}`}), ` +
        'so it wrote no code cache; the launcher works without one (it compiles the bundle at each start)',
    );
  }
}

export async function writeCodeCache(files: BundleFiles, o: CacheRunOptions): Promise<CacheRun> {
  fs.rmSync(files.cache, { force: true });
  const t0 = performance.now();
  let plugin: PluginClient;
  try {
    plugin = await startPlugin({ ...o, command: files.launcher, env: { ...o.env, [WRITE_CACHE_ENV]: files.cache } });
  } catch (err) {
    // A plugin that exits before its handshake (refusing the cookie) writes a cache of that path alone.
    fs.rmSync(files.cache, { force: true });
    throw err;
  }
  const startMs = performance.now() - t0;
  let exit: PluginExit;
  try {
    // A plugin without the health service still gets a cache, without the serving path in it.
    await plugin.ping({ timeoutMs: 5000 }).catch(() => undefined);
  } finally {
    exit = await plugin.close();
  }
  if (!fs.existsSync(files.cache)) throw new NoCacheWritten(exit);
  return { cacheBytes: fs.statSync(files.cache).size, startMs };
}
