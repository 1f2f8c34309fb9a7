/**
 * The LOOP plugin base (chainlink `plugins.Base` at v2.4.0, `loop.Plugin` later): a named service that
 * manages sub-services.
 *
 * - `healthReport()` is `{[name]: null}` merged with every sub-service's report, last writer wins.
 *   (v2.4.0 copied the maps the wrong way round and lost every sub-report; fixed here, as chainlink did
 *   in PR #10745.)
 * - `start()` starts the sub-services in order; when one fails, the ones already started are closed in
 *   reverse order and the error is rethrown (the newest `loop.Plugin.Start`).
 * - `close()` closes all sub-services concurrently and reports every failure.
 */
import { LoopError, LooppErrorBase, messageOf } from '../../core/errors';

/** What the health checker polls. */
export interface HealthReporter {
  /** Used by `LoopServer.register` as the registration name. */
  name?(): string;
  /** Resolves (or returns) when ready; throws/rejects with the reason otherwise. */
  ready(): Promise<void> | void;
  /** Health per dotted service name: `null` (or `undefined`) for healthy, an Error otherwise. */
  healthReport(): Record<string, Error | null | undefined> | Promise<Record<string, Error | null | undefined>>;
}

/** A service with a lifecycle, managed by `Base` and checked by the health checker. */
export interface Service {
  name(): string;
  start?(): Promise<void>;
  close(): Promise<void>;
  ready(): Promise<void> | void;
  healthReport(): Record<string, Error | null>;
}

/**
 * Several errors at once (multierr): `errors` in order, the message is their messages joined by `; `.
 * Code `ERR_LOOPP_SERVICE`.
 */
export class ServiceError extends LooppErrorBase<'ERR_LOOPP_SERVICE'> {
  readonly errors: readonly unknown[];
  constructor(errors: readonly unknown[], options: { hint?: string } = {}) {
    super('ERR_LOOPP_SERVICE', errors.map(messageOf).join('; '), { ...options, cause: errors[0] });
    this.errors = Object.freeze([...errors]);
  }
}
ServiceError.prototype.name = 'ServiceError';

/** Zero errors: nothing; one: that error (as multierr returns it); more: a ServiceError listing them. */
export function combineErrors(errors: readonly unknown[]): unknown {
  if (errors.length === 0) return undefined;
  if (errors.length === 1) return errors[0];
  return new ServiceError(errors);
}

/** Closes services concurrently, waits for all, and throws `combineErrors` of the failures. */
export async function closeAll(services: readonly Pick<Service, 'close'>[]): Promise<void> {
  const results = await Promise.allSettled(services.map((s) => Promise.resolve().then(() => s.close())));
  const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (errors.length > 0) throw combineErrors(errors);
}

/**
 * Starts services in order; on a failure closes the started ones in reverse order (one at a time) and
 * throws the start error (with any close errors: a ServiceError listing all of them).
 */
export async function startAll(services: readonly Pick<Service, 'start' | 'close'>[]): Promise<void> {
  const started: Pick<Service, 'start' | 'close'>[] = [];
  for (const s of services) {
    try {
      if (typeof s.start === 'function') await s.start();
    } catch (err) {
      const errors: unknown[] = [err];
      for (const done of started.reverse()) {
        try {
          await done.close();
        } catch (closeErr) {
          errors.push(closeErr);
        }
      }
      throw combineErrors(errors);
    }
    started.push(s);
  }
}

/** Normalises a report value: `undefined` → null, a non-Error truthy value → an Error with its text. */
export function toHealthValue(value: unknown): Error | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Error) return value;
  return new Error(messageOf(value));
}

/** Sets `key` on `target` as an own property (a `__proto__` key stays an ordinary entry). */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export class Base implements Service {
  readonly #name: string;
  readonly #services: Service[] = [];
  #started = false;

  /** `nameOrLogger`: the service name, or a logger whose `name` is used (chainlink's `Logger.Name()`). */
  constructor(nameOrLogger: string | { readonly name: string }) {
    this.#name = typeof nameOrLogger === 'string' ? nameOrLogger : nameOrLogger.name;
  }

  name(): string {
    return this.#name;
  }

  /** Adds sub-services (chainlink's SubService), started and closed with this one. */
  subService(...services: Service[]): void {
    this.#services.push(...services);
  }

  /** The sub-services, in the order they were added. */
  get services(): readonly Service[] {
    return [...this.#services];
  }

  /**
   * Starts the sub-services in order. On a failure the started ones are closed in reverse order and the
   * error is rethrown (a ServiceError when closing failed too). A second call rejects with a LooppError
   * `ERR_LOOPP_STATE`.
   */
  async start(): Promise<void> {
    if (this.#started) throw new LoopError('ERR_LOOPP_STATE', `${this.#name} has already been started once`);
    this.#started = true;
    await startAll([...this.#services]);
  }

  /** Always ready (as chainlink's Base). */
  async ready(): Promise<void> {}

  /** `{[name]: null}` merged with every sub-service's report, in order; last writer wins. */
  healthReport(): Record<string, Error | null> {
    const report: Record<string, Error | null> = {};
    setOwn(report, this.#name, null);
    this.#services.forEach((s, i) => {
      let sub: Record<string, unknown>;
      try {
        sub = s.healthReport();
      } catch (err) {
        sub = { [subName(s, this.#name, i)]: err instanceof Error ? err : new Error(messageOf(err)) };
      }
      if (sub === null || typeof sub !== 'object') return;
      for (const key of Object.keys(sub)) setOwn(report, key, toHealthValue(sub[key]));
    });
    return report;
  }

  /** Closes all sub-services concurrently; throws their error (one) or a ServiceError (several). */
  async close(): Promise<void> {
    await closeAll([...this.#services]);
  }
}

function subName(s: Service, base: string, index: number): string {
  try {
    const n = s.name();
    if (typeof n === 'string' && n !== '') return n;
  } catch {
    // fall through
  }
  return `${base}.${index}`;
}
