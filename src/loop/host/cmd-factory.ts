/**
 * Launch specs for LOOP plugins (chainlink `plugins.NewCmdFactory` / `RegistrarConfig`).
 *
 * `newCmdFactory` registers the id **once**, when the factory is made; every call of the returned
 * function builds a fresh LaunchSpec from that one registration (so relaunches keep their port).
 * The environment is the per-plugin env-file entries first, then the registry's variables, so
 * registry values win (chainlink PR #11526 order). In `'v2.4'` mode the registry part is v2.4.0's
 * (`CL_LOG_SQL_MIGRATIONS` from the host's environment when set there, then `CL_PROMETHEUS_PORT`).
 *
 * `skipHostEnv` is always true: the plugin gets only these variables (plus go-plugin's own), as
 * the newest chainlink does (`SkipHostEnv`, chainlink-common #924). This also fixes v2.4.0's quirk
 * where the node's own environment overrode the registry's CL_PROMETHEUS_PORT.
 */
import { ConfigError, LoopError, LooppError, messageOf } from '../../core/errors';
import { goQuote } from '../../core/go/strconv';
import { asCmdEnv, v24CmdEnv } from '../wire/env-config/emit';
import type { LoopMode, LoopRegistry, RegisteredLoop } from './registry';

export interface LaunchSpec {
  command: string;
  args: string[];
  /** Insertion order: per-plugin env entries, then the registry's variables (which win on a clash). */
  env: Record<string, string>;
  skipHostEnv: true;
}

/** Env entries as `[key, value]` pairs or Go-style `KEY=VALUE` strings. */
export type EnvEntries = ReadonlyArray<readonly [string, string]> | readonly string[];

export interface CmdConfig {
  /** Unique id the host tracks the LOOP by (normally its logger name). */
  id: string;
  /** The executable (no shell, no splitting). */
  cmd: string;
  args?: string[];
  /** Per-plugin entries, e.g. from parseEnvFile(CL_<KIND>_ENV). */
  env?: EnvEntries;
  /** Default 'newest'. */
  mode?: LoopMode;
}

export type RegisterFn = (id: string) => Promise<RegisteredLoop>;

function normalizeEntries(entries: EnvEntries | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const e of entries ?? []) {
    if (typeof e === 'string') {
      const eq = e.indexOf('=');
      if (eq <= 0) {
        throw new ConfigError('ERR_LOOPP_CONFIG', `invalid env entry ${goQuote(e)}: want KEY=VALUE`, {
          input: e,
          hint: 'pass [key, value] pairs or "KEY=VALUE" strings',
        });
      }
      out.push([e.slice(0, eq), e.slice(eq + 1)]);
    } else {
      out.push([e[0], e[1]]);
    }
  }
  return out;
}

/**
 * Registers `config.id` through `register` once and returns the launch-spec factory. A failed
 * registration rejects with `failed to register <id> LOOP plugin: <cause>` (the cause is kept, so
 * `isErrExists()` still recognises a duplicate).
 */
export async function newCmdFactory(register: RegisterFn, config: CmdConfig): Promise<() => LaunchSpec> {
  const mode = config.mode ?? 'newest';
  const base = normalizeEntries(config.env);
  const args = [...(config.args ?? [])];
  let loop: RegisteredLoop;
  try {
    loop = await register(config.id);
  } catch (err) {
    const message = `failed to register ${config.id} LOOP plugin: ${messageOf(err)}`;
    const options = { input: config.id, cause: err, hint: err instanceof LooppError ? err.hint : undefined };
    // The registry's own failures keep their code (isErrExists still sees the duplicate).
    throw err instanceof LoopError ? new LoopError(err.code, message, options) : new ConfigError('ERR_LOOPP_CONFIG', message, options);
  }
  const envCfg = loop.envCfg;
  return () => {
    const env: Record<string, string> = {};
    for (const [k, v] of base) env[k] = v;
    const registryEnv = mode === 'v2.4' ? v24CmdEnv(envCfg.prometheusPort, process.env) : asCmdEnv(envCfg);
    for (const [k, v] of registryEnv) env[k] = v;
    return { command: config.cmd, args: [...args], env, skipHostEnv: true };
  };
}

export interface RegisterLoopResult<G> {
  cmdFactory: () => LaunchSpec;
  /** The host's shared gRPC options, handed to every LOOP. */
  grpcOpts: G;
}

/** chainlink `plugins.RegistrarConfig`: registration function + shared gRPC options. */
export class RegistrarConfig<G = Record<string, unknown>> {
  readonly grpcOpts: G;
  private readonly register: RegisterFn;
  private readonly unregister: ((id: string) => unknown) | undefined;
  private readonly mode: LoopMode;

  constructor(options: { grpcOpts?: G; register: RegisterFn; unregister?: (id: string) => unknown; mode?: LoopMode }) {
    this.grpcOpts = options.grpcOpts ?? ({} as G);
    this.register = options.register;
    this.unregister = options.unregister;
    this.mode = options.mode ?? 'newest';
  }

  /** A RegistrarConfig backed by a LoopRegistry (register, unregister and mode from it). */
  static fromRegistry<G = Record<string, unknown>>(registry: LoopRegistry, grpcOpts?: G): RegistrarConfig<G> {
    return new RegistrarConfig<G>({
      grpcOpts: grpcOpts ?? ({} as G),
      register: (id) => registry.register(id),
      unregister: (id) => registry.unregister(id),
      mode: registry.mode,
    });
  }

  /** Registers the LOOP and returns its launch-spec factory plus the shared gRPC options. */
  async registerLOOP(config: { id: string; cmd: string; args?: string[]; env?: EnvEntries }): Promise<RegisterLoopResult<G>> {
    const cmdFactory = await newCmdFactory(this.register, { ...config, mode: this.mode });
    return { cmdFactory, grpcOpts: this.grpcOpts };
  }

  /** Releases the LOOP's registration (and its port); a no-op without an unregister function. */
  unregisterLOOP(id: string): void {
    this.unregister?.(id);
  }
}
