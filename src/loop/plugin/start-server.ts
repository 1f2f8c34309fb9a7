/**
 * The LOOP plugin server base (chainlink v2.4.0 `plugins.StartServer`, newest chainlink-common
 * `loop.NewStartedServer`): the logger, the environment, the Prometheus endpoint and the health
 * checker a LOOP binary sets up before `servePlugin`.
 *
 * ```ts
 * const s = await startServer('PluginMedian');          // exits 1 on a bad environment or port
 * const p = new MyPlugin(s.logger);                     // e.g. a Base with sub-services
 * s.mustRegister(p);                                    // health{service_id="..."} on /metrics
 * const srv = await servePlugin({ handshake, plugins, serverOptions: s.grpcServerOptions });
 * await srv.closed; await s.stop();
 * ```
 *
 * Start-up order: logger named `loggerName` (JSON on the real stderr, so create the server before
 * servePlugin swaps process.stderr), `parseEnvConfig(env)`, PromServer on `CL_PROMETHEUS_PORT`, health
 * checker. By default a failure logs the v2.4.0 fatal text and exits 1 (the "Must" variant); with
 * `exitOnFailure: false` it rejects with a typed error carrying the newest prefixes
 * (`error getting environment configuration: `, `error starting prometheus server: `,
 * `error starting health checker: `).
 *
 * Not ported: OpenTelemetry tracing, beholder, pyroscope, the database and the grpc-prometheus
 * interceptors of the Go server; `/debug/pprof/` (newest) is not served. Everything lives on the
 * server's own prom-client Registry: no global state.
 */
import type * as grpc from '@grpc/grpc-js';
import type { MetricsRegistry } from '../wire/metrics-registry';
import { promClient } from './prom-client';
import { ConfigError, LoopError, isLooppError, messageOf } from '../../core/errors';
import type { HealthReporter } from './base';
import { createHealthChecker, type HealthChecker } from './checker';
import { parseEnvConfig } from '../wire/env-config/parse';
import type { EnvConfig } from '../wire/env-config/schema';
import { createLoopPluginLogger, type LoopPluginLogger, type LoopPluginLoggerOptions } from './logger';
import { PromServer } from './prom-server';

export interface LoopServerOptions {
  /** Environment to read `CL_*` from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The environment parser; default `parseEnvConfig` (newest chainlink-common: besides
   * CL_PROMETHEUS_PORT it needs the two mercury uint32 variables a newest host always sends). Pass
   * `parseV24EnvConfig` for a v2.4.0 host, which sends only CL_PROMETHEUS_PORT.
   */
  parseEnv?: (env: NodeJS.ProcessEnv) => EnvConfig;
  /** Registry for `/metrics` and the checker's metrics; default a new Registry of the server's own. */
  registry?: MetricsRegistry;
  /** `version{version,commit}` labels; default `unset`. */
  version?: string;
  commit?: string;
  /** Process exit used by fatal logs; default process.exit. */
  exit?: (code: number) => never;
  /** Bind address of the Prometheus endpoint; default all interfaces (as Go). */
  promHost?: string;
  /** Health check interval; default 15000. */
  healthCheckIntervalMs?: number;
  /**
   * On a start-up failure, log at fatal and exit 1 (default, chainlink v2.4.0's StartServer); false
   * rejects with a typed error instead (the newest NewStartedServer).
   */
  exitOnFailure?: boolean;
  /** Logger settings (writer, clock, offset, level, caller...) for tests and tuning. */
  log?: Omit<LoopPluginLoggerOptions, 'name' | 'exit'>;
}

/** A service the server can register: anything checkable with a name. */
export type RegistrableService = HealthReporter & { name(): string };

export interface LoopServer {
  /** The plugin logger, named `loggerName`. */
  readonly logger: LoopPluginLogger;
  readonly envConfig: EnvConfig;
  readonly registry: MetricsRegistry;
  readonly promServer: PromServer;
  readonly checker: HealthChecker;
  /**
   * Options for the plugin's grpc-js server (servePlugin's `serverOptions`): honours
   * `CL_GRPC_SERVER_MAX_RECV_MSG_SIZE` as `grpc.max_receive_message_length` when set.
   */
  readonly grpcServerOptions: grpc.ServerOptions;
  /** Registers `service` with the checker under `service.name()`. Throws ConfigError on misconfiguration. */
  register(service: RegistrableService): void;
  /** As register, but logs fatal `Failed to register <name> with health checker: <err>` and exits 1. */
  mustRegister(service: RegistrableService): void;
  /**
   * Closes the checker, then the Prometheus server. Failures are logged (`Failed to close health
   * checker`, `error closing prometheus server`), never thrown. Idempotent.
   */
  stop(): Promise<void>;
}

type Stage = 'env' | 'prometheus' | 'checker';

/** v2.4.0 fatal texts (StartServer), without Go's stray trailing newline on the first. */
const FATAL_PREFIX: Readonly<Record<Stage, string>> = {
  env: 'Failed to get environment configuration: ',
  prometheus: 'Unrecoverable error starting prometheus server: ',
  checker: 'Failed to start health checker: ',
};

class StageFailure {
  constructor(
    readonly stage: Stage,
    readonly cause: unknown,
    readonly error: LoopError | ConfigError,
  ) {}
}

/**
 * Starts the server and returns it. On a failure, by default (`exitOnFailure`, v2.4.0's StartServer)
 * it logs at fatal `Failed to get environment configuration: <err>`, `Unrecoverable error starting
 * prometheus server: <err>` or `Failed to start health checker: <err>` and calls `exit(1)`. With
 * `exitOnFailure: false` (the newest NewStartedServer) it rejects instead, nothing left running, with:
 * - ConfigError `ERR_LOOPP_ENV` `error getting environment configuration: <err>`;
 * - LoopError (`ERR_LOOPP_LOOP_LISTEN` usually) `error starting prometheus server: <err>`;
 * - LoopError `error starting health checker: <err>`.
 * The underlying error is the `cause`. If an injected `exit` returns, that typed error is thrown too.
 */
export async function startServer(loggerName: string, options: LoopServerOptions = {}): Promise<LoopServer> {
  const logger = makeLogger(loggerName, options);
  const result = await build(logger, options);
  if (result instanceof StageFailure) {
    if (options.exitOnFailure ?? true) logger.fatal(FATAL_PREFIX[result.stage] + messageOf(result.cause));
    throw result.error;
  }
  return result;
}

function makeLogger(loggerName: string, options: LoopServerOptions): LoopPluginLogger {
  const root = createLoopPluginLogger({ ...options.log, ...(options.exit === undefined ? {} : { exit: options.exit }) });
  return root.named(loggerName);
}

async function build(logger: LoopPluginLogger, options: LoopServerOptions): Promise<LoopServer | StageFailure> {
  let envConfig: EnvConfig;
  try {
    envConfig = (options.parseEnv ?? parseEnvConfig)(options.env ?? process.env);
  } catch (err) {
    return new StageFailure(
      'env',
      err,
      new ConfigError('ERR_LOOPP_ENV', `error getting environment configuration: ${messageOf(err)}`, {
        cause: err,
        input: isLooppError(err) ? err.input : undefined,
        hint: isLooppError(err) ? err.hint : 'The host sets CL_PROMETHEUS_PORT (and the other CL_* variables) when it launches a LOOP.',
      }),
    );
  }

  const registry = options.registry ?? new (promClient().Registry)();
  const promServer = new PromServer({ port: envConfig.prometheusPort, host: options.promHost, registry, logger });
  try {
    await promServer.start();
  } catch (err) {
    return new StageFailure(
      'prometheus',
      err,
      new LoopError(err instanceof LoopError ? err.code : 'ERR_LOOPP_LOOP_LISTEN', `error starting prometheus server: ${messageOf(err)}`, {
        cause: err,
        input: envConfig.prometheusPort,
        hint: isLooppError(err) ? err.hint : undefined,
      }),
    );
  }

  let checker: HealthChecker;
  try {
    checker = createHealthChecker({
      registry,
      version: options.version,
      commit: options.commit,
      ...(options.healthCheckIntervalMs === undefined ? {} : { intervalMs: options.healthCheckIntervalMs }),
    });
    await checker.start();
  } catch (err) {
    await promServer.close().catch(() => {});
    return new StageFailure(
      'checker',
      err,
      new LoopError(err instanceof LoopError ? err.code : 'ERR_LOOPP_STATE', `error starting health checker: ${messageOf(err)}`, { cause: err }),
    );
  }

  const grpcServerOptions: grpc.ServerOptions = {};
  // 0 (unset) keeps grpc's default 4 MiB, as Go's GRPCOptsConfig does.
  const maxRecv = envConfig.grpcServerMaxRecvMsgSize;
  if (Number.isSafeInteger(maxRecv) && maxRecv > 0) {
    grpcServerOptions['grpc.max_receive_message_length'] = maxRecv;
  }

  let stopping: Promise<void> | undefined;
  const server: LoopServer = {
    logger,
    envConfig,
    registry,
    promServer,
    checker,
    grpcServerOptions,
    register(service) {
      checker.register(nameOf(service), service);
    },
    mustRegister(service) {
      const name = nameOf(service);
      try {
        checker.register(name, service);
      } catch (err) {
        logger.fatal(`Failed to register ${name} with health checker: ${messageOf(err)}`);
        throw err;
      }
    },
    stop() {
      return (stopping ??= (async () => {
        try {
          await checker.close();
        } catch (err) {
          logger.error('Failed to close health checker', { err: messageOf(err) });
        }
        try {
          await promServer.close();
        } catch (err) {
          logger.error('error closing prometheus server', { err: messageOf(err) });
        }
        logger.sync();
      })());
    },
  };
  return server;
}

function nameOf(service: unknown): string {
  try {
    const fn = (service as { name?: unknown } | null | undefined)?.name;
    if (typeof fn === 'function') {
      const n: unknown = fn.call(service);
      return typeof n === 'string' ? n : String(n);
    }
  } catch {
    // a throwing name() registers as '' and is refused by the checker
  }
  return '';
}
