/**
 * `<service>/<method>` on the command line, and the service and method it names among what the plugin
 * serves: the full name, or the last part of the service's name when only one service has it, and a
 * method name in any case when only one matches. A miss lists what there is.
 */
import type { DescMethod, DescService, FileRegistry } from '@bufbuild/protobuf';
import { UsageError } from '../args';

export interface MethodRef {
  readonly service: string;
  readonly method: string;
}

/** `proto.KV/Get` or `proto.KV.Get` (grpcurl's two forms). */
export function parseMethodRef(text: string): MethodRef {
  const m = /^\/?([A-Za-z_][\w.]*)[/.]([A-Za-z_]\w*)$/.exec(text);
  if (!m) throw new UsageError(`${JSON.stringify(text)} is not <service>/<method>, e.g. proto.KV/Get (the service's full name, with its package)`);
  return { service: m[1]!, method: m[2]! };
}

/**
 * The service `ref` names among `services`, or a UsageError listing them (`listing` describes each; it
 * asks the plugin, so it runs only for a miss).
 */
export async function pickService(ref: MethodRef, services: readonly string[], listing: () => Promise<string>): Promise<string> {
  if (services.includes(ref.service)) return ref.service;
  const bySuffix = services.filter((s) => s.endsWith(`.${ref.service}`));
  if (bySuffix.length === 1) return bySuffix[0]!;
  const why = bySuffix.length > 1 ? `${ref.service} is ambiguous (${bySuffix.join(', ')}): give the full name` : `the plugin serves no service ${ref.service}`;
  throw new UsageError(`${why}; it serves:\n${await listing()}`);
}

export function methodLine(m: DescMethod): string {
  const stream = (on: boolean): string => (on ? 'stream ' : '');
  const kind = m.methodKind;
  return `${m.name}(${stream(kind === 'client_streaming' || kind === 'bidi_streaming')}${m.input.typeName}) returns (${stream(kind === 'server_streaming' || kind === 'bidi_streaming')}${m.output.typeName})`;
}

export function pickMethod(registry: FileRegistry, serviceName: string, ref: MethodRef): DescMethod {
  const service = registry.getService(serviceName) as DescService | undefined;
  if (service === undefined) throw new Error(`the registry of ${serviceName} lacks it`);
  const exact = service.methods.find((m) => m.name === ref.method);
  const loose = service.methods.filter((m) => m.name.toLowerCase() === ref.method.toLowerCase());
  const method = exact ?? (loose.length === 1 ? loose[0] : undefined);
  if (method === undefined) {
    throw new UsageError(`${serviceName} has no method ${ref.method}; its methods:\n${service.methods.map((m) => `  ${methodLine(m)}`).join('\n')}`);
  }
  if (method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming') {
    throw new UsageError(`${serviceName}/${method.name} takes a stream of requests (${method.methodKind.replace('_', '-')}): loopp call sends one request, to unary and server-streaming methods`);
  }
  return method;
}
