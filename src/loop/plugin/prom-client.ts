/**
 * prom-client, loaded on first use. It is an optional peer dependency: only a LOOP plugin's server
 * base (the Prometheus endpoint and the health checker's metrics) needs it, so a LOOP host, which
 * loads the same `loopp/loop` entry, runs without it installed.
 */
import type * as PromClient from 'prom-client';
import { ConfigError, messageOf } from '../../core/errors';

export type { PromClient };

export function promClient(): typeof PromClient {
  try {
    // Node caches the module: this costs a lookup after the first call.
    return require('prom-client') as typeof PromClient;
  } catch (err) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `prom-client could not be loaded: ${messageOf(err)}`, {
      input: 'prom-client',
      cause: err,
      hint: 'Install prom-client (npm install prom-client): an optional peer dependency of loopp, needed by the LOOP plugin server base.',
    });
  }
}
