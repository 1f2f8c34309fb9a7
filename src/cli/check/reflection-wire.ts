/**
 * The few messages of grpc.reflection (v1 and v1alpha share them field for field) that check sends
 * and reads: list_services, file_containing_symbol, and the replies to both. Written by hand on
 * @bufbuild/protobuf's wire reader and writer: check needs four fields, not the generated module.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';

export const REFLECTION_PATHS = {
  v1: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  v1alpha: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
} as const;

const REQUEST = { fileContainingSymbol: 4, listServices: 7 } as const;
const RESPONSE = { fileDescriptor: 4, listServices: 6, error: 7 } as const;

export function listServicesRequest(): Buffer {
  return Buffer.from(new BinaryWriter().tag(REQUEST.listServices, WireType.LengthDelimited).string('').finish());
}

export function fileContainingSymbolRequest(symbol: string): Buffer {
  return Buffer.from(new BinaryWriter().tag(REQUEST.fileContainingSymbol, WireType.LengthDelimited).string(symbol).finish());
}

export type ReflectionReply =
  | { kind: 'services'; names: string[] }
  | { kind: 'files'; files: Uint8Array[] }
  | { kind: 'error'; code: number; message: string }
  | { kind: 'other' };

/** Each occurrence of `field` (length-delimited) in `bytes`, in order. */
function fieldsOf(bytes: Uint8Array, field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    if (no === field && type === WireType.LengthDelimited) out.push(r.bytes());
    else r.skip(type, no);
  }
  return out;
}

function errorOf(bytes: Uint8Array): { code: number; message: string } {
  let code = 0;
  let message = '';
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    if (no === 1 && type === WireType.Varint) code = r.int32();
    else if (no === 2 && type === WireType.LengthDelimited) message = r.string();
    else r.skip(type, no);
  }
  return { code, message };
}

export function decodeReply(bytes: Uint8Array): ReflectionReply {
  const [services] = fieldsOf(bytes, RESPONSE.listServices);
  if (services !== undefined) {
    const names = fieldsOf(services, 1).map((s) => new TextDecoder().decode(fieldsOf(s, 1)[0] ?? new Uint8Array()));
    return { kind: 'services', names };
  }
  const [files] = fieldsOf(bytes, RESPONSE.fileDescriptor);
  if (files !== undefined) return { kind: 'files', files: fieldsOf(files, 1) };
  const [error] = fieldsOf(bytes, RESPONSE.error);
  if (error !== undefined) return { kind: 'error', ...errorOf(error) };
  return { kind: 'other' };
}

/** The methods of `service` (full name) among the file descriptors, or undefined if none declares it. */
export function methodsOf(files: readonly Uint8Array[], service: string): string[] | undefined {
  for (const bytes of files) {
    const file = fromBinary(FileDescriptorProtoSchema, bytes);
    for (const s of file.service) {
      if ((file.package ? `${file.package}.${s.name}` : s.name) === service) return s.method.map((m) => m.name);
    }
  }
  return undefined;
}
