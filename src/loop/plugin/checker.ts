/**
 * The health checker a LOOP plugin runs (chainlink's `services.Checker`): polls registered services'
 * `ready()` and `healthReport()` on start and then every `intervalMs` (15 s), caches the results, and
 * exports them on the given prom-client Registry (never the global one):
 *
 * - gauge `health{service_id}`: 1 healthy, 0 unhealthy, per key of the merged health reports;
 * - counter `uptime_seconds`: increased by the interval in seconds at start and on every tick (Go adds
 *   15 per update, so the value runs one interval ahead, as Go's does);
 * - counter `version{version,commit}`: incremented once at start (`unset`/`unset` by default, as
 *   chainlink's static.Version/Sha).
 *
 * Differences from Go, all fixes: the caches are rebuilt from the current services on every update (Go
 * merged them, so keys a service stopped reporting stayed forever), and their gauge series are removed;
 * `unregister` also drops the service's cached entries; `register` after start triggers an update at
 * once instead of waiting up to 15 s; a `ready()`/`healthReport()` that throws, rejects or does not
 * settle within `checkTimeoutMs` counts as an error instead of blocking the checker; `start()` resolves
 * after the first update; `close()` is idempotent and safe without `start()`.
 */
import type { MetricsRegistry } from '../wire/metrics-registry';
import { promClient, type PromClient } from './prom-client';
import { ConfigError, LoopError, messageOf } from '../../core/errors';
import { setOwn, toHealthValue, type HealthReporter } from './base';

export interface HealthCheckerOptions {
  /** Where the metrics are registered (an existing metric of the same name and kind is reused). */
  registry: MetricsRegistry;
  /** Update interval; default 15000 (Go's 15 s). */
  intervalMs?: number;
  /** `version` label; default `unset`. */
  version?: string;
  /** `commit` label; default `unset`. */
  commit?: string;
  /** A check that has not settled after this long counts as an error; default `intervalMs`. */
  checkTimeoutMs?: number;
}

export interface HealthCheckResult {
  /** Per registered name (isReady) or per reported key (isHealthy): null when fine. */
  errors: Record<string, Error | null>;
}

export interface HealthChecker {
  /**
   * Adds (or replaces) a service under `name`. Throws ConfigError `ERR_LOOPP_CONFIG`
   * `misconfigured check <...> for <name>` when the service is missing or not checkable, or the name
   * is empty.
   */
  register(name: string, service: HealthReporter): void;
  /** Removes a service, its cached results and gauge series. True when it was registered. */
  unregister(name: string): boolean;
  /**
   * Increments `version`, runs the first update and starts the interval (an unref'd timer). Rejects
   * with LooppError `ERR_LOOPP_STATE` (`HealthCheck has already been started once`) on a second call.
   */
  start(): Promise<void>;
  /** Stops the interval and waits for a running update. Idempotent; fine without start(). */
  close(): Promise<void>;
  /** Runs an update now (coalesced with a running one). No-op before start() and after close(). */
  update(): Promise<void>;
  /** The cached readiness per registered name; `ready` is true when every entry is null. */
  isReady(): HealthCheckResult & { ready: boolean };
  /** The cached merged health reports; `healthy` is true when every entry is null. */
  isHealthy(): HealthCheckResult & { healthy: boolean };
  readonly intervalMs: number;
}

const DEFAULT_INTERVAL_MS = 15_000;

export function createHealthChecker(options: HealthCheckerOptions): HealthChecker {
  if (options === null || typeof options !== 'object' || options.registry === undefined || options.registry === null) {
    throw new ConfigError('ERR_LOOPP_CONFIG', 'createHealthChecker: registry is required', {
      hint: 'Pass a prom-client Registry (new Registry()).',
    });
  }
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `createHealthChecker: invalid intervalMs ${String(intervalMs)}`, { input: intervalMs });
  }
  const checkTimeoutMs = options.checkTimeoutMs ?? intervalMs;
  if (!Number.isFinite(checkTimeoutMs) || checkTimeoutMs <= 0) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `createHealthChecker: invalid checkTimeoutMs ${String(checkTimeoutMs)}`, {
      input: checkTimeoutMs,
    });
  }
  const registry = options.registry as PromClient.Registry;
  const { Counter, Gauge } = promClient();
  const health = metric(registry, Gauge, 'health', 'Health of each service: 1 healthy, 0 unhealthy', ['service_id']);
  const uptime = metric(registry, Counter, 'uptime_seconds', 'Uptime of the plugin in seconds', []);
  const version = metric(registry, Counter, 'version', 'Version and commit of the plugin', ['version', 'commit']);
  const versionLabel = options.version ?? 'unset';
  const commitLabel = options.commit ?? 'unset';

  const services = new Map<string, HealthReporter>();
  /** Health keys each service reported in the last update. */
  const keysBy = new Map<string, string[]>();
  let ready: Record<string, Error | null> = {};
  let healthy: Record<string, Error | null> = {};
  let state: 'new' | 'started' | 'closed' = 'new';
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const settle = async <T>(fn: () => T | Promise<T>, what: string): Promise<{ ok: true; value: T } | { ok: false; error: Error }> => {
    let t: NodeJS.Timeout | undefined;
    try {
      const value = await Promise.race([
        Promise.resolve().then(fn),
        new Promise<never>((_, reject) => {
          // Not unref'd: it is bounded, and an update in flight should finish before the process may exit.
          t = setTimeout(() => reject(new Error(`${what} timed out after ${checkTimeoutMs} ms`)), checkTimeoutMs);
        }),
      ]);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(messageOf(err)) };
    } finally {
      clearTimeout(t);
    }
  };

  const runUpdate = async (): Promise<void> => {
    const snapshot = [...services];
    const results = await Promise.all(
      snapshot.map(async ([name, svc]) => {
        const r = await settle(() => svc.ready(), `${name} ready check`);
        const hr = await settle(() => svc.healthReport(), `${name} health report`);
        const report: Record<string, Error | null> = {};
        if (!hr.ok) setOwn(report, name, hr.error);
        else if (hr.value !== null && typeof hr.value === 'object') {
          for (const key of Object.keys(hr.value)) setOwn(report, key, toHealthValue(hr.value[key]));
        }
        return { name, svc, ready: r.ok ? null : r.error, report };
      }),
    );
    const nextReady: Record<string, Error | null> = {};
    const nextHealthy: Record<string, Error | null> = {};
    for (const r of results) {
      // Unregistered or replaced while we were checking: its results are stale.
      if (services.get(r.name) !== r.svc) continue;
      setOwn(nextReady, r.name, r.ready);
      for (const key of Object.keys(r.report)) setOwn(nextHealthy, key, r.report[key] as Error | null);
      keysBy.set(r.name, Object.keys(r.report));
    }
    // Services registered during the update keep no entry until the next one (it is already queued).
    for (const key of Object.keys(healthy)) {
      if (!Object.prototype.hasOwnProperty.call(nextHealthy, key)) health.remove({ service_id: key });
    }
    for (const key of Object.keys(nextHealthy)) health.set({ service_id: key }, nextHealthy[key] === null ? 1 : 0);
    ready = nextReady;
    healthy = nextHealthy;
  };

  const update = (): Promise<void> => {
    if (state !== 'started') return Promise.resolve();
    if (queued !== undefined) return queued;
    if (running !== undefined) {
      const after = running;
      const next = after.then(() => {
        queued = undefined;
        return start1();
      });
      queued = next;
      return next;
    }
    return start1();
  };
  const start1 = (): Promise<void> => {
    if (state !== 'started') return Promise.resolve();
    const p = runUpdate()
      .catch(() => {})
      .finally(() => {
        if (running === p) running = undefined;
      });
    running = p;
    return p;
  };

  const dropCached = (name: string): void => {
    const keys = keysBy.get(name) ?? [];
    keysBy.delete(name);
    if (Object.prototype.hasOwnProperty.call(ready, name)) {
      const r = { ...ready };
      delete r[name];
      ready = r;
    }
    // Keys still reported by another service stay.
    const stillReported = new Set<string>();
    for (const [other, otherKeys] of keysBy) if (other !== name) for (const k of otherKeys) stillReported.add(k);
    const h = { ...healthy };
    for (const key of [...keys, name]) {
      if (stillReported.has(key)) continue;
      if (Object.prototype.hasOwnProperty.call(h, key)) delete h[key];
      health.remove({ service_id: key });
    }
    healthy = h;
  };

  const checker: HealthChecker = {
    intervalMs,
    register(name, service) {
      const checkable =
        service !== null &&
        service !== undefined &&
        typeof (service as HealthReporter).ready === 'function' &&
        typeof (service as HealthReporter).healthReport === 'function';
      if (typeof name !== 'string' || name === '' || !checkable) {
        throw new ConfigError('ERR_LOOPP_CONFIG', `misconfigured check ${describe(service)} for ${typeof name === 'string' ? name : String(name)}`, {
          input: name,
          hint: 'Register a non-empty name with an object that has ready() and healthReport().',
        });
      }
      const previous = services.get(name);
      services.set(name, service);
      if (previous !== undefined && previous !== service) dropCached(name);
      if (state === 'started') void update();
    },
    unregister(name) {
      if (!services.has(name)) return false;
      services.delete(name);
      dropCached(name);
      return true;
    },
    async start() {
      if (state !== 'new') throw new LoopError('ERR_LOOPP_STATE', 'HealthCheck has already been started once');
      state = 'started';
      version.inc({ version: versionLabel, commit: commitLabel });
      uptime.inc(intervalMs / 1000);
      timer = setInterval(() => {
        uptime.inc(intervalMs / 1000);
        void update();
      }, intervalMs);
      timer.unref();
      await update();
    },
    close() {
      return (closing ??= (async () => {
        state = 'closed';
        clearInterval(timer);
        timer = undefined;
        await queued;
        await running;
      })());
    },
    update,
    isReady() {
      const errors = { ...ready };
      return { ready: Object.values(errors).every((e) => e === null), errors };
    },
    isHealthy() {
      const errors = { ...healthy };
      return { healthy: Object.values(errors).every((e) => e === null), errors };
    },
  };
  return checker;
}

type MetricClass<M> = new (config: { name: string; help: string; labelNames: string[]; registers: PromClient.Registry[] }) => M;

function metric<M>(registry: PromClient.Registry, Kind: MetricClass<M>, name: string, help: string, labelNames: string[]): M {
  const existing: unknown = registry.getSingleMetric(name);
  if (existing !== undefined) {
    if (existing instanceof Kind) return existing;
    throw new ConfigError('ERR_LOOPP_CONFIG', `metric ${name} is already registered on this registry with another type`, {
      input: name,
      hint: 'Give the health checker a registry without a conflicting metric.',
    });
  }
  return new Kind({ name, help, labelNames, registers: [registry] });
}

/** Go's `%#v` of the service, roughly: `<nil>` or `<ClassName>`. */
function describe(service: unknown): string {
  if (service === null || service === undefined) return '<nil>';
  if (typeof service !== 'object' && typeof service !== 'function') return `<${typeof service}>`;
  const ctor = (service as { constructor?: { name?: unknown } }).constructor;
  const n = typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
  return `<${n}>`;
}
