import createDebug from 'debug';

/** A subsystem logger whose lines start with the instance they are about (`[kv pid=4242] ...`). */
export interface Log {
  (format: string, ...args: unknown[]): void;
  readonly enabled: boolean;
  /** Same namespace, different instance prefix. */
  instance(prefix: string): Log;
}

const namespaces = new Map<string, createDebug.Debugger>();

function debuggerFor(subsystem: string): createDebug.Debugger {
  let d = namespaces.get(subsystem);
  if (d === undefined) {
    d = createDebug(`loopp:${subsystem}`);
    namespaces.set(subsystem, d);
  }
  return d;
}

/** `subsystem` becomes the `loopp:<subsystem>` debug namespace (enable with DEBUG=loopp:*). */
export function createLog(subsystem: string, prefix = ''): Log {
  const d = debuggerFor(subsystem);
  const head = prefix === '' ? '' : `[${prefix}] `;
  const log = ((format: string, ...args: unknown[]) => {
    if (d.enabled) d(head + format, ...args);
  }) as Log;
  Object.defineProperty(log, 'enabled', { get: () => d.enabled });
  log.instance = (p: string) => createLog(subsystem, p);
  return log;
}
