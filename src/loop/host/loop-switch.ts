/**
 * The node's per-kind switch (chainlink core's `env.NewPlugin(kind)` and its callers): for a kind and
 * an id, `CL_<KIND>_CMD` decides whether the node runs that piece as a LOOP. For median, mercury, evm
 * and solana an unset (or empty) command means "in process": the caller keeps its own implementation
 * and gets `undefined` here. The other relayer kinds have no in-process code in the node, so their
 * command defaults to `chainlink-<kind>` and they are always LOOPs. `CL_<KIND>_ENV` names an env file
 * whose entries reach that LOOP (the registry's variables win on a clash, as in the node).
 */
import { ConfigError } from '../../core/errors';
import { createLog } from '../../core/debug';
import { isExecutableFile, lookPath } from '../../core/look-path';
import { parseEnvFile, PLUGIN_KINDS, pluginEnvVars, type PluginKind } from '../wire/env-file';
import { newCmdFactory } from './cmd-factory';
import type { LoopMode, LoopRegistry } from './registry';
import { LoopService, type LoopHostedService, type LoopServiceOptions } from './service';

/** Kinds whose node keeps an in-process implementation for an unset command. */
const IN_PROCESS_KINDS: ReadonlySet<PluginKind> = new Set(['median', 'mercury', 'evm', 'solana']);

/** Reads the environment the way the node does; `undefined` values count as unset. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

export interface ConfiguredLoop {
  kind: PluginKind;
  /** The command to run: `CL_<KIND>_CMD`, or `chainlink-<kind>` for the always-LOOP kinds. */
  cmd: string;
  /** Where it came from: the variable, or the default for the always-LOOP kinds. */
  source: 'env' | 'default';
  /** The entries of `CL_<KIND>_ENV`'s file (empty without one). */
  env: Array<[string, string]>;
}

/**
 * What the node would run for `kind`, or `undefined` when it keeps the in-process implementation.
 * A `CL_<KIND>_ENV` that cannot be read or parsed throws a ConfigError (ERR_LOOPP_ENV) with Go's text.
 */
export function configuredLoop(kind: PluginKind, env: EnvSource = process.env): ConfiguredLoop | undefined {
  if (!(PLUGIN_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `unknown plugin kind ${JSON.stringify(kind)}`, { input: kind, hint: `one of ${PLUGIN_KINDS.join(', ')}` });
  }
  const vars = pluginEnvVars(kind);
  const set = env[vars.cmd] ?? '';
  if (set === '' && IN_PROCESS_KINDS.has(kind)) return undefined;
  return {
    kind,
    cmd: set !== '' ? set : vars.cmdDefault,
    source: set !== '' ? 'env' : 'default',
    env: parseEnvFile(env[vars.env] ?? ''),
  };
}

/** The executable a command names (looked up on the switch's PATH, as spawn would), or undefined. */
async function resolveCommand(cmd: string, env: EnvSource): Promise<string | undefined> {
  const file = await lookPath(cmd, { envPath: env.PATH });
  return file !== undefined && (await isExecutableFile(file)) ? file : undefined;
}

export interface StartConfiguredLoopOptions<C, S extends LoopHostedService> extends Omit<LoopServiceOptions<C, S>, 'cmdFactory' | 'name'> {
  /** The node's plugin kind: median, mercury, evm, solana, aptos, cosmos, starknet, tron, ton, sui. */
  pluginKind: PluginKind;
  /** The registry id: one relayer LOOP per chain (`solana.<chainID>`), one median LOOP per job. */
  id: string;
  registry: LoopRegistry;
  /** Default `process.env`. */
  env?: EnvSource;
  /** Default `<Kind>Service`, e.g. `SolanaService`. */
  name?: string;
  args?: string[];
  mode?: LoopMode;
}

/**
 * Registers and starts the LOOP the node would run for `pluginKind` and `id`, or returns `undefined`
 * when `CL_<KIND>_CMD` is unset for a kind the node runs in process. The returned service is already
 * launching; `wait()` gives its service once up. The id stays registered until the service closes.
 * A command that is not an executable file (or not on PATH) is refused before anything is registered.
 */
export async function startConfiguredLoop<C, S extends LoopHostedService>(o: StartConfiguredLoopOptions<C, S>): Promise<LoopService<C, S> | undefined> {
  const env = o.env ?? process.env;
  const found = configuredLoop(o.pluginKind, env);
  const log = createLog('loop:switch', o.id);
  if (found === undefined) {
    log('%s unset: in process', pluginEnvVars(o.pluginKind).cmd);
    return undefined;
  }
  const vars = pluginEnvVars(o.pluginKind);
  const command = await resolveCommand(found.cmd, env);
  if (command === undefined) {
    throw new ConfigError('ERR_LOOPP_ENV', `plugin command not found: ${found.cmd}`, {
      input: found.cmd,
      hint: found.source === 'env' ? `${vars.cmd} must name an executable file (or a command on PATH)` : `install ${found.cmd} on PATH, or set ${vars.cmd} to its path`,
    });
  }
  const { pluginKind, id, registry, args, mode, name, env: _env, ...service } = o;
  const cmdFactory = await newCmdFactory((n) => registry.register(n), { id, cmd: command, args, env: found.env, mode });
  const svc = new LoopService<C, S>({
    ...service,
    name: name ?? `${pluginKind[0]?.toUpperCase()}${pluginKind.slice(1)}Service`,
    cmdFactory,
    // The registration lives as long as the service: closing it frees the id for a later start.
    onClosed: () => {
      registry.unregister(id);
      service.onClosed?.();
    },
  });
  log('%s=%s: starting LOOP %s', vars.cmd, found.cmd, id);
  svc.start();
  return svc;
}
