/**
 * Encoding of arbitrary log-field values as JSON text, for the loggers loopp writes (hclog on the
 * go-plugin side, zap-style on the LOOP side). Never throws: cycles, depth, NaN/Inf, bigint, errors
 * and byte arrays get the string forms Go's encoders would produce or a marker.
 */

const MAX_DEPTH = 64;

export function encodeField(value: unknown): string {
  // At the top level an Error is its message (hclog renders `error` values with .Error()).
  if (value instanceof Error) return JSON.stringify(safeString(value.message));
  return encodeValue(value, [], 0) ?? 'null';
}

/** JSON text of `value`; `undefined` when the value is omitted inside an object (like JSON.stringify). */
export function encodeValue(value: unknown, ancestors: object[], depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (Number.isFinite(value)) return JSON.stringify(value);
      return JSON.stringify(Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf');
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'symbol':
      return JSON.stringify(value.toString());
    case 'undefined':
      return depth === 0 ? 'null' : undefined;
    case 'function':
      return depth === 0 ? JSON.stringify(`[Function ${value.name || 'anonymous'}]`) : undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (ancestors.includes(obj)) return '"[Circular]"';
  if (depth >= MAX_DEPTH) return '"[Too deep]"';

  if (obj instanceof Error) return JSON.stringify(safeString(obj.message));
  if (obj instanceof Date) return Number.isFinite(obj.getTime()) ? JSON.stringify(obj.toISOString()) : 'null';
  if (obj instanceof Uint8Array) return JSON.stringify(Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64'));
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) {
    return encodeValue(obj.valueOf(), ancestors, depth);
  }

  ancestors.push(obj);
  try {
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      const replaced: unknown = toJSON.call(obj, '');
      return replaced === obj ? encodeObject(obj, ancestors, depth) : encodeValue(replaced, ancestors, depth + 1) ?? 'null';
    }
    if (Array.isArray(obj)) return encodeArray(obj, ancestors, depth);
    if (obj instanceof Set) return encodeArray([...obj], ancestors, depth);
    if (obj instanceof Map) {
      const entries: [string, unknown][] = [];
      for (const [k, v] of obj) entries.push([typeof k === 'string' ? k : safeString(k), v]);
      return encodeEntries(entries, ancestors, depth);
    }
    if (ArrayBuffer.isView(obj)) return encodeArray(Array.from(obj as unknown as ArrayLike<unknown>), ancestors, depth);
    return encodeObject(obj, ancestors, depth);
  } finally {
    ancestors.pop();
  }
}

function encodeArray(items: readonly unknown[], ancestors: object[], depth: number): string {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) parts.push(encodeValue(items[i], ancestors, depth + 1) ?? 'null');
  return '[' + parts.join(',') + ']';
}

function encodeObject(obj: object, ancestors: object[], depth: number): string {
  const entries: [string, unknown][] = [];
  for (const key of Object.keys(obj)) entries.push([key, (obj as Record<string, unknown>)[key]]);
  return encodeEntries(entries, ancestors, depth);
}

function encodeEntries(entries: readonly [string, unknown][], ancestors: object[], depth: number): string {
  const parts: string[] = [];
  for (const [key, v] of entries) {
    const encoded = encodeValue(v, ancestors, depth + 1);
    if (encoded !== undefined) parts.push(JSON.stringify(key) + ':' + encoded);
  }
  return '{' + parts.join(',') + '}';
}

export function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : String(value);
  } catch {
    return '[unprintable]';
  }
}

export function errorMessage(err: unknown): unknown {
  try {
    return err instanceof Error ? err.message : err;
  } catch {
    return '[unprintable]';
  }
}
